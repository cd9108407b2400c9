import Vapor
import Fluent
import SQLKit
import PLSDomain

/// A deadline the system computed and watches: a step that someone must take by `due`, of a request or of something
/// else the bureau follows up (a complaint about an institution, the rectification after a case-file review).
struct WatchedDeadline: Sendable {
    /// Whose step it is: the request, complaint or review; the notices are recorded against it.
    var subjectID: UUID
    /// The request the notice links to, where there is one.
    var requestID: UUID?
    /// The number people know it by (the request's, the complaint's).
    var number: String
    var regionCode: String
    /// The step, as recorded with each notice (`accept`, `legal_aid.designation`, …).
    var step: String
    /// The step as the notice names it (“法律援助审查决定（第四十三条）”).
    var name: String
    var due: CivilDate
    /// Who must take the step: this institution's staff; nil, or `countyTakesIt`, the county's justice bureau.
    var institutionID: UUID?
    var countyTakesIt = false
    /// Told after the due date and escalated to the county (false: only reminded before, where another reminder
    /// follows up, or where the step is the parties' to take).
    var escalates = true
    /// What `number` numbers, as the notice says it.
    var noun = "事项"
    /// Those told instead of an institution's staff and the county (the city's hotline for its callbacks); the city's
    /// administrators are added when it is escalated.
    var notify: [Role]? = nil

    /// A step of a request.
    init(requestID: UUID, number: String, regionCode: String, step: String, name: String, due: CivilDate,
         institutionID: UUID?, countyTakesIt: Bool = false, escalates: Bool = true) {
        self.init(subjectID: requestID, requestID: requestID, number: number, regionCode: regionCode, step: step, name: name, due: due,
                  institutionID: institutionID, countyTakesIt: countyTakesIt, escalates: escalates)
    }

    init(subjectID: UUID, requestID: UUID?, number: String, regionCode: String, step: String, name: String, due: CivilDate,
         institutionID: UUID?, countyTakesIt: Bool = false, escalates: Bool = true) {
        self.subjectID = subjectID
        self.requestID = requestID
        self.number = number
        self.regionCode = regionCode
        self.step = step
        self.name = name
        self.due = due
        self.institutionID = institutionID
        self.countyTakesIt = countyTakesIt
        self.escalates = escalates
    }
}

/// The watch over every computed deadline: reminded on the last working day before it falls due, overdue to the
/// responsible institution the day after, to the county once a full working day has passed (`DeadlineStage`).
/// Each notice is recorded once per subject, step, due date and level (`deadline_notices`), so a scan run by several processes,
/// or again, tells nobody twice; a due date that moves (the clock paused for material) is watched afresh.
/// The request's own acceptance is watched here; a matter case adds its steps (`MatterCase.deadlines`). The
/// conclusion deadline keeps its own scan (`Notifications.scanOverdue`); the other capabilities' steps come from
/// `Deadlines.watchers` (configure).
enum Deadlines {
    static let acceptStep = "accept"

    /// SQL that leaves out a deadline already told at its last level: the scan's queries stay short however many
    /// overdue steps nobody has taken.
    static func notFinished(subject: String, step: String, due: String, escalates: Bool = true) -> SQLQueryString {
        """
        NOT EXISTS (SELECT 1 FROM deadline_notices n WHERE n.subject_id = \(unsafeRaw: subject) AND n.step = \(bind: step)
          AND n.due_on = \(unsafeRaw: due) AND n.level = \(bind: escalates ? DeadlineStage.escalated.rawValue : DeadlineStage.dueSoon.rawValue))
        """
    }

    /// Requests waiting to be accepted, of matters whose case does not watch its own acceptance.
    static func acceptance(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        let own = MatterCases.registered.filter(\.watchesItsOwnAcceptance).map(\.matter.rawValue)
        struct Row: Decodable { var id: UUID; var number: String; var regionCode: String; var institutionId: UUID?; var acceptDue: String }
        var query: SQLQueryString = """
            SELECT r.id, r.number, r.region_code, r.institution_id, r.accept_due FROM service_requests r
            WHERE r.status = \(bind: RequestStatus.submitted.rawValue) AND r.accept_due <= \(bind: horizon.description)
            """
        if !own.isEmpty { query = query + " AND r.matter_type NOT IN (\(binds: own))" }
        query = query + " AND " + notFinished(subject: "r.id", step: acceptStep, due: "r.accept_due") + " ORDER BY r.accept_due LIMIT 500"
        return try await db.raw(query).all(decoding: Row.self, keyDecodingStrategy: .snakeCase).compactMap { r in
            CivilDate(r.acceptDue).map {
                WatchedDeadline(requestID: r.id, number: r.number, regionCode: r.regionCode, step: acceptStep, name: "受理", due: $0,
                                institutionID: r.institutionId)
            }
        }
    }

    /// Tells whoever must act on each watched deadline that has reached a new stage; returns how many were told.
    @discardableResult
    static func scan(app: Application) async throws -> Int {
        let db = app.db as! any SQLDatabase
        let today = app.today, calendar = app.workingCalendar
        let horizon = calendar.nextWorkingDay(onOrAfter: today.adding(days: 1))
        var watched = try await acceptance(dueBy: horizon, on: db)
        for c in MatterCases.registered { watched += try await c.deadlines(dueBy: horizon, today: today, on: db) }
        for watch in watchers { watched += try await watch(horizon, db) }
        var told = 0
        for d in watched {
            let stage = DeadlineStage.on(today, due: d.due, calendar: calendar)
            let reached = d.escalates ? stage : min(stage, .dueSoon)
            guard reached > .open else { continue }
            let now = app.clock.now
            let sent = try await app.db.atomic { tx -> Bool in
                let sql = tx as! any SQLDatabase
                var fresh: [DeadlineStage] = []
                for level in DeadlineStage.allCases where level > .open && level <= reached {
                    let inserted = try await sql.raw("""
                        INSERT INTO deadline_notices (subject_id, step, due_on, level, created_at)
                        VALUES (\(bind: d.subjectID), \(bind: d.step), \(bind: d.due.description), \(bind: level.rawValue), \(bind: now))
                        ON CONFLICT DO NOTHING RETURNING level
                        """).all()
                    if !inserted.isEmpty { fresh.append(level) }
                }
                guard let level = fresh.max() else { return false }
                var targets: [UUID] = []
                if let roles = d.notify {
                    targets = try await Notifications.accounts(roles: level == .escalated ? roles + [.cityAdmin] : roles, on: sql)
                } else if level < .escalated, !d.countyTakesIt, let institution = d.institutionID {
                    // Its staff who take such steps: the admins and the clerks (a legal aid centre's deciders are clerks).
                    targets = try await Notifications.accounts(roles: [.institutionAdmin, .windowClerk], institution: institution, on: sql)
                }
                if d.notify == nil, targets.isEmpty || level == .escalated {
                    targets += try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(d.regionCode), on: sql)
                }
                let text: String
                switch level {
                case .dueSoon: text = "到期提醒：\(d.noun) \(d.number) 的“\(d.name)”应于 \(d.due) 前完成"
                case .overdue: text = "超期提醒：\(d.noun) \(d.number) 的“\(d.name)”应于 \(d.due) 前完成，已超期"
                default: text = "超期督办：\(d.noun) \(d.number) 的“\(d.name)”应于 \(d.due) 前完成，已超期一个工作日以上，请县级督办"
                }
                try await Notifications.notify(accounts: targets, request: d.requestID, text: text, now: now, on: sql)
                if level >= .overdue {
                    try await Notifications.sms(accounts: targets, text: "\(d.noun) \(d.number) 的“\(d.name)”已超期，请登录平台处理。",
                                                app: app, on: tx, at: now)
                }
                return true
            }
            if sent { told += 1 }
        }
        return told
    }
}

/// The notices told about each watched deadline, one row per level: the record that makes the scan tell once.
/// (Keyed by request until M040 keyed them by subject.)
struct M026CreateDeadlineNotices: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("deadline_notices")
            .field("request_id", .uuid, .required, .references("service_requests", "id"))
            .field("step", .string, .required)
            .field("due_on", .string, .required)
            .field("level", .int, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "request_id", "step", "due_on", "level")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("deadline_notices").delete()
    }
}

/// Steps of complaints and reviews, which need not concern a request, are watched like a request's: the notices are keyed
/// by the subject whose step it is. The table is rebuilt (SQLite cannot drop a column's reference) with its rows kept.
struct M040KeyDeadlineNoticesBySubject: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("deadline_notices_next")
            .field("subject_id", .uuid, .required)
            .field("step", .string, .required)
            .field("due_on", .string, .required)
            .field("level", .int, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "subject_id", "step", "due_on", "level", name: "deadline_notices_once")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            INSERT INTO deadline_notices_next (subject_id, step, due_on, level, created_at)
            SELECT request_id, step, due_on, level, created_at FROM deadline_notices
            """).run()
        try await database.schema("deadline_notices").delete()
        try await sql.raw("ALTER TABLE deadline_notices_next RENAME TO deadline_notices").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("deadline_notices_by_request")
            .field("request_id", .uuid, .required, .references("service_requests", "id"))
            .field("step", .string, .required)
            .field("due_on", .string, .required)
            .field("level", .int, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "request_id", "step", "due_on", "level")
            .create()
        let sql = database as! any SQLDatabase
        // Notices about anything but a request have no place in the older table.
        try await sql.raw("""
            INSERT INTO deadline_notices_by_request (request_id, step, due_on, level, created_at)
            SELECT n.subject_id, n.step, n.due_on, n.level, n.created_at FROM deadline_notices n
            WHERE EXISTS (SELECT 1 FROM service_requests r WHERE r.id = n.subject_id)
            """).run()
        try await database.schema("deadline_notices").delete()
        try await sql.raw("ALTER TABLE deadline_notices_by_request RENAME TO deadline_notices").run()
    }
}
