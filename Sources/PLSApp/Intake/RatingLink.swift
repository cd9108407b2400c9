import Vapor
import Crypto

/// The link in the conclusion SMS: it names the request and carries a keyed signature, so the applicant
/// can rate from the phone without signing in, and nobody can rate a request whose link they were not sent.
enum RatingLink {
    private static func key(_ app: Application) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: app.settings.secretKey, info: Data("pls.rating-link".utf8), outputByteCount: 32)
    }

    static func token(for id: UUID, app: Application) -> String {
        let idBytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        let mac = Array(HMAC<SHA256>.authenticationCode(for: idBytes, using: key(app))).prefix(16)
        return Data(idBytes + mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func url(for id: UUID, app: Application) -> String {
        app.settings.publicURL + "/rate/" + token(for: id, app: app)
    }

    /// The request a token names, or nil when it was not made by us.
    static func requestID(from token: String, app: Application) -> UUID? {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64.append("=") }
        guard let data = Data(base64Encoded: b64), data.count == 32 else { return nil }
        let bytes = Array(data)
        let idBytes = Array(bytes[0..<16]), mac = Array(bytes[16..<32])
        let expected = Array(Array(HMAC<SHA256>.authenticationCode(for: idBytes, using: key(app))).prefix(16))
        guard constantTimeEqual(expected, mac) else { return nil }
        let u = idBytes
        return UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
    }
}
