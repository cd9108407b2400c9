import Vapor
import SQLKit
import PLSDomain

/// The plan's mediation figures: success, fulfilment, industry committees; and the counts the dashboard shows.
enum MediationIndicators {
    static let all: [IndicatorDefinition] = [
        composition,
        IndicatorDefinition(id: "mediation_success_rate", name: "人民调解成功率", capability: "mediation", unit: .percent, target: 95,
                            comparator: .atLeast, basis: "实施方案二（三）：人民调解成功率稳步提升（调解成功占已结案件，不含当事人拒绝调解的）",
                            targetSource: .rising,
                            counted: "件调解成功", sampled: true) { s, db in
            // From the running figures the database keeps as cases close (`RunningFigure.mediationSuccess`).
            try await UnitRates.outcome(try await RunningFigure.mediationSuccess.units(s, on: db), target: s.target, on: db)
        },
        IndicatorDefinition(id: "mediation_fulfilment_rate", name: "调解协议履行率", capability: "mediation", unit: .percent, target: 95,
                            comparator: .atLeast, basis: "实施方案二（三）：调解协议履行率稳步提升（履行期限已届满的协议中已全部履行的）",
                            targetSource: .rising,
                            counted: "份协议已履行", sampled: true) { s, db in
            let units = try await db.raw("""
                SELECT SUBSTR(r.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN a.unfulfilled = 0 THEN 1 ELSE 0 END) AS BIGINT) AS num
                FROM (SELECT request_id, MAX(due_on) AS due,
                             SUM(CASE WHEN status <> 'fulfilled' THEN 1 ELSE 0 END) AS unfulfilled
                      FROM mediation_obligations GROUP BY request_id) a
                JOIN service_requests r ON r.id = a.request_id
                WHERE a.due < \(bind: s.today.description) AND a.due >= \(bind: s.firstDay) AND a.due <= \(bind: s.lastDay)
                  AND r.region_code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(r.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: s.target, on: db)
        },
        IndicatorDefinition(id: "industry_committee_coverage", name: "行业性专业性调解组织覆盖率", capability: "mediation", unit: .percent, target: 100,
                            comparator: .atLeast, basis: "实施方案三（七）：在医疗、道路交通、物业管理、消费、旅游、环保等领域设立行业性专业性人民调解组织",
                            targetSource: .bureau,
                            counted: "个重点行业领域已设立调委会") { s, db in
            // A county is covered by its own industry committees and by the city's, which serve every county.
            struct F: Decodable { var unit: String; var field: String }
            let rows = try await db.raw("""
                SELECT DISTINCT SUBSTR(region_code, 1, 6) AS unit, industry_field AS field FROM institutions
                WHERE type = \(bind: InstitutionType.mediationCommittee.rawValue) AND committee_kind = \(bind: MediationCommitteeKind.industry.rawValue)
                  AND active = \(bind: true) AND industry_field IS NOT NULL
                """).all(decoding: F.self)
            let cityUnit = String((s.region.ancestor(at: .city) ?? s.region).rawValue.prefix(6))
            let cityFields = Set(rows.filter { $0.unit == cityUnit }.map(\.field))
            func fields(of prefix: String) -> Set<String> {
                prefix.count <= 4 ? Set(rows.map(\.field)) : cityFields.union(rows.filter { $0.unit.hasPrefix(String(prefix.prefix(6))) }.map(\.field))
            }
            let all = Set(IndustryField.allCases.map(\.rawValue))
            let covered = fields(of: s.region.scopePrefix).intersection(all)
            var short: [ShortfallUnit] = []
            if s.region.level == .city {
                struct R: Decodable { var code: String; var name: String }
                let counties = try await db.select().columns("code", "name").from(Region.schema).where("level", .equal, SQLBind(RegionLevel.county.rawValue))
                    .where("code", .like, SQLBind(s.region.scopePrefix + "%")).orderBy("code").all(decoding: R.self)
                short = counties.filter { !all.isSubset(of: fields(of: String($0.code.prefix(6)))) }.map { ShortfallUnit(code: $0.code, name: $0.name) }
            }
            return IndicatorOutcome(figure: .ratio(covered.count, of: all.count), shortfalls: short, shortfallCount: short.count)
        },
    ]

    // MARK: Counts for the dashboard

    struct Count: Content { var key: String; var name: String; var count: Int }
    struct Statistics: Content {
        var year: Int
        var bySource: [Count]
        var byCategory: [Count]
        var byCommittee: [Count]
        var byMediator: [Count]
        var byOutcome: [Count]
    }

    static func statistics(region: DivisionCode, year: Int, on db: any SQLDatabase) async throws -> Statistics {
        let prefix = region.scopePrefix + "%"
        let from = "\(year)-01-01", to = "\(year + 1)-01-01"
        struct G: Decodable { var key: String?; var name: String?; var n: Int }
        func group(_ key: SQLQueryString, _ name: SQLQueryString, join: SQLQueryString = "") async throws -> [G] {
            try await db.raw("""
                SELECT \(key) AS key, \(name) AS name, COUNT(*) AS n FROM mediation_cases c JOIN service_requests r ON r.id = c.request_id
                """ + " " + join + """
                 WHERE r.region_code LIKE \(bind: prefix) AND r.created_at >= \(bind: CivilDate(from)!.startInChina) AND r.created_at < \(bind: CivilDate(to)!.startInChina)
                GROUP BY \(key), \(name) ORDER BY n DESC LIMIT 20
                """).all(decoding: G.self)
        }
        let sources = try await group("c.source", "c.source").map { Count(key: $0.key ?? "", name: MediationSource(rawValue: $0.key ?? "")?.chineseName ?? "", count: $0.n) }
        let categories = try await group("r.category", "r.category").map { Count(key: $0.key ?? "", name: Category(rawValue: $0.key ?? "")?.chineseName ?? "", count: $0.n) }
        let committees = try await group("CAST(i.id AS TEXT)", "i.name", join: "LEFT JOIN institutions i ON i.id = c.committee_id")
            .map { Count(key: $0.key ?? "", name: $0.name ?? "（未指定调委会）", count: $0.n) }
        let mediators = try await group("CAST(p.id AS TEXT)", "p.name", join: "LEFT JOIN practitioners p ON p.id = r.practitioner_id")
            .map { Count(key: $0.key ?? "", name: $0.name ?? "（尚未分派）", count: $0.n) }
        let outcomes = try await group("COALESCE(c.outcome, 'open')", "COALESCE(c.outcome, 'open')")
            .map { Count(key: $0.key ?? "", name: MediationOutcome(rawValue: $0.key ?? "")?.chineseName ?? "调解中", count: $0.n) }
        return Statistics(year: year, bySource: sources, byCategory: categories, byCommittee: committees, byMediator: mediators, byOutcome: outcomes)
    }
}

extension RunningFigure {
    /// Closed mediation cases that succeeded, per region and year of closing (M020's triggers keep it).
    static let mediationSuccess = RunningFigure(
        name: "mediation_success", table: "mediation_cases",
        counts: "X.outcome IN ('success', 'failure', 'terminated') AND X.closed_on IS NOT NULL",
        numerator: "CASE WHEN X.outcome = 'success' THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.closed_on, 1, 4) AS INTEGER)")
}

extension MediationIndicators {
    /// Committees whose make-up meets 人民调解法 art. 8 (three to nine members, a director, a woman member where the
    /// rule applies…), per unit; the flagged committees are on the mediation page and reported to the town's office.
    static let composition = IndicatorDefinition(
        id: "mediation_committee_composition_rate", name: "人民调解委员会组成合规率", capability: "mediation", unit: .percent, target: 100,
        comparator: .atLeast, basis: "人民调解法第八条；实施方案二（三）：巩固和规范镇（街道）、村（居）人民调解委员会建设",
        targetSource: .law, counted: "个调委会组成符合要求") { s, db in
        var units: [String: (num: Int, den: Int)] = [:]
        for c in try await MediationNetwork.committees(prefix: s.region.scopePrefix, on: db) {
            let unit = String(c.regionCode.prefix(s.unitWidth))
            let ok = MediationRules.composition(c.members, on: s.today).isEmpty
            units[unit, default: (0, 0)].den += 1
            if ok { units[unit, default: (0, 0)].num += 1 }
        }
        return try await UnitRates.outcome(units.map { UnitRates.Row(unit: $0.key, num: $0.value.num, den: $0.value.den) }, target: s.target, on: db)
    } records: { s, db in
        // The committees breaking the rules, with what is wrong, each linked to its page where the members are set.
        try await MediationNetwork.committees(prefix: s.region.scopePrefix, on: db).compactMap { c in
            let problems = MediationRules.composition(c.members, on: s.today)
            return problems.isEmpty ? nil : ShortfallUnit(code: c.id.uuidString, name: c.name + "：" + problems.map(\.message).joined(separator: "；"),
                                                          href: "/mediation/committees/\(c.id)")
        }.prefix(IndicatorRegistry.shortfallLimit).map { $0 }
    }
}
