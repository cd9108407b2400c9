/// The rectification of a bad rating (差评整改, 国办发〔2019〕51号): every 不满意 or 非常不满意 is called back, verified,
/// rectified within the city's time limit, answered to the person, who rates the rectification once. The institution
/// may appeal a rating it holds mistaken or malicious; the county bureau decides, and an upheld appeal takes the rating
/// out of the satisfaction figures (its reason kept).
public enum RectificationStatus: String, CaseIterable, Sendable, Codable {
    case awaitingCallback = "awaiting_callback"
    case rectifying
    case rectified
    case replied
    case closed
    case appealed
    case withdrawn

    public var chineseName: String {
        switch self {
        case .awaitingCallback: "待回访"
        case .rectifying: "核实整改中"
        case .rectified: "已整改，待答复"
        case .replied: "已答复，待复评"
        case .closed: "已办结"
        case .appealed: "申诉复核中"
        case .withdrawn: "申诉成立，评价不计"
        }
    }

    /// Still waiting for someone to act.
    public var isOpen: Bool { self != .closed && self != .withdrawn }
}

public enum RectificationStep: String, CaseIterable, Sendable {
    case callback, rectify, reply, appeal
    case appealDecision = "appeal-decision"
    case evaluation

    public var chineseName: String {
        switch self {
        case .callback: "回访"
        case .rectify: "核实整改"
        case .reply: "答复"
        case .appeal: "申诉"
        case .appealDecision: "申诉复核"
        case .evaluation: "整改复评"
        }
    }
}

/// The time limits, in working days from the day of the rating (the appeal's from the day it is filed).
public struct RectificationRules: Sendable, Equatable {
    public var callbackDays: Int
    public var rectifyDays: Int
    public var appealDecisionDays: Int

    /// 1 working day to call back, 15 to rectify (some provinces use 5: a city setting), 5 for the county to decide an appeal.
    public static let standard = RectificationRules(callbackDays: 1, rectifyDays: 15, appealDecisionDays: 5)
    /// What a city may set.
    public static let callbackRange = 1...5, rectifyRange = 1...30

    public init(callbackDays: Int, rectifyDays: Int, appealDecisionDays: Int) {
        self.callbackDays = callbackDays
        self.rectifyDays = rectifyDays
        self.appealDecisionDays = appealDecisionDays
    }

    public func callbackDue(ratedOn day: CivilDate, on calendar: WorkingCalendar) -> CivilDate {
        calendar.addingWorkingDays(callbackDays, to: day)
    }

    public func rectifyDue(ratedOn day: CivilDate, on calendar: WorkingCalendar) -> CivilDate {
        calendar.addingWorkingDays(rectifyDays, to: day)
    }

    public func appealDue(appealedOn day: CivilDate, on calendar: WorkingCalendar) -> CivilDate {
        calendar.addingWorkingDays(appealDecisionDays, to: day)
    }
}

/// Which step may be taken in which state, and where it leads.
public enum RectificationFlow {
    /// A callback that did not reach the person is tried again; after this many attempts the case goes on (unreachable
    /// is an outcome, recorded).
    public static let attemptsBeforeGivingUp = 3

    public enum Refusal: Error, Equatable, Sendable {
        /// The step does not apply in this state; the message says what is expected instead.
        case notNow(String)
    }

    /// The state after `step`, or why it cannot be taken now.
    /// `reached`/`attempts`: the callback's outcome (attempts so far, this one included).
    /// `appealed`: whether the case was appealed before (one appeal only). `upheld`: the county's decision.
    /// `before`: the state the appeal interrupted, to which a rejected appeal returns.
    public static func next(_ step: RectificationStep, from status: RectificationStatus, reached: Bool = false, attempts: Int = 1,
                            appealed: Bool = false, upheld: Bool = false,
                            before: RectificationStatus? = nil) -> Result<RectificationStatus, Refusal> {
        switch (step, status) {
        case (.callback, .awaitingCallback):
            return .success(reached || attempts >= attemptsBeforeGivingUp ? .rectifying : .awaitingCallback)
        case (.callback, _):
            return .failure(.notNow("回访已记录，当前状态为“\(status.chineseName)”"))
        case (.rectify, .rectifying):
            return .success(.rectified)
        case (.rectify, .awaitingCallback):
            return .failure(.notNow("请先回访当事人，核实情况后再整改"))
        case (.reply, .rectified):
            return .success(.replied)
        case (.reply, .awaitingCallback), (.reply, .rectifying):
            return .failure(.notNow("请先记录核实情况和整改措施，再答复当事人"))
        case (.appeal, .awaitingCallback), (.appeal, .rectifying):
            return appealed ? .failure(.notNow("每条评价只能申诉一次")) : .success(.appealed)
        case (.appeal, _):
            return .failure(.notNow("整改已答复或已办结，不能再申诉"))
        case (.appealDecision, .appealed):
            if upheld { return .success(.withdrawn) }
            return .success(before.flatMap { $0 == .appealed ? nil : $0 } ?? .rectifying)
        case (.appealDecision, _):
            return .failure(.notNow("没有待复核的申诉"))
        case (.evaluation, .replied):
            return .success(.closed)
        case (.evaluation, .closed):
            return .failure(.notNow("整改结果已评价，每次整改只评价一次"))
        case (.evaluation, _):
            return .failure(.notNow("整改答复后才能评价"))
        default:
            return .failure(.notNow("当前状态为“\(status.chineseName)”，不能\(step.chineseName)"))
        }
    }
}

/// Why an institution holds a rating mistaken or malicious (申诉理由).
public enum RatingAppealKind: String, CaseIterable, Sendable, Codable {
    case mistaken, malicious
    public var chineseName: String { self == .mistaken ? "误评（评价对象或事项有误）" : "恶意差评" }
}
