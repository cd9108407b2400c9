import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Issue #22, item 2: those who did not rate are invited once, by SMS three days after; hotline callers are on the
/// operators' follow-up list instead.
final class RatingInvitationTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    let monday = Date(timeIntervalSince1970: 1_772_416_800)
    func day(_ n: Int) -> Date { monday.addingTimeInterval(Double(n) * 86_400) }

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func concluded(by username: String, mobile: String, id: String? = nil) async throws -> RequestViews.Detail {
        let token = try await token(username)
        var res = try await send(.POST, "/api/v1/requests", token: token, json: Intake.Input(
            matterType: "consultation", itemCode: nil, category: "labor", channel: nil, description: "公司拖欠工资三个月",
            applicant: .init(name: "李秀英", mobile: mobile, idNumber: id), priorityGroups: nil, regionCode: village.code.rawValue,
            externalReference: nil, accept: true, answer: nil))
        XCTAssertEqual(res.status, .created, res.body.string)
        let r = try res.content.decode(RequestViews.Detail.self)
        res = try await send(.POST, "/api/v1/requests/\(r.id)/conclude", token: token, json: RequestActions.Input(summary: "已解答"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(RequestViews.Detail.self)
    }

    func invitations(to mobile: String) async throws -> [String] {
        try await SmsMessage.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash(mobile)).all()
            .map { try app.personalData.open($0.text) }.filter { $0.contains("欢迎对本次服务评价") }
    }

    func testOneInvitationThreeDaysAfterAndNeverTwice() async throws {
        let atWindow = try await concluded(by: "clerk", mobile: "13955550001", id: "11010519491231002X")
        let rated = try await concluded(by: "clerk", mobile: "13955550002", id: "11010519491231002X")
        let res = try await send(.POST, "/api/v1/requests/\(rated.id)/evaluation", token: try await token("operator"),
                                 json: RequestActions.EvaluationInput(rating: 5))
        XCTAssertEqual(res.status, .ok, res.body.string)

        app.clock.set(day(2))
        let got1 = try await RatingInvitations.send(app: app)
        XCTAssertEqual(got1, 0, "not before three days")
        app.clock.set(day(3))
        let got2 = try await RatingInvitations.send(app: app)
        XCTAssertEqual(got2, 1, "the one not rated; not the rated one")
        let sent = try await invitations(to: "13955550001")
        XCTAssertEqual(sent.count, 1)
        XCTAssertTrue(sent[0].contains(atWindow.number) && sent[0].contains("/rate/"), sent[0])
        let got3 = try await invitations(to: "13955550002").count
        XCTAssertEqual(got3, 0)
        // Never twice: the next run, and any run after.
        let got4 = try await RatingInvitations.send(app: app)
        XCTAssertEqual(got4, 0)
        app.clock.set(day(5))
        let got5 = try await RatingInvitations.send(app: app)
        XCTAssertEqual(got5, 0)
        let got6 = try await invitations(to: "13955550001").count
        XCTAssertEqual(got6, 1)
    }

    func testAServiceConcludedLongAgoIsNotInvitedAndHotlineCallersAreCalledBack() async throws {
        let old = try await concluded(by: "clerk", mobile: "13955550003", id: "11010519491231002X")
        let call = try await concluded(by: "operator", mobile: "13955550004")
        app.clock.set(day(30))
        let got7 = try await RatingInvitations.send(app: app)
        XCTAssertEqual(got7, 0, "outside the week after the third day: a first start floods no one")
        let got8 = try await invitations(to: "13955550003").count
        XCTAssertEqual(got8, 0)
        _ = old
        // The hotline caller is on the operators' follow-up list until rated, and never sent an SMS invitation.
        let operatorToken = try await token("operator")
        var res = try await send(.GET, "/api/v1/requests/follow-ups", token: operatorToken)
        XCTAssertEqual(try res.content.decode(Paged<RequestViews.Row>.self).items.map(\.id), [call.id])
        res = try await send(.POST, "/api/v1/requests/\(call.id)/evaluation", token: operatorToken, json: RequestActions.EvaluationInput(rating: 4))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/api/v1/requests/follow-ups", token: operatorToken)
        XCTAssertEqual(try res.content.decode(Paged<RequestViews.Row>.self).total, 0)
        res = try await send(.GET, "/api/v1/requests/follow-ups", token: try await token("lawyer"))
        XCTAssertEqual(res.status, .forbidden)
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let page = try await browser.get("/hotline/follow-ups")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("回访评价"))
    }
}
