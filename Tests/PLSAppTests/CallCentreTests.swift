import XCTVapor
import SQLKit
import Fluent
import PLSDomain
@testable import PLSApp

/// Issue #23, item 2: the exchange's events become call records; the operator who takes a call sees its caller at once
/// (and only that operator); voicemails and dissatisfied callers are called back; the keypad rates the matter.
final class CallCentreTests: AppTestCase {
    /// Monday 2 March 2026, 10:00 in Beijing.
    let monday = Date(timeIntervalSince1970: 1_772_416_800)

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(monday)
    }

    struct Credentials: Decodable { var clientId: String; var clientSecret: String }

    func exchangeToken(scopes: [String] = ["telephony"]) async throws -> String {
        let admin = try await token("admin")
        let res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable("12348 呼叫中心交换机"), "scopes": AnyEncodable(scopes)])
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try res.content.decode(Credentials.self)
        let t = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": c.clientSecret])
        return try t.content.decode(SystemClients.TokenAnswer.self).access_token
    }

    @discardableResult
    func event(_ token: String, _ callId: String, _ event: String, caller: String? = nil, operator op: String? = nil, digit: Int? = nil,
               at: Date? = nil, status: HTTPStatus = .accepted) async throws -> Calls.EventAnswer? {
        var body: [String: AnyEncodable] = ["callId": AnyEncodable(callId), "event": AnyEncodable(event), "queue": AnyEncodable("12348")]
        if let caller { body["caller"] = AnyEncodable(caller) }
        if let op { body["operator"] = AnyEncodable(op) }
        if let digit { body["digit"] = AnyEncodable(digit) }
        if let at { body["at"] = AnyEncodable(ISO8601DateFormatter().string(from: at)) }
        let res = try await send(.POST, "/api/v1/telephony/events", token: token, json: body)
        XCTAssertEqual(res.status, status, res.body.string)
        return res.status == .accepted ? try res.content.decode(Calls.EventAnswer.self) : nil
    }

    func secondOperator() async throws -> String {
        let res = try await send(.POST, "/api/v1/accounts", token: try await token("admin"), json: [
            "username": AnyEncodable("operator2"), "displayName": AnyEncodable("坐席二"), "role": AnyEncodable("hotline_operator"),
            "regionCode": AnyEncodable(city.rootCode.rawValue), "password": AnyEncodable("Op2-password-2026")])
        XCTAssertEqual(res.status, .created, res.body.string)
        return "operator2"
    }

    func testCallsAreRecordedFromTheExchangesEventsAndTheFiguresFollow() async throws {
        let exchange = try await exchangeToken()
        // Only the exchange sends events.
        try await event(try await token("operator"), "C-1", "ring", caller: "13955571234", status: .forbidden)
        try await event(try await exchangeToken(scopes: ["read:submitted"]), "C-1", "ring", caller: "13955571234", status: .forbidden)
        try await event(exchange, "C-1", "ring", caller: "12345", status: .unprocessableEntity)
        try await event(exchange, "C-1", "shout", caller: "13955571234", status: .unprocessableEntity)

        // Answered after 12 s, then ended; the same event twice changes nothing. (The exchange reports a little after.)
        app.clock.set(monday.addingTimeInterval(600))
        var a = try await event(exchange, "C-1", "ring", caller: "13955571234", at: monday)
        XCTAssertEqual(a?.state, "ringing")
        a = try await event(exchange, "C-1", "answer", operator: "operator", at: monday.addingTimeInterval(12))
        XCTAssertEqual(a?.state, "answered")
        try await event(exchange, "C-1", "answer", operator: "operator", at: monday.addingTimeInterval(30))
        a = try await event(exchange, "C-1", "hangup", at: monday.addingTimeInterval(300))
        XCTAssertEqual(a?.state, "ended")
        // Abandoned in the queue, and one left a message (out of hours).
        try await event(exchange, "C-2", "ring", caller: "13955570002")
        try await event(exchange, "C-2", "hangup")
        try await event(exchange, "C-3", "ring", caller: "0551-62345678")
        a = try await event(exchange, "C-3", "voicemail")
        XCTAssertEqual(a?.state, "voicemail")

        let op = try await token("operator")
        var res = try await send(.GET, "/api/v1/calls?caller=13955571234", token: op)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let mine = try res.content.decode(Paged<Calls.Row>.self)
        XCTAssertEqual(mine.total, 1)
        let first = try XCTUnwrap(mine.items.first)
        XCTAssertEqual(first.callerMasked, "139****1234")
        XCTAssertEqual(first.waitSeconds, 12)
        XCTAssertEqual(first.operatorName, city.accounts.first { $0.username == "operator" }?.displayName)
        XCTAssertFalse(res.body.string.contains("13955571234"), "the number is masked")
        res = try await send(.GET, "/api/v1/calls", token: try await token("clerk"))
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.GET, "/api/v1/calls", token: exchange)
        XCTAssertEqual(res.status, .forbidden, "the exchange reports calls; it does not read them")
        res = try await send(.GET, "/api/v1/calls?callbacks=1", token: op)
        let callbacks = try res.content.decode(Paged<Calls.Row>.self)
        XCTAssertEqual(callbacks.items.map(\.callerMasked), ["0551****78"])
        XCTAssertEqual(callbacks.items.first?.callbackDue, "2026-03-03", "within a working day")

        // The wallboard and the answer rate: one answered of two offered (a message is not a call let go).
        let board = try await send(.GET, "/api/v1/calls/wallboard", token: op).content.decode(Wallboard.self)
        XCTAssertEqual([board.answered, board.abandoned, board.voicemail, board.callbacksOpen], [1, 1, 1, 1])
        XCTAssertEqual(board.serviceLevel, 50)
        XCTAssertEqual(board.averageWaitSeconds, 12)
        res = try await send(.GET, "/api/v1/indicators?region=\(city.rootCode.rawValue)&year=2026", token: try await token("admin"))
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let rate = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "hotline_answer_rate" })
        XCTAssertEqual([rate.numerator, rate.denominator], [1, 2])
        XCTAssertEqual(rate.met, false)
        res = try await send(.GET, "/api/v1/indicators?region=\(county(0).code.rawValue)&year=2026", token: try await token("admin"))
        let countyRate = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "hotline_answer_rate" })
        XCTAssertNil(countyRate.value, "the hotline is the city's")

        // The missed callback is watched: reminded, then told to the city.
        app.clock.set(monday.addingTimeInterval(3 * 86_400))
        try await Deadlines.scan(app: app)
        let told = try await sql.raw("SELECT n.text FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE a.username = 'admin'")
            .all(decodingColumn: "text", as: String.self)
        XCTAssertTrue(told.contains { $0.contains("来电 0551****78") && $0.contains("12348 来电回拨") }, "\(told)")
    }

    func testTheCallPopsUpOnlyAtTheAnsweringOperatorWhoCreatesAMatterOnItThatTheKeypadRates() async throws {
        let exchange = try await exchangeToken()
        let other = try await secondOperator()
        try await event(exchange, "C-9", "ring", caller: "13955579999", operator: "operator")
        try await event(exchange, "C-9", "answer", operator: "operator")

        var mine = BrowserSession(self)
        try await mine.signIn("operator")
        var res = try await mine.get("/hotline/calls/current")
        XCTAssertEqual(res.status, .ok)
        let pops = try res.content.decode([CallCentreController.Pop].self)
        XCTAssertEqual(pops.map(\.callerMasked), ["139****9999"])
        XCTAssertEqual(pops.first?.state, "answered")
        var theirs = BrowserSession(self)
        _ = try await theirs.get("/login")
        let signed = try await theirs.post("/login", [("username", other), ("password", "Op2-password-2026")])
        XCTAssertEqual(signed.status, .seeOther)
        res = try await theirs.get("/hotline/calls/current")
        XCTAssertEqual(try res.content.decode([CallCentreController.Pop].self).count, 0, "another operator's console shows nothing")
        let callID = try XCTUnwrap(pops.first?.id)
        res = try await theirs.get("/hotline?call=\(callID)")
        XCTAssertEqual(res.status, .notFound)

        // The console opens on the call with the number filled in.
        res = try await mine.get("/hotline?call=\(callID)")
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("value=\"13955579999\""))
        XCTAssertTrue(res.body.string.contains("name=\"callId\" value=\"\(callID)\""))
        // Answered on the spot: the matter is the call's.
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        res = try await mine.post("/hotline", [("callId", callID.uuidString), ("mobile", "13955579999"), ("name", "吴大姐"), ("matterType", "consultation"),
                                              ("category", "labor"), ("description", "咨询辞退补偿怎么算"), ("regionCode", village),
                                              ("answer", "按工作年限每满一年支付一个月工资"), ("action", "answer"), ("confirmDuplicate", "1")])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        let request = try await sql.raw("SELECT request_id FROM calls WHERE call_id = 'C-9'").first(decodingColumn: "request_id", as: UUID?.self) ?? nil
        let requestID = try XCTUnwrap(request)

        // After the call the caller presses 2: the matter's rating, a rectification, and a callback for the hotline.
        try await event(exchange, "C-9", "hangup")
        try await event(exchange, "C-9", "rating", digit: 2)
        try await event(exchange, "C-9", "rating", digit: 5)
        let rating = try await sql.raw("SELECT rating FROM service_requests WHERE id = \(bind: requestID)").first(decodingColumn: "rating", as: Int?.self) ?? nil
        XCTAssertEqual(rating, 2, "rated once")
        let rectifications = try await sql.raw("SELECT COUNT(*) AS n FROM rectifications WHERE request_id = \(bind: requestID)").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(rectifications, 1)

        // Called back from the list: a note is needed; then the figures count it.
        var page = try await mine.get("/hotline/callbacks")
        XCTAssertTrue(page.body.string.contains("139****9999") && page.body.string.contains("不满意"))
        page = try await mine.post("/hotline/callbacks/\(callID)", [("reached", "1"), ("note", " ")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("请填写回拨情况"))
        page = try await mine.post("/hotline/callbacks/\(callID)", [("reached", "1"), ("note", "已再次解释补偿计算方法，来电人表示理解")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        res = try await send(.GET, "/api/v1/indicators?region=\(city.rootCode.rawValue)&year=2026", token: try await token("admin"))
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let items = try res.content.decode(List.self).items
        let callback = try XCTUnwrap(items.first { $0.id == "dissatisfied_callback_rate" })
        XCTAssertEqual([callback.numerator, callback.denominator], [1, 1])
        let satisfaction = try XCTUnwrap(items.first { $0.id == "hotline_satisfaction_rate" })
        XCTAssertEqual([satisfaction.numerator, satisfaction.denominator], [0, 1])
    }

    /// The demo's day: calls in every state and tickets waiting, called and served, through the real handlers.
    func testTheDemoDayHasCallsInEveryStateAndAQueue() async throws {
        app.clock.set(monday.addingTimeInterval(5 * 3_600))
        try await PlatformsDemo.seed(app: app)
        let states = Set(try await sql.raw("SELECT state FROM calls").all(decodingColumn: "state", as: String.self))
        XCTAssertEqual(states, ["ended", "abandoned", "voicemail"])
        let board = try await send(.GET, "/api/v1/calls/wallboard", token: try await token("operator")).content.decode(Wallboard.self)
        XCTAssertGreaterThan(board.answered, 20)
        XCTAssertGreaterThan(board.callbacksOpen, 0)
        let tickets = Set(try await sql.raw("SELECT status FROM queue_tickets").all(decodingColumn: "status", as: String.self))
        XCTAssertEqual(tickets, ["waiting", "called", "served"])
    }
}

extension CallCentreTests {
    /// Operators' states: the exchange's events put an operator on a call and into after-call work; the operator says
    /// when free, on a break or gone; the wallboard counts them and the exchange reads them.
    func testOperatorStatesFollowTheirCallsAndTheirChoicesOnTheWallboard() async throws {
        let exchange = try await exchangeToken()
        let op = try await token("operator")
        func mine() async throws -> String {
            let all = try await send(.GET, "/api/v1/operators", token: op).content.decode([OperatorStates.Line].self)
            return try XCTUnwrap(all.first { $0.username == "operator" }).state
        }
        var state = try await mine()
        XCTAssertEqual(state, "offline", "never signed on")
        var res = try await send(.PUT, "/api/v1/operators/me/state", token: op, json: ["state": "on_call"])
        XCTAssertEqual(res.status, .unprocessableEntity, "a call is the exchange's to report")
        res = try await send(.PUT, "/api/v1/operators/me/state", token: op, json: ["state": "available"])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.PUT, "/api/v1/operators/me/state", token: try await token("clerk"), json: ["state": "available"])
        XCTAssertEqual(res.status, .forbidden)

        try await event(exchange, "S-1", "ring", caller: "13955571234", operator: "operator")
        state = try await mine()
        XCTAssertEqual(state, "available", "ringing is not yet a call")
        try await event(exchange, "S-1", "answer", operator: "operator")
        state = try await mine()
        XCTAssertEqual(state, "on_call")
        var board = try await send(.GET, "/api/v1/calls/wallboard", token: op).content.decode(Wallboard.self)
        XCTAssertEqual(board.operators.map(\.stateName), ["通话中"])
        try await event(exchange, "S-1", "hangup")
        state = try await mine()
        XCTAssertEqual(state, "after_call")
        // The exchange reads who is free; it may not set anyone's state.
        res = try await send(.GET, "/api/v1/operators", token: exchange)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.PUT, "/api/v1/operators/me/state", token: exchange, json: ["state": "available"])
        XCTAssertEqual(res.status, .forbidden)

        // On the console: the bar shows the state; a break from it.
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        var page = try await browser.get("/hotline")
        XCTAssertTrue(page.body.string.contains("我的状态") && page.body.string.contains("话后处理"))
        page = try await browser.post("/hotline/state", [("state", "on_break")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        board = try await send(.GET, "/api/v1/calls/wallboard", token: op).content.decode(Wallboard.self)
        XCTAssertEqual([board.operatorsAvailable, board.operatorsAfterCall, board.operatorsOnBreak], [0, 0, 1])
        var supervisor = BrowserSession(self)
        try await supervisor.signIn("admin")
        page = try await supervisor.get("/hotline/wallboard")
        XCTAssertTrue(page.body.string.contains("坐席状态") && page.body.string.contains("小休"))
    }
}

extension CallCentreTests {
    /// 话务质检: a month's sample of each operator's answered calls (5%, rounded up), scored on the checklist, appealed
    /// once by the operator and decided by the bureau; the scorecard and hotline_qc_rate follow.
    func testAMonthsSampleOfCallsIsScoredAppealedAndDecided() async throws {
        let exchange = try await exchangeToken()
        let second = try await secondOperator()
        for (i, op) in ["operator", "operator", "operator", second].enumerated() {
            try await event(exchange, "Q-\(i)", "ring", caller: "1395557000\(i)", operator: op)
            try await event(exchange, "Q-\(i)", "answer", operator: op)
            try await event(exchange, "Q-\(i)", "hangup")
        }
        try await event(exchange, "Q-9", "ring", caller: "13955570009")
        try await event(exchange, "Q-9", "hangup")
        let admin = try await token("admin")
        var res = try await send(.POST, "/api/v1/call-quality/draw", token: admin, json: ["month": "2026-13"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.POST, "/api/v1/call-quality/draw", token: try await token("operator"), json: ["month": "2026-03"])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/call-quality/draw", token: admin, json: ["month": "2026-03"])
        XCTAssertEqual(try res.content.decode(CallQualityController.DrawAnswer.self).drawn, 2, "one of each operator's calls")
        res = try await send(.POST, "/api/v1/call-quality/draw", token: admin, json: ["month": "2026-03"])
        XCTAssertEqual(try res.content.decode(CallQualityController.DrawAnswer.self).drawn, 0, "never drawn twice")

        // An operator sees their own checks only; a window clerk none.
        let op = try await token("operator")
        let mine = try await send(.GET, "/api/v1/call-quality?month=2026-03", token: op).content.decode(Paged<CallQualityChecks.Check>.self)
        XCTAssertEqual(mine.total, 1)
        let check = try XCTUnwrap(mine.items.first)
        res = try await send(.GET, "/api/v1/call-quality", token: try await token("clerk"))
        XCTAssertEqual(res.status, .forbidden)
        let theirs = try await send(.GET, "/api/v1/call-quality?month=2026-03", token: admin).content.decode(Paged<CallQualityChecks.Check>.self)
        let other = try XCTUnwrap(theirs.items.first { $0.id != check.id })
        res = try await send(.GET, "/api/v1/call-quality/\(other.id)", token: op)
        XCTAssertEqual(res.status, .notFound, "another operator's check is not theirs to read")

        // Scored on the checklist: every item within its points; a failing score says why.
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/score", token: admin, json: ["greeting": 20, "accuracy": 41, "attitude": 20])
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["accuracy"])
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/score", token: admin, json: ["greeting": 10, "accuracy": 30, "attitude": 20, "closure": 10])
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["comment"], "70 fails: the reviewer says why")
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/score", token: admin, json: [
            "greeting": AnyEncodable(10), "accuracy": AnyEncodable(30), "attitude": AnyEncodable(20), "closure": AnyEncodable(10),
            "comment": AnyEncodable("未自报工号；劳动仲裁时效解答不完整")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(CallQualityChecks.Check.self).total, 70)
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/score", token: admin, json: ["greeting": 20, "accuracy": 40, "attitude": 20, "closure": 20])
        XCTAssertEqual(res.status, .conflict)

        // The operator appeals once, on the page; the bureau upholds it and scores again.
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        var page = try await browser.get("/hotline/quality/\(check.id)")
        XCTAssertTrue(page.body.string.contains("提交申诉") && page.body.string.contains("70"))
        page = try await browser.post("/hotline/quality/\(check.id)/appeal", [("reason", "")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        page = try await browser.post("/hotline/quality/\(check.id)/appeal", [("reason", "开头已自报工号，录音 1 分 02 秒处可查")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/appeal", token: op, json: ["reason": "再次申诉"])
        XCTAssertEqual(res.status, .conflict, "once")
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/decision", token: admin, json: ["upheld": AnyEncodable(true), "note": AnyEncodable("经核录音属实")])
        XCTAssertNotNil(try errorBody(res).fields["greeting"], "upheld: scored again")
        res = try await send(.POST, "/api/v1/call-quality/\(check.id)/decision", token: admin, json: [
            "upheld": AnyEncodable(true), "note": AnyEncodable("经核录音属实"), "greeting": AnyEncodable(20), "accuracy": AnyEncodable(30),
            "attitude": AnyEncodable(20), "closure": AnyEncodable(10)])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let decided = try res.content.decode(CallQualityChecks.Check.self)
        XCTAssertEqual([decided.total, decided.passed.map { $0 ? 1 : 0 }], [80, 1])
        XCTAssertEqual(decided.status, "final")
        let told = try await sql.raw("""
            SELECT n.text FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE a.username = 'operator' AND n.text LIKE '话务质检%'
            """).all(decodingColumn: "text", as: String.self)
        XCTAssertEqual(told.count, 2, "scored, then the decision: \(told)")

        // The scorecard and the year's figure: one of four answered calls checked.
        let card = try await send(.GET, "/api/v1/call-quality/scorecard?month=2026-03", token: admin).content.decode([CallQualityChecks.ScorecardLine].self)
        let line = try XCTUnwrap(card.first { $0.operatorId == check.operatorId })
        XCTAssertEqual([line.answered, line.sampled, line.scored, line.passed, line.appeals], [3, 1, 1, 1, 1])
        XCTAssertEqual(line.averageScore, 80)
        res = try await send(.GET, "/api/v1/indicators?region=\(city.rootCode.rawValue)&year=2026", token: admin)
        struct List: Decodable { var items: [IndicatorRegistry.Result] }
        let rate = try XCTUnwrap(try res.content.decode(List.self).items.first { $0.id == "hotline_qc_rate" })
        XCTAssertEqual([rate.numerator, rate.denominator], [1, 4])

        // The city checks more: half of each operator's calls.
        res = try await send(.PUT, "/api/v1/city", token: admin, json: ["hotlineQcSharePercent": 50])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/call-quality/draw", token: admin, json: ["month": "2026-03"])
        XCTAssertEqual(try res.content.decode(CallQualityController.DrawAnswer.self).drawn, 1, "two of three for the first operator, one of one for the second")
        var supervisor = BrowserSession(self)
        try await supervisor.signIn("admin")
        page = try await supervisor.get("/hotline/quality?month=2026-03")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("坐席质检成绩") && page.body.string.contains("50%"))
    }
}

extension CallCentreTests {
    /// A repeat call about an open matter is recorded on it (催办) and the call record points at that matter.
    func testARepeatCallRecordedOnAnOpenMatterLinksTheCall() async throws {
        let exchange = try await exchangeToken()
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!
        var res = try await send(.POST, "/api/v1/requests", token: op, json: [
            "matterType": AnyEncodable("consultation"), "category": AnyEncodable("labor"), "channel": AnyEncodable("hotline"),
            "description": AnyEncodable("工资拖欠"), "applicant": AnyEncodable(["name": "孙秀兰", "mobile": "13955574321"]),
            "regionCode": AnyEncodable(village.code.rawValue)])
        XCTAssertEqual(res.status, .created, res.body.string)
        let request = try res.content.decode(RequestViews.Detail.self).id
        try await event(exchange, "U-1", "ring", caller: "13955574321", operator: "operator")
        try await event(exchange, "U-1", "answer", operator: "operator")
        let call = try await sql.raw("SELECT id FROM calls WHERE call_id = 'U-1'").first(decodingColumn: "id", as: UUID.self)!
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let page = try await browser.post("/hotline", [("urge", request.uuidString), ("callId", call.uuidString), ("mobile", "13955574321"),
                                                       ("description", "再次来电询问进度")])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        let linked = try await sql.raw("SELECT request_id FROM calls WHERE id = \(bind: call)").first(decodingColumn: "request_id", as: UUID?.self)
        XCTAssertEqual(linked, request)
        res = try await send(.GET, "/api/v1/calls?caller=13955574321", token: op)
        XCTAssertEqual(try res.content.decode(Paged<Calls.Row>.self).items.first?.requestId, request)
    }
}
