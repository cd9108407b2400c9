/// What the telephone exchange reports about a call.
public enum CallEvent: String, CaseIterable, Sendable, Codable, ChineseNamed {
    case ring, answer, transfer, hangup, voicemail, rating

    public var chineseName: String {
        switch self {
        case .ring: "振铃"
        case .answer: "接听"
        case .transfer: "转接"
        case .hangup: "挂机"
        case .voicemail: "留言"
        case .rating: "按键评价"
        }
    }
}

/// A call's state: ringing (waiting in the queue or at an operator), answered, then ended; abandoned when the caller hung
/// up before anyone answered; voicemail when they left a message (out of hours, or no one free).
public enum CallState: String, CaseIterable, Sendable, Codable {
    case ringing, answered, ended, abandoned, voicemail

    public var chineseName: String {
        switch self {
        case .ringing: "振铃中"
        case .answered: "通话中"
        case .ended: "已接听"
        case .abandoned: "未接通挂机"
        case .voicemail: "留言"
        }
    }

    /// Not yet over.
    public var isLive: Bool { self == .ringing || self == .answered }
}

/// How events move a call. Events come in order but may be repeated or arrive after the call is over (a rating after the
/// hang-up); nothing moves a call back.
public enum CallFlow {
    public static func next(from state: CallState, on event: CallEvent) -> CallState {
        switch (state, event) {
        case (.ringing, .answer): .answered
        case (.ringing, .hangup): .abandoned
        case (.answered, .hangup): .ended
        case (.ringing, .voicemail), (.abandoned, .voicemail): .voicemail
        default: state
        }
    }

    /// Seconds within which a call counts as answered promptly for the service level (the industry's 80/20: 80% of calls
    /// answered within 20 seconds).
    public static let serviceLevelSeconds = 20
}

/// What a 12348 operator is doing, as the wallboard shows it. The exchange's events move an operator onto a call and,
/// when it ends, into after-call work (话后处理: finishing the record); the operator says when they are free again, on a
/// break or gone.
public enum OperatorState: String, CaseIterable, Sendable, Codable {
    case available, onCall = "on_call", afterCall = "after_call", onBreak = "on_break", offline

    public var chineseName: String {
        switch self {
        case .available: "空闲"
        case .onCall: "通话中"
        case .afterCall: "话后处理"
        case .onBreak: "小休"
        case .offline: "离线"
        }
    }

    /// The states an operator may choose on the console (a call is the exchange's to report).
    public static let chosen: [OperatorState] = [.available, .afterCall, .onBreak, .offline]

    /// Where a call's event leaves the operator it names, or nil when it changes nothing.
    public static func after(_ event: CallEvent, callWas state: CallState) -> OperatorState? {
        switch (event, state) {
        case (.answer, .ringing): .onCall
        case (.hangup, .answered), (.transfer, .answered): .afterCall
        default: nil
        }
    }
}
