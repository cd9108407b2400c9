import Foundation

/// How an indicator's value is held against its target.
public enum IndicatorComparator: String, Sendable, Codable {
    case atLeast = ">="
    case atMost = "<="

    public func isMet(value: Double, target: Double) -> Bool {
        // Rates are compared at 0.01 percentage-point precision, so that 99.999…% from
        // floating point division does not fail a 100% target that is in fact met.
        let v = (value * 10_000).rounded() / 10_000, t = (target * 10_000).rounded() / 10_000
        return self == .atLeast ? v >= t : v <= t
    }
}

public enum IndicatorUnit: String, Sendable, Codable {
    case percent, count, hours, minutes
}

/// One computed indicator for one region and period.
public struct IndicatorFigure: Equatable, Sendable {
    /// Nil when there is nothing to measure (a rate over no cases, a coverage of no units): shown as 暂无数据,
    /// never as a 100% that looks met.
    public var value: Double?
    public var numerator: Int?
    public var denominator: Int?

    /// Fewer cases than this and a rate is shown with a warning: two cases out of two is not "100% on time".
    public static let smallSample = 10

    /// A ratio in percent; with a denominator of 0 there is no figure.
    public static func ratio(_ numerator: Int, of denominator: Int) -> IndicatorFigure {
        precondition(numerator >= 0 && denominator >= 0 && numerator <= max(denominator, numerator))
        let value = denominator == 0 ? nil : Double(numerator) * 100 / Double(denominator)
        return IndicatorFigure(value: value, numerator: numerator, denominator: denominator)
    }

    /// An average over `n` cases (a wait in minutes): no figure over none.
    public static func average(_ value: Double?, over n: Int) -> IndicatorFigure {
        IndicatorFigure(value: n == 0 ? nil : value.flatMap { $0.isFinite ? $0 : nil }, numerator: nil, denominator: max(0, n))
    }

    public static func count(_ n: Int) -> IndicatorFigure {
        IndicatorFigure(value: Double(n), numerator: nil, denominator: nil)
    }

    /// One decimal place, as reports print rates.
    public var rounded: Double? { value.map { ($0 * 10).rounded() / 10 } }

    /// Whether the figure meets the target; nil when there is no figure to judge.
    public func meets(_ target: Double, _ comparator: IndicatorComparator) -> Bool? {
        value.map { comparator.isMet(value: $0, target: target) }
    }

    /// A rate over fewer than `smallSample` cases.
    public var isSmallSample: Bool { (denominator ?? 0) > 0 && (denominator ?? 0) < Self.smallSample }
}
