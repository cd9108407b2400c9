/// What a department's system (12345, the 110 command centre, a court's 诉调对接 system, the telephone exchange) may do
/// with its token. Nothing is allowed that a scope does not name: a client's token is not a staff login.
public enum ClientScope: Hashable, Sendable {
    /// Submit work orders on this channel (`POST /api/v1/requests`).
    case submit(RequestChannel)
    /// Read the status of the work orders it submitted, by its own reference.
    case readSubmitted
    /// Send the exchange's call events (the 12348 call centre).
    case telephony
    /// Receive the matters our staff transfer to this system (12345, 110) and answer each: accepted or refused.
    case receive(TransferTarget)

    /// The channels a system may submit on: what reaches the platform from another department.
    public static let submitChannels: [RequestChannel] = [.transfer12345, .transfer110, .referral]

    /// The systems our staff transfer matters to through the platform (the others keep a reference typed by hand).
    public static let receiveTargets: [TransferTarget] = [.hotline12345, .police110]

    public static let all: [ClientScope] = submitChannels.map { .submit($0) } + [.readSubmitted, .telephony] + receiveTargets.map { .receive($0) }

    public init?(rawValue: String) {
        switch rawValue {
        case "read:submitted": self = .readSubmitted
        case "telephony": self = .telephony
        default:
            if rawValue.hasPrefix("receive:") {
                guard let target = TransferTarget(rawValue: String(rawValue.dropFirst(8))), Self.receiveTargets.contains(target) else { return nil }
                self = .receive(target)
                return
            }
            guard rawValue.hasPrefix("submit:"), let channel = RequestChannel(rawValue: String(rawValue.dropFirst(7))),
                  Self.submitChannels.contains(channel) else { return nil }
            self = .submit(channel)
        }
    }

    public var rawValue: String {
        switch self {
        case .submit(let c): "submit:" + c.rawValue
        case .readSubmitted: "read:submitted"
        case .telephony: "telephony"
        case .receive(let t): "receive:" + t.rawValue
        }
    }

    public var chineseName: String {
        switch self {
        case .submit(let c): "以“\(c.chineseName)”渠道提交工单"
        case .readSubmitted: "查询本系统提交工单的状态"
        case .telephony: "推送话务事件（12348 呼叫中心）"
        case .receive(let t): "接收转至“\(t.chineseName)”的事项并答复接收或退回"
        }
    }

    /// Parses a list as an administrator gives it: every scope known, none twice, at least one.
    public static func parse(_ raw: [String]) -> Result<[ClientScope], ScopeError> {
        guard !raw.isEmpty else { return .failure(.empty) }
        var seen: [ClientScope] = []
        for r in raw {
            guard let s = ClientScope(rawValue: r) else { return .failure(.unknown(r)) }
            if !seen.contains(s) { seen.append(s) }
        }
        return .success(seen)
    }

    public enum ScopeError: Error, Equatable {
        case empty
        case unknown(String)

        public var message: String {
            switch self {
            case .empty: "请至少授予一项权限"
            case .unknown(let s): "未知的权限“\(String(s.prefix(40)))”，可选：" + ClientScope.all.map(\.rawValue).joined(separator: "、")
            }
        }
    }
}

/// When a work order's status goes back to its sender: each change, in order, retried with a growing wait until the
/// sender acknowledges it (a 2xx), given up after a day of trying and then resent by hand.
public enum CallbackSchedule {
    public static let maxAttempts = 12

    /// Seconds before attempt `n + 1`: 10 s doubling, at most an hour.
    public static func backoff(afterAttempts n: Int) -> Double {
        let doubled = 10.0 * Double(1 << min(max(0, n - 1), 20))
        return min(3_600, doubled)
    }
}
