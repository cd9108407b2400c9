import Foundation

/// A UUID as the 36 characters of RFC 9562 (`8-4-4-4-12` hexadecimal digits), written and read without
/// Foundation's `uuidString` and `UUID(uuidString:)`, which on Linux go through `sprintf` and `sscanf`
/// (measured: about 1 µs each, twenty times this). Identifiers are written a few million times when the
/// demo year is generated and read and written for every row of every list.
public enum UUIDText {
    private static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The text of `id`, upper case as `uuidString` writes it, or lower case.
    public static func string(_ id: UUID, uppercase: Bool = true) -> String {
        let digits = uppercase ? upperDigits : lowerDigits
        return withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for (i, b) in bytes.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 { out[o] = UInt8(ascii: "-"); o += 1 }
                    out[o] = digits[Int(b >> 4)]
                    out[o + 1] = digits[Int(b & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }

    /// The UUID written as `text` (either case, hyphens where RFC 9562 puts them); nil for anything else.
    public static func parse(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == 36 else { return nil }
            var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
                         UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
            let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var i = 0
                for n in 0..<16 {
                    if n == 4 || n == 6 || n == 8 || n == 10 {
                        guard utf8[i] == UInt8(ascii: "-") else { return false }
                        i += 1
                    }
                    guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return false }
                    out[n] = high << 4 | low
                    i += 2
                }
                return true
            }
            return ok ? UUID(uuid: bytes) : nil
        }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
