import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 12348 呼叫中心 (issue #23, item 2): the telephone exchange reports each call's events (a system client with the
/// `telephony` scope); every call becomes a call record, the caller's number sealed and masked. The operator it rings at
/// or is answered by sees the caller at once on the console (`CallPops`); a voicemail, and a caller who pressed 1 or 2
/// afterwards, become a callback due within a working day; the keypad rating is the rating of the matter the call was
/// about (a bad one goes into the rectification loop).
enum Calls {
    static let schema = "calls"

    struct EventInput: Content {
        var callId: String?
        var event: String?
        var caller: String?
        var queue: String?
        /// The operator's username (the exchange's agent mapped to ours).
        var `operator`: String?
        var at: Date?
        var digit: Int?
        var recording: String?
    }

    struct EventAnswer: Content { var callId: String; var state: String }

    /// Handles one event, in the order the exchange sends them; the same event sent twice changes nothing.
    static func handle(_ input: EventInput, app: Application) async throws -> EventAnswer {
        var errors = FieldErrors()
        let callID = errors.required(input.callId, "callId", "通话编号", maxLength: 64)
        let event = errors.choice(input.event, "event", "事件", as: CallEvent.self)
        let caller = input.caller.flatMap(CallerNumber.init)
        if event == .ring, caller == nil { errors.add("caller", "来电号码应为手机号或固定电话号码") }
        let queue = errors.optional(input.queue, "queue", "队列", maxLength: 40)
        let recording = errors.optional(input.recording, "recording", "录音编号", maxLength: 200)
        if event == .rating, !(1...5).contains(input.digit ?? 0) { errors.add("digit", "按键评价应为 1–5") }
        try errors.throwIfAny()
        let db = app.db as! any SQLDatabase
        let now = app.clock.now
        // The exchange's clock, unless it is far from ours (then ours: an event is never dated in the future).
        let at = input.at.flatMap { abs($0.timeIntervalSince(now)) < 86_400 ? min($0, now) : nil } ?? now
        var named: UUID?
        if let name = input.operator?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            guard name.count <= 60, let id = try await db.raw("""
                SELECT id FROM accounts WHERE username = \(bind: name) AND role = \(bind: Role.hotlineOperator.rawValue) AND active = \(bind: true)
                """).first(decodingColumn: "id", as: UUID.self) else { throw AppError.validation(["operator": "未找到该坐席"]) }
            named = id
        }
        let operatorID = named
        let protector = app.personalData
        let sealedCaller = try caller.map { (protector.lookupHash($0.digits), try protector.encrypt($0.digits), $0.masked) }
        let event_ = event!
        // Through the one writing connection (the ledger's group commit): an exchange sends many events at once, and on the
        // embedded database concurrent write transactions on pooled connections fail instead of waiting.
        let state = try await app.ledger.write(on: app.db) { w -> CallState in
            let sql = w.db as! any SQLDatabase
            struct Stored: Decodable { var id: UUID; var state: String; var requestId: UUID?; var rating: Int?; var operatorId: UUID? }
            var stored = try await sql.raw("SELECT id, state, request_id, rating, operator_id FROM calls WHERE call_id = \(bind: callID)")
                .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
            if stored == nil {
                // A call is known from its first event (normally the ring).
                guard let sealedCaller else { throw AppError.validation(["caller": "首个事件须带来电号码"]) }
                let id = UUID()
                try await sql.raw("""
                    INSERT INTO calls (id, call_id, caller_hash, caller_cipher, caller_masked, queue, operator_id, state, rang_at, updated_at)
                    VALUES (\(bind: id), \(bind: callID), \(bind: sealedCaller.0), \(bind: sealedCaller.1), \(bind: sealedCaller.2), \(bind: queue),
                            \(bind: operatorID), \(bind: CallState.ringing.rawValue), \(bind: at), \(bind: now))
                    ON CONFLICT (call_id) DO NOTHING
                    """).run()
                stored = try await sql.raw("SELECT id, state, request_id, rating, operator_id FROM calls WHERE call_id = \(bind: callID)")
                    .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
            }
            guard let call = stored, let current = CallState(rawValue: call.state) else { throw AppError.notFound("通话") }
            let next = CallFlow.next(from: current, on: event_)
            var update = sql.update(schema).set("state", to: next.rawValue).set("updated_at", to: SQLBind(now))
            if let operatorID { update = update.set("operator_id", to: SQLBind(operatorID)) }
            if let queue { update = update.set("queue", to: queue) }
            if let recording { update = update.set("recording", to: recording) }
            switch event_ {
            case .ring: break
            case .answer where current == .ringing: update = update.set("answered_at", to: SQLBind(at))
            case .answer: break
            case .transfer: update = update.set(SQLIdentifier("transfers"), to: SQLRaw("COALESCE(transfers, 0) + 1"))
            case .hangup where current.isLive: update = update.set("ended_at", to: SQLBind(at))
            case .hangup: break
            case .voicemail:
                update = update.set("ended_at", to: SQLBind(at))
                    .set("callback_due", to: app.workingCalendar.addingWorkingDays(1, to: CivilDate(at)).description)
            case .rating:
                guard call.rating == nil else { break }
                update = update.set("rating", to: SQLBind(input.digit!)).set("rated_at", to: SQLBind(at))
                if input.digit! <= 2 {
                    // A dissatisfied caller is called back (回访) within a working day.
                    update = update.set("callback_due", to: app.workingCalendar.addingWorkingDays(1, to: CivilDate(at)).description)
                }
            }
            try await update.where("id", .equal, call.id).run()
            // The operator's state follows their calls: on a call when answered, in after-call work when it ends.
            if let who = operatorID ?? call.operatorId, let state = OperatorState.after(event_, callWas: current) {
                try await OperatorStates.set(who, to: state, at: now, on: sql)
            }
            return next
        }
        // The keypad's rating is the rating of the matter the call was about, when it was concluded on the call.
        if event_ == .rating, let digit = input.digit, let rating = Rating(rawValue: digit) {
            struct L: Decodable { var requestId: UUID? }
            if let request = try await db.raw("SELECT request_id FROM calls WHERE call_id = \(bind: callID)").first(decoding: L.self, keyDecodingStrategy: .snakeCase)?.requestId {
                _ = try? await RequestActions.evaluate(byKeypad: request, rating, app: app)
            }
        }
        return EventAnswer(callId: callID, state: state.rawValue)
    }

    // MARK: Reading

    struct Row: Content {
        var id: UUID
        var callId: String
        var callerMasked: String
        var queue: String?
        var operatorName: String?
        var state: String
        var stateName: String
        var rangAt: Date
        var answeredAt: Date?
        var endedAt: Date?
        var waitSeconds: Int?
        var rating: Int?
        var requestId: UUID?
        var requestNumber: String?
        var callbackDue: String?
        var callbackDoneAt: Date?
        var callbackNote: String?
        var recording: String?
    }

    static let select = """
        SELECT c.id, c.call_id, c.caller_masked, c.queue, a.display_name AS operator_name, c.state, c.rang_at, c.answered_at, c.ended_at,
               c.rating, c.request_id, r.number AS request_number, c.callback_due, c.callback_done_at, c.callback_note, c.recording
        FROM calls c LEFT JOIN accounts a ON a.id = c.operator_id LEFT JOIN service_requests r ON r.id = c.request_id
        """
    struct Stored: Decodable {
        var id: UUID; var callId: String; var callerMasked: String; var queue: String?; var operatorName: String?; var state: String
        var rangAt: Date; var answeredAt: Date?; var endedAt: Date?; var rating: Int?; var requestId: UUID?; var requestNumber: String?
        var callbackDue: String?; var callbackDoneAt: Date?; var callbackNote: String?; var recording: String?
    }

    static func row(_ s: Stored, protector: PersonalDataProtector) -> Row {
        Row(id: s.id, callId: s.callId, callerMasked: s.callerMasked, queue: s.queue, operatorName: s.operatorName, state: s.state,
            stateName: CallState(rawValue: s.state)?.chineseName ?? s.state, rangAt: s.rangAt, answeredAt: s.answeredAt, endedAt: s.endedAt,
            waitSeconds: s.answeredAt.map { max(0, Int($0.timeIntervalSince(s.rangAt))) }, rating: s.rating, requestId: s.requestId,
            requestNumber: s.requestNumber, callbackDue: s.callbackDue, callbackDoneAt: s.callbackDoneAt,
            callbackNote: (try? protector.open(s.callbackNote)) ?? nil, recording: s.recording)
    }

    /// Who may read call records: the hotline and its supervisors.
    static func mayRead(_ p: Principal) -> Bool { p.client == nil && [.hotlineOperator, .cityAdmin, .countyAdmin, .leader, .auditor].contains(p.role) }

    static func list(caller: MobileNumber?, callbacksOnly: Bool, page: PageRequest, app: Application, on db: any SQLDatabase) async throws -> Paged<Row> {
        var conditions: [SQLQueryString] = []
        if let caller { conditions.append("c.caller_hash = \(bind: app.personalData.lookupHash(caller.digits))") }
        if callbacksOnly { conditions.append("c.callback_due IS NOT NULL AND c.callback_done_at IS NULL") }
        let clause: SQLQueryString = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM calls c" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        let order: SQLQueryString = callbacksOnly ? " ORDER BY c.callback_due, c.rang_at" : " ORDER BY c.rang_at DESC"
        let rows = try await db.raw(SQLQueryString(select) + clause + order
                                    + " LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map { row($0, protector: app.personalData) }, total: total, page: page.page, per: page.per)
    }

    static func find(_ id: UUID, app: Application, on db: any SQLDatabase) async throws -> (Row, callerCipher: String) {
        struct C: Decodable { var callerCipher: String }
        guard let s = try await db.raw(SQLQueryString(select) + " WHERE c.id = \(bind: id)").first(decoding: Stored.self, keyDecodingStrategy: .snakeCase),
              let cipher = try await db.raw("SELECT caller_cipher FROM calls WHERE id = \(bind: id)").first(decoding: C.self, keyDecodingStrategy: .snakeCase)
        else { throw AppError.notFound("通话") }
        return (row(s, protector: app.personalData), cipher.callerCipher)
    }

    /// The operator called the person back (a voicemail, a dissatisfied caller): what came of it.
    struct CallbackInput: Content { var reached: Bool?; var note: String? }

    static func calledBack(_ id: UUID, _ input: CallbackInput, by p: Principal, app: Application) async throws -> Row {
        guard p.role == .hotlineOperator || p.role == .cityAdmin, p.client == nil else { throw AppError(.forbidden, "forbidden", "由 12348 坐席回拨") }
        var errors = FieldErrors()
        if input.reached == nil { errors.add("reached", "请选择是否联系上") }
        let note = errors.required(input.note, "note", "回拨情况", maxLength: 500)
        try errors.throwIfAny()
        let sql = app.db as! any SQLDatabase
        let sealed = try app.personalData.seal((input.reached! ? "已联系上：" : "未联系上：") + note)
        let done = try await sql.raw("""
            UPDATE calls SET callback_done_at = \(bind: app.clock.now), callback_on = \(bind: app.today.description), callback_by = \(bind: p.accountID), callback_note = \(bind: sealed),
                   updated_at = \(bind: app.clock.now)
            WHERE id = \(bind: id) AND callback_due IS NOT NULL AND callback_done_at IS NULL RETURNING id
            """).all()
        guard !done.isEmpty else {
            _ = try await find(id, app: app, on: sql)
            throw AppError.conflict("no_callback", "该通话没有待回拨的任务")
        }
        return try await find(id, app: app, on: sql).0
    }

    static func isOperator(_ p: Principal, of call: UUID, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT id FROM calls WHERE id = \(bind: call) AND operator_id = \(bind: p.accountID)").first() != nil
    }

    /// Links a request created or updated on the call (the console sends the call with the form).
    static func link(call: UUID, to request: UUID, operator p: Principal, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE calls SET request_id = \(bind: request) WHERE id = \(bind: call) AND operator_id = \(bind: p.accountID)
            """).run()
    }
}

/// The number a call came from: a mobile, or a landline with its area code (10–12 digits), masked for the page.
struct CallerNumber {
    let digits: String
    let masked: String

    init?(_ raw: String) {
        if let m = MobileNumber(raw) {
            digits = m.digits
            masked = m.masked
            return
        }
        let d = raw.filter { $0 != "-" && $0 != " " }
        guard (10...12).contains(d.count), d.hasPrefix("0"), d.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        digits = d
        masked = String(d.prefix(4)) + "****" + String(d.suffix(2))
    }
}

extension Calls {
    /// Callbacks falling due (voicemails, dissatisfied callers): the hotline's to make, escalated to the city if missed.
    static func deadlines(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct R: Decodable { var id: UUID; var callerMasked: String; var callbackDue: String }
        let rows = try await db.raw("""
            SELECT c.id, c.caller_masked, c.callback_due FROM calls c
            WHERE c.callback_due IS NOT NULL AND c.callback_done_at IS NULL AND c.callback_due <= \(bind: horizon.description) AND
            """ + " " + Deadlines.notFinished(subject: "c.id", step: "call.callback", due: "c.callback_due") + " ORDER BY c.callback_due LIMIT 500")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return rows.compactMap { c in
            CivilDate(c.callbackDue).map {
                var d = WatchedDeadline(subjectID: c.id, requestID: nil, number: c.callerMasked, regionCode: "", step: "call.callback",
                                        name: "12348 来电回拨", due: $0, institutionID: nil)
                d.noun = "来电"
                d.notify = [.hotlineOperator]
                return d
            }
        }
    }
}

/// Call records, with what the exchange reported and what the hotline did.
struct M046CreateCalls: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Calls.schema)
            .id()
            .field("call_id", .string, .required)
            .field("caller_hash", .string, .required)
            .field("caller_cipher", .string, .required)
            .field("caller_masked", .string, .required)
            .field("queue", .string)
            .field("operator_id", .uuid, .references(Account.schema, "id"))
            .field("state", .string, .required)
            .field("rang_at", .datetime, .required)
            .field("answered_at", .datetime)
            .field("ended_at", .datetime)
            .field("transfers", .int)
            .field("recording", .string)
            .field("rating", .int)
            .field("rated_at", .datetime)
            .field("request_id", .uuid, .references(ServiceRequest.schema, "id"))
            .field("callback_due", .string)
            .field("callback_done_at", .datetime)
            .field("callback_on", .string)
            .field("callback_by", .uuid)
            .field("callback_note", .string)
            .field("updated_at", .datetime, .required)
            .unique(on: "call_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "calls_caller_idx").on(Calls.schema).column("caller_hash").column("rang_at").run()
        try await sql.create(index: "calls_operator_idx").on(Calls.schema).column("operator_id").column("updated_at").run()
        try await sql.create(index: "calls_rang_idx").on(Calls.schema).column("rang_at").run()
        try await sql.create(index: "calls_callback_idx").on(Calls.schema).column("callback_due").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Calls.schema).delete()
    }
}
