// People's mediation on the People's Mediation Law of the PRC (人民调解法, 2011). Article numbers are
// that law's unless a rule says otherwise.

/// A member's place on a committee (art. 8: a director, deputies where needed, members).
public enum CommitteeRole: String, ChineseNamed, Codable {
    case director
    case deputyDirector = "deputy_director"
    case member
    public var chineseName: String {
        switch self {
        case .director: "主任"
        case .deputyDirector: "副主任"
        case .member: "委员"
        }
    }
}

public struct CommitteeMember: Equatable, Sendable {
    public var name: String
    public var gender: Gender
    public var role: CommitteeRole
    public var termStart: CivilDate
    public init(name: String, gender: Gender, role: CommitteeRole, termStart: CivilDate) {
        self.name = name
        self.gender = gender
        self.role = role
        self.termStart = termStart
    }
}

/// What is wrong with a committee's make-up, each with the article it comes from.
public enum CompositionWarning: Equatable, Sendable {
    case tooFew(Int)
    case tooMany(Int)
    case noWoman
    case noDirector
    case severalDirectors(Int)
    case termExpired(names: [String])

    public var article: String {
        switch self {
        case .termExpired: "人民调解法第九条第二款"
        case .noWoman: "人民调解法第八条第三款"
        default: "人民调解法第八条第二款"
        }
    }

    public var message: String {
        switch self {
        case .tooFew(let n): "委员只有 \(n) 人，人民调解委员会由委员三至九人组成"
        case .tooMany(let n): "委员有 \(n) 人，人民调解委员会由委员三至九人组成"
        case .noWoman: "没有妇女成员，人民调解委员会应当有妇女成员"
        case .noDirector: "没有设主任，人民调解委员会应设主任一人"
        case .severalDirectors(let n): "设有 \(n) 名主任，应设主任一人"
        case .termExpired(let names): "\(names.joined(separator: "、")) 的三年任期已满，应当换届或连选连任"
        }
    }
}

public enum MediationRules {
    public static let termYears = 3
    public static let memberRange = 3...9

    /// Art. 8: three to nine members, one director, at least one woman; art. 9: three-year terms.
    public static func composition(_ members: [CommitteeMember], on today: CivilDate) -> [CompositionWarning] {
        var warnings: [CompositionWarning] = []
        if members.count < memberRange.lowerBound { warnings.append(.tooFew(members.count)) }
        if members.count > memberRange.upperBound { warnings.append(.tooMany(members.count)) }
        if !members.contains(where: { $0.gender == .female }) { warnings.append(.noWoman) }
        let directors = members.filter { $0.role == .director }.count
        if directors == 0 { warnings.append(.noDirector) } else if directors > 1 { warnings.append(.severalDirectors(directors)) }
        let expired = members.filter { termEnd(from: $0.termStart) <= today }.map(\.name)
        if !expired.isEmpty { warnings.append(.termExpired(names: expired)) }
        return warnings
    }

    /// The day a term ends: three years on (29 February starts end on 28 February).
    public static func termEnd(from start: CivilDate) -> CivilDate {
        var day = start.day
        while true {
            let s = CivilDate.pad(start.year + termYears, 4) + "-" + CivilDate.pad(start.month, 2) + "-" + CivilDate.pad(day, 2)
            if let d = CivilDate(s) { return d }
            day -= 1
        }
    }

    /// Art. 33: the parties may jointly apply to the court within 30 days of the agreement taking effect;
    /// a last day on a rest day moves to the next working day (民事诉讼法 on periods).
    public static let confirmationDays = 30

    public static func confirmationDeadline(effectiveOn: CivilDate, calendar: WorkingCalendar) -> CivilDate {
        calendar.addingCalendarDays(confirmationDays, to: effectiveOn)
    }

    /// A dispute with many people or much money is a mass dispute, for the judicial office to watch.
    public static func isMass(peopleInvolved: Int, amount: Fen?, peopleThreshold: Int, amountThreshold: Fen) -> Bool {
        peopleInvolved >= peopleThreshold || (amount ?? 0) >= amountThreshold
    }

    /// Art. 26: when mediation fails or is refused, the parties are told the other ways open to them.
    public static let otherRemedies = "可以依法通过仲裁、行政、司法等途径维护自己的权利；经济困难的，可以申请法律援助"
}

/// Where a case came from.
public enum MediationSource: String, ChineseNamed, Codable {
    case application
    case listeningPoint = "listening_point"
    case courtReferral = "court_referral"
    case policeReferral = "police_referral"
    case petitionReferral = "petition_referral"
    case screening
    public var chineseName: String {
        switch self {
        case .application: "当事人申请"
        case .listeningPoint: "百姓说事点"
        case .courtReferral: "法院诉前委派"
        case .policeReferral: "公安机关移送"
        case .petitionReferral: "信访部门移送"
        case .screening: "调委会排查"
        }
    }
}

public enum PartySide: String, ChineseNamed, Codable {
    case applicant, respondent
    public var chineseName: String { self == .applicant ? "申请方" : "被申请方" }
}

public enum PartyKind: String, ChineseNamed, Codable {
    case person, organisation
    public var chineseName: String { self == .person ? "自然人" : "单位" }
}

/// How a mediation ends.
public enum MediationOutcome: String, ChineseNamed, Codable {
    case success, failure, terminated
    /// A party refused mediation (art. 17): nothing was mediated.
    case notMediated = "not_mediated"
    public var chineseName: String {
        switch self {
        case .success: "调解成功"
        case .failure: "调解不成"
        case .terminated: "终止调解"
        case .notMediated: "当事人拒绝调解"
        }
    }
    /// The request's outcome code for it.
    public var requestOutcome: String {
        switch self {
        case .success: "settled"
        case .failure: "not_settled"
        case .terminated: "mediation_terminated"
        case .notMediated: "not_mediated"
        }
    }
}

/// Art. 28: written (调解协议书) or oral, recorded by the mediator.
public enum AgreementForm: String, ChineseNamed, Codable {
    case written, oral
    public var chineseName: String { self == .written ? "书面调解协议" : "口头调解协议" }
}

public enum FulfilmentStatus: String, ChineseNamed, Codable {
    /// An agreement's status from its obligations': fulfilled only when every one is; partly when any
    /// part was done; otherwise not fulfilled once any was judged so, else still pending.
    public static func overall(_ statuses: [FulfilmentStatus]) -> FulfilmentStatus {
        guard !statuses.isEmpty else { return .pending }
        if statuses.allSatisfy({ $0 == .fulfilled }) { return .fulfilled }
        if statuses.contains(where: { $0 == .fulfilled || $0 == .partlyFulfilled }) { return .partlyFulfilled }
        return statuses.contains(.notFulfilled) ? .notFulfilled : .pending
    }

    case pending
    case fulfilled
    case partlyFulfilled = "partly_fulfilled"
    case notFulfilled = "not_fulfilled"
    public var chineseName: String {
        switch self {
        case .pending: "待履行"
        case .fulfilled: "已履行"
        case .partlyFulfilled: "部分履行"
        case .notFulfilled: "未履行"
        }
    }
}

/// Dispute screening: more cases of one category in one place in the last 30 days than a multiple
/// of its usual level (the average 30 days over the half-year before) is a hotspot.
public enum Hotspot {
    public static let windowDays = 30
    public static let baselineWindows = 6

    /// `earlier` counts the cases in the `baselineWindows` windows before the recent one.
    public static func isHotspot(recent: Int, earlier: Int, multiple: Double, minimum: Int) -> Bool {
        guard recent >= minimum else { return false }
        let usual = Double(earlier) / Double(baselineWindows)
        return Double(recent) > multiple * max(usual, 1)
    }
}

public enum CourtDecision: String, ChineseNamed, Codable {
    case confirmed
    case rejected
    public var chineseName: String { self == .confirmed ? "裁定确认调解协议有效" : "裁定驳回申请" }
}
