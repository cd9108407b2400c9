import Fluent
import SQLKit

/// Running figures for the legal aid step indicators (`LegalAidIndicators.stepOnTime`): each step done, counted in the
/// year of its case and on time or not, kept by triggers as M020's are. Measured at a million requests, the indicators
/// joined ~93,000 cases of the year to their requests at every read: 270–620 ms each, the city's indicators together
/// 950 ms. The statements are built here by this migration's own frozen code (the figures as released), never from
/// `RunningFigure`, which may change.
struct M036AddStepFigures: AsyncMigration {
    struct Figure { var name: String; var counts: String; var numerator: String; var year: String }

    static let figures: [Figure] = [
        Figure(name: "aid_notified_designation_on_time",
               counts: "X.designated_on IS NOT NULL AND X.designation_due IS NOT NULL AND X.notifying_organ IS NOT NULL",
               numerator: "CASE WHEN X.designated_on <= X.designation_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.received_on, 1, 4) AS INTEGER)"),
        Figure(name: "aid_decision_on_time",
               counts: "X.decided_on IS NOT NULL AND X.organ_name IS NULL AND r.accept_due IS NOT NULL",
               numerator: "CASE WHEN X.decided_on <= r.accept_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.received_on, 1, 4) AS INTEGER)"),
        Figure(name: "aid_designation_on_time",
               counts: "X.designated_on IS NOT NULL AND X.designation_due IS NOT NULL",
               numerator: "CASE WHEN X.designated_on <= X.designation_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.designation_due, 1, 4) AS INTEGER)"),
        Figure(name: "aid_review_on_time",
               counts: "X.reviewed_on IS NOT NULL AND X.review_due IS NOT NULL",
               numerator: "CASE WHEN X.reviewed_on <= X.review_due THEN 1 ELSE 0 END", year: "CAST(SUBSTR(X.review_due, 1, 4) AS INTEGER)"),
    ]

    private static func add(_ f: Figure, _ row: String, sign: Int) -> String {
        let x = { (s: String) in s.replacingOccurrences(of: "X.", with: row + ".") }
        return """
            INSERT INTO indicator_figures (figure, region_code, year, num, den)
            SELECT '\(f.name)', r.region_code, \(x(f.year)), \(sign) * (\(x(f.numerator))), \(sign)
            FROM service_requests r WHERE r.id = \(row).request_id AND (\(x(f.counts)))
            ON CONFLICT (figure, region_code, year) DO UPDATE SET
              num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den;
            """
    }

    private static func fill(_ f: Figure) -> String {
        let x = { (s: String) in s.replacingOccurrences(of: "X.", with: "c.") }
        return """
            INSERT INTO indicator_figures (figure, region_code, year, num, den)
            SELECT '\(f.name)', r.region_code, \(x(f.year)), SUM(\(x(f.numerator))), COUNT(*)
            FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id WHERE \(x(f.counts))
            GROUP BY r.region_code, \(x(f.year))
            """
    }

    static func statements(sqlite: Bool) -> [String] {
        figures.flatMap { f -> [String] in
            if sqlite {
                return [
                    "CREATE TRIGGER indicator_figure_\(f.name)_insert AFTER INSERT ON legal_aid_cases BEGIN \(add(f, "NEW", sign: 1)) END",
                    "CREATE TRIGGER indicator_figure_\(f.name)_update AFTER UPDATE ON legal_aid_cases BEGIN \(add(f, "OLD", sign: -1)) \(add(f, "NEW", sign: 1)) END",
                    "CREATE TRIGGER indicator_figure_\(f.name)_delete AFTER DELETE ON legal_aid_cases BEGIN \(add(f, "OLD", sign: -1)) END",
                    fill(f),
                ]
            }
            return [
                """
                CREATE FUNCTION indicator_figure_\(f.name)() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP IN ('UPDATE', 'DELETE') THEN \(add(f, "OLD", sign: -1)) END IF;
                  IF TG_OP IN ('UPDATE', 'INSERT') THEN \(add(f, "NEW", sign: 1)) END IF;
                  RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER indicator_figure_\(f.name) AFTER INSERT OR UPDATE OR DELETE ON legal_aid_cases FOR EACH ROW EXECUTE FUNCTION indicator_figure_\(f.name)()",
                fill(f),
            ]
        }
    }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for s in Self.statements(sqlite: sql.dialect.name == "sqlite") { try await sql.raw(SQLQueryString(s)).run() }
        // The steps not yet taken are read from the cases (few, when the work is done): found by the empty column.
        try await sql.create(index: "lac_decided_idx").on("legal_aid_cases").column("decided_on").run()
        try await sql.create(index: "lac_reviewed_idx").on("legal_aid_cases").column("reviewed_on").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let sqlite = sql.dialect.name == "sqlite"
        try await sql.drop(index: "lac_decided_idx").run()
        try await sql.drop(index: "lac_reviewed_idx").run()
        for f in Self.figures {
            if sqlite {
                for op in ["insert", "update", "delete"] { try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS indicator_figure_" + f.name + "_" + op)).run() }
            } else {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS indicator_figure_" + f.name + " ON legal_aid_cases")).run()
                try await sql.raw(SQLQueryString("DROP FUNCTION IF EXISTS indicator_figure_" + f.name + "()")).run()
            }
            try await sql.raw("DELETE FROM indicator_figures WHERE figure = \(bind: f.name)").run()
        }
    }
}
