import Foundation

/// Identifiers that sort by the time they were made (UUID version 7, RFC 9562): 48 bits of Unix
/// milliseconds, then random bits. Rows of a growing table keyed by them are appended at the end of
/// the primary-key index (and the indexes that refer to it) instead of scattered through them, so each
/// insert touches a page already in memory.
public enum TimeOrderedID {
    public static func make(millis: Int64, using rng: inout some RandomNumberGenerator) -> UUID {
        let high = rng.next() as UInt64, low = rng.next() as UInt64
        let t = UInt64(max(0, millis)) & 0xFFFF_FFFF_FFFF
        func byte(_ v: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: v >> shift) }
        return UUID(uuid: (
            byte(t, 40), byte(t, 32), byte(t, 24), byte(t, 16), byte(t, 8), byte(t, 0),
            0x70 | (byte(high, 8) & 0x0F), byte(high, 0),
            0x80 | (byte(low, 56) & 0x3F), byte(low, 48), byte(low, 40), byte(low, 32),
            byte(low, 24), byte(low, 16), byte(low, 8), byte(low, 0)))
    }

    public static func make(millis: Int64) -> UUID {
        var rng = SystemRandomNumberGenerator()
        return make(millis: millis, using: &rng)
    }

    /// The milliseconds a version 7 identifier was made at; nil for any other version.
    public static func millis(of id: UUID) -> Int64? {
        let u = id.uuid
        guard u.6 >> 4 == 7 else { return nil }
        return [u.0, u.1, u.2, u.3, u.4, u.5].reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
}
