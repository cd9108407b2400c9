import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 法律服务人员: lawyers, notaries, mediators and the rest, each at an institution.
struct PractitionerController {
    struct Row: Content {
        var id: UUID
        var type: String
        var typeName: String
        var name: String
        var gender: String?
        var licenceNumber: String
        var institutionId: UUID
        var institutionName: String
        var regionCode: String
        var specialities: [String]
        var regionsServed: [String]
        var status: String
        var statusName: String
    }

    /// The columns as stored; lists are delimited text.
    private struct StoredRow: Decodable {
        var id: UUID
        var type: String
        var name: String
        var gender: String?
        var licenceNumber: String
        var institutionId: UUID
        var institutionName: String
        var regionCode: String
        var specialitiesText: String
        var regionsServedText: String
        var status: String
    }

    struct Filter {
        var type: PractitionerType?
        var institution: UUID?
        var region: DivisionCode?
        var speciality: Category?
        var status: PractitionerStatus?
        var q: String?

        init() {}
        init(from req: Request) {
            type = (try? req.query.get(String.self, at: "type")).flatMap(PractitionerType.init(rawValue:))
            institution = (try? req.query.get(String.self, at: "institution")).flatMap(UUID.init(uuidString:))
            region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init)
            speciality = (try? req.query.get(String.self, at: "speciality")).flatMap(Category.init(rawValue:))
            status = (try? req.query.get(String.self, at: "status")).flatMap(PractitionerStatus.init(rawValue:))
            q = (try? req.query.get(String.self, at: "q")).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
    }

    static let columns = ScopeColumns(region: "p.region_code", institution: "p.institution_id")

    private static func select(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select()
            .column(SQLColumn("id", table: "p")).column(SQLColumn("type", table: "p")).column(SQLColumn("name", table: "p"))
            .column(SQLColumn("gender", table: "p")).column(SQLColumn("licence_number", table: "p"))
            .column(SQLColumn("institution_id", table: "p")).column(SQLColumn("name", table: "i"), as: "institution_name")
            .column(SQLColumn("region_code", table: "p"))
            .column(SQLColumn("specialities", table: "p"), as: "specialities_text")
            .column(SQLColumn("regions_served", table: "p"), as: "regions_served_text")
            .column(SQLColumn("status", table: "p"))
            .from(SQLAlias(SQLIdentifier(Practitioner.schema), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")), method: SQLJoinMethod.inner,
                  on: SQLColumn("institution_id", table: "p"), .equal, SQLColumn("id", table: "i"))
    }

    private static func named(_ r: StoredRow) -> Row {
        Row(id: r.id, type: r.type, typeName: PractitionerType(rawValue: r.type)?.chineseName ?? r.type, name: r.name,
            gender: r.gender, licenceNumber: r.licenceNumber, institutionId: r.institutionId, institutionName: r.institutionName,
            regionCode: r.regionCode, specialities: DelimitedList.decode(r.specialitiesText),
            regionsServed: DelimitedList.decode(r.regionsServedText), status: r.status,
            statusName: PractitionerStatus(rawValue: r.status)?.chineseName ?? r.status)
    }

    static func list(_ filter: Filter, scope: DataScope, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Row> {
        func filtered(_ s: SQLSelectBuilder) -> SQLSelectBuilder {
            var s = s.scoped(scope, columns)
            if let type = filter.type { s = s.where(SQLColumn("type", table: "p"), .equal, SQLBind(type.rawValue)) }
            if let inst = filter.institution { s = s.where(SQLColumn("institution_id", table: "p"), .equal, SQLBind(inst)) }
            if let region = filter.region { s = s.where(SQLColumn("region_code", table: "p"), .like, SQLBind(region.scopePrefix + "%")) }
            if let spec = filter.speciality { s = s.where(SQLColumn("specialities", table: "p"), .like, SQLBind(DelimitedList.pattern(spec.rawValue))) }
            if let status = filter.status { s = s.where(SQLColumn("status", table: "p"), .equal, SQLBind(status.rawValue)) }
            if let q = filter.q {
                s = s.where { $0.where(SQLLike.contains(SQLColumn("name", table: "p"), q))
                    .orWhere(SQLLike.startsWith(SQLColumn("licence_number", table: "p"), q)) }
            }
            return s
        }
        let total = try await filtered(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier(Practitioner.schema), as: SQLIdentifier("p"))))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await filtered(select(db))
            .orderBy(SQLColumn("region_code", table: "p")).orderBy(SQLColumn("name", table: "p"))
            .limit(page.per).offset(page.offset)
            .all(decoding: StoredRow.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: items.map(named), total: total, page: page.page, per: page.per)
    }

    static func find(_ id: UUID, scope: DataScope, on db: any SQLDatabase) async throws -> Row {
        guard let row = try await select(db).where(SQLColumn("id", table: "p"), .equal, SQLBind(id))
            .scoped(scope, columns)
            .first(decoding: StoredRow.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("人员") }
        return named(row)
    }

    // MARK: Input

    struct Input: Content {
        var type: String?
        var name: String?
        var gender: String?
        var licenceNumber: String?
        var institutionId: UUID?
        var specialities: [String]?
        var regionsServed: [String]?
        var status: String?
    }

    struct Valid {
        var type: PractitionerType
        var name: String
        var gender: Gender?
        var licenceNumber: String
        var institution: InstitutionController.Row
        var specialities: [String]
        var regionsServed: [String]
        var status: PractitionerStatus
    }

    static func validate(_ input: Input, existing: UUID?, by principal: Principal, on db: any SQLDatabase) async throws -> Valid {
        var errors = FieldErrors()
        let type = errors.choice(input.type, "type", "人员类型", as: PractitionerType.self)
        let name = errors.required(input.name, "name", "姓名", maxLength: 40)
        var gender: Gender?
        if let g = input.gender, !g.isEmpty {
            gender = Gender(rawValue: g)
            errors.check(gender != nil, "gender", "性别取值无效")
        }
        let licence = errors.required(input.licenceNumber, "licenceNumber", "执业证号", maxLength: 30)
        if !licence.isEmpty, !licence.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            errors.add("licenceNumber", "执业证号只能包含字母和数字")
        } else if !licence.isEmpty {
            var dup = db.select().column("id").from(Practitioner.schema).where("licence_number", .equal, licence)
            if let existing { dup = dup.where("id", .notEqual, existing) }
            if try await dup.first() != nil { errors.add("licenceNumber", "执业证号 \(licence) 已登记") }
        }
        let status = input.status.flatMap { $0.isEmpty ? nil : $0 }.map { errors.choice($0, "status", "执业状态", as: PractitionerStatus.self) } ?? .practising
        var institution: InstitutionController.Row?
        if let id = input.institutionId {
            institution = try? await InstitutionController.find(id, scope: principal.scope, on: db)
            if institution == nil { errors.add("institutionId", "所属机构不存在或不在您的管辖范围内") }
            else if institution?.active == false { errors.add("institutionId", "所属机构已停用") }
        } else {
            errors.add("institutionId", "请选择所属机构")
        }
        let specialities = (input.specialities ?? []).filter { !$0.isEmpty }
        for s in specialities where Category(rawValue: s) == nil { errors.add("specialities", "专长“\(s)”不是有效的类别") }
        let served = (input.regionsServed ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if !served.isEmpty {
            let found = try await db.select().column("code").from(Region.schema).where("code", .in, served)
                .all(decodingColumn: "code", as: String.self)
            for code in served where !found.contains(code) { errors.add("regionsServed", "服务区划 \(code) 不存在") }
        }
        try errors.throwIfAny()
        return Valid(type: type!, name: name, gender: gender, licenceNumber: licence, institution: institution!,
                     specialities: Category.allCases.map(\.rawValue).filter(specialities.contains),
                     regionsServed: served.isEmpty ? [institution!.regionCode] : served, status: status ?? .practising)
    }

    static func apply(_ v: Valid, to model: Practitioner) {
        model.type = v.type.rawValue
        model.name = v.name
        model.gender = v.gender?.rawValue
        model.licenceNumber = v.licenceNumber
        model.institutionID = v.institution.id
        model.regionCode = v.institution.regionCode
        model.specialities = v.specialities
        model.regionsServed = v.regionsServed
        model.status = v.status.rawValue
    }

    static func create(_ input: Input, by principal: Principal, on db: any Database) async throws -> UUID {
        try principal.require(RegistryPermission.canEditInstitutions(principal.role))
        let valid = try await validate(input, existing: nil, by: principal, on: db as! any SQLDatabase)
        let model = Practitioner()
        apply(valid, to: model)
        try await model.create(on: db)
        return model.id!
    }

    static func update(_ id: UUID, _ input: Input, by principal: Principal, on db: any Database) async throws {
        try principal.require(RegistryPermission.canEditInstitutions(principal.role))
        _ = try await find(id, scope: principal.scope, on: db as! any SQLDatabase)
        let valid = try await validate(input, existing: id, by: principal, on: db as! any SQLDatabase)
        guard let model = try await Practitioner.find(id, on: db) else { throw AppError.notFound("人员") }
        apply(valid, to: model)
        try await model.save(on: db)
    }

    /// Deactivating a practitioner records that they left; their history stays.
    static func deactivate(_ id: UUID, by principal: Principal, on db: any Database) async throws {
        try principal.require(RegistryPermission.canEditInstitutions(principal.role))
        _ = try await find(id, scope: principal.scope, on: db as! any SQLDatabase)
        guard let model = try await Practitioner.find(id, on: db) else { throw AppError.notFound("人员") }
        model.status = PractitionerStatus.left.rawValue
        try await model.save(on: db)
    }
}

// MARK: - API

extension PractitionerController {
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
        return try Response(status: .created, headers: ["Location": "/api/v1/practitioners/\(id)"])
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
        try await deactivate(id, by: p, on: req.db)
        return try await find(id, scope: p.scope, on: req.sql)
    }
}
