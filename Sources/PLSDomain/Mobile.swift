import Foundation

/// A mainland mobile number: 11 digits starting with 1 and a second digit 3–9.
public struct MobileNumber: Hashable, Sendable {
    public let digits: String

    public init?(_ raw: String) {
        var s = raw.filter { !$0.isWhitespace && $0 != "-" }
        if s.hasPrefix("+86") { s.removeFirst(3) }
        guard s.count == 11, s.allSatisfy({ $0.isASCII && $0.isNumber }), s.first == "1",
              let second = s.dropFirst().first, ("3"..."9").contains(second) else { return nil }
        digits = s
    }

    /// 138****0000: how a number appears in pages and logs.
    public var masked: String { Masking.mobile(digits) }
}

public enum Masking {
    public static func mobile(_ s: String) -> String {
        guard s.count >= 7 else { return String(repeating: "*", count: s.count) }
        return s.prefix(3) + String(repeating: "*", count: s.count - 7) + s.suffix(4)
    }

    /// 34***************X: only the province and the check character. Shown beside the month of birth, this leaves
    /// the place, the day and the sequence to guess (more than a hundred thousand candidates even within one city);
    /// the earlier 4+4 mask beside the full birth date left only the county digits.
    public static func idNumber(_ s: String) -> String {
        guard s.count > 8 else { return String(repeating: "*", count: s.count) }
        return s.prefix(2) + String(repeating: "*", count: s.count - 3) + s.suffix(1)
    }
}
