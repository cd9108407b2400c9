import Vapor
import Crypto

/// Personal data (ID numbers, phones) is stored encrypted with AES-GCM and found by a keyed hash,
/// so a stolen database file reveals neither and an equality lookup still uses an index.
public struct PersonalDataProtector: Sendable {
    private let encryptionKey: SymmetricKey
    private let lookupKey: SymmetricKey

    public init(secret: SymmetricKey) {
        // Separate keys for the two purposes, derived from the one secret.
        encryptionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, info: Data("pls.personal-data.encryption".utf8), outputByteCount: 32)
        lookupKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, info: Data("pls.personal-data.lookup".utf8), outputByteCount: 32)
    }

    public func lookupHash(_ value: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(value.utf8), using: lookupKey))
    }

    public func encrypt(_ value: String) throws -> String {
        let sealed = try AES.GCM.seal(Data(value.utf8), using: encryptionKey)
        guard let combined = sealed.combined else { throw AppError(.internalServerError, "crypto", "加密失败") }
        return combined.base64EncodedString()
    }

    /// Names and free text as stored: sealed, and marked as such, so that a row written before text was sealed
    /// (kept as it was) still reads. `open` is the only way back.
    static let sealedPrefix = "pd1:"

    public func seal(_ text: String) throws -> String {
        Self.sealedPrefix + (try encrypt(text))
    }

    /// An optional text sealed when there is one.
    public func seal(ifAny text: String?) throws -> String? {
        try text.map { try seal($0) }
    }

    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.sealedPrefix) else { return stored }
        do { return try decrypt(String(stored.dropFirst(Self.sealedPrefix.count))) }
        catch { throw AppError(.internalServerError, "personal_data_key", "个人信息无法解密：请核对 PLS_SECRET_KEY 是否为写入时的密钥") }
    }

    public func open(_ stored: String?) throws -> String? {
        try stored.map { try open($0) }
    }

    public func decrypt(_ value: String) throws -> String {
        guard let data = Data(base64Encoded: value) else { throw AppError(.internalServerError, "crypto", "解密失败") }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: encryptionKey), as: UTF8.self)
    }
}

extension Application {
    public var personalData: PersonalDataProtector { settings.personalData }
}

extension Request {
    var personalData: PersonalDataProtector { application.personalData }
}

/// Random tokens (session bearer tokens, one-time codes) and their stored digests.
enum Tokens {
    static func random(bytes: Int = 32) -> String {
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8))
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func digest(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// Compared in constant time (a secret against what was submitted).
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func numericCode(digits: Int = 6) -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
    }
}

/// Lower-case hex of a digest, without a formatter per byte (hashing sits on every write path).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
