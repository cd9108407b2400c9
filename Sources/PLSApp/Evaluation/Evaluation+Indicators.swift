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
    ]
}
