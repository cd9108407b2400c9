import Foundation

/// A statistical division code (统计用区划代码): 12 digits `PPCCDDTTTVVV`
/// (province, city, county, town, village), or 15 digits for a natural village,
/// which has no official code and is numbered within its village.
public struct DivisionCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    /// The level the code's shape implies (`level(of:)`), worked out once: scope checks ask for it on every
    /// request shown, and reading the code character by character was a few per cent of serving one.
    public let level: RegionLevel?

    public init?(_ raw: String) {
        var s = raw
        if let first = raw.unicodeScalars.first, let last = raw.unicodeScalars.last,
           CharacterSet.whitespaces.contains(first) || CharacterSet.whitespaces.contains(last) {
            s = raw.trimmingCharacters(in: .whitespaces)
        }
        guard let level = Self.level(of: s) else { return nil }
        rawValue = s
        self.level = level
    }

    public var description: String { rawValue }
    public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }

    /// The level a code's shape implies; nil for anything but 12 or 15 ASCII digits, and for shapes no level has
    /// (a province-only code, or a lower part set under a zero higher part).
    private static func level(of code: String) -> RegionLevel? {
        let u = Array(code.utf8)
        guard u.count == 12 || u.count == 15, u.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        func isZero(_ from: Int, _ length: Int) -> Bool { u[from..<from + length].allSatisfy { $0 == UInt8(ascii: "0") } }
        if isZero(0, 2) || isZero(2, 2) { return nil }
        let twelve: RegionLevel?
        switch (isZero(4, 2), isZero(6, 3), isZero(9, 3)) {
        case (true, true, true): twelve = .city
        case (false, true, true): twelve = .county
        case (false, false, true): twelve = .town
        case (false, false, false): twelve = .village
        default: twelve = nil
        }
        if u.count == 15 { return twelve == .village && !isZero(12, 3) ? .naturalVillage : nil }
        return twelve
    }

    private init(trusted: String) {
        rawValue = trusted
        level = Self.level(of: trusted)
    }

    /// The code of the level directly above, nil for a city.
    public var parent: DivisionCode? {
        guard let level else { return nil }
        switch level {
        case .city: return nil
        case .county: return DivisionCode(trusted: String(rawValue.prefix(4)) + "00000000")
        case .town: return DivisionCode(trusted: String(rawValue.prefix(6)) + "000000")
        case .village: return DivisionCode(trusted: String(rawValue.prefix(9)) + "000")
        case .naturalVillage: return DivisionCode(trusted: String(rawValue.prefix(12)))
        }
    }

    /// The significant leading digits: every code inside this region starts with them.
    /// Used as a `LIKE 'prefix%'` filter, so that a scope is one index range.
    public var scopePrefix: String {
        switch level {
        case .city: String(rawValue.prefix(4))
        case .county: String(rawValue.prefix(6))
        case .town: String(rawValue.prefix(9))
        case .village, .naturalVillage, nil: rawValue
        }
    }

    /// Whether `other` lies inside this region (a region contains itself).
    public func contains(_ other: DivisionCode) -> Bool {
        other.rawValue.hasPrefix(scopePrefix)
    }

    /// This region's ancestor at `level` (itself when it is at that level), nil when it lies above it.
    public func ancestor(at level: RegionLevel) -> DivisionCode? {
        var c: DivisionCode? = self
        while let current = c, let l = current.level {
            if l == level { return current }
            if l.depth < level.depth { return nil }
            c = current.parent
        }
        return nil
    }

    /// The code of the natural village numbered `sequence` (1–999) in this village.
    public func naturalVillage(_ sequence: Int) -> DivisionCode? {
        guard level == .village, (1...999).contains(sequence) else { return nil }
        return DivisionCode(rawValue + String(repeating: "0", count: 3 - String(sequence).count) + String(sequence))
    }
}

public enum RegionLevel: String, ChineseNamed, Codable {
    case city, county, town, village
    case naturalVillage = "natural_village"

    public var chineseName: String {
        switch self {
        case .city: "市"
        case .county: "县（区）"
        case .town: "镇（街道）"
        case .village: "村（社区）"
        case .naturalVillage: "自然村"
        }
    }

    public var depth: Int { RegionLevel.allCases.firstIndex(of: self)! }
}

/// A village is a rural village committee or an urban community committee.
public enum VillageKind: String, ChineseNamed, Codable {
    case rural, community
    public var chineseName: String { self == .rural ? "行政村" : "社区" }
}

extension DivisionCode {
    /// In the statistical code a village numbered 001–199 is an urban community (居委会)
    /// and 200–399 a rural village (村委会).
    public var villageKind: VillageKind? {
        guard level == .village, let n = Int(rawValue.suffix(3)) else { return nil }
        return n < 200 ? .community : .rural
    }
}
