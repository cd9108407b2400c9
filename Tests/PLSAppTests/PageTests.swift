import XCTVapor
import Fluent
import PLSDomain
@testable import PLSApp

final class PageTests: AppTestCase {
    func testHomePageIsPublic() async throws {
        var browser = BrowserSession(self)
        let res = try await browser.get("/")
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("12348"))
        XCTAssertTrue(res.body.string.contains("示范市公共法律服务中心"))
        XCTAssertNotNil(browser.cookies[CSRFMiddleware.cookieName])
    }

    func testAdminPagesRedirectToSignIn() async throws {
        var browser = BrowserSession(self)
        let res = try await browser.get("/admin/institutions")
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertEqual(res.headers.first(name: .location), "/login?next=%2Fadmin%2Finstitutions")
    }

    func testFormsWithoutCSRFAreRefused() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/login")
        let res = try await browser.post("/login", [("username", "admin"), ("password", DemoCity.password)], csrf: false)
        XCTAssertEqual(res.status, .forbidden)
        XCTAssertTrue(res.body.string.contains("页面已过期"))
    }

    func testStaffSignInShowsDashboardAndKeepsUsernameOnError() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/login")
        var res = try await browser.post("/login", [("username", "admin"), ("password", "wrong-one1")])
        XCTAssertEqual(res.status, .unauthorized)
        XCTAssertTrue(res.body.string.contains("用户名或密码错误"))
        XCTAssertTrue(res.body.string.contains("value=\"admin\""))

        try await browser.signIn("admin")
        res = try await browser.get("/admin")
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("工作台"))
        XCTAssertTrue(res.body.string.contains("镇（街道）公共法律服务工作站覆盖率"))

        for path in ["/admin/regions", "/admin/institutions", "/admin/practitioners", "/admin/accounts", "/admin/indicators",
                     "/admin/institutions/new", "/admin/accounts/new", "/admin/regions/new", "/admin/practitioners/new"] {
            let page = try await browser.get(path)
            XCTAssertEqual(page.status, .ok, path)
        }
        let firm = city.institutions.first { $0.type == .lawFirm }!
        res = try await browser.get("/admin/institutions/\(firm.id)")
        XCTAssertTrue(res.body.string.contains(firm.name))

        res = try await browser.post("/logout", [])
        XCTAssertEqual(res.status, .seeOther)
        res = try await browser.get("/admin")
        XCTAssertEqual(res.status, .seeOther)
    }

    /// Issue #20, item 11: every role lands on its own work, not on the wall of indicator cards.
    func testEachRoleLandsOnItsOwnWork() async throws {
        let expected = ["operator": "/hotline", "aid": "/legal-aid/desk", "clerk": "/window", "adviser": "/adviser",
                        "mediator": "/work", "admin": "/admin", "leader": "/admin"]
        for (username, landing) in expected {
            var browser = BrowserSession(self)
            let res = try await browser.post("/login", [("username", username), ("password", DemoCity.password)])
            XCTAssertEqual(res.status, .seeOther, username)
            XCTAssertEqual(res.headers.first(name: .location), landing, username)
            let page = try await browser.get(landing)
            XCTAssertEqual(page.status, .ok, "\(username) \(landing)")
        }
        // A return address still wins.
        var browser = BrowserSession(self)
        let res = try await browser.post("/login", [("username", "operator"), ("password", DemoCity.password), ("next", "/work")])
        XCTAssertEqual(res.headers.first(name: .location), "/work")
    }

    /// Issue #20, government website conventions: the footer's identification, an accessibility statement, site search.
    func testTheSiteCarriesItsIdentificationAStatementAndASearch() async throws {
        var browser = BrowserSession(self)
        var home = try await browser.get("/")
        XCTAssertTrue(home.body.string.contains("href=\"/accessibility#correction\">我要纠错</a>"))
        XCTAssertFalse(home.body.string.contains("网站标识码"), "nothing is made up when it is not configured")
        app.settings.siteIdentity = SiteIdentity(siteCode: "3499000001", icpNumber: "皖ICP备00000000号", psbNumber: "皖公网安备 34990002000001号",
                                                 correctionURL: "https://zfwzzc.www.gov.cn/")
        home = try await browser.get("/")
        for text in ["网站标识码 3499000001", "皖ICP备00000000号", "皖公网安备 34990002000001号", "href=\"https://zfwzzc.www.gov.cn/\">我要纠错"] {
            XCTAssertTrue(home.body.string.contains(text), text)
        }
        let statement = try await browser.get("/accessibility")
        XCTAssertEqual(statement.status, .ok)
        XCTAssertTrue(statement.body.string.contains("无障碍声明") && statement.body.string.contains("id=\"correction\""))
        var found = try await browser.get("/search?q=\("公证".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        XCTAssertTrue(found.body.string.contains("/services/notarization.birth"))
        found = try await browser.get("/search?q=\("讨薪".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        XCTAssertTrue(found.body.string.contains("href=\"/legal-aid\""))
        found = try await browser.get("/search?q=\(String(repeating: "x", count: 5000))")
        XCTAssertEqual(found.status, .ok)
        XCTAssertTrue(found.body.string.contains("没有找到相关内容"))
    }

    func testInstitutionFormKeepsInputOnError() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        let res = try await browser.post("/admin/institutions/new", [("type", "law_firm"), ("name", "安徽表单律师事务所"),
                                                                    ("regionCode", "349902000000"), ("address", "东湖路 1 号"),
                                                                    ("phone", "0550-1234567"), ("latitude", "abc")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        let html = res.body.string
        XCTAssertTrue(html.contains("安徽表单律师事务所"), "entered values stay")
        XCTAssertTrue(html.contains("请输入数字"))
        // The summary links to the field in error, which says so to a screen reader.
        XCTAssertTrue(html.contains("<a href=\"#latitude\">纬度：请输入数字</a>"), html)
        XCTAssertTrue(html.contains("aria-invalid=\"true\" aria-describedby=\"latitude-error\""))
        XCTAssertTrue(html.contains("id=\"latitude-error\""))
        let count = try await Institution.query(on: app.db).count()
        XCTAssertEqual(count, city.institutions.count)
    }

    func testInstitutionCreatedThroughTheForm() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("admin")
        let res = try await browser.post("/admin/institutions/new", [("type", "notary_office"), ("name", "示范市第二公证处"),
                                                                    ("regionCode", DemoCity.cityCode.rawValue), ("address", "人民路 2 号"),
                                                                    ("phone", "0550-2222222"), ("openingHours", "工作日")])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
        let location = res.headers.first(name: .location) ?? ""
        XCTAssertTrue(location.hasPrefix("/admin/institutions/"))
        let detail = try await browser.get(location)
        XCTAssertTrue(detail.body.string.contains("示范市第二公证处"))
        XCTAssertTrue(detail.body.string.contains("已新增机构"))
    }

    func testCountyAdminCannotOpenAnotherCountysInstitution() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("county-admin")
        let other = city.institutions.first { $0.region.rawValue.hasPrefix(county(1).code.scopePrefix) }!
        let res = try await browser.get("/admin/institutions/\(other.id)")
        XCTAssertEqual(res.status, .notFound)
        XCTAssertTrue(res.body.string.contains("未找到"))
    }

    func testLeaderSeesNoEditButtons() async throws {
        var browser = BrowserSession(self)
        try await browser.signIn("leader")
        let firm = city.institutions.first { $0.type == .lawFirm }!
        let res = try await browser.get("/admin/institutions/\(firm.id)")
        XCTAssertEqual(res.status, .ok)
        XCTAssertFalse(res.body.string.contains("/edit\""))
        let form = try await browser.get("/admin/institutions/new")
        XCTAssertEqual(form.status, .forbidden)
    }

    func testElderModePersists() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/")
        let res = try await browser.post("/preferences/elder", [("next", "/login")])
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertEqual(res.headers.first(name: .location), "/login")
        XCTAssertEqual(browser.cookies[Request.elderCookie], "1")
        let page = try await browser.get("/login")
        XCTAssertTrue(page.body.string.contains("<body class=\"elder\">"))
        // Not an open redirect.
        let evil = try await browser.post("/preferences/elder", [("next", "//evil.example")])
        XCTAssertEqual(evil.headers.first(name: .location), "/")
    }

    func testCitizenSignInWithCodeFromDemoOutbox() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/login/citizen")
        var res = try await browser.post("/login/citizen", [("mobile", "13700001111"), ("action", "send")])
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("验证码已发送至 137****1111"))
        // The outbox shows every number's codes: not to a caller without a loopback address (in-memory requests have none)…
        do { let status = try await browser.get("/demo/outbox").status; XCTAssertEqual(status, .notFound) }
        // …only to one on this machine, over a real connection.
        var outbox = ""
        try await app.testable(method: .running(hostname: "127.0.0.1", port: Int.random(in: 20_000...40_000))).test(.GET, "/demo/outbox") { res async in
            outbox = res.body.string
        }
        let code = outbox.range(of: #"验证码为 (\d{6})"#, options: .regularExpression).map { String(outbox[$0].suffix(6)) }
        XCTAssertNotNil(code)
        XCTAssertFalse(outbox.contains("13700001111"), "the outbox masks numbers")
        res = try await browser.post("/login/citizen", [("mobile", "13700001111"), ("code", code ?? ""), ("action", "login")])
        XCTAssertEqual(res.status, .seeOther)
        let home = try await browser.get("/")
        XCTAssertTrue(home.body.string.contains("用户1111"))
        // A citizen has no business in the admin area.
        let admin = try await browser.get("/admin")
        XCTAssertEqual(admin.status, .forbidden)
    }
}

final class IntakePageTests: AppTestCase {
    func testApplyFormKeepsInputAndNamesTheField() async throws {
        var browser = BrowserSession(self)
        _ = try await browser.get("/login/citizen")
        var res = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        XCTAssertEqual(res.status, .seeOther)
        res = try await browser.get("/apply/consultation.general")
        XCTAssertEqual(res.status, .ok)
        res = try await browser.post("/apply/consultation.general", [("category", "labor"), ("description", "工资被拖欠两个月"),
                                                                  ("name", "王秀英"), ("mobile", DemoCity.citizenMobile), ("idNumber", "110105194912310021")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("工资被拖欠两个月"))
        XCTAssertTrue(res.body.string.contains("身份证号码校验位不正确"))
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 0)
    }

    func testStaffCannotApplyAsCitizensAndCitizensCannotOpenTheConsole() async throws {
        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        var res = try await clerk.get("/apply/consultation.general")
        XCTAssertEqual(res.status, .forbidden)
        res = try await clerk.get("/hotline")
        XCTAssertEqual(res.status, .forbidden, "a window clerk has no hotline")
        res = try await clerk.get("/window")
        XCTAssertEqual(res.status, .ok)
        var op = BrowserSession(self)
        try await op.signIn("operator")
        res = try await op.get("/hotline")
        XCTAssertEqual(res.status, .ok)
    }

    func testHotlineWarnsOfDuplicatesBeforeSaving() async throws {
        var op = BrowserSession(self)
        try await op.signIn("operator")
        _ = try await op.get("/hotline")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let form = [("mobile", "13611112222"), ("name", "李建国"), ("matterType", "consultation"), ("category", "labor"),
                    ("description", "工资拖欠"), ("regionCode", village), ("action", "dispatch")]
        var res = try await op.post("/hotline", form + [("formToken", "t1")])
        XCTAssertEqual(res.status, .seeOther)
        res = try await op.post("/hotline", form + [("formToken", "t2")])
        XCTAssertEqual(res.status, .conflict)
        XCTAssertTrue(res.body.string.contains("疑似重复"))
        res = try await op.post("/hotline", form + [("formToken", "t2"), ("confirmDuplicate", "1")])
        XCTAssertEqual(res.status, .seeOther)
        // The same form token again is the same request, not a third.
        res = try await op.post("/hotline", form + [("formToken", "t2"), ("confirmDuplicate", "1")])
        let count = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(count, 2)
        let page = try await op.get("/hotline?mobile=13611112222")
        XCTAssertTrue(page.body.string.contains("来电人历史事项"))
        XCTAssertEqual(page.body.string.components(separatedBy: "class=\"history-list\"").count, 2)

        // Enter in the number field (the form's first button) looks the caller up: nothing saved, nothing typed lost,
        // the history with dates and handlers, the name filled, the duplicate shown as soon as number and category are known.
        let enter = try await op.post("/hotline", [("action", "lookup"), ("mobile", "13611112222"), ("category", "labor"),
                                                   ("description", "又来电催问"), ("formToken", "t3")])
        XCTAssertEqual(enter.status, .ok)
        let html = enter.body.string
        XCTAssertTrue(html.contains("value=\"lookup\""), "the lookup button comes first in the form")
        XCTAssertLessThan(html.range(of: "value=\"lookup\"")!.lowerBound, html.range(of: "value=\"answer\"")!.lowerBound)
        XCTAssertTrue(html.contains("承办：") && html.contains("value=\"李建国\""), "history with handlers; the name filled")
        XCTAssertTrue(html.contains("疑似重复") && html.contains(">又来电催问</textarea>"))
        let still = try await ServiceRequest.query(on: app.db).count()
        XCTAssertEqual(still, 2)
        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        let window = try await clerk.get("/window")
        XCTAssertTrue(window.body.string.contains("申请人历史事项") && !window.body.string.contains("来电人历史事项"))
    }

    func testRatingFromTheSmsLinkWithoutSigningIn() async throws {
        let op = try await token("operator")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let created = try await send(.POST, "/api/v1/requests", token: op, json: Intake.Input(
            matterType: "consultation", category: "labor", description: "欠薪", applicant: .init(name: "赵四", mobile: "13600001234"),
            regionCode: village, answer: "可申请劳动仲裁"))
        XCTAssertEqual(created.status, .created)
        let sent = try await SmsMessage.query(on: app.db).filter(\.$mobileMasked == "136****1234").all().map { try app.personalData.open($0.text) }
        let text = try XCTUnwrap(sent.first { $0.contains("/rate/") })
        let path = try XCTUnwrap(text.range(of: #"/rate/[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(text[$0]) })

        var visitor = BrowserSession(self)
        var res = try await visitor.get(path)
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("您对本次服务满意吗"))
        res = try await visitor.post(path, [("rating", "2"), ("comment", "没说清楚")])
        XCTAssertEqual(res.status, .ok)
        XCTAssertTrue(res.body.string.contains("感谢您的评价"))
        res = try await visitor.post(path, [("rating", "5")])
        XCTAssertEqual(res.status, .conflict, "once")
        // A link not made by the platform leads nowhere.
        res = try await visitor.get(String(path.dropLast(3)) + "AAA")
        XCTAssertEqual(res.status, .notFound)
        // The request's village is in 城关区, so that county's admin is told of the bad rating.
        XCTAssertTrue(village.hasPrefix(county(0).code.scopePrefix))
        let notes = try await send(.GET, "/api/v1/notifications", token: try await token("county-admin"))
        XCTAssertTrue(try notes.content.decode(Paged<Notifications.Item>.self).items.contains { $0.text.contains("差评待整改") })
    }

    func testBulkAssignFromTheQueue() async throws {
        let clerkToken = try await token("clerk")
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        var ids: [String] = []
        for mobile in ["13600000031", "13600000032"] {
            let res = try await send(.POST, "/api/v1/requests", token: clerkToken, json: Intake.Input(
                matterType: "consultation", category: "labor", description: "欠薪",
                applicant: .init(name: "钱五", mobile: mobile, idNumber: "11010519491231002X"), regionCode: village))
            ids.append(try res.content.decode(RequestViews.Detail.self).id.uuidString)
        }
        let lawyer = city.practitioners.first { $0.id == city.accounts.first { $0.username == "lawyer" }!.practitionerID }!
        var clerk = BrowserSession(self)
        try await clerk.signIn("clerk")
        let res = try await clerk.post("/work/bulk-assign", ids.map { ("requestIds[]", $0) } + [("licenceNumber", lawyer.licenceNumber)])
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertTrue(res.headers.first(name: .location)?.contains(("已分派 2 件".addingPercentEncoding(withAllowedCharacters: .alphanumerics))!) ?? false)
        let assigned = try await ServiceRequest.query(on: app.db).filter(\.$practitionerID == lawyer.id).count()
        XCTAssertEqual(assigned, 2)
    }

    func testGuidesAreEditedOnAPage() async throws {
        var admin = BrowserSession(self)
        try await admin.signIn("admin")
        var res = try await admin.get("/admin/catalog")
        XCTAssertTrue(res.body.string.contains("出生公证"))
        res = try await admin.post("/admin/catalog/notarization.birth", [("name", "出生公证"), ("conditions", "中国公民"), ("materials", ""),
                                                                       ("steps", "预约"), ("fee", "按标准"), ("timeLimit", "15 个工作日"),
                                                                       ("location", "公证处"), ("online", "true"), ("active", "true")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("请填写所需材料"))
        XCTAssertTrue(res.body.string.contains("中国公民"), "what was typed stays")
        res = try await admin.post("/admin/catalog/notarization.birth", [("name", "出生公证"), ("conditions", "中国公民"), ("materials", "身份证、出生医学证明"),
                                                                       ("steps", "预约"), ("fee", "按标准"), ("timeLimit", "15 个工作日"),
                                                                       ("location", "公证处"), ("online", "false"), ("active", "true")])
        XCTAssertEqual(res.status, .seeOther)
        var visitor = BrowserSession(self)
        let guide = try await visitor.get("/services/notarization.birth").body.string
        XCTAssertTrue(guide.contains("身份证、出生医学证明"))
        XCTAssertTrue(guide.contains("本事项需到现场办理"))
        XCTAssertTrue(guide.contains("请到以下窗口办理"))
    }

    func testCalendarPageAddsNextYear() async throws {
        var admin = BrowserSession(self)
        try await admin.signIn("admin")
        var res = try await admin.get("/admin/calendar")
        XCTAssertTrue(res.body.string.contains("录入 2027 年安排"))
        res = try await admin.post("/admin/calendar/2027", [("source", "国务院办公厅关于2027年部分节假日安排的通知"), ("holidays", "2027-01-01\n2027-13-01")])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(res.body.string.contains("“2027-13-01”不是有效日期"))
        res = try await admin.post("/admin/calendar/2027", [("source", "国务院办公厅关于2027年部分节假日安排的通知"), ("holidays", "2027-01-01"), ("makeupWorkdays", "")])
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertTrue(app.workingCalendar.knownYears.contains(2027))
    }
}
