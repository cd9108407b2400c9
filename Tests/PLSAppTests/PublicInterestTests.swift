import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #22, item 7: public-interest service, logged and totalled with the village adviser hours against the annual
/// hours the bureau sets; shown in the credit lookup and counted by `public_interest_hours_met`.
final class PublicInterestTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))
    }

    var lawyer: DemoCity.Account { city.accounts.first { $0.username == "lawyer" }! }

    func log(_ body: [String: AnyEncodable], token: String) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/public-interest", token: token, json: body)
    }

    func testServiceIsLoggedCheckedAndTotalledAgainstTheAnnualHours() async throws {
        let me = try await token("lawyer")
        var res = try await log(["kind": .init("petition_reception"), "servedOn": .init("2026-02-27"), "hours": .init(3.5),
                                 "description": .init("区信访局律师值班接待")], token: me)
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await log(["kind": .init("free_consultation"), "servedOn": .init("2026-03-09"), "hours": .init(0.3), "description": .init("")], token: me)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["servedOn", "hours", "description"], "a future day, a third of an hour, no content")
        // Not for someone else.
        let other = try await sql.raw("SELECT id FROM practitioners WHERE id <> \(bind: lawyer.practitionerID!) AND type = 'lawyer' LIMIT 1")
            .first(decodingColumn: "id", as: UUID.self)!
        res = try await log(["practitionerId": .init(other), "kind": .init("campaign"), "servedOn": .init("2026-03-01"), "hours": .init(2),
                             "description": .init("欠薪专项")], token: me)
        XCTAssertEqual(res.status, .forbidden)

        // The county sees the lawyer short of 50 hours; the lawyer sees only their own.
        let county = try await token("county-admin")
        res = try await send(.GET, "/api/v1/public-interest/totals?per=100", token: county)
        let totals = try res.content.decode(Paged<PublicInterest.Total>.self)
        let mine = try XCTUnwrap(totals.items.first { $0.practitionerId == lawyer.practitionerID })
        XCTAssertEqual(mine.serviceHours, 3.5)
        XCTAssertEqual(mine.annualHours, 50)
        XCTAssertFalse(mine.met)
        let own = try await send(.GET, "/api/v1/public-interest/totals", token: me).content.decode(Paged<PublicInterest.Total>.self)
        XCTAssertEqual(own.items.map(\.practitionerId), [lawyer.practitionerID!])

        // The bureau sets 3 hours: met, in the totals and in the indicator.
        res = try await send(.PUT, "/api/v1/city", token: try await token("admin"), json: CityController.Input(publicInterestHours: 3))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let met = try await send(.GET, "/api/v1/public-interest/totals", token: me).content.decode(Paged<PublicInterest.Total>.self)
        XCTAssertEqual(met.items.first?.met, true)
        res = try await send(.GET, "/api/v1/indicators?year=2026", token: try await token("admin"))
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let indicator = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "public_interest_hours_met" })
        // The indicator (SQL over the city) and the totals (per practitioner) agree; the lawyer is among those met.
        let all = try await send(.GET, "/api/v1/public-interest/totals?per=100", token: try await token("admin"))
            .content.decode(Paged<PublicInterest.Total>.self)
        XCTAssertLessThanOrEqual(all.total, 100)
        XCTAssertEqual(indicator.numerator, all.items.filter(\.met).count)
        XCTAssertEqual(indicator.denominator, all.total)
        XCTAssertTrue(all.items.contains { $0.practitionerId == lawyer.practitionerID && $0.met })

        // Shown in the credit lookup, to anyone.
        let licence = try await sql.raw("SELECT licence_number FROM practitioners WHERE id = \(bind: lawyer.practitionerID!)")
            .first(decodingColumn: "licence_number", as: String.self)!
        let lookup = try await send(.GET, "/api/v1/credit?q=\(licence)").content.decode(CreditController.Lookup.self)
        XCTAssertEqual(lookup.publicInterest.first?.serviceHours, 3.5)
    }

    func testThePractitionerLogsFromThePageAndKeepsWhatWasTyped() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("lawyer")
        var page = try await browser.get("/public-interest")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("登记一次服务"))
        page = try await browser.post("/public-interest", [("kind", "legal_education"), ("servedOn", "2026-03-02"), ("hours", "30"),
                                                           ("description", "社区普法讲座")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("社区普法讲座") && page.body.string.contains("0.5–24 小时"))
        page = try await browser.post("/public-interest", [("kind", "legal_education"), ("servedOn", "2026-03-02"), ("hours", "2"),
                                                           ("description", "社区普法讲座")])
        XCTAssertEqual(page.status, .seeOther)
        page = try await browser.get("/public-interest")
        XCTAssertTrue(page.body.string.contains("社区普法讲座"))
        XCTAssertTrue(page.body.string.contains("2.0 小时") || page.body.string.contains("2 小时"), "their year's total")
    }
}
