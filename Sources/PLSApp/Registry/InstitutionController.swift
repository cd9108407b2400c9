import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 机构: public legal service centres, law firms, notary offices, committees and the rest.
struct InstitutionController {
    struct Row: Content {
        var id: UUID
        var type: String
        var typeName: String?
        var name: String
        var regionCode: String
        var regionName: String?
        var address: String
        var phone: String
        var openingHours: String
        var latitude: Double?
        var longitude: Double?
        var committeeKind: String?
        var industryField: String?
        var bodyKind: String?
        var enforcementHeavy: Bool?
        var adviserExpected: Bool?
        var schoolKind: String?
        /// Legal aid centres: the prefix of their document numbers (`X援〔2027〕N号`); nil prints the place's short name.
        var documentPrefix: String?
        var active: Bool
    }

    struct Filter {
        var type: InstitutionType?
        var region: DivisionCode?
        var q: String?
        var committeeKind: MediationCommitteeKind?
        var bodyKind: GovernmentBodyKind?
        /// Government bodies the plan expects (true) or does not expect (false) to retain an adviser.
        var adviserExpected: Bool?
        var schoolKind: SchoolKind?
        var includeInactive = false

        init() {}
        init(from req: Request) {
            type = (try? req.query.get(String.self, at: "type")).flatMap(InstitutionType.init(rawValue:))
            region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init)
            q = (try? req.query.get(String.self, at: "q")).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            committeeKind = (try? req.query.get(String.self, at: "committeeKind")).flatMap(MediationCommitteeKind.init(rawValue:))
            bodyKind = (try? req.query.get(String.self, at: "bodyKind")).flatMap(GovernmentBodyKind.init(rawValue:))
            // Read as text: the query decoder takes a missing Bool for false.
            adviserExpected = (try? req.query.get(String.self, at: "adviserExpected")).flatMap { ["true", "1"].contains($0) ? true : (["false", "0"].contains($0) ? false : nil) }
            schoolKind = (try? req.query.get(String.self, at: "schoolKind")).flatMap(SchoolKind.init(rawValue:))
            includeInactive = (try? req.query.get(Bool.self, at: "includeInactive")) ?? false
        }
    }

    static let columns = ScopeColumns(region: "i.region_code", institution: "i.id")

    private static func select(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select()
            .column(SQLColumn("id", table: "i")).column(SQLColumn("type", table: "i")).column(SQLColumn("name", table: "i"))
            .column(SQLColumn("region_code", table: "i")).column(SQLColumn("name", table: "r"), as: "region_name")
            .column(SQLColumn("address", table: "i")).column(SQLColumn("phone", table: "i"))
            .column(SQLColumn("opening_hours", table: "i")).column(SQLColumn("latitude", table: "i"))
            .column(SQLColumn("longitude", table: "i")).column(SQLColumn("committee_kind", table: "i"))
            .column(SQLColumn("industry_field", table: "i")).column(SQLColumn("body_kind", table: "i"))
            .column(SQLColumn("enforcement_heavy", table: "i")).column(SQLColumn("adviser_expected", table: "i"))
            .column(SQLColumn("school_kind", table: "i")).column(SQLColumn("document_prefix", table: "i"))
            .column(SQLColumn("active", table: "i"))
            .from(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")))
            .join(SQLAlias(SQLIdentifier(Region.schema), as: SQLIdentifier("r")), method: SQLJoinMethod.inner,
                  on: SQLColumn("region_code", table: "i"), .equal, SQLColumn("code", table: "r"))
    }

    private static func named(_ row: Row) -> Row {
        var r = row
        r.typeName = InstitutionType(rawValue: row.type)?.chineseName
        return r
    }

    static func list(_ filter: Filter, scope: DataScope, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Row> {
        func filtered(_ s: SQLSelectBuilder) -> SQLSelectBuilder {
            var s = s.scoped(scope, columns)
            if let type = filter.type { s = s.where(SQLColumn("type", table: "i"), .equal, SQLBind(type.rawValue)) }
            if let region = filter.region { s = s.where(SQLColumn("region_code", table: "i"), .like, SQLBind(region.scopePrefix + "%")) }
            if let kind = filter.committeeKind { s = s.where(SQLColumn("committee_kind", table: "i"), .equal, SQLBind(kind.rawValue)) }
            if let kind = filter.bodyKind { s = s.where(SQLColumn("body_kind", table: "i"), .equal, SQLBind(kind.rawValue)) }
            if let expected = filter.adviserExpected { s = s.where(SQLColumn("adviser_expected", table: "i"), .equal, SQLBind(expected)) }
            if let kind = filter.schoolKind { s = s.where(SQLColumn("school_kind", table: "i"), .equal, SQLBind(kind.rawValue)) }
            if let q = filter.q { s = s.where(SQLLike.contains(SQLColumn("name", table: "i"), q)) }
            if !filter.includeInactive { s = s.where(SQLColumn("active", table: "i"), .equal, SQLBind(true)) }
            return s
        }
        let total = try await filtered(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i"))))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await filtered(select(db))
            .orderBy(SQLColumn("region_code", table: "i")).orderBy(SQLColumn("name", table: "i"))
            .limit(page.per).offset(page.offset)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: items.map(named), total: total, page: page.page, per: page.per)
    }

    /// One institution, or 404 when it does not exist or lies outside the scope.
    static func find(_ id: UUID, scope: DataScope, on db: any SQLDatabase) async throws -> Row {
        guard let row = try await select(db).where(SQLColumn("id", table: "i"), .equal, SQLBind(id))
            .scoped(scope, columns)
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("机构") }
        return named(row)
    }

    /// Several institutions by id in one query, whatever the scope (a sheet's worth; the caller checks the area).
    static func find(ids: Set<UUID>, on db: any SQLDatabase) async throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        return try await select(db).where(SQLColumn("id", table: "i"), .in, SQLBind.group(Array(ids)))
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase).map(named)
    }

    // MARK: Input

    struct Input: Content {
        var type: String?
        var name: String?
        var regionCode: String?
        var address: String?
        var phone: String?
        var openingHours: String?
        var latitude: Double?
        var longitude: Double?
        var committeeKind: String?
        var industryField: String?
        /// Government bodies: party committee, government or department, and whether a department has heavy enforcement duties.
        var bodyKind: String?
        var enforcementHeavy: Bool?
        /// Schools: central, city_level or other; when left out, suggested from the name and region.
        var schoolKind: String?
        /// Legal aid centres: the prefix of their document numbers, e.g. "西江" for 西江援〔2027〕N号.
        var documentPrefix: String?
    }

    /// Checks an institution as the principal submits it; the region must lie in their scope.
    static func validate(_ input: Input, by principal: Principal, regionLocked: Bool = false, on db: any SQLDatabase) async throws -> Input {
        var errors = FieldErrors()
        var out = input
        let type = errors.choice(input.type, "type", "机构类型", as: InstitutionType.self)
        out.name = errors.required(input.name, "name", "名称", maxLength: 100)
        out.address = errors.required(input.address, "address", "地址", maxLength: 200)
        out.phone = errors.required(input.phone, "phone", "电话", maxLength: 40)
        if let phone = out.phone, !phone.isEmpty, !phone.allSatisfy({ $0.isNumber || "-+ ()转".contains($0) }) {
            errors.add("phone", "电话只能包含数字、空格和 - + ( )")
        }
        out.openingHours = errors.optional(input.openingHours, "openingHours", "办公时间", maxLength: 100) ?? ""
        if let lat = input.latitude, !(-90...90).contains(lat) { errors.add("latitude", "纬度应在 -90 到 90 之间") }
        if let lon = input.longitude, !(-180...180).contains(lon) { errors.add("longitude", "经度应在 -180 到 180 之间") }
        if (input.latitude == nil) != (input.longitude == nil) { errors.add(input.latitude == nil ? "latitude" : "longitude", "经纬度需同时填写") }
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        if code.isEmpty {
            errors.add("regionCode", "请选择所在区划")
        } else if let region = try await RegionController.find(code, on: db), region.active {
            if !regionLocked, !principal.scope.includes(regionCode: code), principal.scope != .everything {
                errors.add("regionCode", "该区划不在您的管辖范围内")
            }
        } else {
            errors.add("regionCode", "区划代码 \(code) 不存在或已停用")
        }
        out.regionCode = code
        if type == .mediationCommittee {
            let kind = errors.choice(input.committeeKind, "committeeKind", "调委会类别", as: MediationCommitteeKind.self)
            if kind == .industry {
                _ = errors.choice(input.industryField, "industryField", "行业领域", as: IndustryField.self)
            } else {
                out.industryField = nil
            }
        } else {
            out.committeeKind = nil
            out.industryField = nil
        }
        if type == .governmentBody {
            let kind = errors.choice(input.bodyKind, "bodyKind", "机关类别", as: GovernmentBodyKind.self)
            out.enforcementHeavy = kind == .department ? (input.enforcementHeavy ?? false) : false
        } else {
            out.bodyKind = nil
            out.enforcementHeavy = nil
        }
        if type == .school {
            if let given = input.schoolKind, !given.isEmpty {
                out.schoolKind = errors.choice(given, "schoolKind", "学校类别", as: SchoolKind.self)?.rawValue
            } else {
                out.schoolKind = Schools.suggestedKind(name: out.name ?? "", level: DivisionCode(code)?.level).rawValue
            }
        } else {
            out.schoolKind = nil
        }
        if type == .legalAidCentre {
            out.documentPrefix = errors.optional(input.documentPrefix, "documentPrefix", "文书编号前缀", maxLength: 12)
            if let prefix = out.documentPrefix, prefix.contains(where: { "〔〕[]".contains($0) || $0.isNumber }) {
                errors.add("documentPrefix", "文书编号前缀只写机构简称（如“西江”），不含年份和括号")
            }
        } else {
            out.documentPrefix = nil
        }
        try errors.throwIfAny()
        return out
    }

    static func apply(_ input: Input, to model: Institution) {
        model.type = input.type!
        model.name = input.name!
        model.regionCode = input.regionCode!
        model.address = input.address!
        model.phone = input.phone!
        model.openingHours = input.openingHours ?? ""
        model.latitude = input.latitude
        model.longitude = input.longitude
        model.committeeKind = input.committeeKind
        model.industryField = input.industryField
        model.bodyKind = input.bodyKind
        model.enforcementHeavy = input.enforcementHeavy
        model.schoolKind = input.schoolKind
        model.documentPrefix = input.documentPrefix
        model.adviserExpected = input.bodyKind.flatMap(GovernmentBodyKind.init(rawValue:)).map { kind in
            GovernmentBodies.expectsAdviser(kind: kind, level: DivisionCode(input.regionCode!)?.level ?? .village,
                                            enforcementHeavy: input.enforcementHeavy ?? false)
        }
    }

    static func create(_ input: Input, by principal: Principal, on db: any Database) async throws -> UUID {
        try principal.require(RegistryPermission.canCreateInstitutions(principal.role))
        let valid = try await validate(input, by: principal, on: db as! any SQLDatabase)
        let model = Institution()
        apply(valid, to: model)
        model.active = true
        try await model.create(on: db)
        return model.id!
    }

    static func update(_ id: UUID, _ input: Input, by principal: Principal, on db: any Database) async throws {
        try principal.require(RegistryPermission.canEditInstitutions(principal.role))
        _ = try await find(id, scope: principal.scope, on: db as! any SQLDatabase)
        guard let model = try await Institution.find(id, on: db) else { throw AppError.notFound("机构") }
        var submitted = input
        if principal.role == .institutionAdmin {
            // An institution's own admin keeps its type and region; those are the county's to change.
            var errors = FieldErrors()
            if let t = input.type, !t.isEmpty, t != model.type { errors.add("type", "机构类型由县（区）司法局修改") }
            if let r = input.regionCode, !r.isEmpty, r != model.regionCode { errors.add("regionCode", "所在区划由县（区）司法局修改") }
            try errors.throwIfAny()
            submitted.type = model.type
            submitted.regionCode = model.regionCode
        }
        let valid = try await validate(submitted, by: principal, regionLocked: principal.role == .institutionAdmin,
                                       on: db as! any SQLDatabase)
        apply(valid, to: model)
        try await model.save(on: db)
    }

    static func setActive(_ id: UUID, _ active: Bool, by principal: Principal, on db: any Database) async throws {
        try principal.require(RegistryPermission.canCreateInstitutions(principal.role))
        _ = try await find(id, scope: principal.scope, on: db as! any SQLDatabase)
        guard let model = try await Institution.find(id, on: db) else { throw AppError.notFound("机构") }
        model.active = active
        try await model.save(on: db)
    }
}

// MARK: - API

extension InstitutionController {
    static func apiList(_ req: Request) async throws -> Paged<Row> {
        let p = try req.staff()
        return try await list(Filter(from: req), scope: p.scope, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiGet(_ req: Request) async throws -> Row {
        let p = try req.staff()
        return try await find(try req.uuid("id"), scope: p.scope, on: req.sql)
    }

    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try await create(try req.content.decode(Input.self), by: p, on: req.db)
        return try Response(status: .created, headers: ["Location": "/api/v1/institutions/\(id)"])
            .encodeJSON(try await find(id, scope: p.scope, on: req.sql))
    }

    static func apiUpdate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        let id = try req.uuid("id")
        try await update(id, try req.content.decode(Input.self), by: p, on: req.db)
        return try await find(id, scope: p.scope, on: req.sql)
    }

    static func apiDeactivate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        let id = try req.uuid("id")
        try await setActive(id, false, by: p, on: req.db)
        return try await find(id, scope: p.scope, on: req.sql)
    }
}

extension Request {
    /// A UUID path parameter; a malformed one is simply a record that does not exist (`what` names it in the message).
    func uuid(_ name: String, notFound what: String = "记录") throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else { throw AppError.notFound(what) }
        return id
    }
}
