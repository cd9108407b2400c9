import XCTVapor
import SQLKit
import Fluent
import Crypto
import NIOConcurrencyHelpers
import PLSDomain
@testable import PLSApp

/// Issue #21, item 4: SMS through the outbox to a real provider, tested against stubs on loopback that check the
/// signatures and fail on purpose.
final class SmsOutboxTests: AppTestCase {
    /// A provider stub: records what it was sent, answers from `script` in turn (then 200), checks what it is told to.
    final class Stub: @unchecked Sendable {
        let app: Application
        let received = NIOLockedValueBox<[(headers: HTTPHeaders, body: String)]>([])
        let script: NIOLockedValueBox<[HTTPStatus]>
        var port: Int { app.http.server.shared.localAddress?.port ?? 0 }

        init(script: [HTTPStatus], route: String, delay: Duration = .zero,
             answer: @escaping @Sendable (HTTPStatus) -> String = { _ in "{}" }) async throws {
            app = try await Application.make(.testing)
            app.logger.logLevel = .critical
            self.script = NIOLockedValueBox(script)
            let received = self.received, script = self.script
            app.post(PathComponent(stringLiteral: route)) { req async -> Response in
                received.withLockedValue { $0.append((req.headers, req.body.string ?? "")) }
                if delay > .zero { try? await Task.sleep(for: delay) }
                let status = script.withLockedValue { $0.isEmpty ? .ok : $0.removeFirst() }
                return Response(status: status, body: .init(string: answer(status)))
            }
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        }

        func stop() async throws {
            await app.server.shutdown()
            try await app.asyncShutdown()
        }
    }

    func sendCode(_ mobile: String) async throws {
        let res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        XCTAssertEqual(res.status, .accepted, res.body.string)
    }

    func testTheWebhookGetsEachMessageSignedAndRetriedUntilAccepted() async throws {
        let stub = try await Stub(script: [.internalServerError, .tooManyRequests], route: "sms")
        defer { Task { try? await stub.stop() } }
        let secret = "a-shared-secret-of-the-province"
        app.smsProvider = try SmsOutbox.provider(from: ["PLS_SMS_PROVIDER": "webhook", "PLS_SMS_WEBHOOK_URL": "http://127.0.0.1:\(stub.port)/sms",
                                                        "PLS_SMS_WEBHOOK_SECRET": secret], app: app)
        try await sendCode("13912345678")
        let start = app.clock.now
        // Written in the request's transaction, delivered after: nothing has gone yet.
        XCTAssertEqual(stub.received.withLockedValue { $0.count }, 0)
        var accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(accepted, 0, "the stub answered 500")
        var row = try await SmsMessage.query(on: app.db).first()!
        XCTAssertEqual(row.status, "pending")
        XCTAssertEqual(row.attempts, 1)
        XCTAssertEqual(row.lastError, "网关答复 500")
        // Not due again before the backoff has passed.
        accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(stub.received.withLockedValue { $0.count }, 1)
        app.clock.set(start.addingTimeInterval(11))
        accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(accepted, 0, "429: a rate limit, retried")
        app.clock.set(start.addingTimeInterval(11 + 21))
        accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(accepted, 1)
        row = try await SmsMessage.query(on: app.db).first()!
        XCTAssertEqual(row.status, "sent")
        XCTAssertEqual(row.attempts, 3)
        // Each attempt: the same id, the JSON the contract names, signed with the shared secret.
        let got = stub.received.withLockedValue { $0 }
        XCTAssertEqual(got.count, 3)
        var ids = Set<String>()
        for attempt in got {
            let signature = attempt.headers.first(name: "X-PLS-Signature") ?? ""
            let expected = HMAC<SHA256>.authenticationCode(for: Data(attempt.body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(signature, expected)
            let body = try JSONDecoder().decode([String: String].self, from: Data(attempt.body.utf8))
            XCTAssertEqual(body["mobile"], "13912345678")
            XCTAssertTrue(body["text"]?.hasPrefix("【示范市公共法律服务】您的登录验证码为") == true)
            ids.insert(body["id"] ?? "")
        }
        XCTAssertEqual(ids, [row.id!.uuidString.lowercased()], "one id across retries, for the receiver to drop duplicates")
        // Sent is sent: never again.
        app.clock.set(start.addingTimeInterval(7_200))
        accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(stub.received.withLockedValue { $0.count }, 3)

        // Administrators see how it stands; others may not.
        let res = try await send(.GET, "/api/v1/sms-outbox?status=sent", token: try await token("admin"))
        let page = try res.content.decode(Paged<SmsOutbox.Item>.self)
        XCTAssertEqual(page.items.map(\.mobile), ["139****5678"])
        let refused = try await send(.GET, "/api/v1/sms-outbox", token: try await token("operator"))
        XCTAssertEqual(refused.status, .forbidden)
    }

    func testARefusedNumberIsGivenUpAndAStoppedSendIsResumedUnderTheSameId() async throws {
        let stub = try await Stub(script: [.badRequest], route: "sms")
        defer { Task { try? await stub.stop() } }
        app.smsProvider = try SmsOutbox.provider(from: ["PLS_SMS_PROVIDER": "webhook", "PLS_SMS_WEBHOOK_URL": "http://127.0.0.1:\(stub.port)/sms",
                                                        "PLS_SMS_WEBHOOK_SECRET": "s"], app: app)
        try await sendCode("13912345670")
        _ = try await SmsOutbox.deliverDue(app: app)
        let refused = try await SmsMessage.query(on: app.db).first()!
        XCTAssertEqual(refused.status, "failed", "400: this message will never pass")

        // A process that stopped after claiming a message leaves it "sending": once the lease ends it goes again.
        try await sendCode("13912345671")
        let second = try await SmsMessage.query(on: app.db).filter(\.$status == "pending").first()!
        try await sql.update(SmsMessage.schema).set("status", to: "sending").set("next_attempt_at", to: SQLBind(app.clock.now.addingTimeInterval(60)))
            .where("id", .equal, second.id!).run()
        let leased = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(leased, 0, "leased")
        app.clock.set(app.clock.now.addingTimeInterval(61))
        let resumed = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(resumed, 1)
        let ids = try stub.received.withLockedValue { try $0.map { try JSONDecoder().decode([String: String].self, from: Data($0.body.utf8))["id"] } }
        XCTAssertEqual(ids.last, second.id!.uuidString.lowercased())
    }

    func testAProviderThatDoesNotAnswerIsTriedAgainLater() async throws {
        // The stub holds every request for two seconds; the provider waits one.
        let stub = try await Stub(script: [], route: "slow", delay: .seconds(2))
        defer { Task { try? await stub.stop() } }
        app.smsProvider = WebhookSmsProvider(url: URI(string: "http://127.0.0.1:\(stub.port)/slow"), secret: SymmetricKey(data: Data("s".utf8)),
                                             client: app.client, timeout: .seconds(1))
        try await sendCode("13912345672")
        let started = ContinuousClock.now
        let accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(accepted, 0)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "not held by the provider")
        let row = try await SmsMessage.query(on: app.db).first()!
        XCTAssertEqual(row.status, "pending", "a timeout is tried again")
        XCTAssertTrue(row.lastError?.hasPrefix("网关不可达") == true, row.lastError ?? "")
    }

    func testAlibabaCloudSendSmsIsSignedAsTheServiceRequires() async throws {
        // The signature of Alibaba Cloud's documented example (RPC signature 1.0).
        let example = AliyunSmsProvider.signed([
            "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z",
            "Version": "2014-05-26"], secret: "testsecret", method: "GET")
        XCTAssertEqual(example["Signature"], "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")

        let stub = try await Stub(script: [.ok, .ok], route: "aliyun") { _ in "{\"Code\":\"OK\",\"Message\":\"OK\"}" }
        defer { Task { try? await stub.stop() } }
        app.smsProvider = try SmsOutbox.provider(from: [
            "PLS_SMS_PROVIDER": "aliyun", "PLS_SMS_ALIYUN_ACCESS_KEY_ID": "id", "PLS_SMS_ALIYUN_ACCESS_KEY_SECRET": "secret",
            "PLS_SMS_ALIYUN_SIGN_NAME": "示范市公共法律服务", "PLS_SMS_ALIYUN_TEMPLATE_CODE": "SMS_0001",
            "PLS_SMS_ALIYUN_ENDPOINT": "http://127.0.0.1:\(stub.port)/aliyun"], app: app)
        try await sendCode("13912345679")
        let accepted = try await SmsOutbox.deliverDue(app: app)
        XCTAssertEqual(accepted, 1)
        let form = stub.received.withLockedValue { $0[0].body }
        var fields: [String: String] = [:]
        for pair in form.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            fields[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        XCTAssertEqual(fields["Action"], "SendSms")
        XCTAssertEqual(fields["PhoneNumbers"], "13912345679")
        XCTAssertEqual(fields["SignName"], "示范市公共法律服务")
        XCTAssertTrue(fields["TemplateParam"]?.contains("您的登录验证码为") == true)
        XCTAssertFalse(fields["TemplateParam"]?.contains("【") == true, "the provider signs: no 【…】 in the text")
        var unsigned = fields
        let signature = unsigned.removeValue(forKey: "Signature")
        XCTAssertEqual(AliyunSmsProvider.signed(unsigned, secret: "secret")["Signature"], signature)

        // A misconfigured provider refuses to start, naming what is missing.
        XCTAssertThrowsError(try SmsOutbox.provider(from: ["PLS_SMS_PROVIDER": "webhook"], app: app)) {
            XCTAssertTrue(($0 as? AppError)?.message.contains("PLS_SMS_WEBHOOK_URL") == true)
        }
    }
}

/// Issue #21, item 5: /metrics only for the machine itself or a scraper showing the token.
final class MetricsTests: AppTestCase {
    func testMetricsAreForTheMachineOrTheTokenOnly() async throws {
        // In-process requests come from no address: not the machine's own.
        var res = try await send(.GET, "/metrics")
        XCTAssertEqual(res.status, .forbidden)
        setenv("PLS_METRICS_TOKEN", "scrape-token-1", 1)
        defer { unsetenv("PLS_METRICS_TOKEN") }
        res = try await send(.GET, "/metrics", token: "wrong")
        XCTAssertEqual(res.status, .forbidden)
        _ = try await send(.GET, "/api/v1/catalog")
        res = try await send(.GET, "/metrics", token: "scrape-token-1")
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains(#"http_requests_total{route="/api/v1/catalog",method="GET",status="200"} 1"#), res.body.string)
        XCTAssertTrue(res.body.string.contains("http_request_duration_seconds_bucket"))
        XCTAssertTrue(res.body.string.contains("calendar_missing_years_count"))
    }
}

/// Issue #21, item 3: deadlines are never computed silently without holidays.
final class CalendarCoverageTests: AppTestCase {
    func testAMissingYearShowsOnReadyzAndOnEveryStaffPageUntilItIsAdded() async throws {
        app.clock.set(Date(timeIntervalSince1970: 1_796_544_000))  // 2026-12-06, with 2027's holidays not yet entered
        var res = try await send(.GET, "/readyz")
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("节假日安排缺少 2027 年"), res.body.string)
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        let staffPage = try await browser.get("/work")
        XCTAssertTrue(staffPage.body.string.contains("class=\"calendar-warning\""))
        let publicPage = try await send(.GET, "/")
        XCTAssertFalse(publicPage.body.string.contains("calendar-warning"), "the public does not see it")
        let day = { (s: String) in CivilDate(s)! }
        res = try await send(.PUT, "/api/v1/calendar/2027", token: try await token("admin"), json: CalendarStore.YearInput(
            source: "国办发明电〔2026〕号", holidays: [day("2027-01-01"), day("2027-02-06")], makeupWorkdays: [day("2027-01-31")]))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.GET, "/readyz")
        XCTAssertEqual(res.body.string, #"{"status":"ready"}"#)
        let after = try await browser.get("/work")
        XCTAssertFalse(after.body.string.contains("class=\"calendar-warning\""))
        // The change is an administrative act on the record.
        let log = try await send(.GET, "/api/v1/audit-log?action=calendar.year", token: try await token("auditor"))
        XCTAssertEqual(try log.content.decode(Paged<AuditLog.Item>.self).items.first?.target, "2027 年节假日安排")
    }
}
