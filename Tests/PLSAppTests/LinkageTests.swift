import XCTVapor
import SQLKit
import Fluent
import Crypto
import PLSDomain
@testable import PLSApp

/// Issue #23, item 3: department systems registered by the city with scopes, exchanging a secret for short-lived
/// tokens; a 12345 work order submitted with its reference, deadline and callback address; its status told back to the
/// sender, signed, in order, retried until acknowledged, against a loopback stub that fails on purpose.
final class LinkageTests: AppTestCase {
    struct Credentials: Decodable { var id: UUID; var clientId: String; var clientSecret: String }
    struct Token: Decodable { var access_token: String; var token_type: String; var expires_in: Int; var scope: String }

    var village: DemoCity.Region { city.regions.first { $0.level == .village && $0.code.rawValue.hasPrefix(county(0).code.scopePrefix) }! }

    func register(_ name: String, scopes: [String], token admin: String) async throws -> Credentials {
        let res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable(name), "scopes": AnyEncodable(scopes)])
        XCTAssertEqual(res.status, .created, res.body.string)
        return try res.content.decode(Credentials.self)
    }

    func clientToken(_ c: Credentials) async throws -> String {
        let res = try await app.testable().sendRequest(.POST, "/api/v1/oauth/token", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                       body: ByteBuffer(string: "grant_type=client_credentials&client_id=\(c.clientId)&client_secret=\(c.clientSecret)"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(Token.self).access_token
    }

    func workOrder(_ ref: String, callback: String?, token: String, channel: String = "transfer_12345") async throws -> XCTHTTPResponse {
        var body: [String: AnyEncodable] = [
            "matterType": AnyEncodable("consultation"), "category": AnyEncodable("labor"), "channel": AnyEncodable(channel),
            "description": AnyEncodable("来电反映用人单位拖欠工资，咨询如何维权"),
            "applicant": AnyEncodable(["name": "周桂芳", "mobile": "13955571234"]), "regionCode": AnyEncodable(village.code.rawValue),
            "externalRef": AnyEncodable(ref), "externalDue": AnyEncodable("2026-03-09")]
        if let callback { body["callbackUrl"] = AnyEncodable(callback) }
        return try await send(.POST, "/api/v1/requests", token: token, json: body)
    }

    override func setUp() async throws {
        try await super.setUp()
        app.clock.set(Date(timeIntervalSince1970: 1_772_416_800))  // Monday 2 March 2026
    }

    func testTheCityRegistersASystemThatGetsTokensAndMayCallOnlyWhatItsScopesName() async throws {
        let admin = try await token("admin")
        var res = try await send(.POST, "/api/v1/system-clients", token: try await token("county-admin"), json: ["name": AnyEncodable("x"), "scopes": AnyEncodable(["telephony"])])
        XCTAssertEqual(res.status, .forbidden)
        res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable(""), "scopes": AnyEncodable(["submit:web"])])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["name", "scopes"])
        let c = try await register("示范市 12345 政务服务便民热线", scopes: ["submit:transfer_12345", "read:submitted"], token: admin)
        XCTAssertTrue(c.clientId.hasPrefix("pls-"))
        // The secret is never listed again.
        res = try await send(.GET, "/api/v1/system-clients", token: admin)
        XCTAssertFalse(res.body.string.contains(c.clientSecret))

        // The token: a wrong secret, a wrong grant, then the form, JSON and HTTP Basic.
        res = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": "x"])
        XCTAssertEqual(res.status, .unauthorized)
        XCTAssertEqual(try errorBody(res).code, "invalid_client")
        res = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "password", "client_id": c.clientId, "client_secret": c.clientSecret])
        XCTAssertEqual(try errorBody(res).code, "unsupported_grant_type")
        res = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": c.clientSecret])
        let answer = try res.content.decode(Token.self)
        XCTAssertEqual(answer.token_type, "Bearer")
        XCTAssertEqual(answer.expires_in, 3_600)
        XCTAssertEqual(answer.scope, "submit:transfer_12345 read:submitted")
        let basic = try await app.testable().sendRequest(.POST, "/api/v1/oauth/token", headers: [
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + Data("\(c.clientId):\(c.clientSecret)".utf8).base64EncodedString()], body: ByteBuffer(string: "grant_type=client_credentials"))
        XCTAssertEqual(basic.status, .ok, basic.body.string)
        let system = try await clientToken(c)

        // What a hotline operator could do, the system may not: list requests, read one, act, register systems.
        for (method, path) in [(HTTPMethod.GET, "/api/v1/requests"), (.GET, "/api/v1/indicators"), (.POST, "/api/v1/telephony/events"),
                               (.GET, "/api/v1/system-clients"), (.GET, "/api/v1/calls")] {
            res = try await send(method, path, token: system)
            XCTAssertTrue([.forbidden, .notFound].contains(res.status), "\(method) \(path): \(res.status)")
        }
        res = try await send(.GET, "/api/v1/requests", token: system)
        XCTAssertEqual(try errorBody(res).code, "scope_denied")
        res = try await send(.GET, "/api/v1/me", token: system)
        XCTAssertEqual(res.status, .ok)
        // Only on its own channel.
        res = try await workOrder("GD-0001", callback: nil, token: system, channel: "hotline")
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["channel"])
        res = try await workOrder("GD-0001", callback: "ftp://example.org/x", token: system)
        XCTAssertNotNil(try errorBody(res).fields["callbackUrl"])

        // Each call is in the log.
        let calls = try await send(.GET, "/api/v1/system-clients/\(c.id)/calls", token: admin).content.decode(Paged<SystemClients.Call>.self)
        XCTAssertEqual(calls.total, 9, "every call that reached a route")
        XCTAssertTrue(calls.items.contains { $0.path == "/api/v1/requests" && $0.status == 403 })

        // Rotated: the old secret and the token it bought stop working at once.
        res = try await send(.POST, "/api/v1/system-clients/\(c.id)/rotate", token: admin)
        let rotated = try res.content.decode(Credentials.self)
        XCTAssertNotEqual(rotated.clientSecret, c.clientSecret)
        res = try await send(.GET, "/api/v1/me", token: system)
        XCTAssertEqual(res.status, .unauthorized)
        res = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": c.clientSecret])
        XCTAssertEqual(res.status, .unauthorized)
        let fresh = try await clientToken(rotated)
        // Deactivated: nothing works.
        res = try await send(.POST, "/api/v1/system-clients/\(c.id)/deactivate", token: admin)
        XCTAssertEqual(res.status, .noContent)
        res = try await send(.GET, "/api/v1/me", token: fresh)
        XCTAssertEqual(res.status, .unauthorized)
        res = try await send(.POST, "/api/v1/oauth/token", json: ["grant_type": "client_credentials", "client_id": c.clientId, "client_secret": rotated.clientSecret])
        XCTAssertEqual(res.status, .unauthorized)
    }

    func testAWorkOrderFrom12345IsToldEveryChangeSignedInOrderUntilAcknowledged() async throws {
        let stub = try await SmsOutboxTests.Stub(script: [.internalServerError], route: "callback12345")
        defer { Task { try? await stub.stop() } }
        let admin = try await token("admin")
        let c = try await register("示范市 12345 政务服务便民热线", scopes: ["submit:transfer_12345", "read:submitted"], token: admin)
        let other = try await register("示范市 110 指挥中心", scopes: ["submit:transfer_110", "read:submitted"], token: admin)
        let system = try await clientToken(c)
        let url = "http://127.0.0.1:\(stub.port)/callback12345"

        var res = try await workOrder("GD20260302-0007", callback: url, token: system)
        XCTAssertEqual(res.status, .created, res.body.string)
        let created = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(created.status, "submitted", "our staff accept it")
        XCTAssertEqual(created.channel, "transfer_12345")
        XCTAssertEqual(created.externalReference, "GD20260302-0007")
        // Sent again (the sender's retry): the same order.
        res = try await workOrder("GD20260302-0007", callback: url, token: system)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(try res.content.decode(RequestViews.Detail.self).id, created.id)
        var count = try await sql.raw("SELECT COUNT(*) AS n FROM work_order_links").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(count, 1)

        // Our side works it: accepted, then concluded with the answer.
        let op = try await token("operator")
        res = try await send(.POST, "/api/v1/requests/\(created.id)/accept", token: op)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/requests/\(created.id)/conclude", token: op,
                             json: RequestActions.Input(outcome: "answered", summary: "已告知可向劳动保障监察机构投诉或申请劳动仲裁"))
        XCTAssertEqual(res.status, .ok, res.body.string)

        // The first notice is refused (500): the second waits for it, in order.
        var acknowledged = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(acknowledged, 0)
        XCTAssertEqual(stub.received.withLockedValue { $0.count }, 1)
        app.clock.set(app.clock.now.addingTimeInterval(11))
        acknowledged = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(acknowledged, 1, "the first, again; the second waits until it is acknowledged")
        acknowledged = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(acknowledged, 1)
        acknowledged = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(acknowledged, 0, "nothing twice")
        let got = stub.received.withLockedValue { $0 }
        XCTAssertEqual(got.count, 3)
        // Each signed with the client's secret, in order.
        for g in got {
            let expected = HMAC<SHA256>.authenticationCode(for: Data(g.body.utf8), using: SymmetricKey(data: Data(c.clientSecret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(g.headers.first(name: "X-PLS-Signature"), expected)
        }
        let notices = try got.map { try JSONDecoder().decode([String: AnyDecodable].self, from: Data($0.body.utf8)) }
        XCTAssertEqual(notices.map { $0["sequence"]?.value as? Int }, [1, 1, 2])
        XCTAssertEqual(notices.map { $0["status"]?.value as? String }, ["accepted", "accepted", "concluded"])
        XCTAssertEqual(notices.last?["reference"]?.value as? String, "GD20260302-0007")
        XCTAssertTrue((notices.last?["text"]?.value as? String)?.contains("劳动仲裁") == true)

        // The sender asks by its own reference; another system does not find it.
        res = try await send(.GET, "/api/v1/work-orders/GD20260302-0007", token: system)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let status = try res.content.decode(WorkOrders.Status.self)
        XCTAssertEqual(status.status, "concluded")
        XCTAssertEqual(status.externalDue, "2026-03-09")
        XCTAssertEqual(status.reply, "已告知可向劳动保障监察机构投诉或申请劳动仲裁")
        res = try await send(.GET, "/api/v1/work-orders/GD20260302-0007", token: try await clientToken(other))
        XCTAssertEqual(res.status, .notFound)

        // The delivery log for the administrator.
        let log = try await send(.GET, "/api/v1/system-clients/\(c.id)/deliveries", token: admin).content.decode(Paged<WorkOrders.DeliveryRow>.self)
        XCTAssertEqual(log.items.map(\.status), ["delivered", "delivered"])
        XCTAssertEqual(log.items.last?.attempts, 2)
        count = try await sql.raw("SELECT COUNT(*) AS n FROM work_order_callbacks WHERE status <> 'delivered'").first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(count, 0)
    }

    func testANoticeGivenUpOnIsResentByHandAndTheAdministratorSeesItAll() async throws {
        let admin = try await token("admin")
        let c = try await register("示范市中级人民法院诉调对接平台", scopes: ["submit:referral"], token: admin)
        let system = try await clientToken(c)
        // Nobody listens at this address: every attempt fails.
        var res = try await workOrder("(2026)示0102诉前调 15 号", callback: "http://127.0.0.1:9/none", token: system, channel: "referral")
        XCTAssertEqual(res.status, .created, res.body.string)
        let id = try res.content.decode(RequestViews.Detail.self).id
        res = try await send(.POST, "/api/v1/requests/\(id)/accept", token: try await token("admin"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        for _ in 0..<CallbackSchedule.maxAttempts {
            _ = try await WorkOrders.deliverDue(app: app, timeout: .seconds(1))
            app.clock.set(app.clock.now.addingTimeInterval(3_601))
        }
        let rows = try await send(.GET, "/api/v1/system-clients/\(c.id)/deliveries", token: try await token("admin")).content.decode(Paged<WorkOrders.DeliveryRow>.self)
        let failed = try XCTUnwrap(rows.items.first)
        XCTAssertEqual(failed.status, "failed")
        XCTAssertEqual(failed.attempts, CallbackSchedule.maxAttempts)

        // The page shows it with a resend button; resent, it is due again.
        var browser = BrowserSession(self)
        try await browser.signIn("admin")
        var page = try await browser.get("/admin/system-clients/\(c.id)")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.body.string.contains("推送失败") && page.body.string.contains("重新推送"))
        page = try await browser.post("/admin/system-clients/\(c.id)/deliveries/\(failed.id)/resend", [])
        XCTAssertEqual(page.status, .seeOther, page.body.string)
        let again = try await sql.raw("SELECT status, attempts FROM work_order_callbacks WHERE id = \(bind: failed.id)").first()
        XCTAssertEqual(try again?.decode(column: "status", as: String.self), "pending")
        XCTAssertEqual(try again?.decode(column: "attempts", as: Int.self), 0)

        // Registering on the page shows the secret once, on that answer only.
        page = try await browser.post("/admin/system-clients", [("name", "示范市信访信息系统"), ("scopes[]", "submit:referral"), ("rateLimit", "120")])
        XCTAssertEqual(page.status, .created, page.body.string)
        XCTAssertTrue(page.body.string.contains("只显示这一次") && page.body.string.contains("client_secret"))
        page = try await browser.get("/admin/system-clients")
        XCTAssertFalse(page.body.string.contains("只显示这一次"))
        XCTAssertTrue(page.body.string.contains("示范市信访信息系统"))
        page = try await browser.post("/admin/system-clients", [("name", ""), ("rateLimit", "5")])
        XCTAssertEqual(page.status, .unprocessableEntity)
        XCTAssertTrue(page.body.string.contains("请至少授予一项权限"))
        // Not for others.
        var clerk = BrowserSession(self)
        try await clerk.signIn("county-admin")
        page = try await clerk.get("/admin/system-clients")
        XCTAssertEqual(page.status, .forbidden)
    }
}

extension LinkageTests {
    /// Item 3, outbound: a matter our operator transfers to 12345 goes to 12345's system, signed; the system refuses it
    /// (back in our queue, the operator told) or accepts it with its own reference, once.
    func testATransferTo12345GoesToItsSystemWhichAcceptsOrRefusesIt() async throws {
        let stub = try await SmsOutboxTests.Stub(script: [.serviceUnavailable], route: "intake12345")
        defer { Task { try? await stub.stop() } }
        let admin = try await token("admin")
        let url = "http://127.0.0.1:\(stub.port)/intake12345"
        var res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable("示范市 12345 热线"), "scopes": AnyEncodable(["receive:12345"])])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["transferUrl"], "a receiving system needs its address")
        res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable("示范市 12345 热线"),
                                                                               "scopes": AnyEncodable(["receive:12345", "submit:transfer_12345"]), "transferUrl": AnyEncodable(url)])
        XCTAssertEqual(res.status, .created, res.body.string)
        let c = try res.content.decode(Credentials.self)
        res = try await send(.POST, "/api/v1/system-clients", token: admin, json: ["name": AnyEncodable("另一个"), "scopes": AnyEncodable(["receive:12345"]),
                                                                               "transferUrl": AnyEncodable(url)])
        XCTAssertTrue(try errorBody(res).fields["scopes"]?.contains("示范市 12345 热线") == true, "one receiver per target")
        let police = try await register("示范市 110 指挥中心", scopes: ["submit:transfer_110"], token: admin)
        let system = try await clientToken(c)

        // A caller's matter, taken on the hotline and transferred to 12345.
        let op = try await token("operator")
        res = try await send(.POST, "/api/v1/requests", token: op, json: [
            "matterType": AnyEncodable("consultation"), "category": AnyEncodable("labor"), "channel": AnyEncodable("hotline"),
            "description": AnyEncodable("小区门口占道经营，噪音扰民"), "applicant": AnyEncodable(["name": "钱国庆", "mobile": "13955570001"]),
            "regionCode": AnyEncodable(village.code.rawValue)])
        XCTAssertEqual(res.status, .created, res.body.string)
        let r = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(r.status, "accepted", "taken on the call")
        func transfer() async throws {
            let res = try await send(.POST, "/api/v1/requests/\(r.id)/transfer", token: op,
                                     json: RequestActions.Input(reason: "属于城市管理事项", target: "12345"))
            XCTAssertEqual(res.status, .ok, res.body.string)
        }
        try await transfer()
        // The first attempt is refused (503), the second reaches it, signed, with what 12345 needs to act.
        var delivered = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(delivered, 0)
        app.clock.set(app.clock.now.addingTimeInterval(11))
        delivered = try await WorkOrders.deliverDue(app: app)
        XCTAssertEqual(delivered, 1)
        let got = try XCTUnwrap(stub.received.withLockedValue { $0 }.last)
        let expected = HMAC<SHA256>.authenticationCode(for: Data(got.body.utf8), using: SymmetricKey(data: Data(c.clientSecret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(got.headers.first(name: "X-PLS-Signature"), expected)
        let sent = try JSONDecoder().decode([String: AnyDecodable].self, from: Data(got.body.utf8))
        XCTAssertEqual(sent["kind"]?.value as? String, "transfer")
        XCTAssertEqual(sent["number"]?.value as? String, r.number)
        XCTAssertEqual(sent["applicantMobile"]?.value as? String, "13955570001")
        XCTAssertTrue((sent["reason"]?.value as? String)?.contains("城市管理") == true)
        // Sealed at rest: the number is not in the stored body.
        let stored = try await sql.raw("SELECT body FROM work_order_callbacks").all().map { try $0.decode(column: "body", as: String.self) }
        XCTAssertFalse(stored.contains { $0.contains("13955570001") })

        // Refused, with a reason: back in our queue, the operator told.
        res = try await send(.POST, "/api/v1/transfers/\(r.number)/answer", token: system, json: ["accepted": AnyEncodable(false)])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["reason"])
        res = try await send(.POST, "/api/v1/transfers/\(r.number)/answer", token: try await clientToken(police),
                             json: ["accepted": AnyEncodable(false), "reason": AnyEncodable("x")])
        XCTAssertEqual(res.status, .forbidden, "a system without the scope is not let in")
        res = try await send(.POST, "/api/v1/transfers/\(r.number)/answer", token: system,
                             json: ["accepted": AnyEncodable(false), "reason": AnyEncodable("诉求涉及劳动报酬，请 12348 先行解答")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(OutboundTransfers.Answer.self).status, "accepted")
        res = try await send(.POST, "/api/v1/transfers/\(r.number)/answer", token: system, json: ["accepted": AnyEncodable(true)])
        XCTAssertEqual(res.status, .conflict, "answered once")
        var detail = try await send(.GET, "/api/v1/requests/\(r.id)", token: op).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.status, "accepted")
        XCTAssertNil(detail.transferTarget)
        XCTAssertTrue(detail.timeline.contains { $0.action == "take_back" && ($0.note ?? "").contains("请 12348 先行解答") })
        let told = try await sql.raw("""
            SELECT COUNT(*) AS n FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE a.username = 'operator' AND n.text LIKE '%退回%'
            """).first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(told, 1)

        // Transferred again and accepted with 12345's own reference.
        try await transfer()
        res = try await send(.POST, "/api/v1/transfers/\(r.number)/answer", token: system,
                             json: ["accepted": AnyEncodable(true), "reference": AnyEncodable("GD20260302-0456")])
        XCTAssertEqual(res.status, .ok, res.body.string)
        detail = try await send(.GET, "/api/v1/requests/\(r.id)", token: op).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.status, "transferred")
        XCTAssertEqual(detail.transferReference, "GD20260302-0456")
        XCTAssertTrue(detail.timeline.contains { $0.action == "transfer.accepted" })
        var browser = BrowserSession(self)
        try await browser.signIn("operator")
        let page = try await browser.get("/work/\(r.id)")
        XCTAssertTrue(page.body.string.contains("对方已接收") && page.body.string.contains("对方已退回") && page.body.string.contains("对方接收转办"))
        // Unknown numbers are not found.
        res = try await send(.POST, "/api/v1/transfers/FW-none/answer", token: system, json: ["accepted": AnyEncodable(true)])
        XCTAssertEqual(res.status, .notFound)
    }
}

extension LinkageTests {
    /// The sender's deadline is watched like our own: reminded the working day before, then overdue.
    func testTheSendersDeadlineIsWatched() async throws {
        let c = try await register("示范市 12345 政务服务便民热线", scopes: ["submit:transfer_12345"], token: try await token("admin"))
        let res = try await workOrder("GD-DUE-1", callback: nil, token: try await clientToken(c))
        XCTAssertEqual(res.status, .created, res.body.string)
        let id = try res.content.decode(RequestViews.Detail.self).id
        func levels() async throws -> [String] {
            try await sql.raw("SELECT level FROM deadline_notices WHERE subject_id = \(bind: id) AND step = 'work_order.due' ORDER BY level")
                .all().map { try $0.decode(column: "level", as: String.self) }
        }
        try await Deadlines.scan(app: app)
        var seen = try await levels()
        XCTAssertEqual(seen, [], "due 9 March, a week away")
        app.clock.set(Date(timeIntervalSince1970: 1_772_762_400))  // Friday 6 March: the working day before
        try await Deadlines.scan(app: app)
        seen = try await levels()
        XCTAssertEqual(seen.count, 1)
        app.clock.set(Date(timeIntervalSince1970: 1_773_194_400))  // Wednesday 11 March
        try await Deadlines.scan(app: app)
        seen = try await levels()
        XCTAssertGreaterThan(seen.count, 1, "overdue, then escalated")
    }
}

extension LinkageTests {
    /// A sender that answers too late: not taken as acknowledged, tried again; the notice carries its sequence, so the
    /// sender sees the repeat for what it is, and the next notice still waits its turn.
    func testASenderThatAnswersLateIsToldAgainInOrder() async throws {
        let stub = try await SmsOutboxTests.Stub(script: [], route: "late12345", delay: .milliseconds(1_500))
        defer { Task { try? await stub.stop() } }
        let c = try await register("示范市 12345 政务服务便民热线", scopes: ["submit:transfer_12345"], token: try await token("admin"))
        var res = try await workOrder("GD-LATE-1", callback: "http://127.0.0.1:\(stub.port)/late12345", token: try await clientToken(c))
        let id = try res.content.decode(RequestViews.Detail.self).id
        let op = try await token("operator")
        res = try await send(.POST, "/api/v1/requests/\(id)/accept", token: op)
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/requests/\(id)/conclude", token: op, json: RequestActions.Input(outcome: "answered", summary: "已解答"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        var acknowledged = try await WorkOrders.deliverDue(app: app, timeout: .milliseconds(500))
        XCTAssertEqual(acknowledged, 0, "too late is not an answer")
        let pending = try await sql.raw("SELECT sequence, status, attempts FROM work_order_callbacks ORDER BY sequence").all()
        XCTAssertEqual(try pending.map { try $0.decode(column: "status", as: String.self) }, ["pending", "pending"])
        XCTAssertEqual(try pending.first?.decode(column: "attempts", as: Int.self), 1)
        XCTAssertEqual(try pending.last?.decode(column: "attempts", as: Int.self), 0, "the second waits for the first")
        app.clock.set(app.clock.now.addingTimeInterval(11))
        acknowledged = try await WorkOrders.deliverDue(app: app, timeout: .seconds(5))
        acknowledged += try await WorkOrders.deliverDue(app: app, timeout: .seconds(5))
        XCTAssertEqual(acknowledged, 2)
        try await Task.sleep(for: .milliseconds(1_600))
        let sequences = try stub.received.withLockedValue { $0 }.map {
            try JSONDecoder().decode([String: AnyDecodable].self, from: Data($0.body.utf8))["sequence"]?.value as? Int
        }
        XCTAssertEqual(sequences, [1, 1, 2], "the first twice (the late answer, then again), then the second")
    }
}

/// A JSON value of any type, for reading what a stub was sent.
struct AnyDecodable: Decodable {
    let value: Any
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { value = i }
        else if let s = try? c.decode(String.self) { value = s }
        else if let b = try? c.decode(Bool.self) { value = b }
        else if let d = try? c.decode(Double.self) { value = d }
        else { value = NSNull() }
    }
}
