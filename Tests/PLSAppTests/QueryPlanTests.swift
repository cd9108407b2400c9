import XCTVapor
import SQLKit
import FluentKit
import NIOConcurrencyHelpers
import SQLiteKit
import PostgresKit
import PLSDomain
@testable import PLSApp

/// Every list and indicator query, run on generated data, is first asked for its plan: a table that grows with the city's
/// work is never read whole. An index lost in a migration fails here, not in a city at a million requests.
/// On PostgreSQL the plans are asked for with sequential scans priced out (`enable_seqscan = off`), so that the answer
/// does not depend on how few rows a test has: a table read whole there has no index that serves the query.
final class QueryPlanTests: AppTestCase {
    /// The tables that grow with the work done: a row or more per request, event, call, notice or service. (Figures kept
    /// per region and year or month — `request_stats`, `indicator_months` — grow with the map and the calendar, not the
    /// work, and are read by region prefix, which SQLite's LIKE cannot take from an index.)
    static let growing: Set<String> = [
        "service_requests", "request_events", "idempotency_keys", "legal_aid_cases", "mediation_cases", "adviser_services",
        "adviser_work_records", "grassroots_rosters", "notifications", "sms_messages", "calls", "call_events", "audit_log",
        "deadline_notices", "queue_tickets", "appointments", "ratings", "rating_invitations", "complaints", "rectifications",
        "credit_records", "duty_assistances", "quality_reviews",
        "work_order_deliveries", "system_client_calls", "public_interest_entries", "training_attendance",
    ]

    func testNoListOrIndicatorReadsAGrowingTableWhole() async throws {
        app.clock.set(Date(timeIntervalSince1970: 1_780_000_000))  // 2026-05-28, a Thursday: the generated year is behind it
        _ = try await DemoRequests.generate(count: 3_000, app: app, on: app.db)
        // SQLite without statistics plans as for large tables (the counterpart of PostgreSQL's `enable_seqscan = off`): with
        // the statistics of a test's few rows it rightly reads a small table whole, and the test would say nothing. The
        // plans come from a connection opened afterwards: an open one keeps the statistics it loaded.
        var planner: SQLiteConnection?
        if !usesPostgres {
            try await sql.raw("DROP TABLE IF EXISTS sqlite_stat1").run()
            planner = try await SQLiteConnection.open(storage: .file(path: app.settings.sqliteFile))
        }
        defer { if let planner { _ = planner.close() } }
        let db = PlanRecorder(base: sql, fluent: app.db, planner: planner)
        let protector = app.settings.personalData
        let today = CivilDate(app.clock.now)
        let county = county(0).code
        let town = city.regions.first { $0.level == .town && $0.code.rawValue.hasPrefix(county.scopePrefix) }!.code
        let village = city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(town.scopePrefix) }!.code
        let institution = try await sql.raw("SELECT institution_id FROM service_requests WHERE institution_id IS NOT NULL LIMIT 1")
            .first(decodingColumn: "institution_id", as: UUID.self)!

        // The request list as the work pages and the API filter it, for the city, a county and an institution.
        var filters: [RequestViews.Filter] = [.init()]
        for status in RequestStatus.allCases { var f = RequestViews.Filter(); f.status = status; filters.append(f) }
        for matter in MatterType.allCases { var f = RequestViews.Filter(); f.matterType = matter; f.status = .accepted; filters.append(f) }
        do { var f = RequestViews.Filter(); f.channel = .hotline; filters.append(f) }
        do { var f = RequestViews.Filter(); f.overdue = true; filters.append(f) }
        do { var f = RequestViews.Filter(); f.dueSoon = true; filters.append(f) }
        do { var f = RequestViews.Filter(); f.number = "20260101"; filters.append(f) }
        do { var f = RequestViews.Filter(); f.mobileHash = "x"; f.createdSince = app.clock.now.addingTimeInterval(-30 * 86_400); filters.append(f) }
        do { var f = RequestViews.Filter(); f.region = village; filters.append(f) }
        for scope in [DataScope.everything, .region(county), .institution(institution)] {
            for f in filters {
                _ = try await RequestViews.list(f, scope: scope, page: PageRequest(page: 3, per: 20), today: today, protector: protector, on: db)
            }
        }
        _ = try await RatingInvitations.followUps(page: PageRequest(), today: today, protector: protector, on: db)
        _ = try await AuditLog.list(.init(), page: PageRequest(), protector: protector, on: db)
        _ = try await Calls.list(caller: nil, callbacksOnly: true, page: PageRequest(), app: app, on: db)
        _ = try await SmsOutbox.list(status: nil, page: PageRequest(), on: db)
        _ = try await VillageAdvisers.villages(prefix: town.scopePrefix, today: today, behindOnly: true, page: PageRequest(), on: db)
        _ = try await Rosters.list(RosterKind.allCases[0], prefix: county.scopePrefix, page: PageRequest(), on: db)

        // Every indicator for the city, a county, a town and a village, with the records behind a town's shortfalls.
        for region in [DemoCity.cityCode, county, town, village] {
            let scope = IndicatorScope(region: region, year: today.year, today: today)
            _ = try await app.indicators.compute(scope, on: db)
            if region == town {
                for d in app.indicators.definitions { _ = try await d.records?(scope, db) }
            }
        }
        _ = try await IndicatorSeries.stored(region: county.rawValue, indicator: "on_time_rate", from: "2025-01", to: "2026-12", on: db)

        XCTAssertGreaterThan(db.statements.count, 100, "the queries were not seen")
        let whole = db.statements.filter { !$0.readsWhole.intersection(Self.growing).isEmpty }
        XCTAssertEqual(whole.map { "\($0.readsWhole.sorted()): \($0.sql)\n\($0.plan.joined(separator: "\n"))" }, [],
                       "queries that read a growing table whole")

        // And the check sees a lost index: without the index on conclusion dates, the late requests behind a town's
        // shortfall are read from every request. (SQLite: PostgreSQL would walk another index instead.)
        guard !usesPostgres else { return }
        try await sql.raw("DROP INDEX sr_late_idx").run()
        // A new planner: EXPLAIN QUERY PLAN plans with the schema its connection read, and never reads it again.
        let after = try await SQLiteConnection.open(storage: .file(path: app.settings.sqliteFile))
        defer { _ = after.close() }
        let lost = PlanRecorder(base: sql, fluent: app.db, planner: after)
        let onTime = try XCTUnwrap(app.indicators.definitions.first { $0.id == "on_time_rate" }?.records)
        _ = try await onTime(IndicatorScope(region: town, year: today.year, today: today), lost)
        XCTAssertTrue(lost.statements.contains { $0.readsWhole.contains("service_requests") }, "\(lost.statements.map(\.plan))")
    }
}

extension QueryPlanTests {
    /// PostgreSQL prepares the busy lists (`RequestViews.preparable`), and from the sixth call may plan each once, without
    /// the values, whenever it judges that generic plan no costlier than planning each call: every such plan must read
    /// through the indexes too. Asked for as PostgreSQL would make it (`force_generic_plan`), whatever it chooses today.
    func testThePreparedListsGenericPlansReadNoGrowingTableWhole() async throws {
        // The lists' many texts are prepared only while the process holds fewer than half the limit; lookups up to it.
        XCTAssertTrue(PreparedText.Budget(ofManyTexts: true).admits(PreparedText.limit / 2 - 1))
        XCTAssertFalse(PreparedText.Budget(ofManyTexts: true).admits(PreparedText.limit / 2))
        XCTAssertTrue(PreparedText.Budget().admits(PreparedText.limit - 1))
        XCTAssertFalse(PreparedText.Budget().admits(PreparedText.limit))
        guard usesPostgres else { throw XCTSkip("prepared statements are PostgreSQL's; SQLite's lists are planned above") }
        app.clock.set(Date(timeIntervalSince1970: 1_780_000_000))
        _ = try await DemoRequests.generate(count: 3_000, app: app, on: app.db)
        let institution = try await sql.raw("SELECT institution_id FROM service_requests WHERE institution_id IS NOT NULL LIMIT 1")
            .first(decodingColumn: "institution_id", as: UUID.self)!
        var filters: [RequestViews.Filter] = [.init()]
        for status in RequestStatus.allCases { var f = RequestViews.Filter(); f.status = status; filters.append(f) }
        do { var f = RequestViews.Filter(); f.matterType = .legalAid; f.status = .accepted; filters.append(f) }
        do { var f = RequestViews.Filter(); f.channel = .hotline; f.category = .labor; filters.append(f) }
        do { var f = RequestViews.Filter(); f.number = "FW20260101000001"; filters.append(f) }
        do { var f = RequestViews.Filter(); f.mobileHash = "x"; filters.append(f) }
        do { var f = RequestViews.Filter(); f.practitioner = UUID(); filters.append(f) }
        let scopes: [DataScope] = [.everything, .institution(institution), .own(UUID())], lists = filters
        let today = CivilDate(app.clock.now), protector = app.settings.personalData, page = PLSApp.PageRequest(page: 1, per: 20)
        XCTAssertFalse(RequestViews.preparable(.init(), scope: .region(county(0).code), page: page), "a region's LIKE prefix")
        XCTAssertFalse(RequestViews.preparable(.init(), scope: .everything, page: PLSApp.PageRequest(page: 6, per: 20)), "a far page")

        let pg = try XCTUnwrap(app.db as? any PostgresDatabase)
        let plans = try await pg.withConnection { connection in
            connection.eventLoop.makeFutureWithTask { () -> [String: [String]] in
                // All on one connection, where the statements are prepared; the setting is reset before it goes back.
                // Through the connection as a `PostgresDatabase` (its own `sql()` is not one): as the pools hand it over.
                let db = (connection as any PostgresDatabase).sql()
                try await db.raw("SET enable_seqscan = off").run()
                do {
                    for scope in scopes {
                        for f in lists {
                            XCTAssertTrue(RequestViews.preparable(f, scope: scope, page: page), "\(f) \(scope)")
                            for _ in 0..<7 {
                                _ = try await RequestViews.list(f, scope: scope, page: page, today: today, protector: protector, on: db)
                            }
                        }
                    }
                    struct Prepared: Decodable { var name: String; var parameters: Int }
                    let prepared = try await db.raw("""
                        SELECT name, cardinality(parameter_types) AS parameters FROM pg_prepared_statements
                        WHERE statement LIKE '%FROM service_requests r%ORDER BY r.created_at DESC LIMIT 20 OFFSET 0'
                        """).all(decoding: Prepared.self, keyDecodingStrategy: .snakeCase)
                    var plans: [String: [String]] = [:]
                    try await db.raw("SET plan_cache_mode = force_generic_plan").run()
                    for p in prepared {
                        // The plan PostgreSQL now uses for the statement, whatever the values (NULL for each).
                        let nulls = Array(repeating: "NULL", count: p.parameters).joined(separator: ", ")
                        let lines = try await db.raw("EXPLAIN EXECUTE \(ident: p.name)(\(unsafeRaw: nulls))").all()
                            .map { try $0.decode(column: "QUERY PLAN", as: String.self) }
                        plans[p.name] = lines
                    }
                    try await db.raw("RESET ALL").run()
                    return plans
                } catch {
                    try await db.raw("RESET ALL").run()
                    throw error
                }
            }
        }.get()
        // One statement per text: the statuses' filters differ in their values only, so seven texts per scope.
        XCTAssertEqual(plans.count, scopes.count * 7, "each list's text one prepared statement")
        XCTAssertTrue(plans.values.allSatisfy { $0.contains { $0.contains("service_requests") } }, "\(plans)")
        for (name, plan) in plans {
            let whole = PlanRecorder.readsWhole(plan, sql: "", sqlite: false).intersection(Self.growing)
            XCTAssertEqual(whole, Set<String>(), "\(name):\n\(plan.joined(separator: "\n"))")
        }
    }
}

/// An `SQLDatabase` that asks for each query's plan before running it, and keeps both.
final class PlanRecorder: SQLDatabase, @unchecked Sendable {
    struct Statement: Sendable {
        var sql: String
        var plan: [String]
        /// The tables the plan reads from end to end.
        var readsWhole: Set<String>
    }

    let base: any SQLDatabase
    let fluent: any Database
    /// SQLite: the connection that plans (without statistics).
    let planner: SQLiteConnection?
    private let box = NIOLockedValueBox<[Statement]>([])
    var statements: [Statement] { box.withLockedValue { $0 } }

    init(base: any SQLDatabase, fluent: any Database, planner: SQLiteConnection?) {
        self.base = base
        self.fluent = fluent
        self.planner = planner
    }

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let text = base.serialize(query).sql
        let head = text.drop { $0 == " " || $0 == "\n" || $0 == "(" }.prefix(6).uppercased()
        if head.hasPrefix("SELECT") || head.hasPrefix("WITH") {
            let plan = try await explain(query)
            box.withLockedValue { $0.append(Statement(sql: text, plan: plan, readsWhole: Self.readsWhole(plan, sql: text, sqlite: dialect.name == "sqlite"))) }
        }
        try await base.execute(sql: query, onRow)
    }

    private struct Explained: SQLExpression {
        let prefix: String
        let query: any SQLExpression
        func serialize(to serializer: inout SQLSerializer) {
            serializer.write(prefix)
            query.serialize(to: &serializer)
        }
    }

    private func explain(_ query: any SQLExpression) async throws -> [String] {
        let lines = NIOLockedValueBox<[String]>([])
        if let planner {
            let (text, binds) = base.serialize(query)
            let encoder = SQLiteDataEncoder()
            let rows = try await planner.query("EXPLAIN QUERY PLAN " + text, try binds.map { try encoder.encode($0) })
            lines.withLockedValue { $0 = rows.compactMap { $0.column("detail")?.string } }
        } else {
            // One connection, so that the setting holds for the EXPLAIN; LOCAL, so that it ends with the transaction.
            try await fluent.transaction { tx in
                let sql = tx as! any SQLDatabase
                try await sql.raw("SET LOCAL enable_seqscan = off").run()
                try await sql.execute(sql: Explained(prefix: "EXPLAIN ", query: query)) { row in
                    if let line = try? row.decode(column: "QUERY PLAN", as: String.self) { lines.withLockedValue { $0.append(line) } }
                }
            }
        }
        return lines.withLockedValue { $0 }
    }

    /// SQLite names a table by its alias in the plan (`SCAN r`); the query's FROM and JOIN clauses say which table that is.
    static func readsWhole(_ plan: [String], sql: String, sqlite: Bool) -> Set<String> {
        var found: Set<String> = []
        if sqlite {
            var aliases: [String: String] = [:]
            let pattern = try! Regex(#"(?i)\b(?:FROM|JOIN)\s+"?([a-z_][a-z0-9_]*)"?(?:\s+(?:AS\s+)?"?([a-z_][a-z0-9_]*)"?)?"#)
            for m in sql.matches(of: pattern) {
                guard let table = m.output[1].substring.map(String.init) else { continue }
                aliases[table] = table
                if let alias = m.output[2].substring.map(String.init),
                   !["WHERE", "JOIN", "LEFT", "INNER", "ON", "GROUP", "ORDER", "LIMIT", "UNION", "AND"].contains(alias.uppercased()) {
                    aliases[alias] = table
                }
            }
            // A scan in the order asked for that stops at the page (`ORDER BY seq DESC LIMIT 20` on the row ids) is not a
            // whole read; a scan whose rows are sorted afterwards is.
            let stopsAtPage = sql.contains(" LIMIT ") && !plan.contains { $0.hasPrefix("USE TEMP B-TREE FOR ORDER BY") }
                && !sql.contains("COUNT(") && !sql.contains("GROUP BY")
            for line in plan where line.hasPrefix("SCAN ") && !line.contains(" USING ") && !stopsAtPage {
                let name = line.dropFirst(5).split(separator: " ").first.map(String.init) ?? ""
                found.insert(aliases[name] ?? name)
            }
        } else {
            let pattern = try! Regex(#"Seq Scan on ([a-z_][a-z0-9_]*)"#)
            for line in plan { for m in line.matches(of: pattern) { if let t = m.output[1].substring { found.insert(String(t)) } } }
        }
        return found
    }
}
