import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 话务质检 (issue #23, item 2): each month a share of each operator's answered calls (the city's setting, 5% unless
/// set) is drawn at random — by a daily job for the month before, or by the bureau for the month so far — and scored
/// on the checklist (`CallQuality.Item`); the operator is told and may appeal once; the bureau decides the appeal,
/// rescoring when it is upheld. The month's results are each operator's scorecard; `hotline_qc_rate` counts the
/// checked share of the year's answered calls.
enum CallQualityChecks {
    static let schema = "call_quality_checks"

    enum Status: String, CaseIterable {
        case sampled, scored, appealed, final
        var chineseName: String {
            switch self {
            case .sampled: "待质检"
            case .scored: "已评分"
            case .appealed: "申诉中"
            case .final: "已定分"
            }
        }
    }

    /// The bureau checks calls (its city administrators: the hotline is the city's); leaders and auditors read.
    static func mayCheck(_ p: Principal) -> Bool { p.role == .cityAdmin && p.client == nil }
    static func mayReadAll(_ p: Principal) -> Bool { p.client == nil && [.cityAdmin, .leader, .auditor].contains(p.role) }

    /// "2026-03": the month's first day, and the next month's.
    static func month(_ raw: String?, default today: CivilDate) throws -> (label: String, start: CivilDate, end: CivilDate) {
        let text = raw?.trimmingCharacters(in: .whitespaces).nilIfEmpty ?? String(today.description.prefix(7))
        let parts = text.split(separator: "-")
        guard text.count == 7, parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (2000...2100).contains(y), (1...12).contains(m),
              let start = CivilDate(year: y, month: m, day: 1),
              let end = m == 12 ? CivilDate(year: y + 1, month: 1, day: 1) : CivilDate(year: y, month: m + 1, day: 1)
        else { throw AppError.validation(["month": "月份格式为 YYYY-MM，如 2026-03"]) }
        return (text, start, end)
    }

    // MARK: Drawing

    /// Draws what the month's sample still lacks for each operator (drawn again, nothing is drawn twice). Returns how many
    /// calls were added.
    @discardableResult
    static func draw(month raw: String?, app: Application) async throws -> Int {
        let m = try month(raw, default: app.today)
        let db = app.db as! any SQLDatabase
        let share = app.city.hotlineQcSharePercent
        struct C: Decodable {
            var id: UUID; var operatorId: UUID; var drawn: Int
            var sampled: Bool { drawn != 0 }
        }
        let calls = try await db.raw("""
            SELECT c.id, c.operator_id, CASE WHEN q.id IS NULL THEN 0 ELSE 1 END AS drawn FROM calls c LEFT JOIN call_quality_checks q ON q.call_id = c.id
            WHERE c.answered_at IS NOT NULL AND c.operator_id IS NOT NULL
              AND c.rang_at >= \(bind: m.start.startInChina) AND c.rang_at < \(bind: m.end.startInChina)
            ORDER BY c.rang_at LIMIT 200000
            """).all(decoding: C.self, keyDecodingStrategy: .snakeCase)
        let now = app.clock.now
        var added = 0
        for (op, theirs) in Dictionary(grouping: calls, by: \.operatorId).sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            let lacking = CallQuality.sampleSize(answered: theirs.count, sharePercent: share) - theirs.filter(\.sampled).count
            guard lacking > 0 else { continue }
            // Reproducible for the record: the month and the operator seed the draw.
            for call in CallQuality.draw(theirs.filter { !$0.sampled }.map(\.id), count: lacking, seed: m.label + "|" + op.uuidString) {
                let inserted = try await db.raw("""
                    INSERT INTO call_quality_checks (id, call_id, operator_id, month, status, created_at)
                    VALUES (\(bind: UUID()), \(bind: call), \(bind: op), \(bind: m.label), \(bind: Status.sampled.rawValue), \(bind: now))
                    ON CONFLICT (call_id) DO NOTHING RETURNING id
                    """).all()
                added += inserted.count
            }
        }
        return added
    }

    // MARK: Scoring, appeal, decision

    struct ScoreInput: Content {
        var greeting: Int?; var accuracy: Int?; var attitude: Int?; var closure: Int?; var comment: String?
        var scores: [CallQuality.Item: Int] {
            var s: [CallQuality.Item: Int] = [:]
            s[.greeting] = greeting; s[.accuracy] = accuracy; s[.attitude] = attitude; s[.closure] = closure
            return s
        }
    }

    static func checkedTotal(_ input: ScoreInput, errors: inout FieldErrors) -> Int? {
        switch CallQuality.total(input.scores) {
        case .success(let t): return t
        case .failure(.missing(let item)): errors.add(item.rawValue, "请为“\(item.chineseName)”评分"); return nil
        case .failure(.outOfRange(let item)): errors.add(item.rawValue, "“\(item.chineseName)”应为 0–\(item.points) 分"); return nil
        }
    }

    static func score(_ id: UUID, _ input: ScoreInput, by p: Principal, app: Application) async throws -> Check {
        guard mayCheck(p) else { throw AppError(.forbidden, "forbidden", "话务质检由市级管理员评分") }
        var errors = FieldErrors()
        let total = checkedTotal(input, errors: &errors)
        let comment = errors.optional(input.comment, "comment", "质检意见", maxLength: 1000)
        if let total, total < CallQuality.passingScore, comment == nil { errors.add("comment", "不合格（低于 \(CallQuality.passingScore) 分）须写明质检意见") }
        try errors.throwIfAny()
        let db = app.db as! any SQLDatabase
        let check = try await find(id, app: app, on: db)
        guard check.status == Status.sampled.rawValue else { throw AppError.conflict("already_scored", "该通话已评分（\(check.statusName)）") }
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            let done = try await sql.raw("""
                UPDATE call_quality_checks SET status = \(bind: Status.scored.rawValue), greeting = \(bind: input.greeting!), accuracy = \(bind: input.accuracy!),
                       attitude = \(bind: input.attitude!), closure = \(bind: input.closure!), total = \(bind: total!),
                       comment = \(bind: try app.personalData.seal(ifAny: comment)), checked_by = \(bind: p.accountID), checked_at = \(bind: now)
                WHERE id = \(bind: id) AND status = \(bind: Status.sampled.rawValue) RETURNING id
                """).all()
            guard !done.isEmpty else { throw AppError.conflict("already_scored", "该通话已评分") }
            try await Notifications.notify(accounts: [check.operatorId], request: nil,
                                           text: "话务质检：您 \(check.month) 接听的来电 \(check.callerMasked) 得分 \(total!) 分。如有异议，可在质检页申诉一次。",
                                           now: now, on: sql)
        }
        return try await find(id, app: app, on: db)
    }

    struct AppealInput: Content { var reason: String? }

    static func appeal(_ id: UUID, _ input: AppealInput, by p: Principal, app: Application) async throws -> Check {
        let db = app.db as! any SQLDatabase
        let check = try await find(id, app: app, on: db)
        guard p.client == nil, p.accountID == check.operatorId else { throw AppError(.forbidden, "forbidden", "只有接听该来电的坐席可以申诉") }
        var errors = FieldErrors()
        let reason = errors.required(input.reason, "reason", "申诉理由", maxLength: 1000)
        try errors.throwIfAny()
        guard check.status == Status.scored.rawValue else {
            throw AppError.conflict("not_appealable", check.status == Status.sampled.rawValue ? "尚未评分，不能申诉" : "每次质检只能申诉一次")
        }
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            let done = try await sql.raw("""
                UPDATE call_quality_checks SET status = \(bind: Status.appealed.rawValue), appeal_reason = \(bind: try app.personalData.seal(reason)),
                       appealed_at = \(bind: now) WHERE id = \(bind: id) AND status = \(bind: Status.scored.rawValue) RETURNING id
                """).all()
            guard !done.isEmpty else { throw AppError.conflict("not_appealable", "每次质检只能申诉一次") }
            let admins = try await Notifications.accounts(role: .cityAdmin, on: sql)
            try await Notifications.notify(accounts: admins, request: nil, text: "话务质检申诉：\(p.displayName)对来电 \(check.callerMasked) 的评分提出申诉，请复核。",
                                           now: now, on: sql)
        }
        return try await find(id, app: app, on: db)
    }

    struct DecisionInput: Content {
        var upheld: Bool?; var note: String?
        var greeting: Int?; var accuracy: Int?; var attitude: Int?; var closure: Int?
    }

    /// The appeal decided: upheld, the call is scored again; dismissed, the score stands. Either way it is final.
    static func decide(_ id: UUID, _ input: DecisionInput, by p: Principal, app: Application) async throws -> Check {
        guard mayCheck(p) else { throw AppError(.forbidden, "forbidden", "申诉由市级管理员复核") }
        var errors = FieldErrors()
        if input.upheld == nil { errors.add("upheld", "请选择申诉是否成立") }
        let note = errors.required(input.note, "note", "复核意见", maxLength: 1000)
        let rescore = ScoreInput(greeting: input.greeting, accuracy: input.accuracy, attitude: input.attitude, closure: input.closure)
        let total = input.upheld == true ? checkedTotal(rescore, errors: &errors) : nil
        try errors.throwIfAny()
        let db = app.db as! any SQLDatabase
        let check = try await find(id, app: app, on: db)
        guard check.status == Status.appealed.rawValue else { throw AppError.conflict("not_appealed", "该质检没有待复核的申诉") }
        let now = app.clock.now
        let upheld = input.upheld!
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            var update = sql.update(schema).set("status", to: Status.final.rawValue).set("decision", to: upheld ? "upheld" : "dismissed")
                .set("decision_note", to: try app.personalData.seal(note)).set("decided_by", to: SQLBind(p.accountID)).set("decided_at", to: SQLBind(now))
            if upheld {
                update = update.set("greeting", to: rescore.greeting!).set("accuracy", to: rescore.accuracy!).set("attitude", to: rescore.attitude!)
                    .set("closure", to: rescore.closure!).set("total", to: total!)
            }
            try await update.where("id", .equal, id).run()
            try await Notifications.notify(accounts: [check.operatorId], request: nil,
                                           text: "话务质检申诉复核：" + (upheld ? "申诉成立，改为 \(total!) 分" : "维持 \(check.total ?? 0) 分") + "。\(note)",
                                           now: now, on: sql)
        }
        return try await find(id, app: app, on: db)
    }

    // MARK: Reading

    struct Check: Content {
        var id: UUID
        var callId: UUID
        var month: String
        var operatorId: UUID
        var operatorName: String
        var callerMasked: String
        var rangAt: Date
        var answeredAt: Date?
        var endedAt: Date?
        var recording: String?
        var requestId: UUID?
        var requestNumber: String?
        var status: String
        var statusName: String
        var greeting: Int?
        var accuracy: Int?
        var attitude: Int?
        var closure: Int?
        var total: Int?
        var passed: Bool?
        var comment: String?
        var appealReason: String?
        var decision: String?
        var decisionNote: String?
    }

    private struct Stored: Decodable {
        var id: UUID; var callId: UUID; var month: String; var operatorId: UUID; var operatorName: String; var callerMasked: String
        var rangAt: Date; var answeredAt: Date?; var endedAt: Date?; var recording: String?; var requestId: UUID?; var requestNumber: String?
        var status: String; var greeting: Int?; var accuracy: Int?; var attitude: Int?; var closure: Int?; var total: Int?
        var comment: String?; var appealReason: String?; var decision: String?; var decisionNote: String?
    }

    private static let select = """
        SELECT q.id, q.call_id, q.month, q.operator_id, a.display_name AS operator_name, c.caller_masked, c.rang_at, c.answered_at, c.ended_at,
               c.recording, c.request_id, r.number AS request_number, q.status, q.greeting, q.accuracy, q.attitude, q.closure, q.total,
               q.comment, q.appeal_reason, q.decision, q.decision_note
        FROM call_quality_checks q JOIN calls c ON c.id = q.call_id JOIN accounts a ON a.id = q.operator_id
        LEFT JOIN service_requests r ON r.id = c.request_id
        """

    private static func check(_ s: Stored, app: Application) throws -> Check {
        let p = app.personalData
        return Check(id: s.id, callId: s.callId, month: s.month, operatorId: s.operatorId, operatorName: s.operatorName, callerMasked: s.callerMasked,
                     rangAt: s.rangAt, answeredAt: s.answeredAt, endedAt: s.endedAt, recording: s.recording, requestId: s.requestId,
                     requestNumber: s.requestNumber, status: s.status, statusName: Status(rawValue: s.status)?.chineseName ?? s.status,
                     greeting: s.greeting, accuracy: s.accuracy, attitude: s.attitude, closure: s.closure, total: s.total,
                     passed: s.total.map { $0 >= CallQuality.passingScore }, comment: try p.open(s.comment), appealReason: try p.open(s.appealReason),
                     decision: s.decision, decisionNote: try p.open(s.decisionNote))
    }

    static func find(_ id: UUID, app: Application, on db: any SQLDatabase) async throws -> Check {
        guard let s = try await db.raw(SQLQueryString(select) + " WHERE q.id = \(bind: id)").first(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        else { throw AppError.notFound("质检记录") }
        return try check(s, app: app)
    }

    /// What a person may see: the bureau all of a month's, an operator their own.
    static func visible(_ c: Check, to p: Principal) -> Bool { mayReadAll(p) || (p.client == nil && p.accountID == c.operatorId) }

    static func list(month: String, status: Status?, operator account: UUID?, page: PageRequest, app: Application,
                     on db: any SQLDatabase) async throws -> Paged<Check> {
        var conditions: [SQLQueryString] = ["q.month = \(bind: month)"]
        if let status { conditions.append("q.status = \(bind: status.rawValue)") }
        if let account { conditions.append("q.operator_id = \(bind: account)") }
        let clause = " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM call_quality_checks q" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw(SQLQueryString(select) + clause + " ORDER BY q.status = 'appealed' DESC, c.rang_at"
                                    + " LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: try rows.map { try check($0, app: app) }, total: total, page: page.page, per: page.per)
    }

    /// Each operator's month: calls answered, checked, the average score, those passed, appeals.
    struct ScorecardLine: Content {
        var operatorId: UUID; var operatorName: String; var answered: Int; var sampled: Int; var scored: Int
        var averageScore: Double?; var passed: Int; var appeals: Int
    }

    static func scorecard(month raw: String?, app: Application, on db: any SQLDatabase) async throws -> [ScorecardLine] {
        let m = try month(raw, default: app.today)
        struct A: Decodable { var operatorId: UUID; var displayName: String; var answered: Int }
        let answered = try await db.raw("""
            SELECT c.operator_id, a.display_name, COUNT(*) AS answered FROM calls c JOIN accounts a ON a.id = c.operator_id
            WHERE c.answered_at IS NOT NULL AND c.rang_at >= \(bind: m.start.startInChina) AND c.rang_at < \(bind: m.end.startInChina)
            GROUP BY c.operator_id, a.display_name
            """).all(decoding: A.self, keyDecodingStrategy: .snakeCase)
        struct Q: Decodable { var operatorId: UUID; var sampled: Int; var scored: Int?; var sum: Int?; var passed: Int?; var appeals: Int? }
        let checks = try await db.raw("""
            SELECT operator_id, COUNT(*) AS sampled, CAST(SUM(CASE WHEN total IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS scored,
                   CAST(SUM(total) AS BIGINT) AS sum,
                   CAST(SUM(CASE WHEN total >= \(bind: CallQuality.passingScore) THEN 1 ELSE 0 END) AS BIGINT) AS passed,
                   CAST(SUM(CASE WHEN appealed_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS appeals
            FROM call_quality_checks WHERE month = \(bind: m.label) GROUP BY operator_id
            """).all(decoding: Q.self, keyDecodingStrategy: .snakeCase)
        let byOperator = Dictionary(uniqueKeysWithValues: checks.map { ($0.operatorId, $0) })
        return answered.map { a in
            let q = byOperator[a.operatorId]
            let scored = q?.scored ?? 0
            return ScorecardLine(operatorId: a.operatorId, operatorName: a.displayName, answered: a.answered, sampled: q?.sampled ?? 0, scored: scored,
                                 averageScore: scored == 0 ? nil : (Double(q?.sum ?? 0) * 10 / Double(scored)).rounded() / 10,
                                 passed: q?.passed ?? 0, appeals: q?.appeals ?? 0)
        }.sorted { ($0.averageScore ?? -1, $0.operatorName) > ($1.averageScore ?? -1, $1.operatorName) }
    }
}

extension RepeatingJob {
    /// Each day, last month's sample is completed (it is drawn once; the next days find nothing lacking).
    static let callQualityDraw = RepeatingJob(name: "call-quality-draw", initialDelay: .seconds(30), interval: .hours(24)) { app in
        do {
            let last = app.today.adding(days: -app.today.day)
            try await CallQualityChecks.draw(month: String(last.description.prefix(7)), app: app)
        } catch { app.logger.report(error: error) }
    }
}

/// The calls drawn for checking, their scores, appeals and decisions.
struct M051CreateCallQualityChecks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CallQualityChecks.schema)
            .id()
            .field("call_id", .uuid, .required, .references(Calls.schema, "id"))
            .field("operator_id", .uuid, .required, .references(Account.schema, "id"))
            .field("month", .string, .required)
            .field("status", .string, .required)
            .field("greeting", .int)
            .field("accuracy", .int)
            .field("attitude", .int)
            .field("closure", .int)
            .field("total", .int)
            .field("comment", .string)
            .field("checked_by", .uuid)
            .field("checked_at", .datetime)
            .field("appeal_reason", .string)
            .field("appealed_at", .datetime)
            .field("decision", .string)
            .field("decision_note", .string)
            .field("decided_by", .uuid)
            .field("decided_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "call_id")
            .create()
        try await (database as! any SQLDatabase).create(index: "call_quality_checks_month_idx").on(CallQualityChecks.schema)
            .column("month").column("operator_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(CallQualityChecks.schema).delete()
    }
}
