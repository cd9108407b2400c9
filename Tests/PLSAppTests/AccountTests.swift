import XCTVapor
import PLSDomain
@testable import PLSApp

final class AccountTests: AppTestCase {
    func staff(_ username: String, role: String, region: String, institution: UUID? = nil, practitioner: UUID? = nil,
               password: String = "newpass123") -> AccountController.Input {
        AccountController.Input(username: username, displayName: "测试 \(username)", role: role, regionCode: region,
                                institutionId: institution, practitionerId: practitioner, password: password)
    }

    func testCreatedAccountCanSignIn() async throws {
        let res = try await send(.POST, "/api/v1/accounts", token: try await token("admin"),
                                 json: staff("op2", role: "hotline_operator", region: DemoCity.cityCode.rawValue))
        XCTAssertEqual(res.status, .created, res.body.string)
        let t = try await token("op2", password: "newpass123")
        let me = try await send(.GET, "/api/v1/me", token: t)
        XCTAssertEqual(try me.content.decode(AuthController.MeResponse.self).role, "hotline_operator")
    }

    func testPasswordAndRoleRules() async throws {
        let admin = try await token("admin")
        var res = try await send(.POST, "/api/v1/accounts", token: admin,
                                 json: staff("weak", role: "leader", region: DemoCity.cityCode.rawValue, password: "short"))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["password"])

        res = try await send(.POST, "/api/v1/accounts", token: admin, json: staff("p1", role: "practitioner", region: DemoCity.cityCode.rawValue))
        let fields = try errorBody(res).fields
        XCTAssertNotNil(fields["institutionId"])
        XCTAssertNotNil(fields["practitionerId"])

        res = try await send(.POST, "/api/v1/accounts", token: admin, json: staff("admin", role: "leader", region: DemoCity.cityCode.rawValue))
        XCTAssertTrue(try errorBody(res).fields["username"]?.contains("已被使用") ?? false)
    }

    func testCountyAdminGrantsOnlyLowerRolesInTheirCounty() async throws {
        let t = try await token("county-admin")
        var res = try await send(.POST, "/api/v1/accounts", token: t, json: staff("boss", role: "city_admin", region: county(0).code.rawValue))
        XCTAssertEqual(try errorBody(res).fields["role"], "您不能创建该角色的账号")
        res = try await send(.POST, "/api/v1/accounts", token: t, json: staff("op3", role: "hotline_operator", region: county(1).code.rawValue))
        XCTAssertEqual(try errorBody(res).fields["regionCode"], "该区划不在您的管辖范围内")
        res = try await send(.POST, "/api/v1/accounts", token: t, json: staff("op3", role: "hotline_operator", region: county(0).code.rawValue))
        XCTAssertEqual(res.status, .created)

        res = try await send(.GET, "/api/v1/accounts?per=100", token: t)
        let page = try res.content.decode(Paged<AccountController.Row>.self)
        XCTAssertTrue(page.items.allSatisfy { $0.regionCode.hasPrefix(county(0).code.scopePrefix) })
        XCTAssertFalse(page.items.contains { $0.username == "admin" })
    }

    func testInstitutionAdminEditsOwnInstitutionOnly() async throws {
        let firm = city.institutions.first { $0.type == .lawFirm }!
        var res = try await send(.POST, "/api/v1/accounts", token: try await token("admin"),
                                 json: staff("firm-admin", role: "institution_admin", region: firm.region.rawValue, institution: firm.id))
        XCTAssertEqual(res.status, .created, res.body.string)
        let t = try await token("firm-admin", password: "newpass123")
        let edit = InstitutionController.Input(type: "notary_office", name: "安徽自改律师事务所", regionCode: county(1).code.rawValue,
                                               address: "新地址 8 号", phone: "0550-5550000")
        res = try await send(.PUT, "/api/v1/institutions/\(firm.id)", token: t, json: edit)
        XCTAssertEqual(res.status, .unprocessableEntity, "type and region are the county's to change")
        XCTAssertEqual(Set(try errorBody(res).fields.keys), ["type", "regionCode"])
        var inScope = edit
        inScope.regionCode = firm.region.rawValue
        inScope.type = "law_firm"
        res = try await send(.PUT, "/api/v1/institutions/\(firm.id)", token: t, json: inScope)
        XCTAssertEqual(res.status, .ok, res.body.string)
        let row = try res.content.decode(InstitutionController.Row.self)
        XCTAssertEqual(row.name, "安徽自改律师事务所")
        let other = city.institutions.first { $0.type == .lawFirm && $0.id != firm.id }!
        res = try await send(.PUT, "/api/v1/institutions/\(other.id)", token: t, json: inScope)
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.POST, "/api/v1/institutions", token: t, json: inScope)
        XCTAssertEqual(res.status, .forbidden)
    }

    func testDeactivationEndsAccessAtOnce() async throws {
        let admin = try await token("admin")
        let operatorToken = try await token("operator")
        var res = try await send(.GET, "/api/v1/accounts?q=operator", token: admin)
        let id = try res.content.decode(Paged<AccountController.Row>.self).items.first { $0.username == "operator" }!.id
        res = try await send(.POST, "/api/v1/accounts/\(id)/deactivate", token: admin)
        XCTAssertEqual(res.status, .ok)
        XCTAssertFalse(try res.content.decode(AccountController.Row.self).active)
        res = try await send(.GET, "/api/v1/me", token: operatorToken)
        XCTAssertEqual(res.status, .unauthorized)
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "operator", "password": DemoCity.password])
        XCTAssertEqual(res.status, .forbidden)
        XCTAssertEqual(try errorBody(res).code, "account_inactive")
    }

    func testCannotDeactivateSelf() async throws {
        let admin = try await token("admin")
        let me = try await send(.GET, "/api/v1/me", token: admin).content.decode(AuthController.MeResponse.self)
        let res = try await send(.POST, "/api/v1/accounts/\(me.id)/deactivate", token: admin)
        XCTAssertEqual(res.status, .conflict)
    }

    func testOnlyManagersWrite() async throws {
        for user in ["leader", "auditor", "lawyer", "clerk"] {
            let res = try await send(.POST, "/api/v1/accounts", token: try await token(user),
                                     json: staff("x\(user)", role: "hotline_operator", region: DemoCity.cityCode.rawValue))
            XCTAssertEqual(res.status, .forbidden, user)
        }
        let res = try await send(.GET, "/api/v1/accounts", token: try await token("lawyer"))
        XCTAssertEqual(res.status, .forbidden)
    }
}
