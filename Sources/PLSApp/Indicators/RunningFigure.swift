import Vapor
import Fluent
import SQLKit

/// Running figures of the indicators that count a capability's cases (numerator and denominator per region and
/// year), kept by the database itself: a trigger on every insert, change and removal of a case row adds what the
/// row now counts for and takes away what it counted for before. The indicator then sums a few hundred rows
/// instead of joining every case of the year to its request (measured at a million requests: 250–330 ms each).
/// `request_stats` does the same for intake, from the code that concludes and rates. The triggers are M020's; each
/// capability defines its figures beside its indicators and lists them in its `MatterCase`.
struct RunningFigure: Sendable {
    /// The figure's name in `indicator_figures.figure`.
    var name: String
    var table: String
    /// When a row counts, what it counts in the numerator (0 or 1) and in which year; `X.` stands for the row.
    var counts: String
    var numerator: String
    var year: String


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

    /// Sets every figure again from the case rows there (after a bulk load that ran without the triggers).
    static func refill(on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM indicator_figures").run()
        for figure in MatterCases.runningFigures { try await sql.raw(SQLQueryString(figure.fill)).run() }
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
}
