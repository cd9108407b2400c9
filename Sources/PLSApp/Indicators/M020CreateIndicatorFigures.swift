import Fluent
import SQLKit

/// The running figures' table and the triggers that keep it, as released: the statements are written out, not built
/// from `RunningFigure` (a migration never calls code that may change later). A figure added later gets a migration of
/// its own; one whose counting changes gets a migration that replaces its triggers.
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
        for statement in sql.dialect.name == "sqlite" ? Self.sqlite : Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for statement in sql.dialect.name == "sqlite" ? Self.dropSQLite : Self.dropPostgres { try await sql.raw(SQLQueryString(statement)).run() }
        try await database.schema("indicator_figures").delete()
    }

    // Mediation success (closed cases that succeeded) and the lawyers' share of designations, per region and year: each
    // trigger adds what the row now counts for and takes away what it counted for before; then the rows already there.
    static let sqlite: [String] = [
        """
        CREATE TRIGGER indicator_figure_mediation_success_insert AFTER INSERT ON mediation_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(NEW.closed_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.outcome = 'success' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.outcome IN ('success', 'failure', 'terminated') AND NEW.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        CREATE TRIGGER indicator_figure_mediation_success_update AFTER UPDATE ON mediation_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(OLD.closed_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.outcome = 'success' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.outcome IN ('success', 'failure', 'terminated') AND OLD.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(NEW.closed_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.outcome = 'success' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.outcome IN ('success', 'failure', 'terminated') AND NEW.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        CREATE TRIGGER indicator_figure_mediation_success_delete AFTER DELETE ON mediation_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(OLD.closed_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.outcome = 'success' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.outcome IN ('success', 'failure', 'terminated') AND OLD.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(c.closed_on, 1, 4) AS INTEGER), SUM(CASE WHEN c.outcome = 'success' THEN 1 ELSE 0 END), COUNT(*)
        FROM mediation_cases c JOIN service_requests r ON r.id = c.request_id WHERE c.outcome IN ('success', 'failure', 'terminated') AND c.closed_on IS NOT NULL
        GROUP BY r.region_code, CAST(SUBSTR(c.closed_on, 1, 4) AS INTEGER)
        """,
        """
        CREATE TRIGGER indicator_figure_lawyer_share_insert AFTER INSERT ON legal_aid_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(NEW.designated_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.designee_type = 'lawyer' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        CREATE TRIGGER indicator_figure_lawyer_share_update AFTER UPDATE ON legal_aid_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(OLD.designated_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.designee_type = 'lawyer' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(NEW.designated_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.designee_type = 'lawyer' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        CREATE TRIGGER indicator_figure_lawyer_share_delete AFTER DELETE ON legal_aid_cases BEGIN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(OLD.designated_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.designee_type = 'lawyer' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END
        """,
        """
        INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(c.designated_on, 1, 4) AS INTEGER), SUM(CASE WHEN c.designee_type = 'lawyer' THEN 1 ELSE 0 END), COUNT(*)
        FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id WHERE c.designated_on IS NOT NULL
        GROUP BY r.region_code, CAST(SUBSTR(c.designated_on, 1, 4) AS INTEGER)
        """,
    ]
    static let postgres: [String] = [
        """
        CREATE FUNCTION indicator_figure_mediation_success() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(OLD.closed_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.outcome = 'success' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.outcome IN ('success', 'failure', 'terminated') AND OLD.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(NEW.closed_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.outcome = 'success' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.outcome IN ('success', 'failure', 'terminated') AND NEW.closed_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END IF;
          RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER indicator_figure_mediation_success AFTER INSERT OR UPDATE OR DELETE ON mediation_cases FOR EACH ROW EXECUTE FUNCTION indicator_figure_mediation_success()
        """,
        """
        INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'mediation_success', r.region_code, CAST(SUBSTR(c.closed_on, 1, 4) AS INTEGER), SUM(CASE WHEN c.outcome = 'success' THEN 1 ELSE 0 END), COUNT(*)
        FROM mediation_cases c JOIN service_requests r ON r.id = c.request_id WHERE c.outcome IN ('success', 'failure', 'terminated') AND c.closed_on IS NOT NULL
        GROUP BY r.region_code, CAST(SUBSTR(c.closed_on, 1, 4) AS INTEGER)
        """,
        """
        CREATE FUNCTION indicator_figure_lawyer_share() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(OLD.designated_on, 1, 4) AS INTEGER), -1 * (CASE WHEN OLD.designee_type = 'lawyer' THEN 1 ELSE 0 END), -1
        FROM service_requests r WHERE r.id = OLD.request_id AND (OLD.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(NEW.designated_on, 1, 4) AS INTEGER), 1 * (CASE WHEN NEW.designee_type = 'lawyer' THEN 1 ELSE 0 END), 1
        FROM service_requests r WHERE r.id = NEW.request_id AND (NEW.designated_on IS NOT NULL)
        ON CONFLICT (figure, region_code, year) DO UPDATE SET
          num = indicator_figures.num + excluded.num, den = indicator_figures.den + excluded.den; END IF;
          RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER indicator_figure_lawyer_share AFTER INSERT OR UPDATE OR DELETE ON legal_aid_cases FOR EACH ROW EXECUTE FUNCTION indicator_figure_lawyer_share()
        """,
        """
        INSERT INTO indicator_figures (figure, region_code, year, num, den)
        SELECT 'lawyer_share', r.region_code, CAST(SUBSTR(c.designated_on, 1, 4) AS INTEGER), SUM(CASE WHEN c.designee_type = 'lawyer' THEN 1 ELSE 0 END), COUNT(*)
        FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id WHERE c.designated_on IS NOT NULL
        GROUP BY r.region_code, CAST(SUBSTR(c.designated_on, 1, 4) AS INTEGER)
        """,
    ]
    static let dropSQLite: [String] = [
        """
        DROP TRIGGER IF EXISTS indicator_figure_mediation_success_insert
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_mediation_success_update
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_mediation_success_delete
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_lawyer_share_insert
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_lawyer_share_update
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_lawyer_share_delete
        """,
    ]
    static let dropPostgres: [String] = [
        """
        DROP TRIGGER IF EXISTS indicator_figure_mediation_success ON mediation_cases
        """,
        """
        DROP FUNCTION IF EXISTS indicator_figure_mediation_success()
        """,
        """
        DROP TRIGGER IF EXISTS indicator_figure_lawyer_share ON legal_aid_cases
        """,
        """
        DROP FUNCTION IF EXISTS indicator_figure_lawyer_share()
        """,
    ]

}
