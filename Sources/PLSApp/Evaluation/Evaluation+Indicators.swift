import Vapor
import SQLKit
import PLSDomain

/// The evaluation loop's targets (国办发〔2019〕51号: every bad rating called back and rectified in time), per unit,
/// over the bad ratings of the year; a rating withdrawn on appeal counts in neither.
enum EvaluationIndicators {
    /// Bad ratings whose step is done or has fallen due; on time when done by its due day. Column names are ours.
    private static func stepOnTime(_ id: String, _ name: String, basis: String, counted: String, done: String, due: String) -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "evaluation", unit: .percent, target: 100, comparator: .atLeast, basis: basis,
                            targetSource: .law, counted: counted, sampled: true) { s, db in
            let units = try await db.raw("""
                SELECT SUBSTR(x.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN \(unsafeRaw: done) IS NOT NULL AND \(unsafeRaw: done) <= \(unsafeRaw: due) THEN 1 ELSE 0 END) AS BIGINT) AS num
                FROM rectifications x
                WHERE x.region_code LIKE \(bind: s.region.scopePrefix + "%") AND x.rated_on >= \(bind: s.firstDay) AND x.rated_on <= \(bind: s.lastDay)
                  AND x.status <> \(bind: RectificationStatus.withdrawn.rawValue)
                  AND (\(unsafeRaw: done) IS NOT NULL OR \(unsafeRaw: due) < \(bind: s.today.description))
                GROUP BY SUBSTR(x.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: s.target, on: db)
        }
    }

    static let all: [IndicatorDefinition] = [
        stepOnTime("bad_rating_callback_rate", "差评回访率",
                   basis: "国办发〔2019〕51号：差评实名回访率 100%（回访期限由市司法局设定，默认 1 个工作日）",
                   counted: "件差评按时回访", done: "x.callback_on", due: "x.callback_due"),
        stepOnTime("rectification_on_time_rate", "差评按时整改率",
                   basis: "国办发〔2019〕51号：差评整改并答复当事人（期限由市司法局设定，默认 15 个工作日）",
                   counted: "件差评按时整改答复", done: "x.replied_on", due: "x.rectify_due"),
        // Complaints registered in the year and settled, or past a limit: on time when accepted (or refused) within the
        // acceptance period and decided within the decision period.
        IndicatorDefinition(id: "complaint_on_time_rate", name: "投诉按时办结率", capability: "evaluation", unit: .percent, target: 100,
                            comparator: .atLeast, basis: "投诉在受理期限（默认 10 个工作日）内受理、处理期限（默认 60 日）内作出决定",
                            targetSource: .law, counted: "件投诉按时办结", sampled: true) { s, db in
            let units = try await db.raw("""
                SELECT SUBSTR(c.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN c.status = 'refused' AND c.decided_on <= c.accept_due THEN 1
                                     WHEN c.status = 'decided' AND c.decided_on <= c.decision_due AND c.accepted_on <= c.accept_due THEN 1
                                     ELSE 0 END) AS BIGINT) AS num
                FROM complaints c
                WHERE c.region_code LIKE \(bind: s.region.scopePrefix + "%") AND c.registered_on >= \(bind: s.firstDay)
                  AND c.registered_on <= \(bind: s.lastDay)
                  AND (c.status IN ('refused', 'decided') OR c.decision_due < \(bind: s.today.description)
                       OR (c.accepted_on IS NULL AND c.accept_due < \(bind: s.today.description)))
                GROUP BY SUBSTR(c.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: s.target, on: db)
        },
        // Cases reviewed in the year (案卷评查) against the cases concluded (`request_stats`), per unit.
        IndicatorDefinition(id: "quality_review_coverage", name: "案卷评查覆盖率", capability: "evaluation", unit: .percent,
                            target: QualitySample.defaultShare * 100, comparator: .atLeast,
                            basis: "法律援助法第五十七、五十九条：案卷检查等方式督促提升服务质量（抽查比例由市司法局设定，默认 5%）",
                            targetSource: .bureau, counted: "件案卷已评查") { s, db in
            let width = String(s.unitWidth)
            struct N: Decodable { var unit: String; var n: Int }
            let reviewed = try await db.raw("""
                SELECT SUBSTR(q.region_code, 1, \(unsafeRaw: width)) AS unit, COUNT(*) AS n FROM quality_reviews q
                WHERE q.status <> 'pending' AND q.period >= \(bind: CivilDate.pad(s.year, 4) + "-01") AND q.period <= \(bind: CivilDate.pad(s.year, 4) + "-12")
                  AND q.region_code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(q.region_code, 1, \(unsafeRaw: width))
                """).all(decoding: N.self)
            let concluded = try await db.raw("""
                SELECT SUBSTR(region_code, 1, \(unsafeRaw: width)) AS unit, CAST(SUM(concluded) AS BIGINT) AS n FROM request_stats
                WHERE year = \(bind: s.year) AND region_code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(region_code, 1, \(unsafeRaw: width))
                """).all(decoding: N.self)
            let done = Dictionary(reviewed.map { ($0.unit, $0.n) }, uniquingKeysWith: +)
            let units = concluded.filter { $0.n > 0 }.map { UnitRates.Row(unit: $0.unit, num: done[$0.unit] ?? 0, den: $0.n) }
            return try await UnitRates.outcome(units, target: s.target, on: db)
        },
        // Lawyers and grassroots legal service workers whose public-interest and village adviser hours of the year reach
        // the bureau's annual hours (`city_settings.public_interest_hours`, 50 unless set).
        IndicatorDefinition(id: "public_interest_hours_met", name: "公益法律服务时长达标率", capability: "evaluation", unit: .percent, target: 100,
                            comparator: .atLeast, basis: "实施方案：律师、基层法律服务工作者参与公益法律服务，纳入年度考核（年度时长由市司法局设定）",
                            targetSource: .bureau, counted: "名人员达到年度公益服务时长") { s, db in
            let first = CivilDate.pad(s.year, 4) + "-01-01", last = CivilDate.pad(s.year, 4) + "-12-31"
            let units = try await db.raw("""
                SELECT SUBSTR(p.region_code, 1, \(unsafeRaw: String(s.unitWidth))) AS unit, COUNT(*) AS den,
                       CAST(SUM(CASE WHEN COALESCE((SELECT SUM(x.hours) FROM public_interest_services x WHERE x.practitioner_id = p.id
                                                     AND x.served_on >= \(bind: first) AND x.served_on <= \(bind: last)), 0)
                                        + COALESCE((SELECT SUM(a.hours) FROM adviser_services a WHERE a.practitioner_id = p.id
                                                     AND a.served_on >= \(bind: first) AND a.served_on <= \(bind: last)), 0)
                                        >= COALESCE((SELECT CAST(value AS INTEGER) FROM city_settings WHERE key = 'public_interest_hours'),
                                                    \(unsafeRaw: String(PublicInterestRules.defaultAnnualHours)))
                                     THEN 1 ELSE 0 END) AS BIGINT) AS num
                FROM practitioners p
                WHERE p.status = 'practising' AND p.type IN (\(binds: PublicInterest.countedTypes.map(\.rawValue)))
                  AND p.region_code LIKE \(bind: s.region.scopePrefix + "%")
                GROUP BY SUBSTR(p.region_code, 1, \(unsafeRaw: String(s.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: s.target, on: db)
        },
    ]
}
