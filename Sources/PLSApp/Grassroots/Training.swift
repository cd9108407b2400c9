import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 统一培训、统一考核: training sessions for practitioners and staff with attendance and assessment
/// scores; and the records of work of government legal advisers and public-sector lawyers.
struct M015CreateTrainingAndAdviserWork: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("training_sessions")
            .id()
            .field("title", .string, .required)
            .field("held_on", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("hours", .double, .required)
            .field("audience", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("training_attendance")
            .field("session_id", .uuid, .required, .references("training_sessions", "id"))
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .field("attended", .bool, .required)
            .field("score", .double)
            .unique(on: "session_id", "practitioner_id")
            .create()
        try await database.schema("adviser_work_records")
            .id()
            .field("roster_id", .uuid, .required, .references("grassroots_rosters", "id"))
            .field("kind", .string, .required)
            .field("done_on", .string, .required)
            .field("subject", .string, .required)
            .field("note", .string)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "ts_region_idx").on("training_sessions").column("region_code").column("held_on").run()
        try await sql.create(index: "awr_roster_idx").on("adviser_work_records").column("roster_id").column("done_on").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("adviser_work_records").delete()
        try await database.schema("training_attendance").delete()
        try await database.schema("training_sessions").delete()
    }
}

/// Staff of the three platforms (hotline operators, window clerks, bureau staff) train and sit the same
/// assessment as practitioners (九(五)); they are accounts, not practitioners, so they have their own rows.
struct M018CreateStaffTrainingAttendance: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("training_staff_attendance")
            .field("session_id", .uuid, .required, .references("training_sessions", "id"))
            .field("account_id", .uuid, .required, .references(Account.schema, "id"))
            .field("attended", .bool, .required)
            .field("score", .double)
            .unique(on: "session_id", "account_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("training_staff_attendance").delete()
    }
}

enum Training {
    static let passingScore = 60.0

    struct SessionInput: Content { var title: String?; var heldOn: String?; var regionCode: String?; var hours: Double?; var audience: String? }
    /// A practitioner (`practitionerId`) or a member of staff (`accountId`).
    struct Attendee: Content { var practitionerId: UUID?; var accountId: UUID? = nil; var attended: Bool?; var score: Double? }
    struct AttendanceInput: Content { var attendees: [Attendee]? }

    struct Session: Content {
        var id: UUID
        var title: String
        var heldOn: String
        var regionCode: String
        var hours: Double
        var audience: String
        var invited: Int
        var attended: Int
        var passed: Int
        var averageScore: Double?
    }

    static let organisers: Set<Role> = [.cityAdmin, .countyAdmin]
    /// Staff who train by account: everyone who works on the platform but practitioners (who train by licence).
    static let staffRoles = Role.allCases.filter { $0.isStaff && $0 != .practitioner }

    static func create(_ input: SessionInput, by p: Principal, today: CivilDate, now: Date, on db: any SQLDatabase) async throws -> Session {
        try p.require(organisers.contains(p.role))
        var errors = FieldErrors()
        let title = errors.required(input.title, "title", "培训名称", maxLength: 100)
        let audience = errors.required(input.audience, "audience", "培训对象（如律师、人民调解员、窗口工作人员）", maxLength: 60)
        let day = input.heldOn.flatMap(CivilDate.init)
        if day == nil { errors.add("heldOn", "请填写培训日期（YYYY-MM-DD）") }
        let code = (input.regionCode ?? p.region?.rawValue ?? "").trimmingCharacters(in: .whitespaces)
        if try await RegionController.find(code, on: db) == nil || !(p.scope == .everything || p.scope.includes(regionCode: code)) {
            errors.add("regionCode", "请选择您辖区内的区划")
        }
        if !(0.5...80).contains(input.hours ?? 0) { errors.add("hours", "学时应在 0.5–80 之间") }
        try errors.throwIfAny()
        let id = UUID()
        try await db.insert(into: "training_sessions").columns("id", "title", "held_on", "region_code", "hours", "audience", "created_at")
            .values(SQLBind(id), SQLBind(title), SQLBind(day!.description), SQLBind(code), SQLBind(input.hours!), SQLBind(audience), SQLBind(now)).run()
        return try await session(id, prefix: "", on: db)!
    }

    /// Records who came and their assessment score (0–100); an absentee has no score.
    static func recordAttendance(_ id: UUID, _ input: AttendanceInput, by p: Principal, app: Application) async throws -> Session {
        try p.require(organisers.contains(p.role))
        let db = app.db as! any SQLDatabase
        guard try await session(id, prefix: p.areaPrefix, on: db) != nil else { throw AppError.notFound("培训") }
        var errors = FieldErrors()
        enum Person { case practitioner(UUID), staff(UUID) }
        var rows: [(Person, Bool, Double?)] = []
        let attendees = input.attendees ?? []
        // Who exists, in two queries for the whole sheet.
        let practitionerIDs = Set(attendees.compactMap(\.practitionerId)), accountIDs = Set(attendees.compactMap(\.accountId))
        let knownPractitioners = practitionerIDs.isEmpty ? [] : Set(try await db.select().column("id").from(Practitioner.schema)
            .where("id", .in, SQLBind.group(Array(practitionerIDs))).all(decodingColumn: "id", as: UUID.self))
        let knownStaff = accountIDs.isEmpty ? [] : Set(try await db.select().column("id").from(Account.schema)
            .where("id", .in, SQLBind.group(Array(accountIDs))).where("role", .in, SQLBind.group(staffRoles.map(\.rawValue)))
            .all(decodingColumn: "id", as: UUID.self))
        for (i, a) in attendees.enumerated() {
            let person: Person
            if let pid = a.practitionerId, a.accountId == nil {
                guard knownPractitioners.contains(pid) else { errors.add("attendees[\(i)].practitionerId", "人员不存在"); continue }
                person = .practitioner(pid)
            } else if let aid = a.accountId, a.practitionerId == nil {
                guard knownStaff.contains(aid) else { errors.add("attendees[\(i)].accountId", "工作人员账号不存在"); continue }
                person = .staff(aid)
            } else {
                errors.add("attendees[\(i)]", "请填写执业人员（practitionerId）或工作人员账号（accountId）之一"); continue
            }
            let attended = a.attended ?? true
            if let s = a.score, !(0...100).contains(s) { errors.add("attendees[\(i)].score", "考核成绩应在 0–100 之间") }
            if !attended, a.score != nil { errors.add("attendees[\(i)].score", "缺席人员没有考核成绩") }
            rows.append((person, attended, a.score))
        }
        if rows.isEmpty { errors.add("attendees", "请登记参训人员") }
        try errors.throwIfAny()
        let entries = rows
        try await app.db.atomic { tx in
            let t = tx as! any SQLDatabase
            for (person, attended, score) in entries {
                switch person {
                case .practitioner(let pid):
                    try await t.raw("""
                        INSERT INTO training_attendance (session_id, practitioner_id, attended, score) VALUES (\(bind: id), \(bind: pid), \(bind: attended), \(bind: score))
                        ON CONFLICT (session_id, practitioner_id) DO UPDATE SET attended = excluded.attended, score = excluded.score
                        """).run()
                case .staff(let aid):
                    try await t.raw("""
                        INSERT INTO training_staff_attendance (session_id, account_id, attended, score) VALUES (\(bind: id), \(bind: aid), \(bind: attended), \(bind: score))
                        ON CONFLICT (session_id, account_id) DO UPDATE SET attended = excluded.attended, score = excluded.score
                        """).run()
                }
            }
        }
        return try await session(id, prefix: "", on: db)!
    }

    struct Attendance: Content {
        var name: String
        /// A practitioner's licence number, or a member of staff's username.
        var code: String
        /// Their institution, or for staff without one their role.
        var unit: String
        var attended: Bool
        var score: Double?
    }

    /// Who was registered for a session, practitioners and staff, with their attendance and score.
    static func attendance(_ id: UUID, on db: any SQLDatabase) async throws -> [Attendance] {
        struct R: Decodable { var name: String; var code: String; var unit: String?; var role: String?; var attended: Bool; var score: Double? }
        return try await db.raw("""
            SELECT p.name, p.licence_number AS code, i.name AS unit, NULL AS role, a.attended, a.score
            FROM training_attendance a JOIN practitioners p ON p.id = a.practitioner_id JOIN institutions i ON i.id = p.institution_id
            WHERE a.session_id = \(bind: id)
            UNION ALL
            SELECT c.display_name AS name, COALESCE(c.username, '') AS code, i.name AS unit, c.role, s.attended, s.score
            FROM training_staff_attendance s JOIN accounts c ON c.id = s.account_id LEFT JOIN institutions i ON i.id = c.institution_id
            WHERE s.session_id = \(bind: id)
            ORDER BY 3, 1 LIMIT 1000
            """).all(decoding: R.self).map {
            Attendance(name: $0.name, code: $0.code, unit: $0.unit ?? $0.role.flatMap(Role.init(rawValue:))?.chineseName ?? "", attended: $0.attended, score: $0.score)
        }
    }

    static func sessions(prefix: String, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Session> {
        let total = try await db.raw("SELECT COUNT(*) AS n FROM training_sessions WHERE region_code LIKE \(bind: prefix + "%")")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await query("WHERE t.region_code LIKE \(bind: prefix + "%")", limit: page.per, offset: page.offset, on: db)
        return Paged(items: items, total: total, page: page.page, per: page.per)
    }

    static func session(_ id: UUID, prefix: String, on db: any SQLDatabase) async throws -> Session? {
        try await query("WHERE t.id = \(bind: id) AND t.region_code LIKE \(bind: prefix + "%")", limit: 1, offset: 0, on: db).first
    }

    private static func query(_ filter: SQLQueryString, limit: Int, offset: Int, on db: any SQLDatabase) async throws -> [Session] {
        struct R: Decodable {
            var id: UUID; var title: String; var heldOn: String; var regionCode: String; var hours: Double; var audience: String
            var invited: Int; var attended: Int?; var passed: Int?; var averageScore: Double?
        }
        // Practitioners and staff together.
        let everyone: SQLQueryString = "(SELECT session_id, attended, score FROM training_attendance UNION ALL SELECT session_id, attended, score FROM training_staff_attendance)"
        return try await db.raw("""
            SELECT t.id, t.title, t.held_on, t.region_code, t.hours, t.audience, COALESCE(a.invited, 0) AS invited, a.attended, a.passed, a.average_score
            FROM training_sessions t LEFT JOIN (
                SELECT session_id, COUNT(*) AS invited, CAST(SUM(CASE WHEN attended THEN 1 ELSE 0 END) AS BIGINT) AS attended,
                       CAST(SUM(CASE WHEN score >= \(bind: passingScore) THEN 1 ELSE 0 END) AS BIGINT) AS passed,
                       AVG(score) AS average_score
                FROM
            """ + " " + everyone + " e GROUP BY session_id) a ON a.session_id = t.id " + filter + " ORDER BY t.held_on DESC LIMIT \(unsafeRaw: String(limit)) OFFSET \(unsafeRaw: String(offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Session(id: $0.id, title: $0.title, heldOn: $0.heldOn, regionCode: $0.regionCode, hours: $0.hours, audience: $0.audience, invited: $0.invited,
                    attended: $0.attended ?? 0, passed: $0.passed ?? 0, averageScore: $0.averageScore.map { ($0 * 10).rounded() / 10 })
        }
    }
}

/// The records of work of a government legal adviser or public-sector lawyer.
enum AdviserWork {
    enum Kind: String, ChineseNamed, Codable {
        case majorDecisionReview = "major_decision_review"
        case normativeDocumentReview = "normative_document_review"
        case petitionReception = "petition_reception"
        case administrativeLitigation = "administrative_litigation"
        case administrativeReconsideration = "administrative_reconsideration"
        var chineseName: String {
            switch self {
            case .majorDecisionReview: "重大决策合法性审查"
            case .normativeDocumentReview: "规范性文件合法性审核"
            case .petitionReception: "参与信访接待"
            case .administrativeLitigation: "代理行政诉讼"
            case .administrativeReconsideration: "办理行政复议"
            }
        }
    }

    struct Input: Content { var kind: String?; var doneOn: String?; var subject: String?; var note: String? }
    struct Record: Content { var id: UUID; var kind: String; var kindName: String; var doneOn: String; var subject: String; var note: String? }

    static func add(roster id: UUID, _ input: Input, by p: Principal, today: CivilDate, now: Date, on db: any SQLDatabase) async throws -> Record {
        try p.require(Rosters.editors.contains(p.role))
        struct R: Decodable { var kind: String; var regionCode: String }
        guard let row = try await db.select().columns("kind", "region_code").from("grassroots_rosters").where("id", .equal, SQLBind(id))
            .first(decoding: R.self, keyDecodingStrategy: .snakeCase),
              [RosterKind.governmentAdviser.rawValue, RosterKind.publicLawyer.rawValue].contains(row.kind),
              p.scope == .everything || p.scope.includes(regionCode: row.regionCode) else { throw AppError.notFound("法律顾问或公职律师") }
        var errors = FieldErrors()
        let kind = errors.choice(input.kind, "kind", "工作类型", as: Kind.self)
        let subject = errors.required(input.subject, "subject", "事项名称", maxLength: 200)
        let note = errors.optional(input.note, "note", "说明", maxLength: 1000)
        let day = input.doneOn?.nilIfEmpty.map(CivilDate.init) ?? today
        if day == nil || day! > today { errors.add("doneOn", "日期应为今天或以前（YYYY-MM-DD）") }
        try errors.throwIfAny()
        let rid = UUID()
        try await db.insert(into: "adviser_work_records").columns("id", "roster_id", "kind", "done_on", "subject", "note", "created_at")
            .values(SQLBind(rid), SQLBind(id), SQLBind(kind!.rawValue), SQLBind(day!.description), SQLBind(subject), SQLBind(note), SQLBind(now)).run()
        return Record(id: rid, kind: kind!.rawValue, kindName: kind!.chineseName, doneOn: day!.description, subject: subject, note: note)
    }

    static func list(roster id: UUID, by p: Principal, on db: any SQLDatabase) async throws -> [Record] {
        guard let region = try await db.select().column("region_code").from("grassroots_rosters").where("id", .equal, SQLBind(id))
            .first(decodingColumn: "region_code", as: String.self), region.hasPrefix(p.areaPrefix) else {
            throw AppError.notFound("法律顾问或公职律师")
        }
        struct R: Decodable { var id: UUID; var kind: String; var doneOn: String; var subject: String; var note: String? }
        return try await db.select().columns("id", "kind", "done_on", "subject", "note").from("adviser_work_records").where("roster_id", .equal, SQLBind(id))
            .orderBy("done_on", .descending).limit(200).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Record(id: $0.id, kind: $0.kind, kindName: Kind(rawValue: $0.kind)?.chineseName ?? $0.kind, doneOn: $0.doneOn, subject: $0.subject, note: $0.note)
        }
    }
}

enum TrainingController {
    static func apiList(_ req: Request) async throws -> Paged<Training.Session> {
        let p = try req.staff()
        return try await Training.sessions(prefix: p.areaPrefix, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let s = try await Training.create(try req.content.decode(Training.SessionInput.self), by: p, today: req.today, now: req.now, on: req.sql)
        return try Response(status: .created).encodeJSON(s)
    }

    static func apiAttendance(_ req: Request) async throws -> Training.Session {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("培训") }
        return try await Training.recordAttendance(id, try req.content.decode(Training.AttendanceInput.self), by: p, app: req.application)
    }

    static func apiWork(_ req: Request) async throws -> [AdviserWork.Record] {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("法律顾问或公职律师") }
        return try await AdviserWork.list(roster: id, by: p, on: req.sql)
    }

    static func apiAddWork(_ req: Request) async throws -> Response {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("法律顾问或公职律师") }
        let r = try await AdviserWork.add(roster: id, try req.content.decode(AdviserWork.Input.self), by: p, today: req.today, now: req.now, on: req.sql)
        return try Response(status: .created).encodeJSON(r)
    }
}
