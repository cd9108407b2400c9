import XCTVapor
import Fluent
import FluentSQLiteDriver
import FluentPostgresDriver
import SQLKit
@testable import PLSApp

/// Migrations are frozen in time: a database that ran the first ones under an earlier release and the rest under a
/// later one ends with the schema of a database that ran them all at once (on SQLite and on PostgreSQL).
final class MigrationTests: AppTestCase {
    private let upgraded = DatabaseID(string: "migration-upgraded")
    private let fresh = DatabaseID(string: "migration-fresh")
    private var postgresNames: [String] = []

    private func migrate(_ list: some Sequence<any Migration>, on id: DatabaseID) async throws {
        let migrations = Migrations()
        migrations.add(Array(list), to: id)
        let migrator = Migrator(databases: app.databases, migrations: migrations, logger: app.logger, on: app.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// Two new, empty databases beside the test's own.
    private func makeDatabases() async throws {
        if let url = app.settings.databaseURL {
            let main = app.db as! any SQLDatabase
            for (id, name) in [(upgraded, "pls_migration_upgraded"), (fresh, "pls_migration_fresh")] {
                try await main.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
                try await main.raw("CREATE DATABASE \(ident: name)").run()
                var components = try XCTUnwrap(URLComponents(string: url))
                components.path = "/" + name
                let config = try SQLPostgresConfiguration(url: try XCTUnwrap(components.string))
                app.databases.use(.postgres(configuration: config, sqlLogLevel: .trace), as: id, isDefault: false)
                postgresNames.append(name)
            }
        } else {
            for id in [upgraded, fresh] {
                app.databases.use(.sqlite(.file(dataDir + "/\(id.string).sqlite"), sqlLogLevel: nil), as: id, isDefault: false)
            }
        }
    }

    override func tearDown() async throws {
        if !postgresNames.isEmpty, let main = app?.db as? any SQLDatabase {
            for name in postgresNames { try? await main.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run() }
        }
        try await super.tearDown()
    }

    /// The schema as text, sorted: tables, columns, indexes, constraints, triggers and their functions.
    private func schema(_ id: DatabaseID) async throws -> [String] {
        let sql = app.databases.database(id, logger: app.logger, on: app.eventLoopGroup.any())! as! any SQLDatabase
        struct Row: Decodable { var a: String; var b: String?; var c: String? }
        let queries: [SQLQueryString] = sql.dialect.name == "sqlite"
            ? ["SELECT type || ' ' || name AS a, tbl_name AS b, sql AS c FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"]
            : ["""
               SELECT table_name || '.' || column_name AS a, data_type || ' ' || is_nullable AS b, column_default AS c
               FROM information_schema.columns WHERE table_schema = 'public'
               """,
               "SELECT indexname AS a, tablename AS b, indexdef AS c FROM pg_indexes WHERE schemaname = 'public'",
               """
               SELECT c.conname AS a, t.relname AS b, pg_get_constraintdef(c.oid) AS c FROM pg_constraint c
               JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
               """,
               """
               SELECT trigger_name || ' ' || event_manipulation AS a, event_object_table AS b, action_statement AS c
               FROM information_schema.triggers WHERE trigger_schema = 'public'
               """,
               """
               SELECT p.proname AS a, NULL AS b, p.prosrc AS c FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'public'
               """]
        var lines: [String] = []
        for query in queries {
            lines += try await sql.raw(query).all(decoding: Row.self).map { "\($0.a) | \($0.b ?? "") | \($0.c ?? "")" }
        }
        return lines.sorted()
    }

    func testADatabaseMigratedInStepsHasTheSchemaOfAFreshOne() async throws {
        try await makeDatabases()
        let all = migrations(app.settings)
        XCTAssertGreaterThan(all.count, 20)
        // An early release: the first dozen migrations; then the current one, which runs the rest.
        try await migrate(all.prefix(12), on: upgraded)
        let early = try await schema(upgraded)
        try await migrate(all, on: upgraded)
        try await migrate(all, on: fresh)
        let stepwise = try await schema(upgraded), atOnce = try await schema(fresh)
        XCTAssertNotEqual(early, atOnce, "the later migrations changed the schema")
        XCTAssertEqual(stepwise.count, atOnce.count)
        for (a, b) in zip(stepwise, atOnce) where a != b { XCTFail("upgraded: \(a)\nfresh:    \(b)") ; break }
        // And both are the schema the platform runs on (the test's own database, migrated by configure).
        let running = try await schema(.init(string: app.settings.usesEmbeddedDatabase ? "sqlite" : "psql"))
        XCTAssertEqual(Set(atOnce).subtracting(running), [], "the migrations build the schema the platform runs on")
    }
}
