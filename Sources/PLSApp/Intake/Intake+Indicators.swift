import SQLKit
import PLSDomain

/// 服务一次、评价一次: on-time conclusion, rating and satisfaction, from the running figures in request_stats.
enum IntakeIndicators {
    private static func rate(_ id: String, _ name: String, target: Double, basis: String,
                             numerator: String, denominator: String) -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "intake", unit: .percent, target: target, comparator: .atLeast, basis: basis) { scope, db in
            let prefix = scope.region.scopePrefix
            struct Sum: Decodable { var num: Int; var den: Int }
            let total = try await db.raw("""
                SELECT CAST(COALESCE(SUM(\(unsafeRaw: numerator)), 0) AS BIGINT) AS num,
                       CAST(COALESCE(SUM(\(unsafeRaw: denominator)), 0) AS BIGINT) AS den
                FROM request_stats WHERE year = \(bind: scope.year) AND region_code LIKE \(bind: prefix + "%")
                """).first(decoding: Sum.self) ?? Sum(num: 0, den: 0)
            // PostgreSQL sums bigints into numeric: cast back so both databases return integers.
            // The units one level down that fall short, worst first.
            let width = scope.region.level == .city ? 6 : (scope.region.level == .county ? 9 : 12)
            struct Unit: Decodable { var unit: String; var num: Int; var den: Int }
            let units = try await db.raw("""
                SELECT SUBSTR(region_code, 1, \(unsafeRaw: String(width))) AS unit,
                       CAST(SUM(\(unsafeRaw: numerator)) AS BIGINT) AS num, CAST(SUM(\(unsafeRaw: denominator)) AS BIGINT) AS den
                FROM request_stats WHERE year = \(bind: scope.year) AND region_code LIKE \(bind: prefix + "%")
                GROUP BY SUBSTR(region_code, 1, \(unsafeRaw: String(width)))
                """).all(decoding: Unit.self)
            let short = units.filter { $0.den > 0 && !IndicatorComparator.atLeast.isMet(value: Double($0.num) * 100 / Double($0.den), target: target) }
                .sorted { Double($0.num) / Double($0.den) < Double($1.num) / Double($1.den) }
            let codes = short.map { $0.unit + String(repeating: "0", count: 12 - $0.unit.count) }
            var names: [String: String] = [:]
            if !codes.isEmpty {
                struct N: Decodable { var code: String; var name: String }
                for n in try await db.select().columns("code", "name").from("regions").where("code", .in, SQLBind.group(codes)).all(decoding: N.self) {
                    names[n.code] = n.name
                }
            }
            let list = codes.prefix(IndicatorRegistry.shortfallLimit).map { ShortfallUnit(code: $0, name: names[$0] ?? $0) }
            return IndicatorOutcome(figure: total.den == 0 ? .ratio(0, of: 0) : .ratio(total.num, of: total.den),
                                    shortfalls: Array(list), shortfallCount: short.count)
        }
    }

    static let all: [IndicatorDefinition] = [
        rate("on_time_rate", "按时办结率", target: 95, basis: "实施方案四（九）：服务监管考核；办结时限按工作日计算",
             numerator: "on_time", denominator: "concluded"),
        rate("evaluation_rate", "评价率（服务一次、评价一次）", target: 90, basis: "实施方案四（九）：随时评价、随单评价，服务一次评价一次",
             numerator: "rated", denominator: "concluded"),
        rate("satisfaction_rate", "群众满意率", target: 95, basis: "实施方案四（九）：开展群众满意度测评（满意、非常满意占已评价的比例）",
             numerator: "satisfied", denominator: "rated"),
    ]
}
