import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// The shortcuts that make the busy paths fast must give the same answers as the long way round:
/// running counts against COUNT(*), the held principal against the database, the deferred insert against
/// an immediate one, the case read by hand against Fluent's.
final class SpeedPathTests: AppTestCase {
    let monday = Date(timeIntervalSince1970: 1_772_416_800)

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    func village(_ county: Int) -> String {
        city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(self.county(county).code.scopePrefix) }!.code.rawValue
    }

    func intake(_ token: String, matter: String = "consultation", region: String, accept: Bool? = nil, key: String? = nil,
                mobile: String = "13912345678") async throws -> XCTHTTPResponse {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        let body = Intake.Input(matterType: matter, category: "labor", description: "工资被拖欠",
                                applicant: .init(name: "王秀英", mobile: mobile), regionCode: region, accept: accept)
        return try await send(.POST, "/api/v1/requests", token: token, json: body, headers: headers)
    }

    /// Every filter the counts answer, after intake in two counties, acceptance, rejection, conclusion and a
    /// generated year: the sum of the running counts is the count of the rows.
    func testRunningCountsEqualCountingTheRows() async throws {
        _ = try await DemoRequests.generate(count: 200, app: app, on: app.db)
        let op = try await token("operator")
        var ids: [UUID] = []
        for (i, county) in [0, 0, 1, 1, 1].enumerated() {
            let res = try await intake(op, matter: i % 2 == 0 ? "consultation" : "notarization", region: village(county), accept: i == 4 ? true : false)
            XCTAssertEqual(res.status, .created)
            ids.append(try res.content.decode(RequestViews.Detail.self).id)
        }
        do { let v = try await send(.POST, "/api/v1/requests/\(ids[0])/accept", token: op).status; XCTAssertEqual(v, .ok) }
        do { let v = try await send(.POST, "/api/v1/requests/\(ids[1])/reject", token: op, json: ["reason": "不属于受理范围"]).status; XCTAssertEqual(v, .ok) }
        let concluded = try await send(.POST, "/api/v1/requests/\(ids[4])/conclude", token: op, json: ["outcome": "answered", "summary": "已解答"])
        XCTAssertEqual(concluded.status, .ok)
        // A row removed outside the app (an administrator's repair) is taken out of the counts too.
        try await sql.raw("DELETE FROM request_events WHERE request_id = \(bind: ids[3])").run()
        try await sql.raw("DELETE FROM service_requests WHERE id = \(bind: ids[3])").run()

        let county0 = county(0).code, county1 = county(1).code
        let scopes: [DataScope] = [.everything, .region(county0), .region(county1), .region(DemoCity.cityCode)]
        var checked = 0
        // Once as kept by the triggers, once as filled by the migration over requests already there.
        for pass in 0..<2 {
            if pass == 1 {
                try await M019CreateRequestCounts().revert(on: app.db)
                try await M019CreateRequestCounts().prepare(on: app.db)
            }
            for scope in scopes {
                for status in [nil] + RequestStatus.allCases.map(Optional.some) {
                    for matter in [nil, MatterType.consultation, .notarization, .mediation] {
                        for region in [nil, county0, county1] {
                            var f = RequestViews.Filter()
                            f.status = status
                            f.matterType = matter
                            f.region = region
                            let counted = try await RequestCounts.total(f, scope: scope, on: sql)
                            let rows = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests r" + RequestViews.whereClause(f, scope: scope, today: app.today))
                                .first(decodingColumn: "n", as: Int.self)
                            XCTAssertEqual(counted, rows, "\(scope) \(String(describing: status)) \(String(describing: matter)) \(String(describing: region))")
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(checked, 2 * 4 * (RequestStatus.allCases.count + 1) * 4 * 3)
        // Filters the counts do not answer are counted the long way.
        var byChannel = RequestViews.Filter()
        byChannel.channel = .hotline
        let notAnswered = try await RequestCounts.total(byChannel, scope: .everything, on: sql)
        XCTAssertNil(notAnswered)
        let town = city.regions.first { $0.level == .town }!.code
        let notForTowns = try await RequestCounts.total(RequestViews.Filter(), scope: .region(town), on: sql)
        XCTAssertNil(notForTowns)
        // And the list reports the same total either way.
        let list = try await send(.GET, "/api/v1/requests?status=submitted&matterType=notarization", token: op)
        struct Page: Decodable { var total: Int }
        let total = try list.content.decode(Page.self).total
        let rows = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests WHERE status = 'submitted' AND matter_type = 'notarization'")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(total, rows)
    }

    /// The generator loads without the indexes and triggers of the tables it fills and builds them again:
    /// the schema afterwards is the schema before, and the triggers keep counting the requests that follow.
    func testTheGeneratorPutsBackEveryIndexAndTrigger() async throws {
        struct Entry: Decodable, Hashable { var name: String; var definition: String }
        func schema() async throws -> Set<Entry> {
            let query: SQLQueryString = sql.dialect.name == "sqlite"
                ? "SELECT name, sql AS definition FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
                : """
                  SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema()
                  UNION SELECT tgname AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE NOT tgisinternal
                  """
            return Set(try await sql.raw(query).all(decoding: Entry.self))
        }
        let before = try await schema()
        XCTAssertTrue(before.contains { $0.name == "request_counts_insert" || $0.name == "request_counts_keep" }, "the counts' trigger is there to set aside")
        XCTAssertGreaterThan(before.count, 20)
        _ = try await DemoRequests.generate(count: 150, app: app, on: app.db)
        let after = try await schema()
        XCTAssertEqual(after, before)
        // The triggers are back: an intake after the load is counted.
        let all = try await RequestCounts.total(RequestViews.Filter(), scope: .everything, on: sql)
        let op = try await token("operator")
        let created = try await intake(op, region: village(0))
        XCTAssertEqual(created.status, .created)
        let allAfter = try await RequestCounts.total(RequestViews.Filter(), scope: .everything, on: sql)
        XCTAssertEqual(allAfter, (all ?? 0) + 1)
        let rows = try await sql.raw("SELECT COUNT(*) AS n FROM service_requests").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(allAfter, rows)
        let verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
        XCTAssertGreaterThan(verified.checked, 150)
    }

    /// A prepared statement gives the answers of an unprepared one, past the sixth run (when PostgreSQL may switch to
    /// its generic plan), with binds of each type the path encodes; and when the table changes under statements
    /// connections have prepared, the next reads still answer (the statement is retired and runs unprepared).
    func testPreparedStatementsAnswerAsUnpreparedOnesAndSurviveASchemaChange() async throws {
        try await sql.raw("CREATE TABLE prepared_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATE, score DOUBLE PRECISION)").run()
        for i in 1...9 { try await sql.raw("INSERT INTO prepared_probe (id, name, score) VALUES (\(bind: i), \(bind: "第\(i)号"), \(bind: Double(i) / 2))").run() }
        func read(_ id: Int) async throws -> [String] {
            try await ColumnRows.all("SELECT * FROM prepared_probe WHERE id = \(bind: id) AND name <> \(bind: "无") AND score > \(bind: 0.1)",
                                     on: sql, prepared: true) { try $0.text("name") }
        }
        for i in 1...9 { let got = try await read(i); XCTAssertEqual(got, ["第\(i)号"]) }
        let missing = try await read(42)
        XCTAssertEqual(missing, [])
        // SQLite prepares nothing across calls (and SQLiteNIO reads a statement's columns before SQLite re-reads a
        // schema another connection changed): the schema change is PostgreSQL's case.
        guard usesPostgres else { return try await sql.raw("DROP TABLE prepared_probe").run() }
        try await sql.raw("ALTER TABLE prepared_probe ADD COLUMN extra TEXT NOT NULL DEFAULT '附加'").run()
        for i in 1...9 {
            let got = try await ColumnRows.all("SELECT * FROM prepared_probe WHERE id = \(bind: i) AND name <> \(bind: "无") AND score > \(bind: 0.1)",
                                               on: sql, prepared: true) { [try $0.text("name"), try $0.text("extra")] }
            XCTAssertEqual(got, [["第\(i)号", "附加"]])
        }
        try await sql.raw("DROP TABLE prepared_probe").run()
    }

    /// List rows read as SQLite returns them are the rows SQLKit's decoding reads: with and without assignees,
    /// null names and due dates, dates to the fraction of a second. (On PostgreSQL both sides decode; the list
    /// part still checks its binds.)
    func testListRowsReadDirectlyEqualDecodedRows() async throws {
        _ = try await DemoRequests.generate(count: 120, app: app, on: app.db)
        let query = RequestViews.selectFrom(today: app.today) + " ORDER BY r.created_at DESC"
        let direct = try await ColumnRows.all(query, on: sql, RequestViews.stored)
        let decoded = try await sql.raw(query).all().map { try RequestViews.stored(DecodedColumns(row: $0)) }
        XCTAssertEqual(direct.count, 120)
        XCTAssertEqual(decoded.count, direct.count)
        XCTAssertTrue(direct.contains { $0.practitionerId != nil } && direct.contains { $0.practitionerId == nil })
        XCTAssertTrue(direct.contains { $0.concludeDue == nil })
        for (a, b) in zip(direct, decoded) {
            XCTAssertEqual(a.id, b.id)
            XCTAssertEqual([a.number, a.matterType, a.category, a.channel, a.applicantName, a.applicantMobileMasked, a.priorityGroups,
                            a.regionCode, a.regionName, a.status], [b.number, b.matterType, b.category, b.channel, b.applicantName,
                            b.applicantMobileMasked, b.priorityGroups, b.regionCode, b.regionName, b.status])
            XCTAssertEqual(a.institutionId, b.institutionId)
            XCTAssertEqual(a.institutionName, b.institutionName)
            XCTAssertEqual(a.practitionerId, b.practitionerId)
            XCTAssertEqual(a.practitionerName, b.practitionerName)
            XCTAssertEqual(a.concludeDue, b.concludeDue)
            XCTAssertEqual(a.overdueStep, b.overdueStep)
            XCTAssertEqual(a.createdAt, b.createdAt)
        }
        // A filter with binds of each kind: text, and the date of the duplicate check.
        var f = RequestViews.Filter()
        f.status = .concluded
        f.createdSince = Date(timeIntervalSince1970: 0)
        let filtered = try await RequestViews.list(f, scope: .everything, page: PageRequest(page: 1, per: 100), today: app.today, protector: app.personalData, on: sql)
        let concluded = direct.filter { $0.status == "concluded" }
        XCTAssertGreaterThan(concluded.count, 0)
        XCTAssertEqual(filtered.total, concluded.count)
        XCTAssertEqual(filtered.items.map(\.id), Array(concluded.prefix(100)).map(\.id))
    }

    /// A held token stops working the moment its account is deactivated or it is signed out.
    func testHeldTokensAreDroppedOnDeactivationAndSignOut() async throws {
        let admin = try await token("admin")
        let op = try await token("operator")
        do { let v = try await send(.GET, "/api/v1/requests", token: op).status; XCTAssertEqual(v, .ok) }
        do { let v = try await send(.GET, "/api/v1/requests", token: op).status; XCTAssertEqual(v, .ok, "now answered from the cache") }
        let account = try await Account.query(on: app.db).filter(\.$username == "operator").first()!
        do { let v = try await send(.POST, "/api/v1/accounts/\(account.id!)/deactivate", token: admin).status; XCTAssertEqual(v, .ok) }
        do { let v = try await send(.GET, "/api/v1/requests", token: op).status; XCTAssertEqual(v, .unauthorized) }

        let clerk = try await token("clerk")
        do { let v = try await send(.GET, "/api/v1/requests", token: clerk).status; XCTAssertEqual(v, .ok) }
        do { let v = try await send(.POST, "/api/v1/auth/logout", token: clerk).status; XCTAssertEqual(v, .noContent) }
        do { let v = try await send(.GET, "/api/v1/requests", token: clerk).status; XCTAssertEqual(v, .unauthorized) }
        // An expired token is refused even while it is held.
        let leader = try await token("leader")
        do { let v = try await send(.GET, "/api/v1/requests", token: leader).status; XCTAssertEqual(v, .ok) }
        app.clock.set(monday.addingTimeInterval(400 * 86_400))
        do { let v = try await send(.GET, "/api/v1/requests", token: leader).status; XCTAssertEqual(v, .unauthorized) }
    }

    /// A region deactivated is refused at intake at once, though intake reads regions from memory.
    func testADeactivatedRegionIsRefusedAtOnce() async throws {
        let op = try await token("operator")
        let admin = try await token("admin")
        let natural = city.regions.first { $0.level == .naturalVillage }!
        let code = natural.code.rawValue
        do { let v = try await intake(op, region: code).status; XCTAssertEqual(v, .created) }
        do { let v = try await send(.POST, "/api/v1/regions/\(code)/deactivate", token: admin).status; XCTAssertEqual(v, .ok) }
        let res = try await intake(op, region: code)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["regionCode"], "区划不存在或已停用")
    }

    /// Retries of one submission that arrive together share one request, whether they meet in one batch
    /// (the held row) or in two (the stored key); the answers' timelines are what the request shows.
    func testConcurrentRetriesWithOneKeyMakeOneRequest() async throws {
        let op = try await token("operator")
        let app = self.app!
        let headers: HTTPHeaders = ["Authorization": "Bearer \(op)", "Idempotency-Key": "dept-42"]
        let body = Intake.Input(matterType: "consultation", category: "labor", description: "工资被拖欠",
                                applicant: .init(name: "王秀英", mobile: "13912345678"), regionCode: village(0))
        let answers = try await withThrowingTaskGroup(of: (HTTPStatus, RequestViews.Detail).self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let res = try await app.testable().sendRequest(.POST, "/api/v1/requests", headers: headers) { req async throws in
                        try req.content.encode(body, as: .json)
                    }
                    return (res.status, try res.content.decode(RequestViews.Detail.self))
                }
            }
            var all: [(HTTPStatus, RequestViews.Detail)] = []
            for try await a in group { all.append(a) }
            return all
        }
        XCTAssertEqual(answers.filter { $0.0 == .created }.count, 1)
        XCTAssertEqual(answers.filter { $0.0 == .ok }.count, 7)
        XCTAssertEqual(Set(answers.map(\.1.id)).count, 1)
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 1)
        let created = answers.first { $0.0 == .created }!.1
        let shown = try await send(.GET, "/api/v1/requests/\(created.id)", token: op).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(created.timeline.map(\.seq), shown.timeline.map(\.seq))
        XCTAssertEqual(created.timeline.map(\.note), shown.timeline.map(\.note))
        XCTAssertEqual(created.timeline.map(\.actionName), shown.timeline.map(\.actionName))
        XCTAssertEqual(created.timeline.map(\.at), shown.timeline.map(\.at))
        XCTAssertEqual(created.regionName, shown.regionName)
        let verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
        XCTAssertNotNil(TimeOrderedID.millis(of: created.id), "intake makes time-ordered ids")
    }

    /// The mediation case read by hand is the case Fluent reads, field by field, and still saves with Fluent.
    func testMediationCaseReadByHandMatchesFluent() async throws {
        _ = try await DemoRequests.generate(count: 120, app: app, on: app.db)
        let ids = try await sql.raw("SELECT request_id FROM mediation_cases").all().map { try $0.decode(column: "request_id", as: UUID.self) }
        XCTAssertFalse(ids.isEmpty)
        for id in ids.prefix(20) {
            let fluent = try await MediationCase.find(id, on: app.db)!
            let read = try await MediationCase.read(id, on: sql)!
            for (a, b) in [(fluent.source, read.source), (fluent.consent, read.consent)] { XCTAssertEqual(a, b) }
            XCTAssertEqual(fluent.id, read.id)
            XCTAssertEqual(fluent.committeeID, read.committeeID)
            XCTAssertEqual(fluent.listeningPointID, read.listeningPointID)
            XCTAssertEqual(fluent.amount, read.amount)
            XCTAssertEqual(fluent.peopleInvolved, read.peopleInvolved)
            XCTAssertEqual(fluent.mass, read.mass)
            XCTAssertEqual(fluent.advice, read.advice)
            XCTAssertEqual(fluent.outcome, read.outcome)
            XCTAssertEqual(fluent.closedOn, read.closedOn)
            XCTAssertEqual(fluent.agreementForm, read.agreementForm)
            XCTAssertEqual(fluent.agreementFacts, read.agreementFacts)
            XCTAssertEqual(fluent.agreementTerms, read.agreementTerms)
            XCTAssertEqual(fluent.agreementEffectiveOn, read.agreementEffectiveOn)
            XCTAssertEqual(fluent.confirmationDue, read.confirmationDue)
            XCTAssertEqual(fluent.confirmationAppliedOn, read.confirmationAppliedOn)
            XCTAssertEqual(fluent.courtName, read.courtName)
            XCTAssertEqual(fluent.courtDecision, read.courtDecision)
            XCTAssertEqual(fluent.courtDecidedOn, read.courtDecidedOn)
            XCTAssertEqual(fluent.createdAt.timeIntervalSince1970, read.createdAt.timeIntervalSince1970, accuracy: 0.001)
        }
        let read = try await MediationCase.read(ids[0], on: sql)!
        read.advice = "已告知其他救济途径"
        try await read.save(on: app.db)
        let again = try await MediationCase.find(ids[0], on: app.db)
        XCTAssertEqual(again?.advice, "已告知其他救济途径")
        let none = try await MediationCase.read(UUID(), on: sql)
        XCTAssertNil(none)
    }

    /// The running figures of the case indicators equal counting the cases the long way, after a generated
    /// year and after cases change and go.
    func testIndicatorFiguresEqualCountingTheCases() async throws {
        _ = try await DemoRequests.generate(count: 400, app: app, on: app.db)
        struct Unit: Decodable, Hashable { var unit: String; var num: Int; var den: Int }
        var counted = 0
        func check(_ label: String) async throws {
            for region in [DemoCity.cityCode, county(0).code, county(1).code] {
                for year in [2025, 2026] {
                    let scope = IndicatorScope(region: region, year: year, today: app.today)
                    let w = String(scope.unitWidth), prefix = region.scopePrefix + "%"
                    let success = try await sql.raw("""
                        SELECT SUBSTR(r.region_code, 1, \(unsafeRaw: w)) AS unit, COUNT(*) AS den,
                               CAST(SUM(CASE WHEN c.outcome = 'success' THEN 1 ELSE 0 END) AS BIGINT) AS num
                        FROM mediation_cases c JOIN service_requests r ON r.id = c.request_id
                        WHERE c.outcome IN ('success', 'failure', 'terminated') AND c.closed_on >= \(bind: scope.firstDay)
                          AND c.closed_on <= \(bind: scope.lastDay) AND r.region_code LIKE \(bind: prefix)
                        GROUP BY SUBSTR(r.region_code, 1, \(unsafeRaw: w))
                        """).all(decoding: Unit.self)
                    let lawyers = try await sql.raw("""
                        SELECT SUBSTR(r.region_code, 1, \(unsafeRaw: w)) AS unit, COUNT(*) AS den,
                               CAST(SUM(CASE WHEN c.designee_type = 'lawyer' THEN 1 ELSE 0 END) AS BIGINT) AS num
                        FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id
                        WHERE c.designated_on >= \(bind: scope.firstDay) AND c.designated_on <= \(bind: scope.lastDay)
                          AND r.region_code LIKE \(bind: prefix)
                        GROUP BY SUBSTR(r.region_code, 1, \(unsafeRaw: w))
                        """).all(decoding: Unit.self)
                    func figures(_ f: RunningFigure) async throws -> Set<Unit> {
                        Set(try await f.units(scope, on: sql).filter { $0.den != 0 }.map { Unit(unit: $0.unit, num: $0.num, den: $0.den) })
                    }
                    if region == DemoCity.cityCode { counted += success.reduce(0) { $0 + $1.den } + lawyers.reduce(0) { $0 + $1.den } }
                    let kept = try await figures(.mediationSuccess)
                    XCTAssertEqual(kept, Set(success), "\(label): mediation \(region) \(year)")
                    let keptLawyers = try await figures(.lawyerShare)
                    XCTAssertEqual(keptLawyers, Set(lawyers), "\(label): legal aid \(region) \(year)")
                }
            }
        }
        try await check("generated")
        XCTAssertGreaterThan(counted, 20, "the generated year has closed and designated cases to count")
        let closed = try await sql.raw("SELECT request_id FROM mediation_cases WHERE outcome = 'success' LIMIT 3").all()
            .map { try $0.decode(column: "request_id", as: UUID.self) }
        XCTAssertEqual(closed.count, 3)
        try await sql.raw("UPDATE mediation_cases SET outcome = 'failure' WHERE request_id = \(bind: closed[0])").run()
        try await sql.raw("UPDATE mediation_cases SET outcome = NULL, closed_on = NULL WHERE request_id = \(bind: closed[1])").run()
        try await sql.raw("UPDATE mediation_cases SET closed_on = '2025-06-30' WHERE request_id = \(bind: closed[2])").run()
        let designated = try await sql.raw("SELECT request_id FROM legal_aid_cases WHERE designated_on IS NOT NULL LIMIT 2").all()
            .map { try $0.decode(column: "request_id", as: UUID.self) }
        XCTAssertEqual(designated.count, 2)
        try await sql.raw("UPDATE legal_aid_cases SET designee_type = 'grassroots_legal_worker' WHERE request_id = \(bind: designated[0])").run()
        try await sql.raw("DELETE FROM legal_aid_cases WHERE request_id = \(bind: designated[1])").run()
        try await check("after changes")
        // A database that had cases before the migration: its figures are filled from them.
        try await M020CreateIndicatorFigures().revert(on: app.db)
        try await M020CreateIndicatorFigures().prepare(on: app.db)
        try await check("migrated over existing cases")
    }
}
