import Vapor
import SQLKit
import PLSDomain

/// The roster coverage figures of the plan: each unit with at least its floor of entries.
enum RosterIndicators {
    /// Units of a region (places, or institutions of a type) and how many hold at least `minimum` current entries of `kind`.
    private static func coverage(_ id: String, _ name: String, kind: RosterKind, basis: String, counted: String) -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "grassroots", unit: .percent, target: 100, comparator: .atLeast,
                            basis: basis, counted: counted) { s, db in
            let minimum = kind.minimumPerUnit ?? 1
            let prefix = s.region.scopePrefix + "%"
            let units: SQLQueryString
            let key: SQLQueryString
            switch kind.place {
            case .naturalVillage:
                units = "SELECT g.code AS unit_key, g.code AS code FROM regions g WHERE g.level = \(bind: RegionLevel.naturalVillage.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: prefix)"
                key = "region_code"
            case .village:
                units = "SELECT g.code AS unit_key, g.code AS code FROM regions g WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: prefix)"
                key = "region_code"
            case .ruralVillage:
                units = "SELECT g.code AS unit_key, g.code AS code FROM regions g WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.kind = \(bind: VillageKind.rural.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: prefix)"
                key = "region_code"
            case .institution(let type):
                // Government bodies count only where the plan expects an adviser (三(六)); schools, for a counsellor,
                // only central and city-level ones (二(四)).
                let expected: SQLQueryString = switch kind {
                case .governmentAdviser: " AND i.adviser_expected = \(bind: true)"
                case .schoolCounsellor: " AND i.school_kind IN (\(bind: SchoolKind.central.rawValue), \(bind: SchoolKind.cityLevel.rawValue))"
                default: ""
                }
                units = "SELECT CAST(i.id AS TEXT) AS unit_key, i.region_code AS code FROM institutions i WHERE i.type = \(bind: type.rawValue) AND i.active = \(bind: true) AND i.region_code LIKE \(bind: prefix)" + expected
                key = "CAST(institution_id AS TEXT)"
            }
            let rows = try await db.raw("""
                SELECT SUBSTR(u.code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN COALESCE(c.n, 0) >= \(bind: minimum) THEN 1 ELSE 0 END) AS BIGINT) AS num
                FROM (
                """ + units + """
                ) u LEFT JOIN (SELECT \(key) AS unit_key, COUNT(*) AS n FROM grassroots_rosters
                               WHERE kind = \(bind: kind.rawValue) AND end_on IS NULL GROUP BY \(key)) c ON c.unit_key = u.unit_key
                GROUP BY SUBSTR(u.code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(rows, target: s.target, on: db)
        }
    }

    static let all: [IndicatorDefinition] = [
        coverage("legal_understander_coverage", "法律明白人覆盖率", kind: .legalUnderstander,
                 basis: "实施方案二（三）：每个自然村至少培养 3 名法律明白人", counted: "个自然村已有 3 名以上法律明白人"),
        coverage("rule_of_law_leader_coverage", "法治带头人覆盖率", kind: .ruleOfLawLeader,
                 basis: "实施方案二（三）：每个行政村至少培养 2 名法治带头人", counted: "个行政村已有 2 名以上法治带头人"),
        coverage("culture_site_coverage", "法治文化阵地覆盖率", kind: .cultureSite,
                 basis: "实施方案二（三）：每个村（社区）建有 1 个以上法治文化阵地", counted: "个村（社区）已有法治文化阵地"),
        coverage("school_counsellor_coverage", "学校法治辅导员配备率", kind: .schoolCounsellor,
                 basis: "实施方案二（四）：全市中心校和市直校配备 1 名以上法治辅导员", counted: "所中心校和市直校已配备法治辅导员"),
        coverage("government_adviser_coverage", "党政机关法律顾问覆盖率", kind: .governmentAdviser,
                 basis: "实施方案三（六）：市、县（区）、镇（街道）党委和政府全覆盖，执法职能较多的市直、县（区）直部门原则上应聘用",
                 counted: "个应聘法律顾问的党政机关已聘请"),
    ]
}
