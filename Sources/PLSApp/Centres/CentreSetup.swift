import Vapor
import Fluent
import SQLKit
import PLSDomain

/// A walk-in centre's own arrangements (issue #23, item 1): its windows and the matters each serves, its opening hours
/// with the appointment slots and the wait it promises, and who is on duty at each window each day (值班表).
enum CentreSetup {
    static let windowSchema = "centre_windows"
    static let hoursSchema = "centre_hours"
    static let dutySchema = "window_duties"

    /// Who arranges a centre: its own administrator, the county's bureau for its centres, the city's.
    static func mayManage(_ p: Principal, centre: UUID, region: String) -> Bool {
        guard p.client == nil else { return false }
        if p.role == .institutionAdmin { return p.institutionID == centre }
        return p.role == .cityAdmin || (p.role == .countyAdmin && p.scope.includes(regionCode: region))
    }

    static func manager(_ p: Principal, centre: UUID, on db: any SQLDatabase) async throws -> (name: String, region: String) {
        let c = try await CentreQueue.centre(centre, on: db)
        guard mayManage(p, centre: centre, region: c.region) else { throw AppError(.forbidden, "forbidden", "由本中心管理员或所在县（区）、市司法局设置") }
        return c
    }

    // MARK: Windows

    struct Window: Content {
        var id: UUID
        var number: String
        var matters: [String]
        var matterNames: [String]
        var active: Bool
        /// Who is on duty today, when the rota says.
        var onDuty: String?
    }

    struct WindowInput: Content { var number: String?; var matters: [String]? }

    static func windows(of centre: UUID, day: CivilDate, activeOnly: Bool = false, on db: any SQLDatabase) async throws -> [Window] {
        struct R: Decodable { var id: UUID; var number: String; var matters: String; var active: Bool; var onDuty: String? }
        return try await db.raw("""
            SELECT w.id, w.number, w.matters, w.active, a.display_name AS on_duty FROM centre_windows w
            LEFT JOIN window_duties d ON d.window_id = w.id AND d.day = \(bind: day.description) LEFT JOIN accounts a ON a.id = d.account_id
            WHERE w.centre_id = \(bind: centre)
            """ + (activeOnly ? " AND w.active = \(bind: true)" : "") + " ORDER BY LENGTH(w.number), w.number LIMIT 100")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase).map { r in
                let matters = DelimitedList.decode(r.matters)
                return Window(id: r.id, number: r.number, matters: matters, matterNames: matters.compactMap { MatterType(rawValue: $0)?.chineseName },
                              active: r.active, onDuty: r.onDuty)
            }
    }

    static let windowMatters: [MatterType] = [.consultation, .legalAid, .mediation, .notarization, .judicialAppraisal, .arbitration]

    /// Adds a window, or changes the matters of the one with that number (and opens it again if it was closed).
    static func saveWindow(at centre: UUID, _ input: WindowInput, by p: Principal, app: Application, actor: AuditLog.Actor) async throws -> Window {
        let db = app.db as! any SQLDatabase
        let c = try await manager(p, centre: centre, on: db)
        var errors = FieldErrors()
        let number = errors.required(input.number, "number", "窗口号", maxLength: 10)
        var matters: [String] = []
        for raw in (input.matters ?? []).prefix(20) {
            guard let m = MatterType(rawValue: raw), windowMatters.contains(m) else { errors.add("matters", "办理事项取值无效"); continue }
            if !matters.contains(m.rawValue) { matters.append(m.rawValue) }
        }
        if matters.isEmpty, errors.fields["matters"] == nil { errors.add("matters", "请至少选择一项办理事项") }
        try errors.throwIfAny()
        let now = app.clock.now, chosen = matters
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("""
                INSERT INTO centre_windows (id, centre_id, number, matters, active, created_at)
                VALUES (\(bind: UUID()), \(bind: centre), \(bind: number), \(bind: DelimitedList.encode(chosen)), \(bind: true), \(bind: now))
                ON CONFLICT (centre_id, number) DO UPDATE SET matters = excluded.matters, active = excluded.active
                """).run()
            try await AuditLog.record("centre.window", target: "\(c.name) \(number) 号窗口", after: ["matters": chosen.joined(separator: ",")],
                                      by: actor, protector: app.personalData, on: sql, at: now)
        }
        guard let w = try await windows(of: centre, day: app.today, on: db).first(where: { $0.number == number }) else { throw AppError.notFound("窗口") }
        return w
    }

    static func closeWindow(_ id: UUID, at centre: UUID, by p: Principal, app: Application, actor: AuditLog.Actor) async throws {
        let db = app.db as! any SQLDatabase
        let c = try await manager(p, centre: centre, on: db)
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            let done = try await sql.raw("UPDATE centre_windows SET active = \(bind: false) WHERE id = \(bind: id) AND centre_id = \(bind: centre) RETURNING number")
                .all(decodingColumn: "number", as: String.self)
            guard let number = done.first else { throw AppError.notFound("窗口") }
            try await AuditLog.record("centre.window", target: "\(c.name) \(number) 号窗口", after: ["active": "false"], by: actor,
                                      protector: app.personalData, on: sql, at: now)
        }
    }

    // MARK: Hours

    struct HoursView: Content {
        var sessions: [Session]
        var slotMinutes: Int
        var slotCapacity: Int
        var waitTargetMinutes: Int
        struct Session: Content { var start: String; var end: String }
    }

    struct HoursInput: Content {
        var sessions: [HoursView.Session]?
        var slotMinutes: Int?
        var slotCapacity: Int?
        var waitTargetMinutes: Int?
    }

    static func hours(of centre: UUID, on db: any SQLDatabase) async throws -> CentreHours {
        struct R: Decodable { var sessions: String; var slotMinutes: Int; var slotCapacity: Int; var waitTargetMinutes: Int }
        guard let r = try await db.raw("SELECT sessions, slot_minutes, slot_capacity, wait_target_minutes FROM centre_hours WHERE centre_id = \(bind: centre)")
            .first(decoding: R.self, keyDecodingStrategy: .snakeCase) else { return .standard }
        let pairs = DelimitedList.decode(r.sessions).map { s -> (String, String) in
            let parts = s.split(separator: "-").map(String.init)
            return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
        }
        return (try? CentreHours.make(sessions: pairs, slotMinutes: r.slotMinutes, slotCapacity: r.slotCapacity, waitTargetMinutes: r.waitTargetMinutes).get())
            ?? .standard
    }

    static func view(_ h: CentreHours) -> HoursView {
        HoursView(sessions: h.sessions.map { .init(start: CentreHours.text($0.lowerBound), end: CentreHours.text($0.upperBound)) },
                  slotMinutes: h.slotMinutes, slotCapacity: h.slotCapacity, waitTargetMinutes: h.waitTargetMinutes)
    }

    static func saveHours(at centre: UUID, _ input: HoursInput, by p: Principal, app: Application, actor: AuditLog.Actor) async throws -> HoursView {
        let db = app.db as! any SQLDatabase
        let c = try await manager(p, centre: centre, on: db)
        let sessions = (input.sessions ?? []).prefix(4).map { ($0.start, $0.end) }
        let made = CentreHours.make(sessions: Array(sessions), slotMinutes: input.slotMinutes ?? 0, slotCapacity: input.slotCapacity ?? 0,
                                    waitTargetMinutes: input.waitTargetMinutes ?? 0)
        let hours: CentreHours
        switch made {
        case .success(let h): hours = h
        case .failure(.session): throw AppError.validation(["sessions": "请填写办公时段（如 08:30–12:00），开始早于结束"])
        case .failure(.order): throw AppError.validation(["sessions": "办公时段不能重叠，请按先后填写"])
        case .failure(.slot): throw AppError.validation(["slotMinutes": "每个预约时段应为 \(CentreHours.slotRange.lowerBound)–\(CentreHours.slotRange.upperBound) 分钟"])
        case .failure(.capacity): throw AppError.validation(["slotCapacity": "每个时段可约人数应为 \(CentreHours.capacityRange.lowerBound)–\(CentreHours.capacityRange.upperBound)"])
        case .failure(.waitTarget): throw AppError.validation(["waitTargetMinutes": "等候时间目标应为 \(CentreHours.waitTargetRange.lowerBound)–\(CentreHours.waitTargetRange.upperBound) 分钟"])
        }
        let v = view(hours)
        let now = app.clock.now
        let text = DelimitedList.encode(v.sessions.map { "\($0.start)-\($0.end)" })
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("""
                INSERT INTO centre_hours (centre_id, sessions, slot_minutes, slot_capacity, wait_target_minutes, updated_at)
                VALUES (\(bind: centre), \(bind: text), \(bind: hours.slotMinutes), \(bind: hours.slotCapacity), \(bind: hours.waitTargetMinutes), \(bind: now))
                ON CONFLICT (centre_id) DO UPDATE SET sessions = excluded.sessions, slot_minutes = excluded.slot_minutes,
                    slot_capacity = excluded.slot_capacity, wait_target_minutes = excluded.wait_target_minutes, updated_at = excluded.updated_at
                """).run()
            try await AuditLog.record("centre.hours", target: c.name, after: ["sessions": text, "slotMinutes": String(hours.slotMinutes),
                                                                             "slotCapacity": String(hours.slotCapacity), "waitTargetMinutes": String(hours.waitTargetMinutes)],
                                      by: actor, protector: app.personalData, on: sql, at: now)
        }
        return v
    }

    // MARK: The duty rota

    /// Those who may sit at the centre's windows: its own staff.
    struct Staff: Content { var id: UUID; var name: String }

    static func staff(of centre: UUID, on db: any SQLDatabase) async throws -> [Staff] {
        try await db.raw("""
            SELECT id, display_name AS name FROM accounts WHERE institution_id = \(bind: centre) AND active = \(bind: true)
              AND role IN (\(bind: Role.windowClerk.rawValue), \(bind: Role.institutionAdmin.rawValue)) ORDER BY display_name LIMIT 200
            """).all(decoding: Staff.self)
    }

    struct Duty: Content { var windowId: UUID; var day: String; var accountId: UUID?; var name: String? }
    struct RotaInput: Content { var duties: [Duty]? }

    static func rota(of centre: UUID, from start: CivilDate, days: Int, on db: any SQLDatabase) async throws -> [Duty] {
        try await db.raw("""
            SELECT d.window_id, d.day, d.account_id, a.display_name AS name FROM window_duties d JOIN centre_windows w ON w.id = d.window_id
            JOIN accounts a ON a.id = d.account_id
            WHERE w.centre_id = \(bind: centre) AND d.day >= \(bind: start.description) AND d.day < \(bind: start.adding(days: days).description)
            LIMIT 2000
            """).all(decoding: Duty.self, keyDecodingStrategy: .snakeCase)
    }

    /// Sets who sits at each window on each day given (no one: the day's duty removed); the staff must be the centre's own.
    static func saveRota(at centre: UUID, _ input: RotaInput, by p: Principal, app: Application, actor: AuditLog.Actor) async throws {
        let db = app.db as! any SQLDatabase
        let c = try await manager(p, centre: centre, on: db)
        let windows = Set(try await windows(of: centre, day: app.today, on: db).map(\.id))
        let staff = Set(try await staff(of: centre, on: db).map(\.id))
        var errors = FieldErrors()
        let duties = input.duties ?? []
        if duties.count > 500 { errors.add("duties", "一次最多排 500 个班") }
        for (i, d) in duties.prefix(500).enumerated() {
            if !windows.contains(d.windowId) { errors.add("duties[\(i)].windowId", "不是本中心的窗口") }
            if CivilDate(d.day) == nil { errors.add("duties[\(i)].day", "日期格式为 YYYY-MM-DD") }
            if let a = d.accountId, !staff.contains(a) { errors.add("duties[\(i)].accountId", "只能安排本中心的工作人员") }
        }
        try errors.throwIfAny()
        let now = app.clock.now
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            for d in duties {
                try await sql.delete(from: dutySchema).where("window_id", .equal, SQLBind(d.windowId)).where("day", .equal, SQLBind(d.day)).run()
                if let a = d.accountId {
                    try await sql.insert(into: dutySchema).columns("window_id", "day", "account_id").values(SQLBind(d.windowId), SQLBind(d.day), SQLBind(a)).run()
                }
            }
            try await AuditLog.record("centre.rota", target: c.name, after: ["duties": String(duties.count)], by: actor,
                                      protector: app.personalData, on: sql, at: now)
        }
    }

    /// Windows, hours and the rota of the week from `start`, as the API gives them.
    struct Arrangements: Content {
        var centreId: UUID; var centreName: String; var windows: [Window]; var hours: HoursView; var rota: [Duty]; var staff: [Staff]
    }

    static func arrangements(_ centre: UUID, week start: CivilDate, app: Application, on db: any SQLDatabase) async throws -> Arrangements {
        let c = try await CentreQueue.centre(centre, on: db)
        return Arrangements(centreId: centre, centreName: c.name, windows: try await windows(of: centre, day: app.today, on: db),
                            hours: view(try await hours(of: centre, on: db)), rota: try await rota(of: centre, from: start, days: 7, on: db),
                            staff: try await staff(of: centre, on: db))
    }
}

/// Windows, hours and the duty rota; tickets keep whether they came from an appointment and how long they waited.
struct M052CreateCentreArrangements: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CentreSetup.windowSchema)
            .id()
            .field("centre_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("number", .string, .required)
            .field("matters", .string, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "centre_id", "number")
            .create()
        try await database.schema(CentreSetup.hoursSchema)
            .field("centre_id", .uuid, .identifier(auto: false), .references(Institution.schema, "id"))
            .field("sessions", .string, .required)
            .field("slot_minutes", .int, .required)
            .field("slot_capacity", .int, .required)
            .field("wait_target_minutes", .int, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema(CentreSetup.dutySchema)
            .field("window_id", .uuid, .required, .references(CentreSetup.windowSchema, "id"))
            .field("day", .string, .required)
            .field("account_id", .uuid, .required, .references(Account.schema, "id"))
            .unique(on: "window_id", "day")
            .create()
        try await database.schema(Appointments.schema)
            .id()
            .field("centre_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("matter_type", .string, .required)
            .field("day", .string, .required)
            .field("slot_start", .int, .required)
            .field("seat", .int, .required)
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("mobile_hash", .string, .required)
            .field("mobile_cipher", .string, .required)
            .field("mobile_masked", .string, .required)
            .field("citizen_account_id", .uuid)
            .field("booked_via", .string, .required)
            .field("booked_by", .uuid)
            .field("call_id", .uuid)
            .field("status", .string, .required)
            .field("ticket_id", .uuid)
            .field("created_at", .datetime, .required)
            .unique(on: "centre_id", "day", "slot_start", "seat")
            .unique(on: "centre_id", "day", "code")
            .create()
        // One column at a time: SQLite adds columns one statement each.
        try await database.schema(CentreQueue.schema).field("appointment_id", .uuid).update()
        try await database.schema(CentreQueue.schema).field("wait_seconds", .int).update()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "appointments_citizen_idx").on(Appointments.schema).column("citizen_account_id").column("day").run()
        try await sql.create(index: "appointments_mobile_idx").on(Appointments.schema).column("mobile_hash").column("day").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for column in ["wait_seconds", "appointment_id"] {
            try await sql.raw("ALTER TABLE \(ident: CentreQueue.schema) DROP COLUMN \(ident: column)").run()
        }
        try await database.schema(Appointments.schema).delete()
        try await database.schema(CentreSetup.dutySchema).delete()
        try await database.schema(CentreSetup.hoursSchema).delete()
        try await database.schema(CentreSetup.windowSchema).delete()
    }
}

/// 等候时间: what visitors waited at the walk-in centres from taking a ticket to being called — on average, and the
/// share called within the wait each centre promises (its own `wait_target_minutes`, 20 unless set).
enum CentreWaitIndicators {
    static func year(_ s: IndicatorScope) -> (String, String) { (s.firstDay, s.lastDay) }

    static let all: [IndicatorDefinition] = [
        IndicatorDefinition(id: "centre_average_wait_minutes", name: "实体平台平均等候时间", capability: "centres", unit: .minutes, target: 15,
                            comparator: .atMost, basis: "窗口服务：从取号到叫号的平均等候时间（本局设定的目标）", targetSource: .bureau,
                            counted: "个号的等候时间", sampled: true) { s, db in
            let (first, last) = year(s)
            struct R: Decodable { var seconds: Double?; var n: Int }
            let r = try await db.raw("""
                SELECT AVG(CAST(t.wait_seconds AS DOUBLE PRECISION)) AS seconds, COUNT(*) AS n FROM queue_tickets t JOIN institutions i ON i.id = t.centre_id
                WHERE t.wait_seconds IS NOT NULL AND t.day >= \(bind: first) AND t.day <= \(bind: last) AND i.region_code LIKE \(bind: s.region.scopePrefix + "%")
                """).first(decoding: R.self)
            let minutes = r?.seconds.map { ($0 / 60 * 10).rounded() / 10 }
            return IndicatorOutcome(figure: .average(minutes, over: r?.n ?? 0),
                                    shortfalls: [], shortfallCount: 0)
        },
        IndicatorDefinition(id: "centre_wait_within_target_rate", name: "实体平台按时叫号率", capability: "centres", unit: .percent, target: 90,
                            comparator: .atLeast, basis: "窗口服务：在中心承诺的等候时间内叫号的比例（本局设定的目标）", targetSource: .bureau,
                            counted: "个号在承诺时间内叫到") { s, db in
            let (first, last) = year(s)
            struct R: Decodable { var unit: String; var num: Int?; var den: Int }
            let rows = try await db.raw("""
                SELECT SUBSTR(i.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit,
                       CAST(SUM(CASE WHEN t.wait_seconds <= 60 * COALESCE(h.wait_target_minutes, \(unsafeRaw: String(CentreHours.standard.waitTargetMinutes))) THEN 1 ELSE 0 END) AS BIGINT) AS num,
                       COUNT(*) AS den
                FROM queue_tickets t JOIN institutions i ON i.id = t.centre_id LEFT JOIN centre_hours h ON h.centre_id = t.centre_id
                WHERE t.wait_seconds IS NOT NULL AND t.day >= \(bind: first) AND t.day <= \(bind: last) AND i.region_code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(i.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: R.self)
            return try await UnitRates.outcome(rows.map { UnitRates.Row(unit: $0.unit, num: $0.num ?? 0, den: $0.den) }, target: s.target, on: db)
        },
    ]
}
