import Foundation

/// A period the leaders' view reports on: a year (`2026`), a quarter (`2026-Q3`) or a month (`2026-07`). Indicators are
/// year-to-date figures, so a period is judged by the figures at the end of its last month.
public struct ReportPeriod: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case year, quarter, month }
    public let kind: Kind
    public let year: Int
    /// 1–4 for a quarter, 1–12 for a month, 0 for a year.
    public let part: Int

    public init?(_ raw: String) {
        let s = raw.trimmingCharacters(in: .whitespaces).uppercased()
        guard s.count >= 4, s.count <= 7, let y = Int(s.prefix(4)), (2000...2100).contains(y) else { return nil }
        let rest = s.dropFirst(4)
        if rest.isEmpty { self.init(kind: .year, year: y, part: 0); return }
        if rest.hasPrefix("-Q"), rest.count == 3, let q = Int(rest.suffix(1)), (1...4).contains(q) { self.init(kind: .quarter, year: y, part: q); return }
        if rest.hasPrefix("-"), rest.count == 3, let m = Int(rest.suffix(2)), (1...12).contains(m) { self.init(kind: .month, year: y, part: m); return }
        return nil
    }

    public init(kind: Kind, year: Int, part: Int) {
        self.kind = kind
        self.year = year
        self.part = part
    }

    public var description: String {
        switch kind {
        case .year: CivilDate.pad(year, 4)
        case .quarter: CivilDate.pad(year, 4) + "-Q\(part)"
        case .month: CivilDate.pad(year, 4) + "-" + CivilDate.pad(part, 2)
        }
    }

    public var chineseName: String {
        switch kind {
        case .year: "\(year) 年度"
        case .quarter: "\(year) 年第\(["一", "二", "三", "四"][max(0, min(3, part - 1))])季度"
        case .month: "\(year) 年 \(part) 月"
        }
    }

    /// The last month of the period (1–12).
    public var lastMonth: Int {
        switch kind {
        case .year: 12
        case .quarter: part * 3
        case .month: part
        }
    }

    public var firstDay: CivilDate {
        let m = kind == .quarter ? part * 3 - 2 : (kind == .month ? part : 1)
        return CivilDate(year: year, month: m, day: 1) ?? CivilDate(dayNumber: 0)
    }

    /// The day after the period.
    public var end: CivilDate {
        (CivilDate(year: year, month: lastMonth, day: 1) ?? CivilDate(dayNumber: 0)).nextMonthStart
    }

    /// `YYYY-MM` of the period's last month, as far as `today` has come (a period under way is judged so far).
    public func judgedMonth(today: CivilDate) -> String {
        today < end && today >= firstDay ? today.monthKey : end.adding(days: -1).monthKey
    }

    /// Whether the period is over on `today` (its figures no longer change).
    public func isOver(on today: CivilDate) -> Bool { today >= end }
}

/// 稳步提升: the plan sets no number but asks that a rate rise; met when this year's value is above last year's at the
/// same point of the year. A rate already at 100% cannot rise and is met when it stays there.
public enum RisingTarget {
    public static func isMet(value: Double, lastYear: Double) -> Bool {
        let v = (value * 10).rounded() / 10, l = (lastYear * 10).rounded() / 10
        return v > l || (l >= 100 && v >= 100)
    }
}

/// 同比 and 环比: the change of a value against an earlier one, in the value's own unit (percentage points for a rate).
public enum Change {
    public static func of(_ value: Double?, against earlier: Double?) -> Double? {
        guard let value, let earlier else { return nil }
        return ((value - earlier) * 10).rounded() / 10
    }
}

/// 督查考核: how an indicator scores for a county.
public enum ScoringRule: String, Sendable, Codable, CaseIterable {
    /// All the weight when the target is met, none otherwise.
    case met
    /// The weight in proportion to how far the value has come towards the target (capped at the weight).
    case proportional

    public var chineseName: String { self == .met ? "达标得分" : "按完成比例得分" }
}

public enum CountyScoring {
    public struct Item: Sendable, Equatable {
        public var indicator: String
        public var weight: Double
        public var rule: ScoringRule
        /// Nil when the county has nothing to measure: the indicator is left out of its score (neither won nor lost).
        public var value: Double?
        public var target: Double
        /// `true` for ≥ targets, `false` for ≤ targets (a wait in minutes).
        public var atLeast: Bool
        public var met: Bool?

        public init(indicator: String, weight: Double, rule: ScoringRule, value: Double?, target: Double, atLeast: Bool, met: Bool?) {
            self.indicator = indicator
            self.weight = weight
            self.rule = rule
            self.value = value
            self.target = target
            self.atLeast = atLeast
            self.met = met
        }

        /// Points won, 0…weight; nil when not scored.
        public var earned: Double? {
            guard let value, let met, weight > 0 else { return nil }
            switch rule {
            case .met: return met ? weight : 0
            case .proportional:
                if met { return weight }
                let share: Double
                if atLeast { share = target <= 0 ? 1 : value / target } else { share = value <= 0 ? 1 : target / value }
                return weight * max(0, min(1, share.isFinite ? share : 0))
            }
        }
    }

    public struct Score: Sendable, Equatable {
        /// Out of 100: the points won over the weight of the indicators scored.
        public var score: Double
        /// The indicators that cost points, most first, in points out of 100.
        public var lost: [(indicator: String, points: Double)]
        public static func == (a: Score, b: Score) -> Bool {
            a.score == b.score && a.lost.map(\.indicator) == b.lost.map(\.indicator) && a.lost.map(\.points) == b.lost.map(\.points)
        }
    }

    public static func score(_ items: [Item]) -> Score {
        let scored = items.filter { $0.earned != nil }
        let total = scored.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return Score(score: 0, lost: []) }
        let won = scored.reduce(0) { $0 + ($1.earned ?? 0) }
        let lost = scored.compactMap { i -> (String, Double)? in
            let l = (i.weight - (i.earned ?? 0)) * 100 / total
            return l > 0.0001 ? (i.indicator, round1(l)) : nil
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return Score(score: round1(won * 100 / total), lost: lost.map { (indicator: $0.0, points: $0.1) })
    }

    /// Ranks by score, highest first; equal scores share a rank (1, 2, 2, 4).
    public static func rank(_ scores: [(id: String, score: Double)]) -> [String: Int] {
        let sorted = scores.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        var ranks: [String: Int] = [:]
        for (i, s) in sorted.enumerated() {
            ranks[s.id] = i > 0 && sorted[i - 1].score == s.score ? ranks[sorted[i - 1].id] ?? i + 1 : i + 1
        }
        return ranks
    }

    static func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
}

/// Figures published to the public: counts under a threshold are withheld, so that a small place's few cases do not
/// point to a person.
public enum PublicFigure {
    public static let threshold = 10

    /// The count as published: the number, or nil when it is withheld.
    public static func published(_ n: Int) -> Int? { n >= threshold ? n : nil }
}

/// 供需: demand and supply per 10,000 residents, and whether demand outgrows supply.
public enum SupplyDemand {
    public static func per10k(_ n: Int, population: Int) -> Double? {
        guard population > 0 else { return nil }
        return (Double(n) * 10_000 / Double(population) * 100).rounded() / 100
    }

    /// Demand outgrows supply when the place's demand stands further above the city's than its supply does: each as a
    /// ratio to the city's figure (a county with twice the city's requests per head and only the city's practitioners
    /// per head is short).
    public static func isShort(demand: Double?, supply: Double?, cityDemand: Double?, citySupply: Double?) -> Bool {
        guard let demand, let cityDemand, cityDemand > 0 else { return false }
        let d = demand / cityDemand
        guard let citySupply, citySupply > 0 else { return d > 0 }
        let s = (supply ?? 0) / citySupply
        return d > s * 1.2
    }
}
