import Vapor
import SQLKit
import PLSDomain

/// The plan's village adviser figures: every village and community has an adviser, serves it 50 hours a
/// year, and the city's advisers deliver 17,000 services a year.
enum GrassrootsIndicators {
    static let all: [IndicatorDefinition] = [
        IndicatorDefinition(id: "village_adviser_coverage", name: "村（居）法律顾问覆盖率", capability: "grassroots", unit: .percent, target: 100,
                            comparator: .atLeast, basis: "实施方案二（三）：全市村（居）配备法律顾问的比例达 100%", counted: "个村（社区）已聘请法律顾问") { s, db in
            let units = try await db.raw("""
                SELECT SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM adviser_assignments a JOIN practitioners p ON p.id = a.practitioner_id
                                 WHERE a.region_code = g.code AND a.start_on <= \(bind: s.today.description)
                                 AND (a.end_on IS NULL OR a.end_on >= \(bind: s.today.description))
                                 AND p.status = \(bind: PractitionerStatus.practising.rawValue)) THEN 1 ELSE 0 END) AS BIGINT) AS num
                FROM regions g WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: s.target, on: db)
        } records: { s, db in
            // The villages without an adviser today, each to the advisers' page where assignments are imported.
            try await db.raw("""
                SELECT g.code, g.name FROM regions g WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true)
                  AND g.code LIKE \(bind: s.region.scopePrefix + "%")
                  AND NOT EXISTS (SELECT 1 FROM adviser_assignments a JOIN practitioners p ON p.id = a.practitioner_id
                                  WHERE a.region_code = g.code AND a.start_on <= \(bind: s.today.description)
                                  AND (a.end_on IS NULL OR a.end_on >= \(bind: s.today.description))
                                  AND p.status = \(bind: PractitionerStatus.practising.rawValue))
                ORDER BY g.code LIMIT \(unsafeRaw: String(IndicatorRegistry.shortfallLimit))
                """).all(decoding: ShortfallUnit.self).map { ShortfallUnit(code: $0.code, name: $0.name + "：未聘请法律顾问", href: "/grassroots") }
        },
        IndicatorDefinition(id: "village_adviser_hours_met", name: "村（居）法律顾问服务时长达标率", capability: "grassroots", unit: .percent, target: 100,
                            comparator: .atLeast, basis: "实施方案二（三）：法律顾问每年为每个村（社区）服务不少于 50 小时（年中按进度计，未达进度的村居列为未达标单位）",
                            counted: "个村（社区）全年服务已满 50 小时") { s, db in
            let first = "\(s.year)-01-01", last = "\(s.year)-12-31"
            // The year's figure counts villages at 50 hours; during the year a unit falls short when its villages lag the pace.
            let day = s.today.year == s.year ? s.today : CivilDate(year: s.year, month: 12, day: 31)!
            let pace = (AdviserTargets.pace(AdviserTargets.hoursPerVillage, on: day) * 10).rounded(.down) / 10
            struct R: Decodable { var unit: String; var den: Int; var num: Int; var onPace: Int }
            let rows = try await db.raw("""
                SELECT SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN COALESCE(h.hours, 0) >= \(bind: AdviserTargets.hoursPerVillage) THEN 1 ELSE 0 END) AS BIGINT) AS num,
                       CAST(SUM(CASE WHEN COALESCE(h.hours, 0) >= \(bind: pace) THEN 1 ELSE 0 END) AS BIGINT) AS on_pace
                FROM regions g LEFT JOIN (SELECT region_code, SUM(hours) AS hours FROM adviser_services
                                          WHERE served_on >= \(bind: first) AND served_on <= \(bind: last) GROUP BY region_code) h ON h.region_code = g.code
                WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: R.self, keyDecodingStrategy: .snakeCase)
            let paced = try await UnitRates.outcome(rows.map { UnitRates.Row(unit: $0.unit, num: $0.onPace, den: $0.den) }, target: s.target, on: db)
            let num = rows.reduce(0) { $0 + $1.num }, den = rows.reduce(0) { $0 + $1.den }
            return IndicatorOutcome(figure: .ratio(num, of: den), shortfalls: paced.shortfalls, shortfallCount: paced.shortfallCount)
        },
        IndicatorDefinition(id: "village_adviser_items", name: "村（居）法律顾问年度服务件数", capability: "grassroots", unit: .count,
                            target: Double(AdviserTargets.itemsPerYear), comparator: .atLeast,
                            basis: "实施方案二（三）：全市村（居）法律顾问每年提供法律服务不少于 17000 件（县区、镇街按所辖村居数分担；年中按进度列出落后单位）",
                            counted: "") { s, db in
            // The plan sets the city's total; a county or town carries the share of its villages and communities.
            let city = s.region.ancestor(at: .city) ?? s.region
            // A stored target is bounded when set; clamped here too, since a trap would stop every indicator read.
            let total = Int(exactly: min(max(0, s.target), 1e12).rounded(.up)) ?? 0
            let cityVillages = try await db.raw("""
                SELECT COUNT(*) AS n FROM regions WHERE level = \(bind: RegionLevel.village.rawValue) AND active = \(bind: true)
                AND code LIKE \(bind: city.scopePrefix + "%")
                """).first(decodingColumn: "n", as: Int.self) ?? 0
            struct R: Decodable { var unit: String; var villages: Int; var items: Int }
            let units = try await db.raw("""
                SELECT SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS villages,
                       CAST(COALESCE(SUM(v.items), 0) AS BIGINT) AS items
                FROM regions g LEFT JOIN (SELECT region_code, SUM(items) AS items FROM adviser_services
                                          WHERE served_on >= \(bind: s.firstDay) AND served_on <= \(bind: s.lastDay) GROUP BY region_code) v
                       ON v.region_code = g.code
                WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(g.code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: R.self)
            // Items logged against regions that are not villages (none today) still count towards the region.
            let n = try await db.raw("""
                SELECT CAST(COALESCE(SUM(items), 0) AS BIGINT) AS n FROM adviser_services
                WHERE served_on >= \(bind: s.firstDay) AND served_on <= \(bind: s.lastDay) AND region_code LIKE \(bind: s.region.scopePrefix + "%")
                """).first(decodingColumn: "n", as: Int.self) ?? 0
            let villages = units.reduce(0) { $0 + $1.villages }
            let due = s.today.year == s.year ? s.today : CivilDate(year: s.year, month: 12, day: 31)!
            // A unit falls short when its items lag its share at the pace of the year.
            let short = units.filter { u in
                AdviserTargets.isBehind(Double(u.items), annual: Double(AdviserTargets.share(of: total, villages: u.villages, ofCity: cityVillages)), on: due)
            }
            let named = try await UnitRates.outcome(short.map { UnitRates.Row(unit: $0.unit, num: 0, den: 1) }, target: 100, on: db)
            return IndicatorOutcome(figure: .count(n), shortfalls: named.shortfalls, shortfallCount: named.shortfallCount,
                                    target: s.region == city ? nil : Double(AdviserTargets.share(of: total, villages: villages, ofCity: cityVillages)))
        },
    ]
}
