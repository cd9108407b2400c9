import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// The leaders' view (issue #24): series kept month by month, 稳步提升, the county scorecard kept as computed, the monthly
/// report, the command screen, supply against demand and the public figures — on generated data, on both databases.
final class LeadersViewTests: AppTestCase {
    var cityCode: String { DemoCity.cityCode.rawValue }

    func intake(_ token: String, region: String, matter: String = "consultation") async throws {
        let body = Intake.Input(matterType: matter, itemCode: nil, category: "labor", channel: "hotline", description: "公司拖欠工资，想咨询如何维权",
                                applicant: .init(name: "王秀英", mobile: "13900000017", idNumber: nil), priorityGroups: [],
                                regionCode: region, externalReference: nil, accept: nil, answer: nil)
        let res = try await send(.POST, "/api/v1/requests", token: token, json: body)
        XCTAssertEqual(res.status, .created, res.body.string)
    }

    /// What is kept for a month equals a recount made now: every indicator for the city and each county, and the
    /// month's requests by county, matter and channel against a count of the request table.
    func testTheMonthsKeptMatchARecountOnGeneratedData() async throws {
        _ = try await DemoRequests.generate(count: 400, app: app, on: app.db)
        let today = app.today
        let this = CivilDate(year: today.year, month: today.month, day: 1)!
        var month = CivilDate(year: today.year, month: 1, day: 1)!
        while month <= this { try await IndicatorSeries.record(month: month, app: app); month = month.nextMonthStart }

        let regions = try await IndicatorSeries.keptRegions(on: sql, city: DemoCity.cityCode)
        XCTAssertEqual(regions.count, 1 + city.regions.filter { $0.level == .county }.count)
        for code in regions {
            let live = try await app.indicators.compute(IndicatorScope(region: DivisionCode(code)!, year: today.year, today: today), on: sql)
            let kept = try await IndicatorSeries.stored(region: code, from: this.monthKey, to: this.monthKey, on: sql)
            XCTAssertEqual(kept.count, live.count, code)
            for r in live {
                let k = try XCTUnwrap(kept.first { $0.indicator == r.id }, r.id)
                XCTAssertEqual(k.value, r.value, "\(code) \(r.id)")
                XCTAssertEqual(k.num, r.numerator, "\(code) \(r.id)")
                XCTAssertEqual(k.den, r.denominator, "\(code) \(r.id)")
                XCTAssertEqual(k.met, r.met, "\(code) \(r.id)")
            }
        }
        struct N: Decodable { var month: String; var n: Int }
        let kept = try await sql.raw("SELECT month, CAST(SUM(received) AS BIGINT) AS n FROM request_months GROUP BY month ORDER BY month").all(decoding: N.self)
        var recount: [String: Int] = [:]
        for d in try await sql.select().column("created_at").from("service_requests").all(decodingColumn: "created_at", as: Date.self) {
            let day = CivilDate(dayNumber: Int((d.timeIntervalSince1970 + 8 * 3600) / 86_400))
            if day.year == today.year { recount[day.monthKey, default: 0] += 1 }
        }
        XCTAssertFalse(kept.isEmpty)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: kept.map { ($0.month, $0.n) }), recount)

        // The series: this year's months as kept, the month under way live; a county of another is refused.
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/indicators/on_time_rate/series?region=\(cityCode)&year=\(today.year)", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let series = try res.content.decode(IndicatorSeries.Series.self)
        XCTAssertEqual(series.items.map(\.month).last, this.monthKey)
        XCTAssertEqual(series.items.count, today.month)
        XCTAssertEqual(series.items.last?.value, series.indicator.value)
        XCTAssertTrue(series.lastYear.isEmpty)
        res = try await send(.GET, "/api/v1/indicators/on_time_rate/series?region=\(county(1).code.rawValue)", token: try await token("county-admin"))
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.GET, "/api/v1/indicators/nothing/series", token: leader)
        XCTAssertEqual(res.status, .notFound)
    }

    /// 稳步提升: the mediation success rate is judged against last year's figure at the same month once it is kept.
    func testARisingTargetIsMetOnlyAboveLastYearAtTheSamePoint() async throws {
        _ = try await DemoRequests.generate(count: 400, app: app, on: app.db)
        let leader = try await token("leader")
        func success() async throws -> IndicatorRegistry.Result {
            let res = try await send(.GET, "/api/v1/indicators?region=\(cityCode)", token: leader)
            return try XCTUnwrap(try res.content.decode(IndicatorController.Report.self).items.first { $0.id == "mediation_success_rate" })
        }
        let before = try await success()
        let value = try XCTUnwrap(before.value, "the demo city has closed mediation cases")
        XCTAssertFalse(before.targetSourceName.contains("去年同期"))
        let today = app.today
        let lastYear = CivilDate.pad(today.year - 1, 4) + "-" + CivilDate.pad(today.month, 2)
        func keepLastYear(_ v: Double) async throws {
            try await IndicatorSeries.upsert([.init(indicator: "mediation_success_rate", regionCode: cityCode, month: lastYear, value: v, num: nil, den: nil,
                                                    target: 95, met: nil, shortfallCount: 0, shortfalls: "[]", recordedAt: Date())], on: sql)
        }
        try await keepLastYear(max(0, value - 5))
        var now = try await success()
        XCTAssertEqual(now.target, max(0, value - 5))
        XCTAssertEqual(now.met, true)
        XCTAssertTrue(now.targetSourceName.contains("去年同期"), now.targetSourceName)
        try await keepLastYear(value)
        now = try await success()
        XCTAssertEqual(now.met, value >= 100, "level with last year is not a rise")
    }

    /// At the bottom of the drill-down, the records behind the shortfall, each linked to where it is fixed.
    func testTheDrillDownEndsAtTheRecordsBehindAShortfall() async throws {
        _ = try await DemoRequests.generate(count: 400, app: app, on: app.db)
        let year = app.today.year
        struct L: Decodable { var id: UUID; var number: String; var regionCode: String }
        let late = try await sql.raw("""
            SELECT id, number, region_code FROM service_requests WHERE concluded_on_time = \(bind: false)
              AND concluded_on >= \(bind: "\(year)-01-01") AND concluded_on <= \(bind: "\(year)-12-31") ORDER BY concluded_on DESC
            """).all(decoding: L.self, keyDecodingStrategy: .convertFromSnakeCase)
        let one = try XCTUnwrap(late.first, "the generated year has requests concluded late")
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/indicators/on_time_rate/breakdown?region=\(one.regionCode)&year=\(year)", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        var b = try res.content.decode(IndicatorController.Breakdown.self)
        XCTAssertEqual(Set(b.records.map(\.code)), Set(late.filter { $0.regionCode == one.regionCode }.prefix(50).map(\.number)))
        XCTAssertEqual(b.records.first { $0.code == one.number }?.href, "/work/\(one.id)")
        // A county lists its towns, not records.
        res = try await send(.GET, "/api/v1/indicators/on_time_rate/breakdown?region=\(String(one.regionCode.prefix(6)))000000&year=\(year)", token: leader)
        b = try res.content.decode(IndicatorController.Breakdown.self)
        XCTAssertTrue(b.records.isEmpty)
        XCTAssertFalse(b.items.isEmpty)
        // Committees breaking the composition rules, in their town.
        let flagged = try await MediationNetwork.committees(prefix: DemoCity.cityCode.scopePrefix, on: sql)
            .filter { !MediationRules.composition($0.members, on: app.today).isEmpty }
        let committee = try XCTUnwrap(flagged.first { DivisionCode($0.regionCode)!.level != .county }, "the demo city has a committee breaking the rules")
        let town = DivisionCode(committee.regionCode)!.level == .town ? committee.regionCode : String(committee.regionCode.prefix(9)) + "000"
        res = try await send(.GET, "/api/v1/indicators/mediation_committee_composition_rate/breakdown?region=\(town)&year=\(year)", token: leader)
        b = try res.content.decode(IndicatorController.Breakdown.self)
        XCTAssertEqual(b.records.first { $0.code == committee.id.uuidString }?.href, "/mediation/committees/\(committee.id)")
        // A village whose adviser left: listed in its town, to the advisers' page.
        let village = city.regions.first { $0.level == .village }!.code
        try await sql.raw("DELETE FROM adviser_assignments WHERE region_code = \(bind: village.rawValue)").run()
        res = try await send(.GET, "/api/v1/indicators/village_adviser_coverage/breakdown?region=\(village.parent!.rawValue)&year=\(year)", token: leader)
        b = try res.content.decode(IndicatorController.Breakdown.self)
        XCTAssertEqual(b.records.first { $0.code == village.rawValue }?.href, "/grassroots")
        XCTAssertEqual(b.indicator.met, false)
    }

    func testTheCountyScorecardRanksAndKeepsAPastQuarterAsItWasComputed() async throws {
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026
        let admin = try await token("admin"), leader = try await token("leader")
        // Weights: validated, the city's alone.
        var res = try await send(.PUT, "/api/v1/scorecards/weights", token: admin, json: Scorecards.WeightsInput(items: [
            .init(indicator: "nothing", weight: 10, rule: "met"), .init(indicator: "on_time_rate", weight: 0, rule: "met"),
            .init(indicator: "satisfaction_rate", weight: 10, rule: "sometimes")]))
        XCTAssertEqual(res.status, .unprocessableEntity)
        let fields = try errorBody(res).fields
        XCTAssertNotNil(fields["items[0].indicator"]); XCTAssertNotNil(fields["items[1].weight"]); XCTAssertNotNil(fields["items[2].rule"])
        res = try await send(.PUT, "/api/v1/scorecards/weights", token: leader, json: Scorecards.WeightsInput(items: [.init(indicator: "on_time_rate", weight: 10, rule: "met")]))
        XCTAssertEqual(res.status, .forbidden)
        let weights: [Scorecards.Weight] = [.init(indicator: "town_station_coverage", weight: 30, rule: "met"),
                                            .init(indicator: "mediation_committee_coverage", weight: 50, rule: "proportional"),
                                            .init(indicator: "village_adviser_coverage", weight: 20, rule: "met")]
        res = try await send(.PUT, "/api/v1/scorecards/weights", token: admin, json: Scorecards.WeightsInput(items: weights))
        XCTAssertEqual(res.status, .ok, res.body.string)

        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q1", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let running = try res.content.decode(Scorecards.Card.self)
        XCTAssertFalse(running.final)
        let counties = city.regions.filter { $0.level == .county }
        XCTAssertEqual(Set(running.items.map(\.region)), Set(counties.map(\.code.rawValue)))
        XCTAssertEqual(running.items.map(\.rank).min(), 1)
        for i in running.items {
            // The score is what the weights say: met-or-not for two, in proportion for the committees.
            let lines = Dictionary(uniqueKeysWithValues: i.lines.map { ($0.indicator, $0) })
            let scored = i.lines.filter { $0.earned != nil }.reduce(0) { $0 + $1.weight }
            let won = i.lines.compactMap(\.earned).reduce(0, +)
            XCTAssertEqual(i.score, scored == 0 ? 0 : (won * 100 / scored * 10).rounded() / 10, accuracy: 0.11, i.name)
            if let c = lines["mediation_committee_coverage"], let v = c.value, c.met == false {
                XCTAssertEqual(c.earned ?? -1, (50 * v / 100 * 10).rounded() / 10, accuracy: 0.06)
            }
            XCTAssertEqual(i.lost.reduce(0) { $0 + $1.points }, 100 - i.score, accuracy: 0.3, i.name)
        }
        XCTAssertEqual(running.items.sorted { $0.score > $1.score }.first?.rank, 1)

        // April: the quarter is over, scored once and stored; new weights leave it as it was.
        app.clock.set(Date(timeIntervalSince1970: 1_775_440_800))  // Monday 6 April 2026
        let admin2 = try await token("admin"), leader2 = try await token("leader")
        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q1", token: leader2)
        let final = try res.content.decode(Scorecards.Card.self)
        XCTAssertTrue(final.final)
        XCTAssertEqual(final.judgedMonth, "2026-03")
        res = try await send(.PUT, "/api/v1/scorecards/weights", token: admin2, json: Scorecards.WeightsInput(items: [.init(indicator: "on_time_rate", weight: 100, rule: "met")]))
        XCTAssertEqual(res.status, .ok)
        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q1", token: leader2)
        let again = try res.content.decode(Scorecards.Card.self)
        XCTAssertEqual(again.weights, final.weights)
        XCTAssertEqual(again.items.map(\.score), final.items.map(\.score))
        XCTAssertEqual(again.computedAt.timeIntervalSince1970, final.computedAt.timeIntervalSince1970, accuracy: 0.001)
        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q2", token: leader2)
        XCTAssertEqual(try res.content.decode(Scorecards.Card.self).weights.map(\.indicator), ["on_time_rate"], "a period under way takes the new weights")

        // A county's administrator sees their own line; bad and future periods are 422.
        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q1", token: try await token("county-admin"))
        XCTAssertEqual(try res.content.decode(Scorecards.Card.self).items.map(\.region), [county(0).code.rawValue])
        for bad in ["2026-Q5", "26", "2026-13", "2027"] {
            res = try await send(.GET, "/api/v1/scorecards?period=\(bad)", token: leader2)
            XCTAssertEqual(res.status, .unprocessableEntity, bad)
        }
        res = try await send(.GET, "/api/v1/scorecards?period=2026-Q1", token: try await citizenToken())
        XCTAssertEqual(res.status, .forbidden)
        // The page and its export.
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let page = try await browser.get("/admin/scorecards?period=2026-Q1")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("已结束"))
        let xlsx = try await browser.get("/admin/scorecards/export.xlsx?period=2026-Q1")
        XCTAssertEqual(xlsx.status, .ok)
        XCTAssertEqual(xlsx.headers.contentType?.description.contains("spreadsheetml"), true)
    }

    func citizenToken() async throws -> String {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    /// On the first working day of March, February's reports are written for the city and each county, the leaders told.
    func testTheMonthlyReportIsWrittenOnTheFirstWorkingDayAndArchived() async throws {
        app.clock.set(Date(timeIntervalSince1970: 1_771_984_800))  // Wednesday 25 February 2026
        let operatorToken = try await token("operator")
        try await intake(operatorToken, region: city.regions.first { $0.level == .village }!.code.rawValue)
        try await IndicatorSeries.tick(app)
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026, the first working day
        try await IndicatorSeries.tick(app)
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/reports/monthly", token: leader)
        let list = try res.content.decode(Paged<MonthlyReports.Summary>.self)
        // January's too (the first tick, in February, wrote them), then February's.
        XCTAssertEqual(list.total, 2 * (1 + city.regions.filter { $0.level == .county }.count))
        XCTAssertEqual(list.items.first?.month, "2026-02")
        res = try await send(.GET, "/api/v1/reports/monthly/2026-02?region=\(cityCode)", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let report = try res.content.decode(MonthlyReports.Report.self)
        XCTAssertGreaterThanOrEqual(report.received, 1)
        XCTAssertEqual(report.byChannel.reduce(0) { $0 + $1.count }, report.received)
        XCTAssertEqual(report.byCounty.reduce(0) { $0 + $1.count }, report.received)
        XCTAssertEqual(report.indicators.count, app.indicators.definitions.count)
        let told = try await sql.raw("SELECT n.text FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE a.username = 'leader'")
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(told.contains { $0.contains("2026 年 2 月") && $0.contains("月报") }, "\(told)")
        // Written once: asked again, the same report.
        res = try await send(.GET, "/api/v1/reports/monthly/2026-02?region=\(cityCode)", token: leader)
        XCTAssertEqual(try res.content.decode(MonthlyReports.Report.self).generatedAt.timeIntervalSince1970, report.generatedAt.timeIntervalSince1970, accuracy: 0.001)
        for (month, status) in [("2026-03", HTTPStatus.unprocessableEntity), ("2026-2", .unprocessableEntity), ("x", .unprocessableEntity)] {
            res = try await send(.GET, "/api/v1/reports/monthly/\(month)?region=\(cityCode)", token: leader)
            XCTAssertEqual(res.status, status, month)
        }
        res = try await send(.GET, "/api/v1/reports/monthly/2026-02?region=\(county(1).code.rawValue)", token: try await token("county-admin"))
        XCTAssertEqual(res.status, .forbidden)
        // A report written because someone asked for an old month is archived but announced to no one.
        let before = try await sql.raw("SELECT COUNT(*) AS n FROM notifications").first(decodingColumn: "n", as: Int.self)
        try await sql.raw("DELETE FROM monthly_reports WHERE month = '2026-01'").run()
        res = try await send(.GET, "/api/v1/reports/monthly/2026-01?region=\(cityCode)", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let after = try await sql.raw("SELECT COUNT(*) AS n FROM notifications").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(before, after)
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let page = try await browser.get("/reports/monthly/2026-02?region=\(cityCode)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("公共法律服务月报"))
        let xlsx = try await browser.get("/reports/monthly/2026-02/export.xlsx?region=\(cityCode)")
        XCTAssertEqual(xlsx.status, .ok)
    }

    func testTheCommandScreenCountsTodayAsItHappens() async throws {
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/command", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let before = try res.content.decode(CommandScreen.Board.self)
        try await intake(try await token("operator"), region: city.regions.first { $0.level == .village }!.code.rawValue, matter: "mediation")
        res = try await send(.GET, "/api/v1/command", token: leader)
        let after = try res.content.decode(CommandScreen.Board.self)
        XCTAssertEqual(after.requestsToday, before.requestsToday + 1)
        XCTAssertEqual(after.byChannel.first { $0.key == "hotline" }?.count, (before.byChannel.first { $0.key == "hotline" }?.count ?? 0) + 1)
        XCTAssertEqual(after.byMatter.reduce(0) { $0 + $1.count } >= 1, true)
        res = try await send(.GET, "/api/v1/command", token: try await citizenToken())
        XCTAssertEqual(res.status, .forbidden)
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let screen = try await browser.get("/command")
        XCTAssertEqual(screen.status, .ok)
        let panel = try await browser.get("/command/panel")
        XCTAssertTrue(panel.body.string.contains("今日受理"))
    }

    func testPublicStatisticsWithholdSmallCounts() async throws {
        _ = try await DemoRequests.generate(count: 300, app: app, on: app.db)
        try await IndicatorSeries.record(month: CivilDate(year: app.today.year, month: app.today.month, day: 1)!, app: app)
        let res = try await send(.GET, "/api/v1/public/statistics")
        XCTAssertEqual(res.status, .ok, res.body.string)
        let r = try res.content.decode(PublicStatistics.Report.self)
        XCTAssertEqual(r.threshold, 10)
        for c in r.byMatter + r.byChannel + r.byCounty { XCTAssertTrue(c.count.map { $0 >= 10 } ?? true, c.name) }
        struct N: Decodable { var matterType: String; var n: Int }
        let counts = try await sql.raw("SELECT matter_type, CAST(SUM(received) AS BIGINT) AS n FROM request_months WHERE month LIKE \(bind: String(app.today.year) + "%") GROUP BY matter_type")
            .all(decoding: N.self, keyDecodingStrategy: .convertFromSnakeCase)
        XCTAssertTrue(counts.contains { $0.n < 10 } || counts.allSatisfy { $0.n >= 10 })
        for c in counts { XCTAssertEqual(r.byMatter.first { $0.key == c.matterType }?.count, c.n >= 10 ? c.n : nil, c.matterType) }
        let page = try await send(.GET, "/statistics")
        XCTAssertEqual(page.status, .ok)
        XCTAssertFalse(page.body.string.contains("13800000000"))
    }

    func testSupplyAgainstDemandPerTenThousandResidents() async throws {
        let admin = try await token("admin")
        var res = try await send(.PUT, "/api/v1/supply-demand/targets", token: admin, json: SupplyAndDemand.TargetsInput(items: [.init(type: "wizard", per10k: 1)]))
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.PUT, "/api/v1/supply-demand/targets", token: admin, json: SupplyAndDemand.TargetsInput(items: [.init(type: "lawyer", per10k: 1000)]))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/supply-demand", token: try await token("leader"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let r = try res.content.decode(SupplyAndDemand.Report.self)
        let counties = city.regions.filter { $0.level == .county }
        XCTAssertEqual(Set(r.items.map(\.region)), Set(counties.map(\.code.rawValue)))
        let lawyers = city.practitioners.filter { $0.type == .lawyer }.count
        XCTAssertEqual(r.city.supply.first { $0.type == "lawyer" }?.count, lawyers)
        XCTAssertEqual(r.items.reduce(0) { $0 + ($1.supply.first { $0.type == "lawyer" }?.count ?? 0) }, lawyers)
        XCTAssertEqual(r.city.supply.first { $0.type == "lawyer" }?.met, false, "1000 per 10,000 is not met")
        res = try await send(.GET, "/api/v1/supply-demand", token: try await token("county-admin"))
        XCTAssertEqual(try res.content.decode(SupplyAndDemand.Report.self).items.map(\.region), [county(0).code.rawValue])
    }
}
