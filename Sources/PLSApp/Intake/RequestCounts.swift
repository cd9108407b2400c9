import Vapor
import Fluent
import SQLKit
import PLSDomain

/// How many requests there are by status, matter type and county, kept by the database itself: a trigger on
/// every insert, status change and delete. A queue's total is then a sum over a few rows instead of a count
/// over every matching request (measured: at 100,000 requests the count was half the CPU of a list page, and
/// it grows with the table). Lists that filter on anything else are counted as before.
enum RequestCounts {
    /// The total of a list, when its filter and scope are ones the counts answer; nil otherwise.
    static func total(_ f: RequestViews.Filter, scope: DataScope, on db: any SQLDatabase) async throws -> Int? {
        guard f.channel == nil, f.category == nil, f.institution == nil, f.practitioner == nil, !f.overdue, !f.dueSoon,
              f.mobileHash == nil, f.number == nil, f.createdSince == nil else { return nil }
        var prefixes: [String] = []
        switch scope {
        case .everything: break
        case .region(let code):
            guard let level = code.level, level == .city || level == .county else { return nil }
            prefixes.append(code.scopePrefix)
        case .institution, .own: return nil
        }
        if let region = f.region {
            guard let level = region.level, level == .city || level == .county else { return nil }
            prefixes.append(region.scopePrefix)
        }
        var query: SQLQueryString = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM request_counts WHERE 1 = 1"
        if let v = f.status { query = query + " AND status = \(bind: v.rawValue)" }
        if let v = f.matterType { query = query + " AND matter_type = \(bind: v.rawValue)" }
        for p in prefixes { query = query + " AND county LIKE \(bind: p + "%")" }
        // Prepared although the county is a `LIKE` prefix: the table has a row per status, matter and county, so even a
        // generic plan that reads it whole is quick, and it does not grow with the requests.
        return try await ColumnRows.all(query, on: db, prepared: true) { try $0.int("n") }.first ?? 0
    }

    /// Counts the requests there again (after a bulk load that ran without the triggers).
    static func refill(on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM request_counts").run()
        try await sql.raw("""
            INSERT INTO request_counts (status, matter_type, county, n)
            SELECT status, matter_type, SUBSTR(region_code, 1, 6), COUNT(*) FROM service_requests
            GROUP BY status, matter_type, SUBSTR(region_code, 1, 6)
            """).run()
    }
}

/// The running counts and the triggers that keep them, one per dialect; filled from the requests already there.
struct M019CreateRequestCounts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("request_counts")
            .field("status", .string, .required)
            .field("matter_type", .string, .required)
            .field("county", .string, .required)
            .field("n", .int64, .required)
            .unique(on: "status", "matter_type", "county")
            .create()
        let sql = database as! any SQLDatabase
        // The requests already there, counted as this migration was written (not through `RequestCounts.refill`,
        // which may change with the code: a migration stays as it was released).
        try await sql.raw("""
            INSERT INTO request_counts (status, matter_type, county, n)
            SELECT status, matter_type, SUBSTR(region_code, 1, 6), COUNT(*) FROM service_requests
            GROUP BY status, matter_type, SUBSTR(region_code, 1, 6)
            """).run()
        let add = """
            INSERT INTO request_counts (status, matter_type, county, n) VALUES (NEW.status, NEW.matter_type, SUBSTR(NEW.region_code, 1, 6), 1)
            ON CONFLICT (status, matter_type, county) DO UPDATE SET n = request_counts.n + 1;
            """
        let remove = """
            UPDATE request_counts SET n = n - 1
            WHERE status = OLD.status AND matter_type = OLD.matter_type AND county = SUBSTR(OLD.region_code, 1, 6);
            """
        let changed = "OLD.status <> NEW.status OR OLD.matter_type <> NEW.matter_type OR OLD.region_code <> NEW.region_code"
        if sql.dialect.name == "sqlite" {
            try await sql.raw(SQLQueryString("CREATE TRIGGER request_counts_insert AFTER INSERT ON service_requests BEGIN " + add + " END")).run()
            try await sql.raw(SQLQueryString("CREATE TRIGGER request_counts_update AFTER UPDATE OF status, matter_type, region_code ON service_requests "
                                             + "WHEN " + changed + " BEGIN " + remove + " " + add + " END")).run()
            try await sql.raw(SQLQueryString("CREATE TRIGGER request_counts_delete AFTER DELETE ON service_requests BEGIN " + remove + " END")).run()
        } else {
            let function = """
                CREATE FUNCTION request_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP = 'UPDATE' AND NOT (\(changed)) THEN RETURN NULL; END IF;
                  IF TG_OP IN ('UPDATE', 'DELETE') THEN \(remove) END IF;
                  IF TG_OP IN ('UPDATE', 'INSERT') THEN \(add) END IF;
                  RETURN NULL;
                END $$
                """
            try await sql.raw(SQLQueryString(function)).run()
            try await sql.raw("""
                CREATE TRIGGER request_counts_keep AFTER INSERT OR UPDATE OR DELETE ON service_requests
                FOR EACH ROW EXECUTE FUNCTION request_counts_keep()
                """).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            for t in ["request_counts_insert", "request_counts_update", "request_counts_delete"] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS " + t)).run()
            }
        } else {
            try await sql.raw("DROP TRIGGER IF EXISTS request_counts_keep ON service_requests").run()
            try await sql.raw("DROP FUNCTION IF EXISTS request_counts_keep()").run()
        }
        try await database.schema("request_counts").delete()
    }
}
