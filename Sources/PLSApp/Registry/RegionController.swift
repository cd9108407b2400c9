import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 行政区划: browse, look up, add, rename and deactivate regions; import them from CSV.
struct RegionController {
    struct Row: Content {
        var code: String
        var name: String
        var level: String
        var kind: String?
        var parentCode: String?
        var population: Int
        var active: Bool
        /// The names from the county down ("西山县 · 城关镇 · 凤埠社区"): how a list tells two villages of one name apart.
        var path: String? = nil
    }

    struct Filter {
        var parent: String?
        var level: RegionLevel?
        var q: String?
        var includeInactive = false

        init(parent: String? = nil, level: RegionLevel? = nil, q: String? = nil, includeInactive: Bool = false) {
            self.parent = parent; self.level = level; self.q = q; self.includeInactive = includeInactive
        }

        init(from request: Request) {
            parent = (try? request.query.get(String.self, at: "parent")).flatMap { $0.isEmpty ? nil : $0 }
            level = (try? request.query.get(String.self, at: "level")).flatMap(RegionLevel.init(rawValue:))
            q = (try? request.query.get(String.self, at: "q")).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            includeInactive = (try? request.query.get(Bool.self, at: "includeInactive")) ?? false
        }
    }

    /// Regions are reference data every staff member may read in full: a county clerk still
    /// dispatches across the city. Writes are the city administrator's.
    static func list(_ filter: Filter, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Row> {
        func base(_ select: SQLSelectBuilder) -> SQLSelectBuilder {
            var s = select.from(Region.schema)
            if let parent = filter.parent { s = s.where("parent_code", .equal, parent) }
            if let level = filter.level { s = s.where("level", .equal, level.rawValue) }
            if let q = filter.q {
                s = s.where { $0.where(SQLLike.contains(SQLColumn("name"), q)).orWhere(SQLLike.startsWith(SQLColumn("code"), q)) }
            }
            if !filter.includeInactive { s = s.where("active", .equal, true) }
            return s
        }
        let total = try await base(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await base(db.select().columns("code", "name", "level", "kind", "parent_code", "population", "active"))
            .orderBy("code").limit(page.per).offset(page.offset)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        let paths = try await RegionNames.paths(items.map(\.code), on: db)
        return Paged(items: items.map { var r = $0; r.path = paths[r.code] ?? r.name; return r }, total: total, page: page.page, per: page.per)
    }

    static func find(_ code: String, on db: any SQLDatabase) async throws -> Row? {
        try await db.select().columns("code", "name", "level", "kind", "parent_code", "population", "active")
            .from(Region.schema).where("code", .equal, code)
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
    }

    /// Several regions by code in one query (a sheet's worth).
    static func find(codes: Set<String>, on db: any SQLDatabase) async throws -> [Row] {
        guard !codes.isEmpty else { return [] }
        return try await db.select().columns("code", "name", "level", "kind", "parent_code", "population", "active")
            .from(Region.schema).where("code", .in, SQLBind.group(Array(codes)))
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
    }

    /// The region and those above it, city first, in one query.
    static func path(_ code: DivisionCode, on db: any SQLDatabase) async throws -> [Row] {
        var codes: [String] = [], c: DivisionCode? = code
        while let current = c { codes.append(current.rawValue); c = current.parent }
        return try await db.select().columns("code", "name", "level", "kind", "parent_code", "population", "active")
            .from(Region.schema).where("code", .in, codes).orderBy("code")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            .sorted { (RegionLevel(rawValue: $0.level)?.depth ?? 0) < (RegionLevel(rawValue: $1.level)?.depth ?? 0) }
    }

    // MARK: Input

    struct Input: Content {
        var code: String?
        var name: String?
        var level: String?
        var parentCode: String?
        var population: Int?
    }

    /// Checks a new region against the code rules and the regions already stored.
    static func validateNew(_ input: Input, on db: any SQLDatabase) async throws -> RegionCSV.Row {
        var errors = FieldErrors()
        let name = errors.required(input.name, "name", "名称", maxLength: 60)
        let population = input.population ?? 0
        errors.check(population >= 0, "population", "人口不能为负数")
        guard let code = DivisionCode(input.code ?? "") else {
            errors.add("code", "区划代码应为 12 位数字（自然村为 15 位），且符合统计用区划代码的层级规则")
            try errors.throwIfAny()
            throw AppError.validation(errors.fields)
        }
        let level = code.level!
        if let given = input.level, !given.isEmpty, given != level.rawValue {
            errors.add("level", "层级与区划代码不符：该代码是\(level.chineseName)")
        }
        if let parent = code.parent {
            if let given = input.parentCode, !given.isEmpty, given != parent.rawValue {
                errors.add("parentCode", "上级代码应为 \(parent.rawValue)")
            } else if try await find(parent.rawValue, on: db) == nil {
                errors.add("parentCode", "上级区划 \(parent.rawValue) 不存在，请先添加上级")
            }
        }
        if try await find(code.rawValue, on: db) != nil {
            errors.add("code", "区划代码 \(code.rawValue) 已存在")
        }
        try errors.throwIfAny()
        return RegionCSV.Row(line: 0, code: code, name: name, level: level, population: population)
    }

    static func insert(_ rows: [RegionCSV.Row], on db: any SQLDatabase) async throws {
        for chunk in stride(from: 0, to: rows.count, by: 500).map({ Array(rows[$0..<min($0 + 500, rows.count)]) }) {
            var insert = db.insert(into: Region.schema).columns("code", "name", "level", "kind", "parent_code", "population", "active")
            for r in chunk {
                insert = insert.values(SQLBind(r.code.rawValue), SQLBind(r.name), SQLBind(r.level.rawValue),
                                       SQLBind(r.code.villageKind?.rawValue), SQLBind(r.code.parent?.rawValue),
                                       SQLBind(r.population), SQLBind(true))
            }
            try await insert.run()
        }
    }

    /// Validates a whole CSV file, then imports it in one transaction: all or nothing. `check` runs inside the
    /// transaction after the rows are in (setup's one-city rule); its error imports nothing.
    static func importCSV(_ text: String, on database: any Database,
                          check: (@Sendable (any SQLDatabase) async throws -> Void)? = nil) async throws -> Int {
        let sql = database as! any SQLDatabase
        let existing = Set(try await sql.select().column("code").from(Region.schema).all(decodingColumn: "code", as: String.self))
        let rows: [RegionCSV.Row]
        do {
            rows = try RegionCSV.parse(text, existing: existing)
        } catch {
            throw AppError.validation(["file": "第 \(error.line) 行：\(error.message)"],
                                      message: "第 \(error.line) 行：\(error.message)；未导入任何数据")
        }
        try await database.atomic { tx in
            try await insert(rows, on: tx as! any SQLDatabase)
            try await check?(tx as! any SQLDatabase)
        }
        return rows.count
    }
}

// MARK: - API

extension RegionController {
    struct Detail: Content {
        var region: Row
        var path: [Row]
        var childCount: Int
        var institutionCount: Int
    }

    static func apiList(_ req: Request) async throws -> Paged<Row> {
        _ = try req.staff()
        return try await list(Filter(from: req), page: try PageRequest(from: req), on: req.sql)
    }

    static func apiGet(_ req: Request) async throws -> Detail {
        _ = try req.staff()
        return try await detail(req.parameters.get("code") ?? "", on: req.sql)
    }

    static func detail(_ code: String, on db: any SQLDatabase) async throws -> Detail {
        guard let row = try await find(code, on: db), let dc = DivisionCode(row.code) else { throw AppError.notFound("行政区划") }
        let children = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Region.schema)
            .where("parent_code", .equal, code).first(decodingColumn: "n", as: Int.self) ?? 0
        let institutions = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Institution.schema)
            .where("region_code", .like, dc.scopePrefix + "%").where("active", .equal, true)
            .first(decodingColumn: "n", as: Int.self) ?? 0
        return Detail(region: row, path: try await path(dc, on: db), childCount: children, institutionCount: institutions)
    }

    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let input = try req.content.decode(Input.self)
        let row = try await validateNew(input, on: req.sql)
        try await insert([row], on: req.sql)
        let created = try await find(row.code.rawValue, on: req.sql)
        return try Response(status: .created, headers: ["Location": "/api/v1/regions/\(row.code.rawValue)"]).encodeJSON(created)
    }

    struct Update: Content { var name: String?; var population: Int? }

    static func apiUpdate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let code = req.parameters.get("code") ?? ""
        let input = try req.content.decode(Update.self)
        return try await update(code, input, on: req.db)
    }

    static func update(_ code: String, _ input: Update, on db: any Database) async throws -> Row {
        guard let region = try await Region.find(code, on: db) else { throw AppError.notFound("行政区划") }
        var errors = FieldErrors()
        let name = errors.required(input.name, "name", "名称", maxLength: 60)
        errors.check((input.population ?? 0) >= 0, "population", "人口不能为负数")
        try errors.throwIfAny()
        region.name = name
        if let population = input.population { region.population = population }
        try await region.save(on: db)
        return try await find(code, on: db as! any SQLDatabase)!
    }

    static func apiDeactivate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        return try await setActive(req.parameters.get("code") ?? "", false, on: req.db)
    }

    static func setActive(_ code: String, _ active: Bool, on db: any Database) async throws -> Row {
        guard let region = try await Region.find(code, on: db) else { throw AppError.notFound("行政区划") }
        if !active {
            let sql = db as! any SQLDatabase
            let activeChildren = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Region.schema)
                .where("parent_code", .equal, code).where("active", .equal, true).first(decodingColumn: "n", as: Int.self) ?? 0
            if activeChildren > 0 {
                throw AppError.conflict("has_active_children", "该区划下还有 \(activeChildren) 个在用的下级区划，请先停用下级")
            }
        }
        region.active = active
        try await region.save(on: db)
        return try await find(code, on: db as! any SQLDatabase)!
    }

    struct ImportResult: Content { var imported: Int }

    static func apiImport(_ req: Request) async throws -> ImportResult {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        try req.limit(.importFile, key: p.accountID.uuidString)
        guard let body = req.body.string else { throw AppError.badRequest("请以 text/csv 提交区划文件") }
        return ImportResult(imported: try await importCSV(body, on: req.db))
    }
}
