import SQLKit
import NIOConcurrencyHelpers

/// Column names from camel-case keys, exactly as SQLKit's `.convertFromSnakeCase` makes them, but on ASCII
/// bytes: SQLKit's version asks Unicode for every character's case and took a quarter of a list request's CPU.
enum SnakeCase {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let cache = NIOLockedValueBox<[String: String]>([:])

    /// The column for a key, converted once per key for the life of the process (keys are property names: few).
    static func column(for key: String) -> String {
        if let known = cache.withLockedValue({ $0[key] }) { return known }
        let column = convert(key)
        cache.withLockedValue { $0[key] = column }
        return column
    }

    /// The same words and the same "first letter of each word lowercased" as SQLKit (so `applicantIDMasked`
    /// becomes `applicant_iD_masked` there and here). Keys are Swift property names, always ASCII; anything else
    /// is left as it is.
    static func convert(_ key: String) -> String {
        let s = Array(key.utf8)
        guard !s.isEmpty, s.allSatisfy({ $0 < 0x80 }) else { return key }
        func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
        func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
        func first(from start: Int, where test: (UInt8) -> Bool) -> Int? {
            var i = start
            while i < s.count { if test(s[i]) { return i }; i += 1 }
            return nil
        }
        var words: [Range<Int>] = []
        var wordStart = 0, searchIndex = 1
        while let upper = first(from: searchIndex, where: isUpper) {
            words.append(wordStart..<upper)
            wordStart = upper
            guard let lower = first(from: upper, where: isLower) else { break }
            searchIndex = lower
            if lower != upper + 1 {
                words.append(upper..<(lower - 1))
                wordStart = lower - 1
            }
        }
        words.append(wordStart..<s.count)
        var out: [UInt8] = []
        out.reserveCapacity(s.count + words.count)
        for (n, w) in words.enumerated() {
            if n > 0 { out.append(95) }   // "_"
            for i in w { out.append(i == w.lowerBound && isUpper(s[i]) ? s[i] + 32 : s[i]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SQLRowDecoder.KeyDecodingStrategy {
    /// `.convertFromSnakeCase`, fast: use this one.
    static let snakeCase: Self = .custom { keys in SnakeCase.Key(stringValue: SnakeCase.column(for: keys.last?.stringValue ?? "")) }
}
