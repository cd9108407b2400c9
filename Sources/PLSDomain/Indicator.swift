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
    case percent, count, hours
}

/// One computed indicator for one region and period.
public struct IndicatorFigure: Equatable, Sendable {
    public var value: Double
    public var numerator: Int?
    public var denominator: Int?

    /// A ratio in percent. With nothing to cover (denominator 0) the unit is not short of anything: 100%.
    public static func ratio(_ numerator: Int, of denominator: Int) -> IndicatorFigure {
        precondition(numerator >= 0 && denominator >= 0 && numerator <= max(denominator, numerator))
        let value = denominator == 0 ? 100 : Double(numerator) * 100 / Double(denominator)
        return IndicatorFigure(value: value, numerator: numerator, denominator: denominator)
    }

    public static func count(_ n: Int) -> IndicatorFigure {
        IndicatorFigure(value: Double(n), numerator: nil, denominator: nil)
    }

    /// One decimal place, as reports print rates.
    public var rounded: Double { (value * 10).rounded() / 10 }
}
