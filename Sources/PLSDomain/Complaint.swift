/// A complaint (投诉) against an institution or a practitioner, handled by the supervising county bureau: registered,
/// accepted within the acceptance period (one request for missing material stops the clock), investigated with the
/// parties' statements, decided within the decision period (one extension, with reasons), the result told in writing.
/// A legal aid recipient may ask for the lawyer to be replaced (法律援助法 arts. 55–56).
public enum ComplaintStatus: String, CaseIterable, Sendable, Codable {
    case registered
    case awaitingMaterial = "awaiting_material"
    case investigating
    case refused
    case decided

    public var chineseName: String {
        switch self {
        case .registered: "待受理"
        case .awaitingMaterial: "待补正材料"
        case .investigating: "已受理，调查中"
        case .refused: "不予受理"
        case .decided: "已作出处理决定"
        }
    }

    public var isOpen: Bool { self == .registered || self == .awaitingMaterial || self == .investigating }
}

public enum ComplaintKind: String, CaseIterable, Sendable, Codable {
    case service
    case conduct
    case fees
    case legalAidReplacement = "legal_aid_replacement"

    public var chineseName: String {
        switch self {
        case .service: "服务质量"
        case .conduct: "执业行为"
        case .fees: "收费"
        case .legalAidReplacement: "法律援助：投诉并要求更换承办人员（法律援助法第五十五、五十六条）"
        }
    }
}

public enum ComplaintChannel: String, CaseIterable, Sendable, Codable {
    case portal, hotline, window, letter
    public var chineseName: String {
        switch self {
        case .portal: "网上投诉"
        case .hotline: "12348 热线"
        case .window: "窗口"
        case .letter: "来信"
        }
    }
}

public enum ComplaintStep: String, CaseIterable, Sendable {
    case requestMaterial = "request-material"
    case materialReceived = "material-received"
    case accept, refuse, statement, extend, decide

    public var chineseName: String {
        switch self {
        case .requestMaterial: "通知补正材料"
        case .materialReceived: "收到补正材料"
        case .accept: "受理"
        case .refuse: "不予受理"
        case .statement: "记录当事人陈述"
        case .extend: "延长办理期限"
        case .decide: "作出处理决定"
        }
    }
}

/// The time limits: acceptance in working days from registration, the decision in calendar days from acceptance, and
/// the one extension.
public struct ComplaintRules: Sendable, Equatable {
    public var acceptDays: Int
    public var decisionDays: Int
    public var extensionDays: Int

    public static let standard = ComplaintRules(acceptDays: 10, decisionDays: 60, extensionDays: 30)

    public init(acceptDays: Int, decisionDays: Int, extensionDays: Int) {
        self.acceptDays = acceptDays
        self.decisionDays = decisionDays
        self.extensionDays = extensionDays
    }

    public func acceptDue(registeredOn day: CivilDate, paused: DeadlineRule.Pause = .init(), on calendar: WorkingCalendar) -> CivilDate {
        DeadlineRule(days: acceptDays, unit: .workingDays).due(from: day, paused: paused, on: calendar)
    }

    /// From acceptance; before it, from the last day acceptance may take (the latest the decision can be due).
    public func decisionDue(from day: CivilDate, extended: Bool, on calendar: WorkingCalendar) -> CivilDate {
        DeadlineRule(days: decisionDays + (extended ? extensionDays : 0), unit: .calendarDays).due(from: day, on: calendar)
    }
}

public enum ComplaintFlow {
    public enum Refusal: Error, Equatable, Sendable { case notNow(String) }

    /// The state after `step`; `materialRequested`, `extended`: whether the once-only steps were taken before.
    public static func next(_ step: ComplaintStep, from status: ComplaintStatus, materialRequested: Bool = false,
                            extended: Bool = false) -> Result<ComplaintStatus, Refusal> {
        switch (step, status) {
        case (.requestMaterial, .registered):
            return materialRequested ? .failure(.notNow("补正材料只能通知一次")) : .success(.awaitingMaterial)
        case (.materialReceived, .awaitingMaterial):
            return .success(.registered)
        case (.accept, .registered), (.accept, .awaitingMaterial):
            return .success(.investigating)
        case (.refuse, .registered), (.refuse, .awaitingMaterial):
            return .success(.refused)
        case (.statement, .investigating):
            return .success(.investigating)
        case (.extend, .investigating):
            return extended ? .failure(.notNow("办理期限只能延长一次")) : .success(.investigating)
        case (.decide, .investigating):
            return .success(.decided)
        case (.accept, _), (.refuse, _), (.requestMaterial, _), (.materialReceived, _):
            return .failure(.notNow("投诉已\(status == .refused ? "不予受理" : "受理")，当前状态为“\(status.chineseName)”"))
        default:
            return .failure(.notNow("投诉受理后才能\(step.chineseName)；当前状态为“\(status.chineseName)”"))
        }
    }
}
