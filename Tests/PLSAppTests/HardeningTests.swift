import XCTVapor
import Fluent
import SQLKit
import FluentPostgresDriver
import NIOConcurrencyHelpers
import PLSDomain
@testable import PLSApp

/// What an attacker tried (issue #17): requests that ended the process, work done before anyone is known,
/// brute force by concurrency, personal data left readable. Each test is one of those attempts.
final class HardeningTests: AppTestCase {
    /// A JSON post from a task of its own (the test case itself is not sendable).
    static func post(_ app: Application, _ path: String, _ json: [String: String]) async throws -> HTTPStatus {
        try await app.testable().sendRequest(.POST, path, headers: [:]) { req async throws in
            try req.content.encode(json, as: .json)
        }.status
    }

    func citizenToken() async throws -> String {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    // MARK: One request must not end the process

    func testAPageNumberThatWouldOverflowIs422AndTheServerGoesOn() async throws {
        let citizen = try await citizenToken()
        var res = try await send(.GET, "/api/v1/requests?page=9223372036854775807", token: citizen)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["page"])
        let admin = try await token("admin")
        for path in ["/api/v1/regions", "/api/v1/institutions", "/api/v1/practitioners", "/api/v1/accounts", "/api/v1/notifications",
                     "/api/v1/legal-aid/roster", "/api/v1/village-advisers/services", "/api/v1/rosters/legal_understander"] {
            res = try await send(.GET, path + "?page=9223372036854775807&per=100", token: admin)
            XCTAssertEqual(res.status, .unprocessableEntity, path)
            res = try await send(.GET, path + "?per=0", token: admin)
            XCTAssertEqual(res.status, .unprocessableEntity, path)
        }
        res = try await send(.GET, "/api/v1/requests?page=2&per=5", token: citizen)
        XCTAssertEqual(res.status, .ok)
    }

    func testQueryParametersOutsideWhatTheDocumentDeclaresAre422() async throws {
        let admin = try await token("admin")
        for (query, field) in [("per=1000", "per"), ("status=bogus", "status"), ("overdue=maybe", "overdue"), ("page=abc", "page")] {
            let res = try await send(.GET, "/api/v1/requests?" + query, token: admin)
            XCTAssertEqual(res.status, .unprocessableEntity, query)
            XCTAssertNotNil(try errorBody(res).fields[field], query)
        }
        var res = try await send(.GET, "/api/v1/indicators?year=99999", token: admin)
        XCTAssertEqual(res.status, .unprocessableEntity)
        res = try await send(.GET, "/api/v1/requests?status=submitted&overdue=false", token: admin)
        XCTAssertEqual(res.status, .ok)
    }

    /// The multipart parser indexed a 128-entry table with each byte of a part's header name.
    static let nonASCIIHeaderName: [UInt8] = Array("--X\r\n".utf8) + [0xC3, 0xA9] + Array(": x\r\n\r\nv\r\n--X--\r\n".utf8)

    func testANonASCIIMultipartHeaderNameIsRefusedAnonymouslyAndSignedIn() async throws {
        // Anonymous, at the sign-in form: refused before the body is read (no token), the process goes on.
        var res = try await upload(Self.nonASCIIHeaderName, as: "multipart/form-data; boundary=X", to: "/login", token: "")
        XCTAssertTrue((400..<500).contains(res.status.code), "\(res.status)")
        // Signed in, where a multipart body is read: 400, not a trap.
        let citizen = try await citizenToken()
        let number = try await myRequest(citizen)
        res = try await upload(Self.nonASCIIHeaderName, as: "multipart/form-data; boundary=X", to: "/api/v1/requests/\(number)/attachments", token: citizen)
        XCTAssertEqual(res.status, .badRequest)
        XCTAssertEqual(try errorBody(res).code, "invalid_multipart")
        // A closing delimiter inside a part's body (no line break before it) is data to the parser, which reads on
        // into the next part: the check must too (it stopped there once, and the next part's header trapped).
        let smuggled: [UInt8] = Array("--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx--X--\r\n--X\r\n".utf8) + [0x80]
            + Array(": y\r\n\r\nz\r\n--X--\r\n".utf8)
        for path in ["/api/v1/requests/\(number)/attachments", "/api/v1/auth/login"] {
            res = try await upload(smuggled, as: "multipart/form-data; boundary=X", to: path, token: citizen)
            XCTAssertEqual(res.status, .badRequest, path)
        }
        res = try await upload(Array("---X--\r\n--X\r\n".utf8) + [0xC3, 0xA9] + Array(": y\r\n\r\nz\r\n--X--\r\n".utf8),
                               as: "multipart/form-data; boundary=X", to: "/api/v1/auth/login", token: "")
        XCTAssertEqual(res.status, .badRequest, "a preamble that looks like a closing delimiter")
        // Malformed in other ways: cut short, no boundary, an empty header name.
        for (body, type) in [("--X\r\nContent-Disposition: form-data; name=\"file\"", "multipart/form-data; boundary=X"),
                             ("--X\r\n\r\nv\r\n--X--\r\n", "multipart/form-data"),
                             ("--X\r\n: v\r\n\r\nv\r\n--X--\r\n", "multipart/form-data; boundary=X")] {
            res = try await upload(Array(body.utf8), as: type, to: "/api/v1/requests/\(number)/attachments", token: citizen)
            XCTAssertEqual(res.status, .badRequest, body)
        }
        res = try await send(.GET, "/healthz")
        XCTAssertEqual(res.status, .ok)
    }

    func testUploadsAreRefusedBeforeTheirBodyIsReadWhenNobodyIsSignedIn() async throws {
        let big = [UInt8](repeating: 0x41, count: 3 << 20)
        var res = try await upload(big, as: "multipart/form-data; boundary=X", to: "/api/v1/requests/x/attachments", token: "")
        XCTAssertEqual(res.status, .unauthorized)
        res = try await upload(big, as: "text/csv", to: "/api/v1/regions/import", token: "")
        XCTAssertEqual(res.status, .unauthorized)
    }

    func myRequest(_ citizen: String) async throws -> String {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let res = try await send(.POST, "/api/v1/requests", token: citizen, json: Intake.Input(
            matterType: "consultation", category: "other", description: "咨询", applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile),
            regionCode: village))
        XCTAssertEqual(res.status, .created, res.body.string)
        return try res.content.decode(RequestViews.Detail.self).number
    }

    // MARK: Sign-in that holds

    func testThirtyParallelWrongPasswordsThenTheRightOneDoNotSignIn() async throws {
        // The database's count alone, without the per-address rate limit in front of it.
        app.rateLimiter = RateLimiter(limits: [:])
        let app: Application = self.app
        let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
            for i in 0..<30 {
                group.addTask { try await Self.post(app, "/api/v1/auth/login", ["username": "operator", "password": "wrong-\(i)x"]) }
            }
            return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
        }
        // Only the five tries of the limit reach the password check; the rest are turned away.
        XCTAssertLessThanOrEqual(statuses.filter { $0 == .unauthorized }.count, 4)
        XCTAssertEqual(statuses.filter { $0 == .tooManyRequests }.count, 30 - statuses.filter { $0 == .unauthorized }.count)
        let res = try await send(.POST, "/api/v1/auth/login", json: ["username": "operator", "password": DemoCity.password])
        XCTAssertEqual(res.status, .tooManyRequests)
        XCTAssertEqual(try errorBody(res).code, "account_locked")
        XCTAssertNotNil(res.headers.first(name: .retryAfter))
    }

    func testWrongPasswordsFromOneAddressDoNotLockTheAccountElsewhere() async throws {
        // The test requests have no peer address; believe the forwarded one, as behind a trusted proxy.
        app.settings.trustedProxies = ["unknown"]
        for i in 1...6 {
            _ = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": "wrong-\(i)x"], headers: ["X-Forwarded-For": "203.0.113.9"])
        }
        var res = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": DemoCity.password], headers: ["X-Forwarded-For": "203.0.113.9"])
        XCTAssertEqual(res.status, .tooManyRequests, "the attacker's address is locked out")
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": DemoCity.password], headers: ["X-Forwarded-For": "198.51.100.7"])
        XCTAssertEqual(res.status, .ok, "the administrator at their own desk is not")
        // Repeated locks grow longer: the second lock of the same address outlasts the first's fifteen minutes.
        app.clock.set(Date().addingTimeInterval(16 * 60))
        for i in 1...5 {
            _ = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": "again-\(i)x"], headers: ["X-Forwarded-For": "203.0.113.9"])
        }
        app.clock.set(Date().addingTimeInterval(16 * 60 + 20 * 60))
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": DemoCity.password], headers: ["X-Forwarded-For": "203.0.113.9"])
        XCTAssertEqual(res.status, .tooManyRequests)
    }

    func testAdministratorsSeeALockAndANewPasswordClearsIt() async throws {
        for i in 1...5 { _ = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": "wrong-\(i)x"]) }
        let admin = try await token("admin")
        var res = try await send(.GET, "/api/v1/accounts?q=clerk", token: admin)
        let row = try XCTUnwrap(try res.content.decode(Paged<AccountController.Row>.self).items.first { $0.username == "clerk" })
        XCTAssertTrue(row.locked, "the account list shows the lock")
        let found = try await Account.find(row.id, on: app.db)
        let current = try XCTUnwrap(found)
        res = try await send(.PUT, "/api/v1/accounts/\(row.id)", token: admin, json: AccountController.Input(
            username: "clerk", displayName: current.displayName, role: current.role, regionCode: current.regionCode,
            institutionId: current.institutionID, practitionerId: current.practitionerID, password: "Reset-pass-2026"))
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": "Reset-pass-2026"])
        XCTAssertEqual(res.status, .ok, "a new password from an administrator opens the account")
    }

    func testAFullCountNobodyAnsweredDoesNotLockForEver() async throws {
        // As if the try that reached the limit had failed with an error before it could lock or clear the key.
        _ = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": "wrong-1x"])
        try await sql.raw("UPDATE sign_in_attempts SET failures = \(bind: SignInAttempts.throttle.maxFailures), locked_until = NULL").run()
        var res = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": DemoCity.password])
        XCTAssertEqual(res.status, .tooManyRequests, "while the tries may still be answered")
        app.clock.set(Date().addingTimeInterval(SignInAttempts.staleAfter + 60))
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": DemoCity.password])
        XCTAssertEqual(res.status, .ok)
    }

    func testAnUnknownUsernameIsAnsweredAndLockedExactlyAsAKnownOne() async throws {
        var known: [HTTPStatus] = [], unknown: [HTTPStatus] = []
        for i in 1...6 {
            known.append(try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": "wrong-\(i)x"]).status)
            unknown.append(try await send(.POST, "/api/v1/auth/login", json: ["username": "no-such-clerk", "password": "wrong-\(i)x"]).status)
        }
        XCTAssertEqual(known, unknown)
        XCTAssertEqual(known.last, .tooManyRequests)
    }

    /// Session fixation: a session id the browser carried before signing in is never the signed-in one.
    func testSigningInGivesANewSessionIdAndEndsTheOldOne() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        let first = try XCTUnwrap(browser.cookies["pls-session"])
        // Signing in again (another account on the same browser, or an id planted before): a new id.
        try await browser.signIn("operator")
        let second = try XCTUnwrap(browser.cookies["pls-session"])
        XCTAssertNotEqual(first, second)
        var planted = BrowserSession(self)
        planted.cookies["pls-session"] = first
        let res = try await planted.get("/admin")
        XCTAssertNotEqual(res.status, .ok, "the old id is no longer a session")
        let ok = try await browser.get("/admin")
        XCTAssertEqual(ok.status, .ok)
    }

    func testAPasswordChangeEndsEveryOtherTokenAndSession() async throws {
        let first = try await token("clerk"), second = try await token("clerk")
        var browser = BrowserSession(self)
        try await browser.signIn("clerk")
        do { let status = try await browser.get("/work").status; XCTAssertEqual(status, .ok) }
        var res = try await send(.POST, "/api/v1/me/password", token: first, json: ["currentPassword": DemoCity.password, "newPassword": "Another-pass-2026"])
        XCTAssertEqual(res.status, .noContent, res.body.string)
        res = try await send(.GET, "/api/v1/me", token: second)
        XCTAssertEqual(res.status, .unauthorized, "the other token ended")
        res = try await send(.GET, "/api/v1/me", token: first)
        XCTAssertEqual(res.status, .ok, "the token that made the change goes on")
        let page = try await browser.get("/work")
        XCTAssertEqual(page.status, .seeOther, "the browser session signed in before the change ended")
    }

    func testWrongCurrentPasswordsAreThrottled() async throws {
        let clerk = try await token("clerk")
        var last: HTTPStatus = .ok
        for i in 1...6 {
            last = try await send(.POST, "/api/v1/me/password", token: clerk, json: ["currentPassword": "guess-\(i)x", "newPassword": "Another-pass-2026"]).status
        }
        XCTAssertEqual(last, .tooManyRequests)
    }

    func testSmsCodeGuessesAreCountedBeforeTheyAreCompared() async throws {
        app.rateLimiter = RateLimiter(limits: [:])
        let mobile = "13912340000"
        do { let status = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile]).status; XCTAssertEqual(status, .accepted) }
        let message = try await SmsMessage.query(on: app.db).sort(\.$createdAt, .descending).first()!
        let code = String(try app.personalData.open(message.text).filter(\.isNumber).prefix(6))
        let wrong = code == "000000" ? "111111" : "000000"
        let app: Application = self.app
        _ = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
            for _ in 0..<20 { group.addTask { try await Self.post(app, "/api/v1/auth/citizen-login", ["mobile": mobile, "code": wrong]) } }
            return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
        }
        let attempts = try await OneTimeCode.query(on: app.db).first()!.attempts
        XCTAssertEqual(attempts, AuthController.codeMaxAttempts, "no burst counts past the limit")
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": code])
        XCTAssertEqual(res.status, .tooManyRequests, "the right code after the limit is refused")
    }

    func testCodesAreCappedPerNumberAndPerAddress() async throws {
        // Per address: the sixth code within ten minutes is refused, whatever the number.
        for i in 0..<5 {
            do { let status = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": "1391234000\(i)"]).status; XCTAssertEqual(status, .accepted) }
        }
        var res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": "13912340009"])
        XCTAssertEqual(res.status, .tooManyRequests)
        XCTAssertEqual(try errorBody(res).code, "rate_limited")
        XCTAssertNotNil(res.headers.first(name: .retryAfter))
        // Per number: ten a day, even a minute apart and from many addresses.
        app.rateLimiter = RateLimiter(limits: [:])
        var start = Date()
        for _ in 0..<9 {
            start = start.addingTimeInterval(61)
            app.clock.set(start)
            do { let status = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": "13912340000"]).status; XCTAssertEqual(status, .accepted) }
        }
        app.clock.set(start.addingTimeInterval(61))
        res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": "13912340000"])
        XCTAssertEqual(try errorBody(res).code, "code_daily_limit")
    }

    /// An IPv6 subscriber holds a whole /64: limits count the network, not each address in it.
    func testLimitsCountAnIPv6CallerByItsNetwork() {
        XCTAssertEqual(Request.counted("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64")
        XCTAssertEqual(Request.counted("2001:0db8:0001:0002:ffff::1"), "2001:db8:1:2::/64")
        XCTAssertNotEqual(Request.counted("2001:db8:1:3::1"), Request.counted("2001:db8:1:2::1"))
        XCTAssertEqual(Request.counted("::ffff:10.0.0.7"), "10.0.0.7")
        XCTAssertEqual(Request.counted("10.0.0.7"), "10.0.0.7")
        XCTAssertEqual(Request.counted("unknown"), "unknown")
        XCTAssertEqual(Request.counted("fe80::zz"), "fe80::zz")
    }

    func testThePublicLookupIsRateLimited() async throws {
        var last: HTTPStatus = .ok
        for i in 0..<12 {
            last = try await send(.GET, "/api/v1/requests/lookup?number=SF2026000\(i)&mobile=13800000000").status
        }
        XCTAssertEqual(last, .tooManyRequests)
    }

    // MARK: Demo only when asked

    func testTheDemoOutboxIsNotServedToARemoteOrUnknownCaller() async throws {
        var browser = BrowserSession(self)
        let res = try await browser.get("/demo/outbox")
        XCTAssertEqual(res.status, .notFound, "a caller with no loopback peer address")
    }

    func testWhetherAServerIsReachableFromOtherMachines() {
        XCTAssertTrue(Settings.servesOnLoopbackOnly(["pls"]))
        XCTAssertTrue(Settings.servesOnLoopbackOnly(["pls", "serve"]))
        XCTAssertTrue(Settings.servesOnLoopbackOnly(["pls", "serve", "--hostname", "127.0.0.1", "--port", "8080"]))
        XCTAssertTrue(Settings.servesOnLoopbackOnly(["pls", "serve", "-H", "localhost"]))
        XCTAssertFalse(Settings.servesOnLoopbackOnly(["pls", "serve", "--hostname", "0.0.0.0"]))
        XCTAssertFalse(Settings.servesOnLoopbackOnly(["pls", "serve", "--hostname=10.1.2.3"]))
        XCTAssertFalse(Settings.servesOnLoopbackOnly(["pls", "serve", "--bind", "0.0.0.0:80"]))
        XCTAssertTrue(Settings.servesOnLoopbackOnly(["pls", "migrate"]))
    }

    // MARK: Personal data

    /// 422 is for the caller's input only: a body that does not decode is 422 naming the field, whatever its type; a value
    /// the server itself cannot decode (a stored row) is a 500, logged, never a "必填" shown to the user.
    func testOnlyTheCallersInputIs422() async throws {
        app.get("api", "v1", "test-stored-row") { _ async throws -> String in
            throw DecodingError.valueNotFound(String.self, .init(codingPath: [], debugDescription: "a stored row"))
        }
        let clerk = try await token("clerk")
        var res = try await send(.GET, "/api/v1/test-stored-row", token: clerk)
        XCTAssertEqual(res.status, .internalServerError)
        XCTAssertEqual(try errorBody(res).code, "server_error")
        // The caller's JSON without a required field, and a body of the wrong type: 4xx, never 500.
        res = try await send(.POST, "/api/v1/requests", token: clerk, headers: ["Content-Type": "application/json"], body: #"{"matterType":"consultation"}"#)
        XCTAssertEqual(res.status, .unprocessableEntity, res.body.string)
        XCTAssertNotNil(try errorBody(res).fields["category"] ?? errorBody(res).fields["description"], res.body.string)
        for type in ["text/plain", "text/html"] {
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: type)
            res = try await send(.POST, "/api/v1/requests", token: clerk, headers: headers, body: "hello")
            XCTAssertTrue((400..<500).contains(Int(res.status.code)), "\(type): \(res.status)")
        }
    }

    func testControlCharactersAre422NamingTheField() async throws {
        let citizen = try await citizenToken()
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        var res = try await send(.POST, "/api/v1/requests", token: citizen, json: Intake.Input(
            matterType: "consultation", category: "other", description: "咨询", applicant: .init(name: "王\u{0}秀英", mobile: DemoCity.citizenMobile),
            regionCode: village))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["applicant.name"], ControlCharacters.message)
        res = try await send(.POST, "/api/v1/requests", token: citizen, json: Intake.Input(
            matterType: "consultation", category: "other", description: "第一行\n第二行\t缩进", applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile),
            regionCode: village))
        XCTAssertEqual(res.status, .created, "line breaks and tabs are text")
        // A form field, as a page posts it.
        var browser = BrowserSession(self)
        res = try await browser.post("/login", [("username", "ad\u{7}min"), ("password", "x")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains(ControlCharacters.message) || res.body.string.contains("提交的信息有误"))
    }

    func testASearchForAWildcardFindsOnlyThatCharacter() async throws {
        let admin = try await token("admin")
        for q in ["%25", "_", "%5C"] {
            let res = try await send(.GET, "/api/v1/regions?q=\(q)", token: admin)
            XCTAssertEqual(res.status, .ok)
            XCTAssertEqual(try res.content.decode(Paged<RegionController.Row>.self).total, 0, q)
        }
        let res = try await send(.GET, "/api/v1/practitioners?q=%25", token: admin)
        XCTAssertEqual(try res.content.decode(Paged<PractitionerController.Row>.self).total, 0)
    }

    func testACitizenFilesUnderTheirOwnVerifiedMobile() async throws {
        let citizen = try await citizenToken()
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let res = try await send(.POST, "/api/v1/requests", token: citizen, json: Intake.Input(
            matterType: "consultation", category: "other", description: "咨询", applicant: .init(name: "王秀英", mobile: "13911112222"),
            regionCode: village))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["applicant.mobile"])
        let sent = try await SmsMessage.query(on: app.db).count()
        XCTAssertEqual(sent, 0, "nothing reached the other number")
    }

    func testNamesAndFreeTextAreNotStoredInClear() async throws {
        let citizen = try await citizenToken()
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let name = "欧阳明珠", story = "邻居占用楼道堆放杂物多年未果"
        var res = try await send(.POST, "/api/v1/requests", token: citizen, json: Intake.Input(
            matterType: "consultation", category: "other", description: story, applicant: .init(name: name, mobile: DemoCity.citizenMobile),
            regionCode: village))
        XCTAssertEqual(res.status, .created, res.body.string)
        let id = try res.content.decode(RequestViews.Detail.self).id
        struct Row: Decodable { var applicantName: String; var description: String }
        let row = try await sql.raw("SELECT applicant_name, description FROM service_requests WHERE id = \(bind: id)")
            .first(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
        XCTAssertFalse(row?.applicantName.contains(name) ?? true)
        XCTAssertFalse(row?.description.contains(story) ?? true)
        // Shown in clear to those who may see it.
        res = try await send(.GET, "/api/v1/requests/\(id)", token: citizen)
        let detail = try res.content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.applicant.name, name)
        XCTAssertEqual(detail.description, story)
        guard app.settings.usesEmbeddedDatabase else { return }
        // Nowhere in the database's files either (the log of recent writes included).
        try await sql.raw("PRAGMA wal_checkpoint(FULL)").run()
        for file in [app.settings.sqliteFile, app.settings.sqliteFile + "-wal"] {
            guard let bytes = FileManager.default.contents(atPath: file) else { continue }
            XCTAssertNil(bytes.range(of: Data(name.utf8)), file)
            XCTAssertNil(bytes.range(of: Data(story.utf8)), file)
        }
    }

    func testTextStoredBeforeSealingIsSealedByTheMigrationAndStillReads() async throws {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let clerk = try await token("clerk")
        let res = try await send(.POST, "/api/v1/requests", token: clerk, json: Intake.Input(
            matterType: "consultation", category: "other", description: "旧数据", applicant: .init(name: "旧名字", mobile: "13911113333", idNumber: "11010519491231002X"),
            regionCode: village))
        let id = try res.content.decode(RequestViews.Detail.self).id
        // As a row written by the previous version.
        try await sql.raw("UPDATE service_requests SET applicant_name = '旧名字', description = '旧数据' WHERE id = \(bind: id)").run()
        var detail = try await send(.GET, "/api/v1/requests/\(id)", token: clerk).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.applicant.name, "旧名字", "text in clear still reads")
        try await M023SealPersonalText(protector: app.personalData).prepare(on: app.db)
        let stored = try await sql.raw("SELECT applicant_name FROM service_requests WHERE id = \(bind: id)").first(decodingColumn: "applicant_name", as: String.self)
        XCTAssertTrue(stored?.hasPrefix("pd1:") ?? false)
        detail = try await send(.GET, "/api/v1/requests/\(id)", token: clerk).content.decode(RequestViews.Detail.self)
        XCTAssertEqual(detail.applicant.name, "旧名字")
        XCTAssertEqual(detail.description, "旧数据")
    }

    /// A citizen's consultation, accepted at the window with `note`: its id.
    private func citizensRequestAccepted(by clerk: String, note: String) async throws -> UUID {
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        var res = try await send(.POST, "/api/v1/requests", token: try await citizenToken(), json: Intake.Input(
            matterType: "consultation", category: "other", description: "咨询",
            applicant: .init(name: "申请人", mobile: DemoCity.citizenMobile), regionCode: village))
        XCTAssertEqual(res.status, .created, res.body.string)
        let id = try res.content.decode(RequestViews.Detail.self).id
        res = try await send(.POST, "/api/v1/requests/\(id)/accept", token: clerk, json: RequestActions.Input(note: note))
        XCTAssertEqual(res.status, .ok, res.body.string)
        return id
    }

    /// What staff write about a matter (a step's note in the timeline) is sealed as stored; the chain still verifies.
    func testTimelineNotesAreSealedAndTheChainVerifies() async throws {
        let clerk = try await token("clerk")
        let note = "已电话联系当事人司马青云，约定周三来窗口"
        let id = try await citizensRequestAccepted(by: clerk, note: note)
        let stored = try await sql.raw("SELECT note FROM request_events WHERE request_id = \(bind: id) AND note IS NOT NULL")
            .all(decodingColumn: "note", as: String.self)
        XCTAssertFalse(stored.isEmpty)
        XCTAssertFalse(stored.contains { $0.contains("司马青云") })
        // The platform's own fixed wording (the intake's "经…登记") is no one's words: kept in clear.
        XCTAssertTrue(stored.contains { $0.hasPrefix("经") && $0.hasSuffix("登记") }, "\(stored)")
        // The conclusion's summary too.
        let summary = "已向司马青云解答物业纠纷的处理途径"
        let res = try await send(.POST, "/api/v1/requests/\(id)/conclude", token: clerk, json: RequestActions.Input(outcome: "resolved", summary: summary))
        XCTAssertEqual(res.status, .ok, res.body.string)
        let storedSummary = try await sql.raw("SELECT summary FROM service_requests WHERE id = \(bind: id)").first(decodingColumn: "summary", as: String.self)
        XCTAssertEqual(storedSummary?.hasPrefix("pd1:"), true)
        let detail = try await send(.GET, "/api/v1/requests/\(id)", token: clerk).content.decode(RequestViews.Detail.self)
        XCTAssertTrue(detail.timeline.contains { $0.note == note })
        XCTAssertEqual(detail.summary, summary)
        let verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
    }

    /// A database of the previous version: notes in clear, hashed as written. M024 seals them and the chain still verifies.
    func testTimelineNotesStoredInClearAreSealedByTheMigration() async throws {
        let note = "当事人诸葛明月称已与对方和解"
        let id = try await citizensRequestAccepted(by: try await token("clerk"), note: note)
        // As the previous version stored it.
        struct E: Decodable { var seq: Int64; var note: String }
        for e in try await sql.raw("SELECT seq, note FROM request_events WHERE request_id = \(bind: id) AND note IS NOT NULL").all(decoding: E.self) {
            try await sql.raw("UPDATE request_events SET note = \(bind: try app.personalData.open(e.note)) WHERE seq = \(bind: e.seq)").run()
        }
        var verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem, "a note in clear verifies as it did")
        try await M024SealCaseText(protector: app.personalData).prepare(on: app.db)
        let left = try await sql.raw("SELECT COUNT(*) AS n FROM request_events WHERE note IS NOT NULL AND note NOT LIKE 'pd1:%'")
            .first(decodingColumn: "n", as: Int.self)
        XCTAssertEqual(left, 0)
        verified = try await Ledger.verify(on: sql, protector: app.personalData)
        XCTAssertNil(verified.problem)
        let timeline = try await RequestViews.timeline(id, protector: app.personalData, on: sql)
        XCTAssertTrue(timeline.contains { $0.note == note })
    }

    func testTheDataDirectoryIsPrivate() throws {
        guard app.settings.usesEmbeddedDatabase else { return }
        let fm = FileManager.default
        func mode(_ path: String) throws -> Int { (try fm.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue }
        XCTAssertEqual(try mode(app.settings.sqliteFile) & 0o077, 0, "the database file")
        XCTAssertEqual(try mode(dataDir) & 0o077, 0, "the directory")
    }
}

// MARK: Transactions that end when their connection does

final class AtomicTests: AppTestCase {
    private struct Refused: Error {}

    private func counterDays(_ days: [String]) async throws -> [String] {
        let sql = app.db as! any SQLDatabase
        return try await sql.select().column("day").from("request_day_counters")
            .where("day", .in, days).orderBy("day").all(decodingColumn: "day", as: String.self)
    }

    private static func insertCounter(_ day: String, on db: any Database) async throws {
        try await (db as! any SQLDatabase).raw("INSERT INTO request_day_counters (day, last) VALUES (\(bind: day), 1)").run()
    }

    /// `atomic` writes its own BEGIN on PostgreSQL: a body that fails leaves nothing, a nested one joins the outer.
    func testAFailingTransactionKeepsNothingAndANestedOneJoinsIt() async throws {
        let days = ["1900-01-01", "1900-01-02", "1900-01-03"]
        do {
            try await app.db.atomic { tx in
                try await Self.insertCounter(days[0], on: tx)
                try await tx.atomic { inner in try await Self.insertCounter(days[1], on: inner) }
                throw Refused()
            }
            XCTFail("the body's error is thrown")
        } catch is Refused {}
        let none = try await counterDays(days)
        XCTAssertEqual(none, [])
        try await app.db.atomic { tx in try await Self.insertCounter(days[2], on: tx) }
        let kept = try await counterDays(days)
        XCTAssertEqual(kept, [days[2]])
    }

    /// The server ends the transaction's connection (as a restart or `pg_terminate_backend` does) while a statement runs:
    /// the caller gets an error, not a commit, and the pools serve the next transactions. (The case where PostgresNIO
    /// never answers depends on timing; the resilience test `test_postgresql_restart_intake_recovers` reproduces it.)
    func testATransactionWhoseConnectionTheServerEndsAnswersAndTheNextOneWorks() async throws {
        guard app.db is any PostgresDatabase else { throw XCTSkip("PostgreSQL only") }
        let app: Application = self.app
        let done = NIOLockedValueBox<Result<Void, any Error>?>(nil)
        let terminated = NIOLockedValueBox(false)
        Task {
            do {
                try await app.db.atomic { tx in
                    let sql = tx as! any SQLDatabase
                    let pid = try await sql.raw("SELECT pg_backend_pid() AS pid").first(decodingColumn: "pid", as: Int.self) ?? 0
                    // Ended by another connection while a statement runs, as a restart ends it.
                    Task {
                        try await Task.sleep(for: .milliseconds(300))
                        let other = app.databases.database(.ledgerWriter, logger: app.logger, on: app.eventLoopGroup.any())! as! any SQLDatabase
                        let ended = try? await other.raw("SELECT pg_terminate_backend(\(bind: pid)::int) AS ended")
                            .first(decodingColumn: "ended", as: Bool.self)
                        terminated.withLockedValue { $0 = ended ?? false }
                    }
                    try await sql.raw("SELECT pg_sleep(3)").run()
                }
                done.withLockedValue { $0 = .success(()) }
            } catch {
                done.withLockedValue { $0 = .failure(error) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while done.withLockedValue({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        guard let outcome = done.withLockedValue({ $0 }) else { return XCTFail("the transaction never answered") }
        XCTAssertTrue(terminated.withLockedValue { $0 }, "the server ended the connection")
        if case .success = outcome { XCTFail("a statement on a connection the server ended cannot succeed") }
        // The pools drop the closed connection: the next transactions run (each event loop's pool).
        for _ in 0..<4 {
            let days = try await app.db.atomic { tx in
                try await (tx as! any SQLDatabase).raw("SELECT count(*) AS n FROM request_day_counters").first(decodingColumn: "n", as: Int.self)
            }
            XCTAssertNotNil(days)
        }
    }

    /// Fluent's `transaction` is called only by `atomic` (and the SQLite ledger connection has its own).
    func testEveryTransactionGoesThroughAtomic() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/PLSApp")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && $0.lastPathComponent != "Database+Atomic.swift" }
        XCTAssertGreaterThan(files.count, 50)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(".transaction {") || line.contains(".transaction({") {
                XCTAssertTrue(line.contains("connection.transaction { tx in") && file.lastPathComponent == "GroupCommitter.swift",
                              "\(file.lastPathComponent):\(n + 1) calls transaction: use atomic")
            }
        }
    }
}
