import Vapor
import Fluent
import SQLKit

/// Running figures of the indicators that count a capability's cases (numerator and denominator per region and
/// year), kept by the database itself: a trigger on every insert, change and removal of a case row adds what the
/// row now counts for and takes away what it counted for before. The indicator then sums a few hundred rows
/// instead of joining every case of the year to its request (measured at a million requests: 250–330 ms each).
/// `request_stats` does the same for intake, from the code that concludes and rates.
struct RunningFigure: Sendable {
    /// The figure's name in `indicator_figures.figure`.
    var name: String
    var table: String
    /// When a row counts, what it counts in the numerator (0 or 1) and in which year; `X.` stands for the row.
    var counts: String
    var numerator: String
    var year: String

    static let mediationSuccess = RunningFigure(
        name: "mediation_success", table: "mediation_cases",
        counts: "X.outcome IN ('success', 'failure', 'terminated') AND X.closed_on IS NOT NULL",
        numerator: "CASE WHEN X.outcome = 'success' THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.closed_on, 1, 4) AS INTEGER)")
    static let lawyerShare = RunningFigure(
        name: "lawyer_share", table: "legal_aid_cases", counts: "X.designated_on IS NOT NULL",
        numerator: "CASE WHEN X.designee_type = 'lawyer' THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.designated_on, 1, 4) AS INTEGER)")
    static let all = [mediationSuccess, lawyerShare]

    /// The region's units one level down with their figures for the year.
    func units(_ scope: IndicatorScope, on db: any SQLDatabase) async throws -> [UnitRates.Row] {
        try await db.raw("""
            SELECT SUBSTR(region_code, 1, \(unsafeRaw: String(scope.unitWidth))) AS unit,
                   CAST(SUM(num) AS BIGINT) AS num, CAST(SUM(den) AS BIGINT) AS den
            FROM indicator_figures WHERE figure = \(bind: name) AND year = \(bind: scope.year)
              AND region_code LIKE \(bind: scope.region.scopePrefix + "%")
            GROUP BY SUBSTR(region_code, 1, \(unsafeRaw: String(scope.unitWidth)))
            """).all(decoding: UnitRates.Row.self)
    }

    /// Adds (sign 1) or takes away (sign -1) what the row `row` (NEW or OLD) counts for; nothing when it counts for nothing.
    fileprivate func upsert(_ row: String, sign: Int) -> String {
        let x = { (s: String) in s.replacingOccurrences(of: "X.", with: row + ".") }
        return """
            INSERT INTO indicator_figures (figure, region_code, year, num, den)
            SELECT '\(name)', r.region_code, \(x(year)), \(sign) * (\(x(numerator))), \(sign)
            FROM service_requests r WHERE r.id = \(row).request_id AND (\(x(counts)))
            ON CONFLICT (figure, region_code, year) DO UPDATE SET
              num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den;
            """
    }

    /// Sets every figure again from the case rows there (after a bulk load that ran without the triggers).
    static func refill(on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM indicator_figures").run()
        for figure in all { try await sql.raw(SQLQueryString(figure.fill)).run() }
    }

    /// The figure of the rows already there.
    fileprivate var fill: String {
        let x = { (s: String) in s.replacingOccurrences(of: "X.", with: "c.") }
        return """
            INSERT INTO indicator_figures (figure, region_code, year, num, den)
            SELECT '\(name)', r.region_code, \(x(year)), SUM(\(x(numerator))), COUNT(*)
            FROM \(table) c JOIN service_requests r ON r.id = c.request_id WHERE \(x(counts))
            GROUP BY r.region_code, \(x(year))
            """
    }

    fileprivate func create(on sql: any SQLDatabase) async throws {
        let t = "indicator_figure_\(name)"
        let statements: [String]
        if sql.dialect.name == "sqlite" {
            statements = [
                "CREATE TRIGGER \(t)_insert AFTER INSERT ON \(table) BEGIN \(upsert("NEW", sign: 1)) END",
                "CREATE TRIGGER \(t)_update AFTER UPDATE ON \(table) BEGIN \(upsert("OLD", sign: -1)) \(upsert("NEW", sign: 1)) END",
                "CREATE TRIGGER \(t)_delete AFTER DELETE ON \(table) BEGIN \(upsert("OLD", sign: -1)) END",
            ]
        } else {
            statements = [
                """
                CREATE FUNCTION \(t)() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP IN ('UPDATE', 'DELETE') THEN \(upsert("OLD", sign: -1)) END IF;
                  IF TG_OP IN ('UPDATE', 'INSERT') THEN \(upsert("NEW", sign: 1)) END IF;
                  RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER \(t) AFTER INSERT OR UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION \(t)()",
            ]
        }
        for statement in statements + [fill] { try await sql.raw(SQLQueryString(statement)).run() }

    }

    fileprivate func drop(on sql: any SQLDatabase) async throws {
        let t = "indicator_figure_\(name)"
        let statements = sql.dialect.name == "sqlite"
            ? ["insert", "update", "delete"].map { "DROP TRIGGER IF EXISTS \(t)_\($0)" }
            : ["DROP TRIGGER IF EXISTS \(t) ON \(table)", "DROP FUNCTION IF EXISTS \(t)()"]
        for statement in statements { try await sql.raw(SQLQueryString(statement)).run() }
    }
}

struct M020CreateIndicatorFigures: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("indicator_figures")
            .field("figure", .string, .required)
            .field("region_code", .string, .required)
            .field("year", .int, .required)
            .field("num", .int64, .required)
            .field("den", .int64, .required)
            .unique(on: "figure", "region_code", "year")
            .create()
        let sql = database as! any SQLDatabase
        for figure in RunningFigure.all { try await figure.create(on: sql) }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for figure in RunningFigure.all { try await figure.drop(on: sql) }
        try await database.schema("indicator_figures").delete()
    }
}
