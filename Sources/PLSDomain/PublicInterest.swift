/// 公益法律服务: what practitioners do beyond their cases (petition reception, campaigns such as wage arrears, free
/// consultations, legal education), counted per practitioner and year with their village adviser hours against the
/// annual hours the bureau sets; legal aid cases are counted beside them.
public enum PublicInterestKind: String, CaseIterable, Sendable, Codable {
    case petitionReception = "petition_reception"
    case campaign
    case freeConsultation = "free_consultation"
    case legalEducation = "legal_education"
    case other

    public var chineseName: String {
        switch self {
        case .petitionReception: "参与信访接待"
        case .campaign: "专项公益活动（如欠薪维权）"
        case .freeConsultation: "免费法律咨询"
        case .legalEducation: "普法宣传"
        case .other: "其他公益法律服务"
        }
    }
}

public enum PublicInterestRules {
    /// The annual hours when the bureau has set none (a common provincial requirement for lawyers).
    public static let defaultAnnualHours = 50
    public static let annualHoursRange = 0...500
    /// One entry: half an hour to a day.
    public static let hoursRange = 0.5...24.0

    /// What is wrong with an entry, by field: a day in the future, or more than a year back; hours out of range or not in
    /// half hours.
    public static func problems(day: CivilDate, hours: Double, today: CivilDate) -> [String: String] {
        var problems: [String: String] = [:]
        if day > today { problems["servedOn"] = "服务日期不能晚于今天" }
        if day < today.adding(days: -366) { problems["servedOn"] = "只能登记一年以内的服务" }
        if !hours.isFinite || !hoursRange.contains(hours) || (hours * 2).rounded() != hours * 2 {
            problems["hours"] = "服务时长应为 0.5–24 小时，以半小时计"
        }
        return problems
    }
}

/// A practitioner's year: the hours logged as public-interest service and as village adviser, and the legal aid
/// cases designated to them.
public struct PublicInterestTally: Sendable, Equatable, Codable {
    public var serviceHours: Double
    public var adviserHours: Double
    public var aidCases: Int

    public init(serviceHours: Double, adviserHours: Double, aidCases: Int) {
        self.serviceHours = serviceHours
        self.adviserHours = adviserHours
        self.aidCases = aidCases
    }

    public var totalHours: Double { serviceHours + adviserHours }
    public func met(annualHours: Int) -> Bool { totalHours >= Double(annualHours) }
}
