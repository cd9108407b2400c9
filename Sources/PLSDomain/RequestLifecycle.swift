import Foundation

/// The states of a service request. Capabilities add detail, never their own lifecycle.
public enum RequestStatus: String, ChineseNamed, Codable {
    case submitted, accepted, rejected, assigned
    case inProgress = "in_progress"
    case suspended, concluded, transferred

    public var chineseName: String {
        switch self {
        case .submitted: "待受理"
        case .accepted: "已受理"
        case .rejected: "不予受理"
        case .assigned: "已分派"
        case .inProgress: "办理中"
        case .suspended: "中止（待补正）"
        case .concluded: "已办结"
        case .transferred: "已转办"
        }
    }

    /// Still somebody's work: counts toward load and can fall overdue.
    public var isOpen: Bool { ![.rejected, .concluded, .transferred].contains(self) }
    public static let open: [RequestStatus] = allCases.filter(\.isOpen)
}

public enum RequestAction: String, ChineseNamed, Codable {
    case submit, accept, reject, assign, start, suspend, resume, transfer
    case takeBack = "take_back"
    case conclude
    /// A refusal set aside on review (e.g. 法律援助法 art. 49): the matter is examined again.
    case reopen

    public var chineseName: String {
        switch self {
        case .submit: "提交"
        case .accept: "受理"
        case .reject: "不予受理"
        case .assign: "分派"
        case .start: "开始办理"
        case .suspend: "中止"
        case .resume: "恢复办理"
        case .transfer: "转办"
        case .takeBack: "收回"
        case .conclude: "办结"
        case .reopen: "重新审查"
        }
    }

    /// What the action must carry.
    public var requiresNote: Bool { [.reject, .suspend, .transfer, .conclude].contains(self) }
}

public struct InvalidTransition: Error, Equatable, Sendable {
    public var action: RequestAction
    public var from: RequestStatus
    public var message: String { "当前状态为“\(from.chineseName)”，不能“\(action.chineseName)”" }
}

/// The state machine: which action leads from which states to which, and who may take it.
/// Controllers ask it; nothing sets a status by hand.
public enum RequestLifecycle {
    /// Staff who take in and dispatch work at a centre, the hotline, or a justice bureau.
    public static let dispatchers: Set<Role> = [.hotlineOperator, .windowClerk, .institutionAdmin, .countyAdmin, .cityAdmin]
    /// Those who do the work on a request assigned to them or their institution.
    public static let handlers: Set<Role> = [.practitioner, .institutionAdmin, .countyAdmin, .cityAdmin]

    public struct Rule: Sendable {
        public var from: Set<RequestStatus>
        public var to: RequestStatus
        public var roles: Set<Role>
    }

    public static let rules: [RequestAction: Rule] = [
        .accept: Rule(from: [.submitted], to: .accepted, roles: dispatchers),
        .reject: Rule(from: [.submitted], to: .rejected, roles: dispatchers),
        .assign: Rule(from: [.accepted, .assigned], to: .assigned, roles: dispatchers),
        .start: Rule(from: [.assigned], to: .inProgress, roles: handlers),
        .suspend: Rule(from: [.inProgress], to: .suspended, roles: handlers),
        .resume: Rule(from: [.suspended], to: .inProgress, roles: handlers),
        .transfer: Rule(from: [.accepted, .assigned, .inProgress], to: .transferred, roles: dispatchers),
        .takeBack: Rule(from: [.transferred], to: .accepted, roles: dispatchers),
        // A consultation answered on the call or at the window is concluded by whoever answered it.
        .conclude: Rule(from: [.accepted, .assigned, .inProgress], to: .concluded, roles: handlers.union(dispatchers)),
        // Only the justice bureau sets a refusal or a termination aside, on review (法律援助法 art. 49).
        .reopen: Rule(from: [.rejected, .concluded], to: .submitted, roles: [.countyAdmin, .cityAdmin]),
    ]

    public enum Refusal: Error, Equatable, Sendable {
        case invalidTransition(InvalidTransition)
        case roleNotAllowed
    }

    /// The state after `action`, or why it may not be taken.
    public static func next(from status: RequestStatus, action: RequestAction, by role: Role) -> Result<RequestStatus, Refusal> {
        guard let rule = rules[action] else {
            return .failure(.invalidTransition(InvalidTransition(action: action, from: status)))
        }
        // The state first: an action impossible from here is a conflict whoever asks.
        guard rule.from.contains(status) else {
            return .failure(.invalidTransition(InvalidTransition(action: action, from: status)))
        }
        guard rule.roles.contains(role) else { return .failure(.roleNotAllowed) }
        return .success(rule.to)
    }

    /// The actions a role could take now, for showing buttons.
    public static func available(from status: RequestStatus, to role: Role) -> [RequestAction] {
        RequestAction.allCases.filter { a in rules[a].map { $0.from.contains(status) && $0.roles.contains(role) } ?? false }
    }
}

/// A readable, sortable request number: `FW` + date + a six-digit sequence of the day.
public enum RequestNumber {
    public static func make(date: CivilDate, sequence: Int) -> String {
        "FW" + CivilDate.pad(date.year, 4) + CivilDate.pad(date.month, 2) + CivilDate.pad(date.day, 2) + CivilDate.pad(sequence, 6)
    }
}
