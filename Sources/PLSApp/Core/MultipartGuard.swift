import Vapor
import NIOCore

/// Multipart bodies (file uploads) are checked before MultipartKit reads them: its parser indexes a 128-entry
/// table with each byte of a part's header name, so one byte ≥ 0x80 there ends the process, and an empty boundary
/// fails a precondition. A body that is not well-formed multipart is a 400, never a trap and never a 500.
enum MultipartGuard {
    static let malformed = AppError(.badRequest, "invalid_multipart", "上传的表单格式不正确，请重新选择文件提交")
    static let maxParts = 40

    /// The boundary of a multipart content type, checked as RFC 2046 writes it (1–70 characters).
    static func boundary(of headers: HTTPHeaders) throws -> [UInt8] {
        guard let type = headers.contentType, type == .formData,
              let boundary = type.parameters["boundary"], (1...70).contains(boundary.utf8.count),
              boundary.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw malformed }
        return Array(boundary.utf8)
    }

    /// Every part's header names are tokens (RFC 9110) and the parts are few; values are left to the parser.
    /// The delimiters are found as MultipartKit finds them (the first at the very start, every later one after a line
    /// break), and the whole body is scanned: stopping at the first thing that looks like a closing delimiter let a
    /// later part, which the parser still reads, carry the trapping byte past this check.
    static func check(_ body: ByteBuffer, headers: HTTPHeaders) throws {
        try check(body.readableBytesView, boundary: try boundary(of: headers))
    }

    /// The same check over any bytes (an upload received to disk is checked mapped from its file).
    static func check<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, boundary: [UInt8]) throws where Bytes.Index == Int {
        let first = Array("--".utf8) + boundary
        let later = Array("\r\n--".utf8) + boundary
        // No preamble: browsers and our clients start with the first delimiter.
        guard bytes.count >= first.count, bytes.prefix(first.count).elementsEqual(first) else { throw malformed }
        var parts = 0
        var closed = false
        var j = bytes.startIndex + first.count
        while true {
            // After a delimiter: "--" closes, a line break opens a part's headers; anything else is malformed.
            guard j + 1 < bytes.endIndex else { throw malformed }
            if bytes[j] == UInt8(ascii: "-"), bytes[j + 1] == UInt8(ascii: "-") {
                closed = true
                j += 2
            } else {
                guard bytes[j] == 0x0D, bytes[j + 1] == 0x0A, !closed else { throw malformed }
                j += 2
                parts += 1
                if parts > maxParts { throw malformed }
                j = try checkHeaders(bytes, from: j)
            }
            guard let next = find(later, in: bytes, from: j) else { break }
            j = next + later.count
        }
        guard closed else { throw malformed }
    }

    /// A part's header lines, up to the empty line that ends them: returns where the part's body starts.
    private static func checkHeaders<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, from start: Int) throws -> Int where Bytes.Index == Int {
        var j = start
        var lines = 0
        while true {
            guard j + 1 < bytes.endIndex else { throw malformed }
            if bytes[j] == 0x0D, bytes[j + 1] == 0x0A { return j + 2 }
            lines += 1
            if lines > 16 { throw malformed }
            var sawName = false
            while j < bytes.endIndex, bytes[j] != UInt8(ascii: ":") {
                guard isTokenCharacter(bytes[j]) else { throw malformed }
                sawName = true
                j += 1
            }
            guard sawName, j < bytes.endIndex else { throw malformed }
            while j + 1 < bytes.endIndex, !(bytes[j] == 0x0D && bytes[j + 1] == 0x0A) { j += 1 }
            guard j + 1 < bytes.endIndex else { throw malformed }
            j += 2
        }
    }

    private static func isTokenCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }

    private static func find<Bytes: RandomAccessCollection<UInt8>>(_ needle: [UInt8], in haystack: Bytes, from start: Int) -> Int? where Bytes.Index == Int {
        guard let first = needle.first, haystack.endIndex - start >= needle.count else { return nil }
        var i = start
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < needle.count, haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// The form-data decoder of the content configuration, behind the check above; what the parser still refuses
/// is the caller's malformed body (400), not a server error.
struct CheckedMultipartDecoder: ContentDecoder {
    let inner: any ContentDecoder

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        try MultipartGuard.check(body, headers: headers)
        do { return try inner.decode(decodable, from: body, headers: headers) }
        catch let e as DecodingError { throw AppErrorMiddleware.decodingError(e) }
        catch { throw MultipartGuard.malformed }
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders, userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        try MultipartGuard.check(body, headers: headers)
        do { return try inner.decode(decodable, from: body, headers: headers, userInfo: userInfo) }
        catch let e as DecodingError { throw AppErrorMiddleware.decodingError(e) }
        catch { throw MultipartGuard.malformed }
    }

    static func install() throws {
        let current = try ContentConfiguration.global.requireDecoder(for: .formData)
        if current is CheckedMultipartDecoder { return }
        ContentConfiguration.global.use(decoder: CheckedMultipartDecoder(inner: current), for: .formData)
    }
}

/// On routes that take a large body (uploads, imports): the caller is known before the body is read, so an
/// anonymous visitor cannot make the server buffer megabytes. Goes in front of the route, after the authenticators.
struct SignedInFirst: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        _ = try request.principal()
        return try await next.respond(to: request)
    }
}
