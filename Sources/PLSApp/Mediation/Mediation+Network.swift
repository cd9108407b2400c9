import Vapor
import SQLKit
import PLSDomain

/// The mediation network: committees from the registry with their members and mediators, and the
/// listening points (百姓说事点). Warnings where a committee breaks art. 9.
enum MediationNetwork {
    struct Member: Content { var id: UUID; var name: String; var gender: String; var role: String; var roleName: String; var termStart: String; var termEnd: String }
    struct Mediator: Content { var practitionerId: UUID; var name: String; var fullTime: Bool; var specialities: [String] }
    struct Warning: Content { var article: String; var message: String }
    struct Committee: Content {
        var id: UUID
        var name: String
        var kind: String?
        var kindName: String?
        var regionCode: String
        var members: [Member]
        var mediators: [Mediator]
        var warnings: [Warning]
    }

    static func committee(_ id: UUID, scope: DataScope, today: CivilDate, on db: any SQLDatabase) async throws -> Committee {
        let inst = try await InstitutionController.find(id, scope: scope, on: db)
        guard inst.type == InstitutionType.mediationCommittee.rawValue else { throw AppError.notFound("人民调解委员会") }
        struct M: Decodable { var id: UUID; var name: String; var gender: String; var role: String; var termStart: String }
        let members = try await db.select().columns("id", "name", "gender", "role", "term_start").from("committee_members")
            .where("institution_id", .equal, SQLBind(id)).orderBy("role").orderBy("name")
            .all(decoding: M.self, keyDecodingStrategy: .snakeCase)
        struct D: Decodable { var id: UUID; var name: String; var specialities: String; var fullTime: Bool? }
        let mediators = try await db.raw("""
            SELECT p.id, p.name, p.specialities, m.full_time FROM practitioners p LEFT JOIN mediators m ON m.practitioner_id = p.id
            WHERE p.institution_id = \(bind: id) AND p.type = \(bind: PractitionerType.mediator.rawValue) ORDER BY p.name
            """).all(decoding: D.self, keyDecodingStrategy: .snakeCase)
        let domain = members.compactMap { m in
            CivilDate(m.termStart).map { CommitteeMember(name: m.name, gender: Gender(rawValue: m.gender) ?? .male,
                                                         role: CommitteeRole(rawValue: m.role) ?? .member, termStart: $0) }
        }
        return Committee(
            id: id, name: inst.name, kind: inst.committeeKind, kindName: inst.committeeKind.flatMap(MediationCommitteeKind.init)?.chineseName,
            regionCode: inst.regionCode,
            members: members.map { m in
                Member(id: m.id, name: m.name, gender: m.gender, role: m.role, roleName: CommitteeRole(rawValue: m.role)?.chineseName ?? m.role,
                       termStart: m.termStart, termEnd: CivilDate(m.termStart).map { MediationRules.termEnd(from: $0).description } ?? "")
            },
            mediators: mediators.map { Mediator(practitionerId: $0.id, name: $0.name, fullTime: $0.fullTime ?? false,
                                                specialities: DelimitedList.decode($0.specialities)) },
            warnings: MediationRules.composition(domain, on: today).map { Warning(article: $0.article, message: $0.message) })
    }

    struct MemberInput: Content { var name: String?; var gender: String?; var role: String?; var termStart: String? }
    struct MembersInput: Content { var members: [MemberInput]? }

    /// Replaces a committee's members (a new term, or corrections); the warnings come back with them.
    static func saveMembers(_ id: UUID, _ input: MembersInput, by p: Principal, today: CivilDate, now: Date, app: Application) async throws -> Committee {
        let db = app.db as! any SQLDatabase
        try p.require([.cityAdmin, .countyAdmin, .institutionAdmin].contains(p.role))
        let saved = try await committee(id, scope: p.scope, today: today, on: db)
        var errors = FieldErrors()
        var rows: [(String, Gender, CommitteeRole, CivilDate)] = []
        for (i, m) in (input.members ?? []).enumerated() {
            let name = errors.required(m.name, "members[\(i)].name", "姓名", maxLength: 40)
            let gender = errors.choice(m.gender, "members[\(i)].gender", "性别", as: Gender.self)
            let role = errors.choice(m.role ?? "member", "members[\(i)].role", "职务", as: CommitteeRole.self)
            let start = m.termStart.flatMap(CivilDate.init)
            if start == nil || start! > today { errors.add("members[\(i)].termStart", "请填写本届任期起始日期（不晚于今天）") }
            if let gender, let role, let start { rows.append((name, gender, role, start)) }
        }
        if (input.members ?? []).isEmpty { errors.add("members", "请至少登记一名委员") }
        try errors.throwIfAny()
        let members = rows
        let warnings = MediationRules.composition(members.map { CommitteeMember(name: $0.0, gender: $0.1, role: $0.2, termStart: $0.3) }, on: today)
        try await app.db.atomic { tx in
            let t = tx as! any SQLDatabase
            try await t.delete(from: "committee_members").where("institution_id", .equal, SQLBind(id)).run()
            for m in members {
                try await t.insert(into: "committee_members").columns("id", "institution_id", "name", "gender", "role", "term_start", "created_at")
                    .values(SQLBind(UUID()), SQLBind(id), SQLBind(m.0), SQLBind(m.1.rawValue), SQLBind(m.2.rawValue), SQLBind(m.3.description), SQLBind(now)).run()
            }
            try await reportBreach(committee: id, name: saved.name, regionCode: saved.regionCode, warnings: warnings, now: now, on: t)
        }
        return try await committee(id, scope: p.scope, today: today, on: db)
    }

    /// Committees in the region with something wrong in their make-up, for the dashboard.
    struct Flagged: Content { var id: UUID; var name: String; var warnings: [String] }

    static func flagged(prefix: String, today: CivilDate, limit: Int = 50, on db: any SQLDatabase) async throws -> [Flagged] {
        try await committees(prefix: prefix, on: db).compactMap { c in
            let warnings = MediationRules.composition(c.members, on: today)
            return warnings.isEmpty ? nil : Flagged(id: c.id, name: c.name, warnings: warnings.map(\.message))
        }.prefix(limit).map { $0 }
    }

    /// The active committees of a region with their members, in region order. From the committees, so that one with no
    /// members at all is there (and flagged) too.
    static func committees(prefix: String, on db: any SQLDatabase) async throws -> [(id: UUID, name: String, regionCode: String, members: [CommitteeMember])] {
        // Read column by column (`ColumnRows`): the whole city's members feed an indicator, and Codable decoding of
        // seven thousand rows was most of its time.
        struct M { var institutionId: UUID; var name: String?; var gender: String?; var role: String?; var termStart: String?
                   var committee: String; var regionCode: String }
        let rows = try await ColumnRows.all("""
            SELECT i.id AS institution_id, m.name, m.gender, m.role, m.term_start, i.name AS committee, i.region_code FROM institutions i
            LEFT JOIN committee_members m ON m.institution_id = i.id
            WHERE i.type = \(bind: InstitutionType.mediationCommittee.rawValue) AND i.region_code LIKE \(bind: prefix + "%") AND i.active = \(bind: true)
            ORDER BY i.region_code
            """, on: db) { r in
            M(institutionId: try r.uuid("institution_id"), name: try r.optionalText("name"), gender: try r.optionalText("gender"),
              role: try r.optionalText("role"), termStart: try r.optionalText("term_start"), committee: try r.text("committee"),
              regionCode: try r.text("region_code"))
        }
        var order: [UUID] = [], byCommittee: [UUID: (String, String, [CommitteeMember])] = [:]
        for r in rows {
            if byCommittee[r.institutionId] == nil { order.append(r.institutionId); byCommittee[r.institutionId] = (r.committee, r.regionCode, []) }
            if let name = r.name, let start = r.termStart.flatMap(CivilDate.init) {
                byCommittee[r.institutionId]!.2.append(CommitteeMember(name: name, gender: Gender(rawValue: r.gender ?? "") ?? .male,
                                                                      role: CommitteeRole(rawValue: r.role ?? "") ?? .member, termStart: start))
            }
        }
        return order.compactMap { id in byCommittee[id].map { (id, $0.0, $0.1, $0.2) } }
    }

    /// A committee saved in breach of its make-up (人民调解法 art. 8) is reported to the town's judicial office, which
    /// guides the committees (art. 5), or to the county when the town has none.
    static func reportBreach(committee id: UUID, name: String, regionCode: String, warnings: [CompositionWarning], now: Date,
                             on db: any SQLDatabase) async throws {
        guard !warnings.isEmpty else { return }
        let town = DivisionCode(regionCode).flatMap { $0.ancestor(at: .town) ?? ($0.level == .town ? $0 : nil) }
        var targets: [UUID] = []
        if let town {
            targets = try await db.raw("""
                SELECT a.id FROM accounts a JOIN institutions i ON i.id = a.institution_id
                WHERE i.type = \(bind: InstitutionType.judicialOffice.rawValue) AND i.region_code = \(bind: town.rawValue) AND a.active = \(bind: true)
                """).all(decodingColumn: "id", as: UUID.self)
        }
        if targets.isEmpty {
            targets = try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(regionCode), on: db)
        }
        try await Notifications.notify(accounts: targets, request: nil,
                                       text: "调委会组成提醒：\(name) " + warnings.map(\.message).joined(separator: "；") + "（人民调解法第八条）",
                                       now: now, on: db)
    }

    struct MediatorInput: Content { var fullTime: Bool? }

    /// Full-time or part-time (专职/兼职) mediator, set by the committee or the bureau.
    static func saveMediator(_ id: UUID, _ input: MediatorInput, by p: Principal, on db: any SQLDatabase) async throws -> Mediator {
        try p.require([.cityAdmin, .countyAdmin, .institutionAdmin].contains(p.role))
        let prac = try await PractitionerController.find(id, scope: p.scope, on: db)
        guard prac.type == PractitionerType.mediator.rawValue else { throw AppError.validation(["practitionerId": "该人员不是人民调解员"]) }
        guard let fullTime = input.fullTime else { throw AppError.validation(["fullTime": "请选择专职或兼职"]) }
        try await db.raw("""
            INSERT INTO mediators (practitioner_id, full_time) VALUES (\(bind: id), \(bind: fullTime))
            ON CONFLICT (practitioner_id) DO UPDATE SET full_time = excluded.full_time
            """).run()
        return Mediator(practitionerId: id, name: prac.name, fullTime: fullTime, specialities: prac.specialities)
    }

    // MARK: Listening points

    struct Point: Content { var id: UUID; var name: String; var regionCode: String; var regionName: String; var committeeId: UUID?; var hours: String }
    struct PointInput: Content { var name: String?; var regionCode: String?; var committeeId: UUID?; var hours: String? }

    static func points(prefix: String, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Point> {
        let total = try await db.raw("SELECT COUNT(*) AS n FROM listening_points l " + pointFilter(prefix)).first(decodingColumn: "n", as: Int.self) ?? 0
        return Paged(items: try await points(prefix: prefix, limit: page.per, offset: page.offset, on: db), total: total, page: page.page, per: page.per)
    }

    /// `limit` from the caller's own bounds (a page, or the form's list of up to 500).
    static func points(prefix: String, limit: Int, offset: Int = 0, on db: any SQLDatabase) async throws -> [Point] {
        struct R: Decodable { var id: UUID; var name: String; var regionCode: String; var regionName: String; var committeeId: UUID?; var hours: String }
        return try await db.raw("""
            SELECT l.id, l.name, l.region_code, g.name AS region_name, l.committee_id, l.hours FROM listening_points l
            JOIN regions g ON g.code = l.region_code
            """ + " " + pointFilter(prefix) + " ORDER BY l.region_code, l.name LIMIT \(unsafeRaw: String(limit)) OFFSET \(unsafeRaw: String(offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
            .map { Point(id: $0.id, name: $0.name, regionCode: $0.regionCode, regionName: $0.regionName, committeeId: $0.committeeId, hours: $0.hours) }
    }

    private static func pointFilter(_ prefix: String) -> SQLQueryString {
        "WHERE l.active = \(bind: true) AND l.region_code LIKE \(bind: prefix + "%")"
    }

    static func createPoint(_ input: PointInput, by p: Principal, on db: any SQLDatabase) async throws -> Point {
        try p.require([.cityAdmin, .countyAdmin, .institutionAdmin].contains(p.role))
        var errors = FieldErrors()
        let name = errors.required(input.name, "name", "说事点名称", maxLength: 60)
        let hours = errors.required(input.hours, "hours", "开放时间", maxLength: 60)
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        let region = try await RegionController.find(code, on: db)
        if region == nil || ![RegionLevel.village.rawValue, RegionLevel.town.rawValue].contains(region!.level) {
            errors.add("regionCode", "请选择说事点所在的村（社区）或镇（街道）")
        } else if case .region(let own) = p.scope, !own.contains(DivisionCode(code)!) {
            errors.add("regionCode", "该区划不在您的管辖范围内")
        }
        // A committee's own admin sets up points for that committee; others name an active committee.
        let committee = p.role == .institutionAdmin ? p.institutionID : input.committeeId
        if let committee {
            let row = try? await InstitutionController.find(committee, scope: .everything, on: db)
            if row?.type != InstitutionType.mediationCommittee.rawValue || row?.active != true {
                errors.add("committeeId", p.role == .institutionAdmin ? "只有人民调解委员会可以设立说事点" : "请选择在用的人民调解委员会")
            }
        }
        try errors.throwIfAny()
        let id = UUID()
        try await db.insert(into: "listening_points").columns("id", "name", "region_code", "committee_id", "hours", "active")
            .values(SQLBind(id), SQLBind(name), SQLBind(code), SQLBind(committee), SQLBind(hours), SQLBind(true)).run()
        return Point(id: id, name: name, regionCode: code, regionName: region!.name, committeeId: committee, hours: hours)
    }
}
