import Vapor
import Fluent
import SQLKit
import PLSDomain
import Spreadsheets

/// The rule-of-law rosters: legal understanders per natural village, rule-of-law leaders per administrative
/// village, culture sites, demonstration villages, schools' vice principals and counsellors, firm–school
/// pairings, government bodies' legal advisers and public-sector lawyers. One table, checked per kind.
struct M014CreateRosters: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("grassroots_rosters")
            .id()
            .field("kind", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("institution_id", .uuid, .references(Institution.schema, "id"))
            .field("partner_id", .uuid, .references(Institution.schema, "id"))
            .field("name", .string, .required)
            .field("detail", .string)
            .field("start_on", .string, .required)
            .field("end_on", .string)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "gr_kind_region_idx").on("grassroots_rosters").column("kind").column("region_code").run()
        try await sql.create(index: "gr_kind_institution_idx").on("grassroots_rosters").column("kind").column("institution_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("grassroots_rosters").delete()
    }
}

enum Rosters {
    struct Entry: Content {
        var id: UUID
        var kind: String
        var regionCode: String
        var regionName: String
        var institutionId: UUID?
        var institutionName: String?
        var partnerId: UUID?
        var name: String
        var detail: String?
        var startOn: String
        var endOn: String?
    }

    struct Input: Content {
        var regionCode: String?
        var institutionId: UUID?
        var partnerId: UUID?
        var name: String?
        var detail: String?
        var startOn: String?
    }

    static func kind(_ req: Request) throws -> RosterKind {
        guard let k = req.parameters.get("kind").flatMap(RosterKind.init) else { throw AppError.notFound("名册") }
        return k
    }


    static func list(_ kind: RosterKind, prefix: String, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Entry> {
        let filter: SQLQueryString = "WHERE r.kind = \(bind: kind.rawValue) AND r.end_on IS NULL AND r.region_code LIKE \(bind: prefix + "%")"
        let total = try await db.raw("SELECT COUNT(*) AS n FROM grassroots_rosters r " + filter).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await entries(filter, limit: page.per, offset: page.offset, on: db)
        return Paged(items: rows, total: total, page: page.page, per: page.per)
    }

    /// One entry of any kind inside the area, or 404.
    static func entry(_ id: UUID, kind: RosterKind, prefix: String, on db: any SQLDatabase) async throws -> Entry {
        guard let e = try await entries("WHERE r.id = \(bind: id) AND r.kind = \(bind: kind.rawValue) AND r.region_code LIKE \(bind: prefix + "%")",
                                        limit: 1, offset: 0, on: db).first else { throw AppError.notFound("名册记录") }
        return e
    }

    private static func entries(_ filter: SQLQueryString, limit: Int, offset: Int, on db: any SQLDatabase) async throws -> [Entry] {
        try await db.raw("""
            SELECT r.id, r.kind, r.region_code, g.name AS region_name, r.institution_id, i.name AS institution_name, r.partner_id, r.name, r.detail,
                   r.start_on, r.end_on
            FROM grassroots_rosters r JOIN regions g ON g.code = r.region_code LEFT JOIN institutions i ON i.id = r.institution_id
            """ + " " + filter + " ORDER BY r.region_code, r.name LIMIT \(unsafeRaw: String(limit)) OFFSET \(unsafeRaw: String(offset))")
            .all(decoding: Entry.self, keyDecodingStrategy: .snakeCase)
    }

    struct Valid: Sendable { var regionCode: String; var institution: UUID?; var partner: UUID?; var name: String; var detail: String?; var start: CivilDate }

    /// The regions and institutions entries name, looked up once for a whole sheet rather than once per row.
    struct Places: Sendable {
        var regions: [String: RegionController.Row] = [:]
        var institutions: [UUID: InstitutionController.Row] = [:]

        static func load(for inputs: [Input], on db: any SQLDatabase) async throws -> Places {
            var places = Places()
            let codes = Set(inputs.compactMap { $0.regionCode?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            for r in try await RegionController.find(codes: codes, on: db) { places.regions[r.code] = r }
            let ids = Set(inputs.flatMap { [$0.institutionId, $0.partnerId] }.compactMap { $0 })
            for i in try await InstitutionController.find(ids: ids, on: db) { places.institutions[i.id] = i }
            return places
        }
    }

    /// Checks one entry against its kind: the right kind of place, inside the user's area.
    static func validate(_ kind: RosterKind, _ input: Input, by p: Principal, today: CivilDate, places: Places,
                         errors: inout FieldErrors) -> Valid? {
        let name = errors.required(input.name, "name", kind.nameLabel, maxLength: 80)
        let detail = errors.optional(input.detail, "detail", kind.detailLabel ?? "说明", maxLength: 200)
        let start = input.startOn?.nilIfEmpty.map(CivilDate.init) ?? today
        if start == nil || start! > today { errors.add("startOn", "起始日期应为今天或以前（YYYY-MM-DD）") }
        var region: String?, institution: UUID?, partner: UUID?
        switch kind.place {
        case .naturalVillage, .village, .ruralVillage:
            let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
            let row = places.regions[code]
            let level: RegionLevel = { if case .naturalVillage = kind.place { return .naturalVillage }; return .village }()
            if row?.level != level.rawValue || row?.active != true {
                errors.add("regionCode", level == .naturalVillage ? "请填写自然村代码" : "请填写村（社区）代码")
            } else if case .ruralVillage = kind.place, row?.kind != VillageKind.rural.rawValue {
                errors.add("regionCode", "法治带头人按行政村配备，社区不在此列")
            } else {
                region = code
            }
        case .institution(let type):
            if let id = input.institutionId, let row = places.institutions[id],
               row.type == type.rawValue, row.active {
                institution = id
                region = row.regionCode
            } else {
                errors.add("institutionId", "请选择\(type.chineseName)")
            }
            if kind == .firmSchoolPairing {
                if let id = input.partnerId, let row = places.institutions[id],
                   row.type == InstitutionType.lawFirm.rawValue, row.active {
                    partner = id
                } else {
                    errors.add("partnerId", "请选择结对的律师事务所")
                }
            }
        }
        if let region, !p.scope.includes(regionCode: region), p.scope != .everything {
            errors.add(kind.place.isInstitution ? "institutionId" : "regionCode", "不在您的管辖范围内")
        }
        guard let region, let start, !name.isEmpty else { return nil }
        return Valid(regionCode: region, institution: institution, partner: partner, name: name, detail: detail, start: start)
    }

    static func insert(_ kind: RosterKind, _ v: Valid, now: Date, on db: any SQLDatabase) async throws -> UUID {
        let id = UUID()
        try await db.insert(into: "grassroots_rosters").columns("id", "kind", "region_code", "institution_id", "partner_id", "name", "detail", "start_on", "created_at")
            .values(SQLBind(id), SQLBind(kind.rawValue), SQLBind(v.regionCode), SQLBind(v.institution), SQLBind(v.partner), SQLBind(v.name),
                    SQLBind(v.detail), SQLBind(v.start.description), SQLBind(now)).run()
        return id
    }

    static let editors: Set<Role> = [.cityAdmin, .countyAdmin, .windowClerk]

    static func add(_ kind: RosterKind, _ input: Input, by p: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector, today: CivilDate,
                    now: Date, on db: any SQLDatabase) async throws -> Entry {
        try p.require(editors.contains(p.role))
        var errors = FieldErrors()
        let v = validate(kind, input, by: p, today: today, places: try await Places.load(for: [input], on: db), errors: &errors)
        try errors.throwIfAny()
        let valid = v!
        let id = try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            let id = try await insert(kind, valid, now: now, on: sql)
            try await AuditLog.record("roster.add", target: "\(kind.chineseName) \(valid.name)",
                                      after: ["name": valid.name, "detail": valid.detail, "region": valid.regionCode, "startOn": valid.start.description],
                                      by: actor, protector: protector, on: sql, at: now)
            return id
        }
        return try await list(kind, prefix: "", page: PageRequest(page: 1, per: 100), on: db).items.first { $0.id == id }
            ?? Entry(id: id, kind: kind.rawValue, regionCode: v!.regionCode, regionName: "", institutionId: v!.institution, institutionName: nil,
                     partnerId: v!.partner, name: v!.name, detail: v!.detail, startOn: v!.start.description, endOn: nil)
    }

    static func end(_ kind: RosterKind, _ id: UUID, by p: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector, today: CivilDate,
                    now: Date, on db: any SQLDatabase) async throws {
        try p.require(editors.contains(p.role))
        guard let region = try await db.select().column("region_code").from("grassroots_rosters").where("id", .equal, SQLBind(id))
            .where("kind", .equal, SQLBind(kind.rawValue)).first(decodingColumn: "region_code", as: String.self),
              p.scope == .everything || p.scope.includes(regionCode: region) else { throw AppError.notFound("名册记录") }
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update("grassroots_rosters").set("end_on", to: SQLBind(today.description)).where("id", .equal, SQLBind(id)).run()
            try await AuditLog.record("roster.end", target: "\(kind.chineseName) \(id.uuidString.lowercased())（\(region)）",
                                      before: ["endOn": nil as String?], after: ["endOn": today.description], by: actor, protector: protector, on: sql, at: now)
        }
    }

    // MARK: Spreadsheets

    /// One layout for every roster: the place (a region code, or an institution's id), the name, the
    /// detail, the partner (a law firm's id, for pairings) and the start date.
    static let columns = ["place", "name", "detail", "partner", "start_on"]

    static func importSheet(_ kind: RosterKind, _ file: ByteBuffer?, by p: Principal, actor: AuditLog.Actor, today: CivilDate, now: Date,
                            app: Application) async throws -> VillageAdvisers.ImportResult {
        try p.require(editors.contains(p.role))
        let db = app.db as! any SQLDatabase
        let (rows, firstLine) = try SheetFile.records(file, columns: columns)
        var failures: [VillageAdvisers.ImportFailure] = [], inputs: [(line: Int, input: Input)] = []
        for (i, cells) in rows.enumerated() where !CSVTable.isBlank(cells) {
            let line = firstLine + i
            guard cells.count == columns.count else {
                failures.append(.init(line: line, message: "应有 \(columns.count) 列（\(columns.joined(separator: ","))），实有 \(cells.count) 列"))
                continue
            }
            let c = cells.map { $0.trimmingCharacters(in: .whitespaces) }
            let isInstitution = kind.place.isInstitution
            inputs.append((line, Input(regionCode: isInstitution ? nil : c[0], institutionId: isInstitution ? UUID(uuidString: c[0]) : nil,
                                       partnerId: UUID(uuidString: c[3]), name: c[1], detail: c[2], startOn: c[4])))
        }
        let places = try await Places.load(for: inputs.map(\.input), on: db)
        var valid: [Valid] = []
        for (line, input) in inputs {
            var errors = FieldErrors()
            if let v = validate(kind, input, by: p, today: today, places: places, errors: &errors), errors.fields.isEmpty { valid.append(v) }
            else { failures.append(.init(line: line, message: errors.fields.sorted { $0.key < $1.key }.map(\.value).joined(separator: "；"))) }
        }
        failures.sort { $0.line < $1.line }
        if !failures.isEmpty { return .init(imported: 0, errors: failures) }
        let entries = valid
        try await app.db.atomic { tx in
            for v in entries { _ = try await insert(kind, v, now: now, on: tx as! any SQLDatabase) }
            try await AuditLog.record("roster.import", target: "\(kind.chineseName)（导入 \(entries.count) 条）",
                                      after: entries.map { ["name": $0.name, "region": $0.regionCode] }, by: actor, protector: app.personalData,
                                      on: tx as! any SQLDatabase, at: now)
        }
        return .init(imported: entries.count, errors: [])
    }

    /// The header and the current entries, in the import's layout.
    static func export(_ kind: RosterKind, prefix: String, on db: any SQLDatabase) async throws -> [[String]] {
        struct R: Decodable { var regionCode: String; var institutionId: UUID?; var partnerId: UUID?; var name: String; var detail: String?; var startOn: String }
        let rows = try await db.raw("""
            SELECT region_code, institution_id, partner_id, name, detail, start_on FROM grassroots_rosters
            WHERE kind = \(bind: kind.rawValue) AND end_on IS NULL AND region_code LIKE \(bind: prefix + "%") ORDER BY region_code, name LIMIT 20000
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return [columns] + rows.map { r in
            [r.institutionId?.uuidString ?? r.regionCode, r.name, r.detail ?? "", r.partnerId?.uuidString ?? "", r.startOn]
        }
    }
}

extension RosterPlace {
    var isInstitution: Bool { if case .institution = self { return true }; return false }
}
