import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Issue #22, item 1: every bad rating is called back, rectified and answered within the city's working days; the
/// institution may appeal, the county decides; an upheld appeal leaves the satisfaction figures.
final class RectificationTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing (no holiday in the weeks after).
    let monday = Date(timeIntervalSince1970: 1_772_416_800)
    func day(_ n: Int) -> Date { monday.addingTimeInterval(Double(n) * 86_400) }

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    /// A consultation the window answered, rated `rating` by the hotline (a follow-up call).
    func rated(_ rating: Int, mobile: String = "13955560001") async throws -> (RequestViews.Detail, HTTPStatus) {
        let clerk = try await token("clerk")
        var res = try await send(.POST, "/api/v1/requests", token: clerk, json: Intake.Input(
            matterType: "consultation", itemCode: nil, category: "labor", channel: nil, description: "公司拖欠工资三个月",
            applicant: .init(name: "李秀英", mobile: mobile, idNumber: "11010519491231002X"), priorityGroups: nil, regionCode: village.code.rawValue,
            externalReference: nil, accept: true, answer: "已解答：可申请劳动仲裁"))
        XCTAssertEqual(res.status, .created, res.body.string)
        let r = try res.content.decode(RequestViews.Detail.self)
        res = try await send(.POST, "/api/v1/requests/\(r.id)/evaluation", token: try await token("operator"),
                             json: RequestActions.EvaluationInput(rating: rating, comment: "态度生硬"))
        return (r, res.status)
    }

    func rectifications(of request: UUID, token: String) async throws -> Paged<Rectifications.View> {
        let res = try await send(.GET, "/api/v1/rectifications?request=\(request)", token: token)
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(Paged<Rectifications.View>.self)
    }

    /// An institution administrator of the handling institution (the demo city has none), or the county's.
    func handlerToken(for x: Rectifications.View) async throws -> String {
        guard let institution = x.institutionId else { return try await token("county-admin") }
        let username = "ia-\(institution.uuidString.prefix(8))".lowercased()
        let res = try await send(.POST, "/api/v1/accounts", token: try await token("admin"), json: AccountController.Input(
            username: username, displayName: "机构管理员", role: "institution_admin", regionCode: x.regionCode, institutionId: institution,
            practitionerId: nil, password: "strong-pass-9"))
        XCTAssertTrue(res.status == .created || res.body.string.contains("已被使用"), res.body.string)
        return try await token(username, password: "strong-pass-9")
    }

    func step(_ x: Rectifications.View, _ name: String, _ body: [String: AnyEncodable], token: String) async throws -> XCTHTTPResponse {
        try await send(.POST, "/api/v1/rectifications/\(x.id)/\(name)", token: token, json: body)
    }

    func testABadRatingOpensARectificationDueOnWorkingDaysAndAGoodOneDoesNot() async throws {
        let admin = try await token("admin")
        let (good, s1) = try await rated(4)
        XCTAssertEqual(s1, .ok)
        let none = try await rectifications(of: good.id, token: admin)
        XCTAssertEqual(none.total, 0)
        let (bad, s2) = try await rated(2)
        XCTAssertEqual(s2, .ok)
        let list = try await rectifications(of: bad.id, token: admin)
        XCTAssertEqual(list.total, 1)
        let x = try XCTUnwrap(list.items.first)
        XCTAssertEqual(x.status, "awaiting_callback")
        XCTAssertEqual(x.callbackDue, "2026-03-03", "one working day")
        XCTAssertEqual(x.rectifyDue, "2026-03-23", "fifteen working days: three weekends skipped")
        XCTAssertEqual(x.number, bad.number)
        // The rating and the rectification are one write: the timeline says so, and the handler is told.
        let detail = try await send(.GET, "/api/v1/requests/\(bad.id)", token: admin).content.decode(RequestViews.Detail.self)
        XCTAssertTrue(detail.timeline.contains { $0.action == "rectification.open" && ($0.note ?? "").contains("2026-03-23") })
        let notices = try await sql.raw("SELECT text FROM notifications WHERE request_id = \(bind: bad.id)").all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(notices.contains { $0.contains("差评待整改") && $0.contains("2026-03-03") }, "\(notices)")

        // Some provinces give 5 working days: a city setting, used from the next rating on.
        let res = try await send(.PUT, "/api/v1/city", token: admin, json: CityController.Input(rectificationDays: 5))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(CityIdentity.self).rectificationDays, 5)
        let wrong = try await send(.PUT, "/api/v1/city", token: admin, json: CityController.Input(rectificationDays: 400))
        XCTAssertEqual(wrong.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(wrong).fields["rectificationDays"])
        let (other, _) = try await rated(1, mobile: "13955560002")
        let second = try await rectifications(of: other.id, token: admin).items.first
        XCTAssertEqual(second?.rectifyDue, "2026-03-09")
    }

    func testTheStepsGoInOrderAndThePersonIsAnsweredAndRatesOnce() async throws {
        let (r, _) = try await rated(1)
        let xList = try await rectifications(of: r.id, token: try await token("admin"))
        let x = try XCTUnwrap(xList.items.first)
        var handler = try await handlerToken(for: x)

        var res = try await step(x, "rectify", ["verification": .init("核实"), "measures": .init("培训")], token: handler)
        XCTAssertEqual(res.status, .conflict, "call back first")
        XCTAssertTrue(try errorBody(res).message.contains("回访"))
        res = try await step(x, "callback", ["reached": .init(false), "attempts": .init(2)], token: handler)
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(Rectifications.View.self).status, "awaiting_callback", "not reached: tried again")
        res = try await step(x, "callback", ["reached": .init(true), "note": .init("当事人反映窗口人员态度生硬")], token: handler)
        var v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "rectifying")
        XCTAssertEqual(v.callbackAttempts, 3)
        XCTAssertEqual(v.callbackOn, "2026-03-02")
        res = try await step(x, "reply", ["reply": .init("已整改")], token: handler)
        XCTAssertEqual(res.status, .conflict, "rectify before replying")
        res = try await step(x, "rectify", ["verification": .init(""), "measures": .init("")], token: handler)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["verification", "measures"])
        res = try await step(x, "rectify", ["verification": .init("属实，接待人员未耐心解释"), "measures": .init("约谈当事人员，全体窗口人员服务规范培训")], token: handler)
        XCTAssertEqual(try res.content.decode(Rectifications.View.self).status, "rectified")
        app.clock.set(day(3))
        handler = try await handlerToken(for: x)  // a new day's sign-in
        res = try await step(x, "reply", ["reply": .init("经核实，已对相关人员批评教育并组织培训，感谢您的监督")], token: handler)
        v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "replied")
        XCTAssertEqual(v.repliedOn, "2026-03-05")
        // The person is told, by SMS (their number), with the reply.
        let texts = try await SmsMessage.query(on: app.db).filter(\.$mobileHash == app.personalData.lookupHash("13955560001")).all()
            .map { try app.personalData.open($0.text) }
        XCTAssertTrue(texts.contains { $0.contains("已对相关人员批评教育") && $0.contains(r.number) }, "\(texts)")

        // Only the person (or an operator on a follow-up call) rates the rectification, once.
        res = try await step(x, "evaluation", ["rating": .init(5)], token: handler)
        XCTAssertEqual(res.status, .forbidden)
        let op = try await token("operator")
        res = try await step(x, "evaluation", ["rating": .init(4), "comment": .init("满意")], token: op)
        v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "closed")
        XCTAssertEqual(v.followUpRating, 4)
        res = try await step(x, "evaluation", ["rating": .init(4)], token: op)
        XCTAssertEqual(res.status, .conflict)

        // Every step is on the matter's timeline (the tamper-evident record).
        let detail = try await send(.GET, "/api/v1/requests/\(r.id)", token: try await token("admin")).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.timeline.map(\.action).filter { $0.hasPrefix("rectification.") },
                       ["rectification.open", "rectification.callback", "rectification.callback", "rectification.rectify",
                        "rectification.reply", "rectification.evaluation"])
        let verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
        // The texts are sealed at rest.
        let stored = try await sql.raw("SELECT measures FROM rectifications WHERE id = \(bind: x.id)").first(decodingColumn: "measures", as: String.self)
        XCTAssertFalse(stored?.contains("培训") ?? true)
    }

    func testAnUpheldAppealLeavesTheSatisfactionFiguresAndARejectedOneGoesOn() async throws {
        let (r, _) = try await rated(1)
        let admin = try await token("admin")
        let xList = try await rectifications(of: r.id, token: admin)
        let x = try XCTUnwrap(xList.items.first)
        guard x.institutionId != nil else { return XCTFail("the window's answer has its institution") }
        let ia = try await handlerToken(for: x)
        func ratedCount() async throws -> Int {
            try await sql.raw("SELECT CAST(COALESCE(SUM(rated), 0) AS BIGINT) AS n FROM request_stats").first(decodingColumn: "n", as: Int.self) ?? 0
        }
        let before = try await ratedCount()

        var res = try await step(x, "appeal", ["kind": .init("malicious"), "reason": .init("")], token: ia)
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await step(x, "appeal", ["kind": .init("malicious"), "reason": .init("当事人同日在其他渠道表示满意，系误操作")], token: try await token("clerk"))
        XCTAssertEqual(res.status, .forbidden, "the institution's administrator appeals")
        res = try await step(x, "appeal", ["kind": .init("mistaken"), "reason": .init("当事人来电称误选评价")], token: ia)
        var v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "appealed")
        XCTAssertEqual(v.appealDue, "2026-03-09", "five working days")
        // Another county cannot decide it; this county's bureau does.
        res = try await step(x, "appeal-decision", ["upheld": .init(true), "reason": .init("属实")], token: ia)
        XCTAssertEqual(res.status, .forbidden)
        res = try await step(x, "appeal-decision", ["upheld": .init(true), "reason": .init("经核实为误评")], token: try await token("county-admin"))
        v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "withdrawn")
        XCTAssertEqual(v.appealUpheld, true)
        let after = try await ratedCount()
        XCTAssertEqual(after, before - 1, "out of the satisfaction figures")
        // Shown to the auditor, with its reason.
        let seen = try await send(.GET, "/api/v1/rectifications/\(x.id)", token: try await token("auditor")).content.decode(Rectifications.View.self)
        XCTAssertEqual(seen.appealDecisionReason, "经核实为误评")
        XCTAssertEqual(seen.appealReason, "当事人来电称误选评价")

        // A rejected appeal returns to where it was, its limits moved by the days the county took; only one appeal.
        let (r2, _) = try await rated(2, mobile: "13955560003")
        let yList = try await rectifications(of: r2.id, token: admin)
        let y = try XCTUnwrap(yList.items.first)
        res = try await step(y, "appeal", ["kind": .init("malicious"), "reason": .init("恶意")], token: ia)
        XCTAssertEqual(res.status, .ok)
        app.clock.set(day(2))
        res = try await step(y, "appeal-decision", ["upheld": .init(false), "reason": .init("证据不足")], token: try await token("county-admin"))
        v = try res.content.decode(Rectifications.View.self)
        XCTAssertEqual(v.status, "awaiting_callback")
        XCTAssertEqual(v.callbackDue, "2026-03-05", "two working days later")
        res = try await step(y, "appeal", ["kind": .init("malicious"), "reason": .init("再次申诉")], token: try await handlerToken(for: y))
        XCTAssertEqual(res.status, .conflict)
        let stats = try await ratedCount()
        XCTAssertEqual(stats, before, "a rejected appeal leaves the rating counted")
    }

    func testOverdueStepsRemindTheInstitutionThenTheCountyAndTheIndicatorsCountThem() async throws {
        let (r, _) = try await rated(2)
        let xList = try await rectifications(of: r.id, token: try await token("admin"))
        let x = try XCTUnwrap(xList.items.first)
        app.clock.set(day(5))  // Saturday 7 March: the callback was due on Tuesday
        _ = try await Deadlines.scan(app: app)
        let notices = try await sql.raw("SELECT step, level FROM deadline_notices WHERE subject_id = \(bind: r.id)")
            .all(decoding: Row.self)
        XCTAssertTrue(notices.contains { $0.step == "rectification.callback" && $0.level == DeadlineStage.escalated.rawValue }, "\(notices)")
        let texts = try await sql.raw("SELECT text FROM notifications WHERE request_id = \(bind: r.id)").all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(texts.contains { $0.contains("差评回访") }, "\(texts)")

        let res = try await send(.GET, "/api/v1/indicators?region=\(county(0).code.rawValue)&year=2026", token: try await token("admin"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let all = try res.content.decode(IndicatorList.self).items
        let callback = try XCTUnwrap(all.first { $0.id == "bad_rating_callback_rate" })
        XCTAssertEqual(callback.denominator, 1)
        XCTAssertEqual(callback.numerator, 0)
        XCTAssertEqual(callback.met, false)
        _ = x
    }

    struct Row: Decodable { var step: String; var level: Int }
    struct IndicatorList: Decodable { var items: [IndicatorRegistry.Result] }

    func testEachSeesOnlyTheirOwnAndThePagesShowTheQueueAndKeepWhatWasTyped() async throws {
        let (r, _) = try await rated(1, mobile: DemoCity.citizenMobile)
        let admin = try await token("admin")
        let xList = try await rectifications(of: r.id, token: admin)
        let x = try XCTUnwrap(xList.items.first)
        // The person sees their own; an adviser in a village does not see it.
        let citizen = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
            .content.decode(AuthController.TokenResponse.self).token
        let mine = try await rectifications(of: r.id, token: citizen)
        XCTAssertEqual(mine.items.map(\.id), [x.id])
        let other = try await rectifications(of: r.id, token: try await token("lawyer"))
        XCTAssertEqual(other.total, 0)
        let hidden = try await send(.GET, "/api/v1/rectifications/\(x.id)", token: try await token("lawyer"))
        XCTAssertEqual(hidden.status, .notFound)

        // The county's queue lists it; a refused step shows the page again with the message and what was typed.
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        var page = try await browser.get("/rectifications")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains(r.number))
        XCTAssertTrue(page.body.string.contains("待回访"))
        page = try await browser.get("/rectifications/\(x.id)")
        XCTAssertEqual(page.status, .ok, page.body.string)
        XCTAssertTrue(page.body.string.contains("2026-03-23"))
        // The window that answered works it (its staff are the institution's).
        XCTAssertNotNil(x.institutionId, "answered at the city centre's window: the centre's")
        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        page = try await clerk.get("/rectifications")
        XCTAssertTrue(page.body.string.contains(r.number))
        do {
            page = try await clerk.post("/rectifications/\(x.id)/callback", [("reached", "1"), ("note", "已联系")])
            XCTAssertEqual(page.status, .seeOther, page.body.string)
            page = try await clerk.post("/rectifications/\(x.id)/rectify", [("verification", "核实属实"), ("measures", "")])
            XCTAssertEqual(page.status, .unprocessableEntity)
            XCTAssertTrue(page.body.string.contains("核实属实"), "what was typed is kept")
            XCTAssertTrue(page.body.string.contains("rc-measures"))
        }
        // The citizen's page shows what is being done.
        var person = BrowserSession(self)
        _ = try await person.get("/login/citizen")
        let signedIn = try await person.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        XCTAssertEqual(signedIn.status, .seeOther, signedIn.body.string)
        page = try await person.get("/my/\(r.number)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("您的评价的处理情况"))
    }
}

/// The demo city's history gets rectifications and complaints in every state, and a review sample, through the real steps.
final class RectificationDemoTests: AppTestCase {
    func testTheDemoHistoryHasARectificationInEachState() async throws {
        _ = try await DemoRequests.generate(count: 400, app: app, on: app.db)
        try await EvaluationDemo.seed(app: app)
        let statuses = try await sql.raw("SELECT status FROM rectifications").all(decodingColumn: "status", as: String.self)
        XCTAssertEqual(Set(statuses), Set(RectificationStatus.allCases.map(\.rawValue)), "\(statuses)")
        let credit = Set(try await sql.raw("SELECT kind FROM credit_records").all(decodingColumn: "kind", as: String.self))
        XCTAssertTrue(credit.isSuperset(of: ["commendation", "quality_review", "upheld_complaint"]), "\(credit)")
        let complaints = try await sql.raw("SELECT status FROM complaints").all(decodingColumn: "status", as: String.self)
        XCTAssertEqual(Set(complaints), Set(ComplaintStatus.allCases.map(\.rawValue)))
        let reviews = Set(try await sql.raw("SELECT status FROM quality_reviews").all(decodingColumn: "status", as: String.self))
        XCTAssertEqual(reviews, Set(QualityReviews.Status.allCases.map(\.rawValue)))
        let replacements = try await sql.raw("SELECT COUNT(*) AS n FROM legal_aid_cases WHERE replacement_due IS NOT NULL").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(replacements, 1, "an upheld recipient's complaint leaves the centre a replacement to make")
        let service = try await sql.raw("SELECT COUNT(*) AS n FROM public_interest_services").first(decodingColumn: "n", as: Int.self) ?? 0
        XCTAssertGreaterThan(service, 0)
        let verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
    }
}
