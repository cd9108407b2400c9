import Vapor
import Fluent
import SQLKit
import PLSDomain

extension PublicInterestKind: ChineseNamed {}

/// 公益法律服务 (issue #22, item 7): practitioners' service beyond their cases, logged by themselves or their
/// institution, totalled per year with their village adviser hours against the bureau's annual hours
/// (`CityIdentity.publicInterestHours`), and shown in the credit lookup.
enum PublicInterest {
    struct Input: Content {
        /// Omitted by a practitioner logging their own.
        var practitionerId: UUID?
        var kind: String?
        var servedOn: String?
        var hours: Double?
        var description: String?
    }

    struct Entry: Content {
        var id: UUID
        var practitionerId: UUID
        var practitionerName: String
        var kind: String
        var kindName: String
        var servedOn: String
        var hours: Double
        var description: String
    }

    struct Total: Content {
        var practitionerId: UUID
        var name: String
        var typeName: String
        var institutionName: String?
        var serviceHours: Double
        var adviserHours: Double
        var aidCases: Int
        var totalHours: Double
        var annualHours: Int
        var met: Bool
    }

    /// The practitioners whose public-interest hours are counted: lawyers and grassroots legal service workers.
    static let countedTypes: [PractitionerType] = [.lawyer, .grassrootsLegalWorker, .publicLawyer]

    static let practitionerColumns = ScopeColumns(region: "p.region_code", institution: "p.institution_id", owner: nil)

    /// Who may log for whom: a practitioner for themselves; an institution's administrator for its practitioners; a
    /// county or the city for anyone in their area.
    static func mayLog(for practitioner: (id: UUID, institution: UUID, region: String), by p: Principal) -> Bool {
        switch p.role {
        case .practitioner: return p.practitionerID == practitioner.id
        case .institutionAdmin: return p.institutionID == practitioner.institution
        case .countyAdmin, .cityAdmin: return p.scope.includes(regionCode: practitioner.region)
        default: return false
        }
    }

    static func log(_ input: Input, by p: Principal, app: Application) async throws -> Entry {
        var errors = FieldErrors()
        let kind = errors.choice(input.kind, "kind", "服务类型", as: PublicInterestKind.self)
        let day = input.servedOn.flatMap(CivilDate.init)
        if day == nil { errors.add("servedOn", "请填写服务日期（YYYY-MM-DD）") }
        if input.hours == nil { errors.add("hours", "请填写服务时长（小时）") }
        let description = errors.required(input.description, "description", "服务内容", maxLength: 500)
        if let day, let hours = input.hours {
            for (field, problem) in PublicInterestRules.problems(day: day, hours: hours, today: app.today) { errors.add(field, problem) }
        }
        let chosen = input.practitionerId ?? p.practitionerID
        if chosen == nil { errors.add("practitionerId", "请选择法律服务人员") }
        try errors.throwIfAny()
        let practitionerID = chosen!
        let sql = app.db as! any SQLDatabase
        struct Row: Decodable { var id: UUID; var name: String; var institutionId: UUID; var regionCode: String }
        guard let who = try await sql.raw("SELECT id, name, institution_id, region_code FROM practitioners WHERE id = \(bind: practitionerID)")
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError.validation(["practitionerId": "未找到该法律服务人员"])
        }
        guard mayLog(for: (who.id, who.institutionId, who.regionCode), by: p) else {
            throw AppError(.forbidden, "forbidden", "只能登记本人或本机构人员的公益法律服务")
        }
        let id = UUID(), now = app.clock.now
        try await sql.insert(into: "public_interest_services")
            .columns("id", "practitioner_id", "region_code", "kind", "served_on", "hours", "description", "entered_by", "created_at")
            .values(SQLBind(id), SQLBind(who.id), SQLBind(who.regionCode), SQLBind(kind!.rawValue), SQLBind(day!.description), SQLBind(input.hours!),
                    SQLBind(try app.personalData.seal(description)), SQLBind(p.accountID), SQLBind(now))
            .run()
        return Entry(id: id, practitionerId: who.id, practitionerName: who.name, kind: kind!.rawValue, kindName: kind!.chineseName,
                     servedOn: day!.description, hours: input.hours!, description: description)
    }

    static func entries(practitioner: UUID?, year: Int, scope: DataScope, page: PageRequest, protector: PersonalDataProtector,
                        on db: any SQLDatabase) async throws -> Paged<Entry> {
        var conditions: [SQLQueryString] = ["s.served_on >= \(bind: CivilDate.pad(year, 4) + "-01-01")", "s.served_on <= \(bind: CivilDate.pad(year, 4) + "-12-31")"]
        if let c = scope.condition(practitionerColumns) { conditions.append(c) }
        if let practitioner { conditions.append("s.practitioner_id = \(bind: practitioner)") }
        let clause: SQLQueryString = " WHERE " + conditions.joined(separator: " AND ")
        let from: SQLQueryString = " FROM public_interest_services s JOIN practitioners p ON p.id = s.practitioner_id"
        let total = try await db.raw("SELECT COUNT(*) AS n" + from + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        struct Row: Decodable { var id: UUID; var practitionerId: UUID; var name: String; var kind: String; var servedOn: String; var hours: Double; var description: String }
        let rows = try await db.raw("SELECT s.id, s.practitioner_id, p.name, s.kind, s.served_on, s.hours, s.description" + from + clause
                                    + " ORDER BY s.served_on DESC, s.id LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map { r in
            Entry(id: r.id, practitionerId: r.practitionerId, practitionerName: r.name, kind: r.kind,
                  kindName: PublicInterestKind(rawValue: r.kind)?.chineseName ?? r.kind, servedOn: r.servedOn, hours: r.hours,
                  description: (try? protector.open(r.description)) ?? "")
        }, total: total, page: page.page, per: page.per)
    }

    /// Each counted practitioner's year, fewest hours first (those short of the annual hours at the top).
    static func totals(year: Int, scope: DataScope, practitioner: UUID? = nil, names: [String]? = nil, page: PageRequest, annualHours: Int,
                       on db: any SQLDatabase) async throws -> Paged<Total> {
        let first = CivilDate.pad(year, 4) + "-01-01", last = CivilDate.pad(year, 4) + "-12-31"
        var conditions: [SQLQueryString] = ["p.status = 'practising'", "p.type IN (\(binds: countedTypes.map(\.rawValue)))"]
        if let c = scope.condition(practitionerColumns) { conditions.append(c) }
        if let practitioner { conditions.append("p.id = \(bind: practitioner)") }
        if let names { conditions.append("(p.name IN (\(binds: names)) OR p.licence_number IN (\(binds: names)))") }
        let clause: SQLQueryString = " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM practitioners p" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        struct Row: Decodable {
            var id: UUID; var name: String; var type: String; var institutionName: String?
            var serviceHours: Double?; var adviserHours: Double?; var aidCases: Int?
        }
        // Each sum is a subquery over the practitioner's own rows of the year (indexed by practitioner).
        let rows = try await db.raw("""
            SELECT p.id, p.name, p.type, i.name AS institution_name,
                   (SELECT SUM(s.hours) FROM public_interest_services s WHERE s.practitioner_id = p.id AND s.served_on >= \(bind: first) AND s.served_on <= \(bind: last)) AS service_hours,
                   (SELECT SUM(a.hours) FROM adviser_services a WHERE a.practitioner_id = p.id AND a.served_on >= \(bind: first) AND a.served_on <= \(bind: last)) AS adviser_hours,
                   (SELECT COUNT(*) FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
                     WHERE r.practitioner_id = p.id AND c.designated_on >= \(bind: first) AND c.designated_on <= \(bind: last)) AS aid_cases
            FROM practitioners p LEFT JOIN institutions i ON i.id = p.institution_id
            """ + clause + " ORDER BY p.name, p.id LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        let items = rows.map { r -> Total in
            let tally = PublicInterestTally(serviceHours: r.serviceHours ?? 0, adviserHours: r.adviserHours ?? 0, aidCases: r.aidCases ?? 0)
            return Total(practitionerId: r.id, name: r.name, typeName: PractitionerType(rawValue: r.type)?.chineseName ?? r.type,
                         institutionName: r.institutionName, serviceHours: tally.serviceHours, adviserHours: tally.adviserHours,
                         aidCases: tally.aidCases, totalHours: tally.totalHours, annualHours: annualHours, met: tally.met(annualHours: annualHours))
        }
        return Paged(items: items, total: total, page: page.page, per: page.per)
    }
}

/// The practitioners' public-interest service.
struct M037CreatePublicInterestServices: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("public_interest_services")
            .id()
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .field("region_code", .string, .required)
            .field("kind", .string, .required)
            .field("served_on", .string, .required)
            .field("hours", .double, .required)
            .field("description", .string, .required)
            .field("entered_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        // The totals read each practitioner's rows of the year (requests by practitioner and adviser hours are indexed already).
        try await sql.create(index: "pis_practitioner_idx").on("public_interest_services").column("practitioner_id").column("served_on").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("public_interest_services").delete()
    }
}
