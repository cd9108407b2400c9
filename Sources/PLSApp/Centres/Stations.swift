import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 应驻尽驻: which functions each city and county centre hosts and how (`StationedFunction`, `StationingMode`), kept by
/// the county (its centre) or the city; `centre_stationing_coverage` counts the centres that host all they should.
enum CentreStations {
    static let schema = "centre_stations"

    struct Station: Content {
        var function: String
        var functionName: String
        var required: Bool
        var mode: String?
        var modeName: String?
        var note: String?
    }

    struct View: Content { var centreId: UUID; var centreName: String; var level: String; var stations: [Station]; var missing: [String] }
    struct Input: Content { var stations: [Line]?; struct Line: Content { var function: String?; var mode: String?; var note: String? } }

    /// A city or county public legal service centre (the ones the plan's stationing concerns), with its level.
    static func centre(_ id: UUID, on db: any SQLDatabase) async throws -> (name: String, region: String, level: RegionLevel) {
        struct C: Decodable { var name: String; var regionCode: String; var type: String; var level: String? }
        guard let c = try await db.raw("""
            SELECT i.name, i.region_code, i.type, g.level FROM institutions i LEFT JOIN regions g ON g.code = i.region_code WHERE i.id = \(bind: id)
            """).first(decoding: C.self, keyDecodingStrategy: .snakeCase),
              c.type == InstitutionType.publicLegalServiceCentre.rawValue, let level = c.level.flatMap(RegionLevel.init(rawValue:)),
              level == .city || level == .county else { throw AppError.notFound("市、县（区）公共法律服务中心") }
        return (c.name, c.regionCode, level)
    }

    static func view(_ id: UUID, on db: any SQLDatabase) async throws -> View {
        let c = try await centre(id, on: db)
        struct R: Decodable { var function: String; var mode: String; var note: String? }
        let rows = try await db.raw("SELECT function, mode, note FROM centre_stations WHERE centre_id = \(bind: id)")
            .all(decoding: R.self)
        let byFunction = Dictionary(rows.map { ($0.function, $0) }, uniquingKeysWith: { a, _ in a })
        let required = Set(StationedFunction.required(at: c.level))
        let stations = StationedFunction.allCases.map { f in
            Station(function: f.rawValue, functionName: f.chineseName, required: required.contains(f), mode: byFunction[f.rawValue]?.mode,
                    modeName: byFunction[f.rawValue].flatMap { StationingMode(rawValue: $0.mode)?.chineseName }, note: byFunction[f.rawValue]?.note)
        }
        let hosted = Set(rows.compactMap { StationedFunction(rawValue: $0.function) })
        return View(centreId: id, centreName: c.name, level: c.level.rawValue, stations: stations,
                    missing: Stationing.missing(hosted: hosted, level: c.level).map(\.chineseName))
    }

    static func mayEdit(_ p: Principal, region: String) -> Bool {
        p.client == nil && (p.role == .cityAdmin || (p.role == .countyAdmin && p.scope.includes(regionCode: region)))
    }

    /// Replaces the centre's stations with those given (a function left out is not hosted).
    static func save(_ id: UUID, _ input: Input, by p: Principal, app: Application, actor: AuditLog.Actor) async throws -> View {
        let db = app.db as! any SQLDatabase
        let c = try await centre(id, on: db)
        guard mayEdit(p, region: c.region) else { throw AppError(.forbidden, "forbidden", "由所在县（区）或市司法局维护") }
        var errors = FieldErrors()
        var lines: [(StationedFunction, StationingMode, String?)] = []
        for (i, line) in (input.stations ?? []).prefix(20).enumerated() {
            guard let f = line.function.flatMap(StationedFunction.init(rawValue:)) else { errors.add("stations[\(i)].function", "职能取值无效"); continue }
            guard let m = line.mode.flatMap(StationingMode.init(rawValue:)) else { errors.add("stations[\(i)].mode", "进驻方式取值无效"); continue }
            let note = errors.optional(line.note, "stations[\(i)].note", "说明", maxLength: 100)
            if lines.contains(where: { $0.0 == f }) { errors.add("stations[\(i)].function", "“\(f.chineseName)”重复") }
            lines.append((f, m, note))
        }
        if (input.stations ?? []).count > 20 { errors.add("stations", "最多 20 项") }
        try errors.throwIfAny()
        let now = app.clock.now
        let chosen = lines
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.delete(from: schema).where("centre_id", .equal, SQLBind(id)).run()
            for (f, m, note) in chosen {
                try await sql.insert(into: schema).columns("centre_id", "function", "mode", "note", "updated_at")
                    .values(SQLBind(id), SQLBind(f.rawValue), SQLBind(m.rawValue), SQLBind(note), SQLBind(now)).run()
            }
            try await AuditLog.record("centre.stations", target: c.name, after: chosen.map { "\($0.0.chineseName)：\($0.1.chineseName)" },
                                      by: actor, protector: app.personalData, on: sql, at: now)
        }
        return try await view(id, on: db)
    }

    /// `centre_stationing_coverage`: the city's and the counties' centres that host every function they should.
    static let indicator = IndicatorDefinition(
        id: "centre_stationing_coverage", name: "公共法律服务中心应驻尽驻率", capability: "centres", unit: .percent, target: 100,
        comparator: .atLeast, basis: "三(十)：法律援助、人民调解、法律咨询、法治宣传教育、律师、公证、司法鉴定、仲裁等职能进驻市、县（区）公共法律服务中心，做到“应驻尽驻”",
        counted: "个中心应驻尽驻") { s, db in
        struct R: Decodable { var id: UUID; var regionCode: String; var level: String; var function: String? }
        let rows = try await db.raw("""
            SELECT i.id, i.region_code, g.level, st.function FROM institutions i JOIN regions g ON g.code = i.region_code
            LEFT JOIN centre_stations st ON st.centre_id = i.id
            WHERE i.type = \(bind: InstitutionType.publicLegalServiceCentre.rawValue) AND i.active = \(bind: true)
              AND g.level IN ('city', 'county') AND i.region_code LIKE \(bind: s.region.scopePrefix + "%")
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        var hosted: [UUID: (region: String, level: RegionLevel, functions: Set<StationedFunction>)] = [:]
        for r in rows {
            guard let level = RegionLevel(rawValue: r.level) else { continue }
            var entry = hosted[r.id] ?? (r.regionCode, level, [])
            if let f = r.function.flatMap(StationedFunction.init(rawValue:)) { entry.functions.insert(f) }
            hosted[r.id] = entry
        }
        var units: [String: (num: Int, den: Int)] = [:]
        for (_, c) in hosted {
            let unit = String(c.region.prefix(s.unitWidth))
            let complete = Stationing.missing(hosted: c.functions, level: c.level).isEmpty
            units[unit, default: (0, 0)].den += 1
            if complete { units[unit, default: (0, 0)].num += 1 }
        }
        return try await UnitRates.outcome(units.map { UnitRates.Row(unit: $0.key, num: $0.value.num, den: $0.value.den) }, target: s.target, on: db)
    }
}

/// The functions each centre hosts and how.
struct M048CreateCentreStations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CentreStations.schema)
            .field("centre_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("function", .string, .required)
            .field("mode", .string, .required)
            .field("note", .string)
            .field("updated_at", .datetime, .required)
            .unique(on: "centre_id", "function")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(CentreStations.schema).delete()
    }
}
