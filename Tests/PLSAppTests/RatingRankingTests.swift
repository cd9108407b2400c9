import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #22, item 3: monthly rankings of institutions, practitioners and the posts that served, from the month's
/// ratings; the bottom marked; a rating withdrawn on appeal counts for nobody; printable and exportable.
final class RatingRankingTests: AppTestCase {
    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026
    }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    /// A consultation answered at `username`'s window, rated `rating` on a follow-up call.
    func served(by username: String, rating: Int, n: Int) async throws -> UUID {
        let res = try await send(.POST, "/api/v1/requests", token: try await token(username), json: Intake.Input(
            matterType: "consultation", itemCode: nil, category: "labor", channel: nil, description: "咨询 \(n)",
            applicant: .init(name: "李秀英", mobile: "1395558\(String(format: "%04d", n))", idNumber: "11010519491231002X"), priorityGroups: nil,
            regionCode: village.code.rawValue, externalReference: nil, accept: true, answer: "已解答"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let r = try res.content.decode(RequestViews.Detail.self)
        let rated = try await send(.POST, "/api/v1/requests/\(r.id)/evaluation", token: try await token("operator"),
                                   json: RequestActions.EvaluationInput(rating: rating))
        XCTAssertEqual(rated.status, .ok, rated.body.string)
        return r.id
    }

    func testTheMonthsRankingMarksTheBottomAndLeavesWithdrawnRatingsOut() async throws {
        for n in 0..<3 { _ = try await served(by: "clerk", rating: 5, n: n) }
        var aid: [UUID] = []
        for n in 3..<6 { aid.append(try await served(by: "aid", rating: n == 3 ? 4 : 1, n: n)) }
        let leader = try await token("leader")
        var res = try await send(.GET, "/api/v1/evaluation/rankings?month=2026-03&of=post", token: leader)
        XCTAssertEqual(res.status, .ok, res.body.string)
        var report = try res.content.decode(RatingRankings.Report.self)
        XCTAssertEqual(report.items.map(\.name), ["市中心窗口", city.accounts.first { $0.username == "aid" }!.displayName])
        XCTAssertEqual(report.items.map(\.rated), [3, 3])
        XCTAssertEqual(report.items.map(\.bottom), [false, true])
        XCTAssertEqual(report.items[1].bad, 2)
        XCTAssertEqual(report.items[1].satisfaction, 33.3)
        XCTAssertFalse(report.items[1].bottomTwoMonths, "nobody was ranked in February")
        res = try await send(.GET, "/api/v1/evaluation/rankings?month=2026-03&of=institution", token: leader)
        report = try res.content.decode(RatingRankings.Report.self)
        XCTAssertEqual(report.items.count, 2, "the two windows' institutions")

        // An upheld appeal takes one of the bad ratings out.
        let x = try await Rectifications.find(request: aid[1], on: sql)!
        let ia = try await send(.POST, "/api/v1/accounts", token: try await token("admin"), json: AccountController.Input(
            username: "aid-admin", displayName: "援助中心管理员", role: "institution_admin", regionCode: x.regionCode, institutionId: x.institutionId,
            practitionerId: nil, password: "strong-pass-9"))
        XCTAssertEqual(ia.status, .created, ia.body.string)
        res = try await send(.POST, "/api/v1/rectifications/\(x.id)/appeal", token: try await token("aid-admin", password: "strong-pass-9"),
                             json: ["kind": "mistaken", "reason": "当事人称误选"])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/rectifications/\(x.id)/appeal-decision", token: try await token("county-admin"),
                             json: ["upheld": AnyEncodable(true), "reason": AnyEncodable("属实")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/evaluation/rankings?month=2026-03&of=post", token: leader)
        report = try res.content.decode(RatingRankings.Report.self)
        XCTAssertEqual(report.items.last?.rated, 2)
        XCTAssertEqual(report.items.last?.bad, 1)

        // Not for a practitioner; a month that is not one is refused.
        res = try await send(.GET, "/api/v1/evaluation/rankings?month=2026-03", token: try await token("lawyer"))
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.GET, "/api/v1/evaluation/rankings?month=2026-13", token: leader)
        XCTAssertEqual(res.status, .unprocessableEntity)

        // The page and the export.
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let page = try await browser.get("/rankings?month=2026-03&of=post")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("市中心窗口") && page.body.string.contains("末位"))
        let csv = try await browser.get("/rankings/export.csv?month=2026-03&of=post")
        XCTAssertEqual(csv.status, .ok)
        XCTAssertTrue(csv.body.string.contains("市中心窗口"))
    }
}
