import Foundation
import SQLKit
import PLSDomain

/// 服务一次、评价一次: on-time conclusion, rating and satisfaction, from the running figures in request_stats.
enum IntakeIndicators {
    private static func rate(_ id: String, _ name: String, target: Double, basis: String, counted: String,
                             numerator: String, denominator: String) -> IndicatorDefinition {
        // The plan asks for evaluation of every service and for measuring satisfaction, but sets no number.
        IndicatorDefinition(id: id, name: name, capability: "intake", unit: .percent, target: target, comparator: .atLeast, basis: basis,
                            targetSource: .bureau, counted: counted, sampled: true) { scope, db in
            // PostgreSQL sums bigints into numeric: cast back so both databases return integers.
            let units = try await db.raw("""
                SELECT SUBSTR(region_code, 1, \(unsafeRaw: String(scope.unitWidth))) AS unit,
                       CAST(SUM(\(unsafeRaw: numerator)) AS BIGINT) AS num, CAST(SUM(\(unsafeRaw: denominator)) AS BIGINT) AS den
                FROM request_stats WHERE year = \(bind: scope.year) AND region_code LIKE \(bind: scope.region.scopePrefix + "%")
                GROUP BY SUBSTR(region_code, 1, \(unsafeRaw: String(scope.unitWidth)))
                """).all(decoding: UnitRates.Row.self)
            return try await UnitRates.outcome(units, target: scope.target, on: db)
        }
    }

    static let all: [IndicatorDefinition] = [
        {
            var d = rate("on_time_rate", "按时办结率", target: 95, basis: "实施方案四（九）：服务监管考核；办结时限按工作日计算",
                         counted: "件按时办结", numerator: "on_time", denominator: "concluded")
            d.records = lateRequests
            return d
        }(),
        rate("evaluation_rate", "评价率（服务一次、评价一次）", target: 90, basis: "实施方案四（九）：随时评价、随单评价，服务一次评价一次",
             counted: "件已评价", numerator: "rated", denominator: "concluded"),
        rate("satisfaction_rate", "群众满意率", target: 95, basis: "实施方案四（九）：开展群众满意度测评（满意、非常满意占已评价的比例）",
             counted: "件满意", numerator: "satisfied", denominator: "rated"),
        onlineAcceptance,
    ]

    /// The requests concluded late in the region this year, latest first, each linked to its work page.
    @Sendable static func lateRequests(_ s: IndicatorScope, _ db: any SQLDatabase) async throws -> [ShortfallUnit] {
        struct R: Decodable { var id: UUID; var number: String; var matterType: String; var concludedOn: String }
        return try await db.raw("""
            SELECT id, number, matter_type, concluded_on FROM service_requests
            WHERE region_code LIKE \(bind: s.region.scopePrefix + "%") AND concluded_on_time = \(bind: false)
              AND concluded_on >= \(bind: s.firstDay) AND concluded_on <= \(bind: s.lastDay)
            ORDER BY concluded_on DESC LIMIT \(unsafeRaw: String(IndicatorRegistry.shortfallLimit))
            """).all(decoding: R.self, keyDecodingStrategy: .convertFromSnakeCase).map {
            ShortfallUnit(code: $0.number, name: "\($0.number) · \(MatterType(rawValue: $0.matterType)?.chineseName ?? $0.matterType) · \($0.concludedOn) 逾期办结",
                          href: "/work/\($0.id)")
        }
    }

    /// 所有法律服务事项网上受理: the share of the catalog's items a citizen can apply for online. The catalog is the
    /// city's, so every region shows the city's figure; the items handled in person only are the shortfalls.
    static let onlineAcceptance = IndicatorDefinition(
        id: "online_acceptance_rate", name: "服务事项网上受理率", capability: "intake", unit: .percent, target: 100, comparator: .atLeast,
        basis: "实施方案四（十）：以网络平台统领实体平台、热线平台，实现“一网通办”，所有法律服务事项网上受理",
        counted: "项服务事项可网上申请"
    ) { _, db in
        let items = try await Catalog.items(on: db)
        let offline = items.filter { !$0.online }
        return IndicatorOutcome(figure: .ratio(items.count - offline.count, of: items.count),
                                shortfalls: offline.prefix(IndicatorRegistry.shortfallLimit).map {
                                    ShortfallUnit(code: $0.code, name: $0.name + "（仅现场办理）", href: "/admin/catalog/\($0.code)")
                                },
                                shortfallCount: offline.count)
    }
}
