import XCTVapor
import Fluent
import PLSDomain
@testable import PLSApp

final class AuthTests: AppTestCase {
    func testStaffLoginAndMe() async throws {
        let token = try await token("county-admin")
        let res = try await send(.GET, "/api/v1/me", token: token)
        XCTAssertEqual(res.status, .ok)
        let me = try res.content.decode(AuthController.MeResponse.self)
        XCTAssertEqual(me.role, "county_admin")
        XCTAssertEqual(me.region?.id, county(0).code.rawValue)
        XCTAssertEqual(me.region?.name, "城关区")
    }

    func testPractitionerAccountCarriesInstitutionAndRecord() async throws {
        let res = try await send(.GET, "/api/v1/me", token: try await token("lawyer"))
        let me = try res.content.decode(AuthController.MeResponse.self)
        XCTAssertEqual(me.role, "practitioner")
        XCTAssertNotNil(me.institution)
        XCTAssertEqual(me.practitioner?.name, city.accounts.first { $0.username == "lawyer" }?.displayName)
    }

    func testWrongPasswordIs401WithChineseMessage() async throws {
        let res = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin", "password": "wrong-password1"])
        XCTAssertEqual(res.status, .unauthorized)
        let error = try errorBody(res)
        XCTAssertEqual(error.code, "invalid_credentials")
        XCTAssertEqual(error.message, "用户名或密码错误")
    }

    func testUnknownUserLooksLikeWrongPassword() async throws {
        let res = try await send(.POST, "/api/v1/auth/login", json: ["username": "nobody", "password": "whatever1"])
        XCTAssertEqual(res.status, .unauthorized)
        XCTAssertEqual(try errorBody(res).code, "invalid_credentials")
    }

    func testLockOutAfterFiveFailures() async throws {
        for attempt in 1...5 {
            let res = try await send(.POST, "/api/v1/auth/login", json: ["username": "operator", "password": "bad\(attempt)xx"])
            XCTAssertEqual(res.status, attempt < 5 ? .unauthorized : .tooManyRequests)
        }
        // Even the right password is refused while locked.
        var res = try await send(.POST, "/api/v1/auth/login", json: ["username": "operator", "password": DemoCity.password])
        XCTAssertEqual(res.status, .tooManyRequests)
        XCTAssertEqual(try errorBody(res).code, "account_locked")
        // Fifteen minutes later it opens again.
        app.clock.set(Date().addingTimeInterval(16 * 60))
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "operator", "password": DemoCity.password])
        XCTAssertEqual(res.status, .ok)
    }

    func testMissingAndExpiredTokens() async throws {
        var res = try await send(.GET, "/api/v1/me")
        XCTAssertEqual(res.status, .unauthorized)
        XCTAssertEqual(try errorBody(res).code, "unauthenticated")
        res = try await send(.GET, "/api/v1/me", token: "not-a-token")
        XCTAssertEqual(res.status, .unauthorized)
        let token = try await token("admin")
        app.clock.set(Date().addingTimeInterval(13 * 3600))
        res = try await send(.GET, "/api/v1/me", token: token)
        XCTAssertEqual(res.status, .unauthorized)
    }

    func testLogoutRevokesToken() async throws {
        let token = try await token("admin")
        var res = try await send(.POST, "/api/v1/auth/logout", token: token)
        XCTAssertEqual(res.status, .noContent)
        res = try await send(.GET, "/api/v1/me", token: token)
        XCTAssertEqual(res.status, .unauthorized)
    }

    func testCitizenSignsInWithSmsCodeAndIsRegisteredOnce() async throws {
        let mobile = "13912345678"
        var res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        XCTAssertEqual(res.status, .accepted)
        // A second code within a minute is refused.
        res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        XCTAssertEqual(res.status, .tooManyRequests)

        let message = try await SmsMessage.query(on: app.db).sort(\.$createdAt, .descending).first()!
        XCTAssertEqual(message.mobileMasked, "139****5678")
        let code = String(try app.personalData.open(message.text).filter(\.isNumber).prefix(6))

        res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": "000000" == code ? "111111" : "000000"])
        XCTAssertEqual(res.status, .unauthorized)
        XCTAssertEqual(try errorBody(res).code, "invalid_code")

        res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": code])
        XCTAssertEqual(res.status, .ok, res.body.string)
        let login = try res.content.decode(AuthController.TokenResponse.self)
        XCTAssertEqual(login.account.role, "citizen")
        XCTAssertEqual(login.account.mobile, "139****5678")

        // The code is used up; the number is stored encrypted, not in clear.
        res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": code])
        XCTAssertEqual(res.status, .unauthorized)
        let account = try await Account.find(login.account.id, on: app.db)!
        XCTAssertNotEqual(account.mobileCipher, mobile)
        XCTAssertFalse(account.mobileCipher!.contains(mobile))
        XCTAssertEqual(try app.personalData.decrypt(account.mobileCipher!), mobile)
        let citizens = try await Account.query(on: app.db).filter(\.$role == "citizen").count()
        XCTAssertEqual(citizens, 2)
    }

    func testDemoCitizenSignsInWithPassword() async throws {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        XCTAssertEqual(res.status, .ok)
        let me = try res.content.decode(AuthController.TokenResponse.self).account
        XCTAssertEqual(me.mobile, "138****0000")
    }

    func testBadMobileIsNamed() async throws {
        let res = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": "12345"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["mobile"], "请输入正确的 11 位手机号码")
    }

    func testCitizenCannotUseStaffAPIs() async throws {
        let res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        let token = try res.content.decode(AuthController.TokenResponse.self).token
        for path in ["/api/v1/regions", "/api/v1/institutions", "/api/v1/practitioners", "/api/v1/accounts", "/api/v1/indicators"] {
            let r = try await send(.GET, path, token: token)
            XCTAssertEqual(r.status, .forbidden, path)
        }
    }
}

final class PasswordTests: AppTestCase {
    func testStaffChangesPasswordWithTheCurrentOne() async throws {
        let t = try await token("clerk")
        var res = try await send(.POST, "/api/v1/me/password", token: t, json: ["currentPassword": "wrong", "newPassword": "clerk2026new"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["currentPassword"], "当前密码不正确")
        res = try await send(.POST, "/api/v1/me/password", token: t, json: ["currentPassword": DemoCity.password, "newPassword": "short"])
        XCTAssertNotNil(try errorBody(res).fields["newPassword"])
        res = try await send(.POST, "/api/v1/me/password", token: t, json: ["currentPassword": DemoCity.password, "newPassword": "clerk2026new"])
        XCTAssertEqual(res.status, .noContent)
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "clerk", "password": DemoCity.password])
        XCTAssertEqual(res.status, .unauthorized)
        _ = try await token("clerk", password: "clerk2026new")
    }

    func testSmsRegisteredCitizenSetsAFirstPassword() async throws {
        let mobile = "13711112222"
        _ = try await send(.POST, "/api/v1/auth/sms-code", json: ["mobile": mobile])
        let text = try app.personalData.open(try await SmsMessage.query(on: app.db).first()!.text)
        let code = String(text.filter(\.isNumber).prefix(6))
        var res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "code": code])
        let t = try res.content.decode(AuthController.TokenResponse.self).token
        res = try await send(.POST, "/api/v1/me/password", token: t, json: ["newPassword": "citizen2026"])
        XCTAssertEqual(res.status, .noContent)
        res = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": mobile, "password": "citizen2026"])
        XCTAssertEqual(res.status, .ok)
    }

    func testPasswordPageRequiresSignIn() async throws {
        var browser = BrowserSession(self)
        var res = try await browser.get("/account/password")
        XCTAssertEqual(res.status, .seeOther)
        try await browser.signIn("leader")
        res = try await browser.post("/account/password", [("currentPassword", DemoCity.password), ("newPassword", "x")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("密码至少 8 位"))
        res = try await browser.post("/account/password", [("currentPassword", DemoCity.password), ("newPassword", "leader2026x")])
        XCTAssertEqual(res.status, .seeOther)
    }
}
