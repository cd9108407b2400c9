import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// The 12348 call centre: the exchange's events, call records, the operator's screen pop, callbacks, the wallboard.
    func callCentre() {
        api.post("telephony", "events", use: CallCentreController.apiEvent)
        api.get("calls", use: CallCentreController.apiList)
        api.get("calls", "wallboard", use: CallCentreController.apiWallboard)
        api.post("calls", ":id", "callback", use: CallCentreController.apiCallback)
        web.get("hotline", "calls", "current", use: CallCentreController.current)
        web.get("hotline", "calls", "stream", use: CallCentreController.stream)
        web.get("hotline", "callbacks", use: CallCentrePages.callbacks)
        web.post("hotline", "callbacks", ":id", use: CallCentrePages.callBack)
        web.get("hotline", "wallboard", use: CallCentrePages.wallboard)
        web.get("hotline", "wallboard.json", use: CallCentreController.apiWallboard)
        api.get("operators", use: CallCentreController.apiOperators)
        api.put("operators", "me", "state", use: CallCentreController.apiChooseState)
        web.post("hotline", "state", use: CallCentrePages.chooseState)
    }
}

enum CallCentreController {
    /// The exchange: only a system with the `telephony` scope (checked again here, whatever the guard let through).
    static func apiEvent(_ req: Request) async throws -> Response {
        let p = try req.principal()
        guard let grant = p.client, grant.allows(.telephony) else { throw AppError(.forbidden, "forbidden", "仅供话务系统推送") }
        let answer = try await Calls.handle(try req.content.decode(Calls.EventInput.self), app: req.application)
        return try Response(status: .accepted).encodeJSON(answer)
    }

    static func reader(_ req: Request) throws -> Principal {
        let p = try req.staff()
        try p.require(Calls.mayRead(p))
        return p
    }

    static func apiList(_ req: Request) async throws -> Paged<Calls.Row> {
        _ = try reader(req)
        let raw = (try? req.query.get(String.self, at: "caller"))?.trimmingCharacters(in: .whitespaces)
        var caller: MobileNumber?
        if let raw, !raw.isEmpty {
            guard let m = MobileNumber(raw) else { throw AppError.validation(["caller": "来电号码应为 11 位手机号"]) }
            caller = m
        }
        let callbacks = (try? req.query.get(String.self, at: "callbacks")) == "1"
        return try await Calls.list(caller: caller, callbacksOnly: callbacks, page: try PageRequest(from: req), app: req.application, on: req.sql)
    }

    static func apiCallback(_ req: Request) async throws -> Calls.Row {
        try await Calls.calledBack(try req.uuid("id", notFound: "通话"), try req.content.decode(Calls.CallbackInput.self), by: try req.staff(), app: req.application)
    }

    static func apiWallboard(_ req: Request) async throws -> Wallboard {
        _ = try reader(req)
        return try await Wallboard.now(app: req.application, on: req.sql)
    }

    /// The operators' states: for the supervisors, and for the exchange (it routes calls to those free).
    static func apiOperators(_ req: Request) async throws -> [OperatorStates.Line] {
        let p = try req.principal()
        if let grant = p.client { guard grant.allows(.telephony) else { throw AppError(.forbidden, "forbidden", "仅供话务系统读取") } }
        else { try p.require(Calls.mayRead(p)) }
        return try await OperatorStates.list(app: req.application, on: req.sql)
    }

    static func apiChooseState(_ req: Request) async throws -> OperatorStates.Line {
        try await OperatorStates.choose(try req.content.decode(OperatorStates.Input.self), by: try req.staff(), app: req.application)
    }

    // MARK: The screen pop

    /// A call ringing at or answered by this operator, as the console shows it.
    struct Pop: Content { var id: UUID; var state: String; var stateName: String; var callerMasked: String; var href: String; var at: Date }

    static func operatorOnly(_ req: Request) throws -> Principal {
        let p = try req.staff()
        try p.require(p.role == .hotlineOperator && p.client == nil)
        return p
    }

    /// Only the operator's own calls: another operator's console never shows them.
    static func pops(for p: Principal, since: Date, on db: any SQLDatabase) async throws -> [Pop] {
        struct R: Decodable { var id: UUID; var state: String; var callerMasked: String; var updatedAt: Date }
        return try await db.raw("""
            SELECT id, state, caller_masked, updated_at FROM calls
            WHERE operator_id = \(bind: p.accountID) AND state IN (\(bind: CallState.ringing.rawValue), \(bind: CallState.answered.rawValue))
              AND updated_at > \(bind: since)
            ORDER BY updated_at LIMIT 5
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Pop(id: $0.id, state: $0.state, stateName: CallState(rawValue: $0.state)?.chineseName ?? $0.state, callerMasked: $0.callerMasked,
                href: "/hotline?call=\($0.id)", at: $0.updatedAt)
        }
    }

    /// The operator's live calls now (the console's first look, and where a browser without event streams asks).
    static func current(_ req: Request) async throws -> [Pop] {
        let p = try operatorOnly(req)
        return try await pops(for: p, since: req.now.addingTimeInterval(-3_600), on: req.sql)
    }

    /// Each call that rings at or is answered by this operator, pushed as it happens (`ServerSentEvents`).
    static func stream(_ req: Request) async throws -> Response {
        let p = try operatorOnly(req)
        let db = req.sql, start = req.now
        // The browser's own last event, within the last minute and never ahead of now (the header is the client's to send).
        let last = req.headers.first(name: "Last-Event-ID").flatMap { Double($0.prefix(24)) }.flatMap { $0.isFinite ? $0 : nil }.map { Date(timeIntervalSince1970: $0) }
        let since = min(start, max(last ?? start.addingTimeInterval(-5), start.addingTimeInterval(-60)))
        return ServerSentEvents.response(initial: since) { seen in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            var latest = seen
            var messages: [String] = []
            for pop in try await pops(for: p, since: seen, on: db) {
                latest = max(latest, pop.at)
                messages.append(ServerSentEvents.message(event: "call", data: String(decoding: try encoder.encode(pop), as: UTF8.self),
                                                         id: String(pop.at.timeIntervalSince1970)))
            }
            return (latest, messages)
        }
    }
}

/// 大屏 for the hotline's supervisor: today's calls as they stand.
struct Wallboard: Content {
    var waiting: Int
    var answered: Int
    var abandoned: Int
    var voicemail: Int
    /// Answered within `CallFlow.serviceLevelSeconds`, of the calls answered or abandoned today; nil before any.
    var serviceLevel: Double?
    var averageWaitSeconds: Int?
    var operatorsOnCall: Int
    var callbacksOpen: Int
    var callbacksOverdue: Int
    /// Operators by state (空闲, 话后处理, 小休), and each with their state.
    var operatorsAvailable: Int
    var operatorsAfterCall: Int
    var operatorsOnBreak: Int
    var operators: [OperatorStates.Line]

    static func now(app: Application, on db: any SQLDatabase) async throws -> Wallboard {
        let today = app.today
        // The day in Beijing: calls are dated by instants.
        let start = today.startInChina, end = today.adding(days: 1).startInChina
        struct R: Decodable {
            var waiting: Int?; var answered: Int?; var abandoned: Int?; var voicemail: Int?; var onCall: Int?
        }
        let r = try await db.raw("""
            SELECT CAST(SUM(CASE WHEN state = 'ringing' THEN 1 ELSE 0 END) AS BIGINT) AS waiting,
                   CAST(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS answered,
                   CAST(SUM(CASE WHEN state = 'abandoned' THEN 1 ELSE 0 END) AS BIGINT) AS abandoned,
                   CAST(SUM(CASE WHEN state = 'voicemail' THEN 1 ELSE 0 END) AS BIGINT) AS voicemail,
                   COUNT(DISTINCT CASE WHEN state = 'answered' THEN operator_id END) AS on_call
            FROM calls WHERE rang_at >= \(bind: start) AND rang_at < \(bind: end)
            """).first(decoding: R.self, keyDecodingStrategy: .snakeCase)
        struct W: Decodable { var answeredAt: Date; var rangAt: Date }
        let waits = try await db.raw("""
            SELECT answered_at, rang_at FROM calls WHERE rang_at >= \(bind: start) AND rang_at < \(bind: end) AND answered_at IS NOT NULL LIMIT 20000
            """).all(decoding: W.self, keyDecodingStrategy: .snakeCase).map { max(0, $0.answeredAt.timeIntervalSince($0.rangAt)) }
        let prompt = waits.filter { $0 <= Double(CallFlow.serviceLevelSeconds) }.count
        struct C: Decodable { var open: Int?; var overdue: Int? }
        let c = try await db.raw("""
            SELECT COUNT(*) AS open, CAST(SUM(CASE WHEN callback_due < \(bind: today.description) THEN 1 ELSE 0 END) AS BIGINT) AS overdue
            FROM calls WHERE callback_due IS NOT NULL AND callback_done_at IS NULL
            """).first(decoding: C.self)
        let operators = try await OperatorStates.list(app: app, on: db)
        func count(_ s: OperatorState) -> Int { operators.filter { $0.state == s.rawValue }.count }
        let answered = r?.answered ?? 0, abandoned = r?.abandoned ?? 0
        let offered = answered + abandoned
        return Wallboard(waiting: r?.waiting ?? 0, answered: answered, abandoned: abandoned, voicemail: r?.voicemail ?? 0,
                         serviceLevel: offered == 0 ? nil : (Double(prompt) * 1000 / Double(offered)).rounded() / 10,
                         averageWaitSeconds: waits.isEmpty ? nil : Int((waits.reduce(0, +) / Double(waits.count)).rounded()),
                         operatorsOnCall: r?.onCall ?? 0, callbacksOpen: c?.open ?? 0, callbacksOverdue: c?.overdue ?? 0,
                         operatorsAvailable: count(.available), operatorsAfterCall: count(.afterCall), operatorsOnBreak: count(.onBreak),
                         operators: operators.filter { $0.state != OperatorState.offline.rawValue })
    }
}
