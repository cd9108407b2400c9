import Vapor
import PLSDomain

/// JSON written field by field for the busiest responses (the request list, one request). Foundation's
/// JSONEncoder builds a tree of boxed values through Codable's containers first: it was the largest single
/// cost of a list page. The output means what JSONEncoder's would, as Vapor configures it: keys in
/// declaration order, nil fields left out, dates in ISO 8601 to the second, UUIDs in upper case.
/// Tests compare the two on real rows.
protocol JSONWritable: Encodable {
    func write(to json: inout JSONWriter) throws
}

struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// No comma before the first member of the container being written.
    private var first = true

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    // MARK: Containers

    mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
        bytes.append(UInt8(ascii: "{"))
        let outer = first
        first = true
        defer { first = outer }
        try body(&self)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func array<S: Sequence>(_ items: S, _ each: (inout JSONWriter, S.Element) throws -> Void) rethrows {
        bytes.append(UInt8(ascii: "["))
        let outer = first
        first = true
        defer { first = outer }
        for item in items {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            try each(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    // MARK: Members of an object (nil leaves the member out, as synthesized Codable does)

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name); string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name); integer(Int64(value))
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name); integer(value)
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name); bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    mutating func field(_ name: StaticString, _ value: UUID?) {
        guard let value else { return }
        key(name); string(UUIDText.string(value))
    }

    mutating func field(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name); date(value)
    }

    mutating func field(_ name: StaticString, _ values: [String]) {
        key(name)
        array(values) { $0.string($1) }
    }

    mutating func field<T: JSONWritable>(_ name: StaticString, _ value: T?) throws {
        guard let value else { return }
        key(name); try value.write(to: &self)
    }

    mutating func field<T: JSONWritable>(_ name: StaticString, _ values: [T]) throws {
        key(name)
        try array(values) { json, item in try item.write(to: &json) }
    }

    /// A member whose type keeps to Codable (rarely present, deeply nested): JSONEncoder writes it.
    /// A member whose type is known only at run time (a matter case's section).
    mutating func field(_ name: StaticString, encodingAny value: any Encodable) throws {
        key(name)
        bytes.append(contentsOf: try JSONWriter.encoder.encode(value))
    }

    mutating func field<T: Encodable>(_ name: StaticString, encoding value: T?) throws {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: try JSONWriter.encoder.encode(value))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    // MARK: Values

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most text needs no escape, and is copied whole.
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            bytes.append(contentsOf: s.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func integer(_ n: Int64) {
        bytes.append(contentsOf: String(n).utf8)
    }

    /// `2026-11-29T13:48:12Z`: what JSONEncoder's `.iso8601` writes (whole seconds, UTC).
    mutating func date(_ d: Date) {
        let seconds = Int64((d.timeIntervalSince1970).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let civil = CivilDate(dayNumber: Int(days))
        let (year, month, day) = (civil.year, civil.month, civil.day)
        func two(_ n: Int) { bytes.append(UInt8(48 + n / 10)); bytes.append(UInt8(48 + n % 10)) }
        bytes.append(UInt8(ascii: "\""))
        two(year / 100); two(year % 100)
        bytes.append(UInt8(ascii: "-")); two(month)
        bytes.append(UInt8(ascii: "-")); two(day)
        bytes.append(UInt8(ascii: "T")); two(secondOfDay / 3_600)
        bytes.append(UInt8(ascii: ":")); two(secondOfDay / 60 % 60)
        bytes.append(UInt8(ascii: ":")); two(secondOfDay % 60)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }
}

extension JSONWritable {
    /// The JSON response for this value, as Vapor's `Content` would send it.
    func jsonResponse(status: HTTPStatus = .ok, headers: HTTPHeaders = [:]) throws -> Response {
        var json = JSONWriter()
        try write(to: &json)
        var headers = headers
        headers.contentType = .json
        return Response(status: status, headers: headers, body: .init(buffer: ByteBuffer(bytes: json.bytes)))
    }
}

extension Paged: JSONWritable where Item: JSONWritable {
    func write(to json: inout JSONWriter) throws {
        try json.object {
            try $0.field("items", items)
            $0.field("total", total)
            $0.field("page", page)
            $0.field("per", per)
        }
    }
}
