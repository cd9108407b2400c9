import Vapor
import SQLKit
import PLSDomain

/// 供需 (issue #24, item 4): per county, each kind of matter's requests per 10,000 residents this year against the
/// practitioners who serve it per 10,000, with the workforce ratios the bureau sets; a county whose demand stands further
/// above the city's than its supply does is marked short. Requests come from the months kept (`request_months`),
/// practitioners from the registry.
enum SupplyAndDemand {
    /// Which practitioners serve which matter.
    static let servedBy: [(MatterType, [PractitionerType])] = [
        (.consultation, [.lawyer, .grassrootsLegalWorker]), (.legalAid, [.legalAidOfficer, .lawyer]), (.mediation, [.mediator]),
        (.notarization, [.notary]), (.judicialAppraisal, [.appraiser]), (.arbitration, [.arbitrator]),
    ]
    /// The workforce kinds the bureau sets ratios for.
    static let workforce: [PractitionerType] = [.lawyer, .notary, .legalAidOfficer, .appraiser, .mediator, .grassrootsLegalWorker, .arbitrator]

    struct Cell: Content { var matter: String; var requests: Int; var per10k: Double?; var supplyPer10k: Double?; var short: Bool }
    struct Staff: Content { var type: String; var name: String; var count: Int; var per10k: Double?; var target: Double?; var met: Bool? }
    struct Unit: Content { var region: String; var name: String; var population: Int; var demand: [Cell]; var supply: [Staff] }
    struct Target: Content { var type: String; var name: String?; var per10k: Double }
    struct Report: Content {
        var year: Int
        var matters: [Target]
        var city: Unit
        var items: [Unit]
        var targets: [Target]
    }

    static func targets(on sql: any SQLDatabase) async throws -> [String: Double] {
        struct T: Decodable { var practitionerType: String; var per10k: Double }
        return Dictionary(try await sql.select().columns("practitioner_type", "per10k").from("workforce_targets")
            .all(decoding: T.self, keyDecodingStrategy: .convertFromSnakeCase).map { ($0.practitionerType, $0.per10k) }, uniquingKeysWith: { a, _ in a })
    }

    static func report(year: Int, app: Application, on sql: any SQLDatabase, only: DivisionCode? = nil) async throws -> Report {
        guard let city = app.city.code else { throw AppError.notFound("城市") }
        let counties = Array(try await IndicatorSeries.keptRegions(on: sql, city: city).dropFirst())
        struct P: Decodable { var code: String; var name: String; var population: Int }
        let regions = try await sql.select().columns("code", "name", "population").from(Region.schema)
            .where("code", .in, SQLBind.group([city.rawValue] + counties)).all(decoding: P.self)
        let pop = Dictionary(regions.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        struct D: Decodable { var regionCode: String; var matterType: String; var n: Int }
        let demand = try await sql.raw("""
            SELECT region_code, matter_type, CAST(SUM(received) AS BIGINT) AS n FROM request_months
            WHERE month >= \(bind: CivilDate.pad(year, 4) + "-01") AND month <= \(bind: CivilDate.pad(year, 4) + "-12")
            GROUP BY region_code, matter_type
            """).all(decoding: D.self, keyDecodingStrategy: .convertFromSnakeCase)
        struct S: Decodable { var unit: String; var type: String; var n: Int }
        let supply = try await sql.raw("""
            SELECT SUBSTR(region_code, 1, 6) || '000000' AS unit, type, COUNT(*) AS n FROM practitioners
            WHERE status = \(bind: PractitionerStatus.practising.rawValue) AND region_code LIKE \(bind: city.scopePrefix + "%")
            GROUP BY SUBSTR(region_code, 1, 6), type
            """).all(decoding: S.self)
        let goals = try await targets(on: sql)
        func requests(_ unit: String?, _ m: MatterType) -> Int {
            demand.filter { (unit == nil || $0.regionCode == unit) && $0.matterType == m.rawValue }.reduce(0) { $0 + $1.n }
        }
        func staff(_ unit: String?, _ types: [PractitionerType]) -> Int {
            supply.filter { (unit == nil || $0.unit == unit) && types.map(\.rawValue).contains($0.type) }.reduce(0) { $0 + $1.n }
        }
        let cityPop = pop[city.rawValue]?.population ?? 0
        func unit(_ code: String?) -> Unit {
            let population = code.map { pop[$0]?.population ?? 0 } ?? cityPop
            let cells = servedBy.map { m, types -> Cell in
                let d = SupplyDemand.per10k(requests(code, m), population: population), s = SupplyDemand.per10k(staff(code, types), population: population)
                let short = code != nil && SupplyDemand.isShort(demand: d, supply: s, cityDemand: SupplyDemand.per10k(requests(nil, m), population: cityPop),
                                                                 citySupply: SupplyDemand.per10k(staff(nil, types), population: cityPop))
                return Cell(matter: m.rawValue, requests: requests(code, m), per10k: d, supplyPer10k: s, short: short)
            }
            let people = workforce.map { t -> Staff in
                let n = staff(code, [t]), per = SupplyDemand.per10k(n, population: population)
                return Staff(type: t.rawValue, name: t.chineseName, count: n, per10k: per, target: goals[t.rawValue],
                             met: goals[t.rawValue].flatMap { g in per.map { $0 >= g } })
            }
            let key = code ?? city.rawValue
            return Unit(region: key, name: pop[key]?.name ?? key, population: population, demand: cells, supply: people)
        }
        let visible = counties.filter { c in only.map { o in o.level == .city || (DivisionCode(c).map(o.contains) ?? false) } ?? true }
        return Report(year: year, matters: servedBy.map { Target(type: $0.0.rawValue, name: $0.0.chineseName, per10k: 0) },
                      city: unit(nil), items: visible.map { unit($0) },
                      targets: workforce.compactMap { t in goals[t.rawValue].map { Target(type: t.rawValue, name: t.chineseName, per10k: $0) } })
    }

    static func load(_ req: Request) async throws -> Report {
        let p = try req.staff()
        try p.require(Scorecards.mayRead(p))
        let year = (try? req.query.get(Int.self, at: "year")) ?? req.today.year
        guard (2000...2100).contains(year) else { throw AppError.validation(["year": "年份应在 2000–2100 之间"]) }
        let own: DivisionCode? = if case .region(let r) = p.scope { r } else { nil }
        return try await report(year: year, app: req.application, on: req.readSQL, only: own)
    }

    struct TargetsInput: Content { var items: [Target] }

    static func apiSetTargets(_ req: Request) async throws -> TargetsInput {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        return try await setTargets(try req.content.decode(TargetsInput.self), req)
    }

    /// The page's form: a box per kind of practitioner, empty for no target.
    static func targetsSubmit(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        var items: [Target] = []
        for t in workforce {
            let raw = (req.formValue("per10k_\(t.rawValue)") ?? "").trimmingCharacters(in: .whitespaces)
            if !raw.isEmpty { items.append(Target(type: t.rawValue, name: nil, per10k: Double(raw) ?? .nan)) }
        }
        do {
            _ = try await setTargets(TargetsInput(items: items), req)
            return req.redirect(to: "/admin/supply-demand", flash: "已保存配备目标")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return req.redirect(to: "/admin/supply-demand", flash: e.fields.values.first ?? e.message)
        }
    }

    static func setTargets(_ input: TargetsInput, _ req: Request) async throws -> TargetsInput {
        var fields: [String: String] = [:]
        if input.items.count > workforce.count { fields["items"] = "最多 \(workforce.count) 项" }
        for (i, t) in input.items.enumerated() {
            if !workforce.map(\.rawValue).contains(t.type) { fields["items[\(i)].type"] = "没有这类法律服务人员" }
            if !(t.per10k.isFinite && t.per10k >= 0 && t.per10k <= 1000) { fields["items[\(i)].per10k"] = "每万人配备数应在 0–1000 之间" }
        }
        guard fields.isEmpty else { throw AppError.validation(fields) }
        let items = input.items
        try await req.db.atomic { tx in
            let db = tx as! any SQLDatabase
            try await db.raw("DELETE FROM workforce_targets").run()
            for t in items {
                try await db.insert(into: "workforce_targets").columns("practitioner_type", "per10k").values(SQLBind(t.type), SQLBind(t.per10k)).run()
            }
            try await AuditLog.record("workforce.targets", target: "法律服务人员配备目标", after: items, by: req.auditActor,
                                      protector: req.application.personalData, on: db, at: req.now)
        }
        let goals = try await targets(on: req.sql)
        return TargetsInput(items: workforce.compactMap { t in goals[t.rawValue].map { Target(type: t.rawValue, name: t.chineseName, per10k: $0) } })
    }

    struct Context: Encodable {
        var page: PageMeta
        var r: Report
        var columns: [String]
        var heat: [Row]
        var staff: [StaffRow]
        /// The workforce targets' form, for the city's administrators.
        var targetForm: [TargetBox]?
        struct TargetBox: Encodable { var type: String; var name: String; var value: String }
        struct HeatCell: Encodable { var text: String; var level: Int; var short: Bool; var title: String }
        struct Row: Encodable { var name: String; var cells: [HeatCell]; var shortCount: Int }
        struct StaffRow: Encodable { var name: String; var cells: [HeatCell] }
    }

    static func page(_ req: Request) async throws -> View {
        let r = try await load(req)
        let num = { (v: Double?) in v.map { String(format: "%.2f", $0) } ?? "—" }
        let maxima = SupplyAndDemand.servedBy.indices.map { i in max(r.items.compactMap { $0.demand[i].per10k }.max() ?? 0, 0.0001) }
        let heat = r.items.map { u in
            Context.Row(name: u.name, cells: u.demand.enumerated().map { i, c in
                Context.HeatCell(text: num(c.per10k), level: Int(((c.per10k ?? 0) / maxima[i] * 4).rounded()), short: c.short,
                                 title: "\(c.requests) 件；服务人员每万人 \(num(c.supplyPer10k))")
            }, shortCount: u.demand.filter(\.short).count)
        }
        let staff = ([r.city] + r.items).map { u in
            Context.StaffRow(name: u.name, cells: u.supply.map { s in
                Context.HeatCell(text: "\(s.count)（\(num(s.per10k))）", level: 0, short: s.met == false,
                                 title: s.target.map { "目标每万人 \(num($0))" } ?? "未设目标")
            })
        }
        return try await req.view.render("leaders/supply-demand", Context(
            page: req.pageMeta(title: "供需分析"), r: r, columns: SupplyAndDemand.servedBy.map(\.0.chineseName), heat: heat, staff: staff,
            targetForm: req.auth.get(Principal.self)?.role == .cityAdmin ? workforce.map { t in
                Context.TargetBox(type: t.rawValue, name: t.chineseName, value: r.targets.first { $0.type == t.rawValue }.map { String(format: "%g", $0.per10k) } ?? "")
            } : nil))
    }
}
