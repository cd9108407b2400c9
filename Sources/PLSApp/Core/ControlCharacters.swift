import Vapor

extension StringProtocol {
    /// A control character other than tab, line feed and carriage return: a NUL cuts text short where it is read
    /// back, the others corrupt what is printed or exported. Never legitimate in anything a person types.
    var containsControlCharacters: Bool {
        unicodeScalars.contains { ControlCharacters.isRefused($0.value) }
    }
}

enum ControlCharacters {
    static func isRefused(_ v: UInt32) -> Bool {
        (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F
    }

    static let message = "不能含有控制字符"

    /// Where a JSON body carries a refused control character, as a field path (`applicant.name`, `parties[1].name`),
    /// or nil. A scan of the bytes first, cheap enough for every body; only a body that has one is parsed to name it.
    static func fieldInJSON(_ bytes: some Collection<UInt8>) -> String? {
        guard jsonHasControlEscape(bytes) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return "" }
        return find(in: object, path: "") ?? ""
    }

    /// In JSON text a control character can only arrive escaped (`\u0000`, `\b`, `\f`) or, for DEL, raw.
    private static func jsonHasControlEscape(_ bytes: some Collection<UInt8>) -> Bool {
        var i = bytes.startIndex
        func hex(_ b: UInt8) -> UInt32? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == 0x7F { return true }
            guard b == UInt8(ascii: "\\") else { i = bytes.index(after: i); continue }
            i = bytes.index(after: i)
            guard i != bytes.endIndex else { return false }
            let e = bytes[i]
            if e == UInt8(ascii: "b") || e == UInt8(ascii: "f") { return true }
            if e == UInt8(ascii: "u") {
                var value: UInt32 = 0
                var j = bytes.index(after: i)
                var digits = 0
                while digits < 4, j != bytes.endIndex, let d = hex(bytes[j]) {
                    value = value * 16 + d
                    digits += 1
                    j = bytes.index(after: j)
                }
                if digits == 4, isRefused(value) { return true }
            }
            i = bytes.index(after: i)
        }
        return false
    }

    private static func find(in value: Any, path: String) -> String? {
        switch value {
        case let s as String:
            return s.containsControlCharacters ? path : nil
        case let a as [Any]:
            for (n, v) in a.enumerated() { if let p = find(in: v, path: path + "[\(n)]") { return p } }
        case let d as [String: Any]:
            for (k, v) in d.sorted(by: { $0.key < $1.key }) {
                if k.containsControlCharacters { return path.isEmpty ? k : path + "." + k }
                if let p = find(in: v, path: path.isEmpty ? k : path + "." + k) { return p }
            }
        default: break
        }
        return nil
    }

    /// The same for a URL-encoded form: the first field whose name or value decodes to a refused character.
    static func fieldInForm(_ text: Substring) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == 0x7F || $0 < 0x20 }) else { return nil }
        return FormEncoding.pairs(text).first { $0.name.containsControlCharacters || $0.value.containsControlCharacters }?.name
    }
}

/// `a=1&b=%E4%B8%AD+%E6%96%87` as name and value pairs, in order, for the checks that read a form before its decoder.
enum FormEncoding {
    static func pairs(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
        }
    }
}

/// JSON and form bodies pass through these before they are decoded: a control character anywhere is a 422
/// naming its field, so no handler can store one by forgetting to check.
/// Also where the caller's body becomes a 422: a body that does not decode (a field missing or of the wrong type) is
/// the caller's error here, at the edge; a `DecodingError` anywhere else is the server's (a stored row), and a 500.
struct ControlCharacterCheckingDecoder: ContentDecoder {
    /// `plain`: text bodies, whose decoder only turns a failure into a 422.
    enum Format: Sendable { case json, form, plain }
    let inner: any ContentDecoder
    let format: Format

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        try check(body)
        do { return try inner.decode(decodable, from: body, headers: headers) }
        catch let e as DecodingError { throw AppErrorMiddleware.decodingError(e) }
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders, userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        try check(body)
        do { return try inner.decode(decodable, from: body, headers: headers, userInfo: userInfo) }
        catch let e as DecodingError { throw AppErrorMiddleware.decodingError(e) }
    }

    private func check(_ body: ByteBuffer) throws {
        let field: String?
        switch format {
        case .json: field = body.withUnsafeReadableBytes { ControlCharacters.fieldInJSON($0) }
        case .form: field = ControlCharacters.fieldInForm(Substring(body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""))
        case .plain: field = nil
        }
        if let field { throw AppError.validation([field.isEmpty ? "body" : field: ControlCharacters.message]) }
    }

    /// Wraps the decoders of the global content configuration once (configure runs once per application; tests make many).
    static func install() throws {
        for (type, format) in [(HTTPMediaType.json, Format.json), (.jsonAPI, .json), (.urlEncodedForm, .form), (.plainText, .plain), (.html, .plain)] {
            guard let current = try? ContentConfiguration.global.requireDecoder(for: type) else { continue }
            if current is ControlCharacterCheckingDecoder { continue }
            ContentConfiguration.global.use(decoder: ControlCharacterCheckingDecoder(inner: current, format: format), for: type)
        }
    }
}
