import XCTVapor
import PLSDomain
@testable import PLSApp

final class InstitutionTests: AppTestCase {
    func input(_ region: String, type: String = "law_firm", name: String = "安徽新设律师事务所") -> InstitutionController.Input {
        InstitutionController.Input(type: type, name: name, regionCode: region, address: "示范市人民路1号", phone: "0550-1234567",
                                    openingHours: "工作日", latitude: 32.3, longitude: 118.3, committeeKind: nil, industryField: nil)
    }

    func testCountyAdminSeesOnlyTheirCounty() async throws {
        let all = try await send(.GET, "/api/v1/institutions?per=100", token: try await token("admin"))
        let allPage = try all.content.decode(Paged<InstitutionController.Row>.self)
        XCTAssertEqual(allPage.total, city.institutions.count)

        let res = try await send(.GET, "/api/v1/institutions?per=100", token: try await token("county-admin"))
        let page = try res.content.decode(Paged<InstitutionController.Row>.self)
        let prefix = county(0).code.scopePrefix
        XCTAssertEqual(page.total, city.institutions.filter { $0.region.rawValue.hasPrefix(prefix) }.count)
        XCTAssertTrue(page.items.allSatisfy { $0.regionCode.hasPrefix(prefix) })

        // Another county's institution is not found for them.
        let other = city.institutions.first { $0.region.rawValue.hasPrefix(county(1).code.scopePrefix) }!
        let lookup = try await send(.GET, "/api/v1/institutions/\(other.id)", token: try await token("county-admin"))
        XCTAssertEqual(lookup.status, .notFound)
    }

    func testLawyerSeesOnlyTheirFirm() async throws {
        let res = try await send(.GET, "/api/v1/institutions", token: try await token("lawyer"))
        let page = try res.content.decode(Paged<InstitutionController.Row>.self)
        XCTAssertEqual(page.total, 1)
        XCTAssertEqual(page.items.first?.type, "law_firm")
    }

    func testFiltersByTypeRegionAndName() async throws {
        let token = try await token("admin")
        var res = try await send(.GET, "/api/v1/institutions?type=public_legal_service_station", token: token)
        var page = try res.content.decode(Paged<InstitutionController.Row>.self)
        XCTAssertEqual(page.total, city.regions.filter { $0.level == .town }.count)
        res = try await send(.GET, "/api/v1/institutions?type=mediation_committee&committeeKind=industry", token: token)
        page = try res.content.decode(Paged<InstitutionController.Row>.self)
        XCTAssertTrue(page.items.allSatisfy { $0.committeeKind == "industry" && $0.industryField != nil })
        XCTAssertGreaterThan(page.total, 0)
        res = try await send(.GET, "/api/v1/institutions?q=%E6%B3%95%E5%BE%8B%E6%8F%B4%E5%8A%A9", token: token) // 法律援助
        page = try res.content.decode(Paged<InstitutionController.Row>.self)
        XCTAssertEqual(page.total, city.institutions.filter { $0.name.contains("法律援助") }.count)
    }

    func testCountyAdminCreatesInOwnCountyOnly() async throws {
        let token = try await token("county-admin")
        var res = try await send(.POST, "/api/v1/institutions", token: token, json: input(county(0).code.rawValue))
        XCTAssertEqual(res.status, .created, res.body.string)
        let created = try res.content.decode(InstitutionController.Row.self)
        XCTAssertEqual(created.typeName, "律师事务所")
        XCTAssertNotNil(res.headers.first(name: .location))

        res = try await send(.POST, "/api/v1/institutions", token: token, json: input(county(1).code.rawValue))
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["regionCode"], "该区划不在您的管辖范围内")
    }

    func testValidationNamesEveryBadField() async throws {
        var bad = input("000000000000", type: "mediation_committee", name: "")
        bad.phone = "电话号码"
        bad.latitude = 200
        let res = try await send(.POST, "/api/v1/institutions", token: try await token("admin"), json: bad)
        XCTAssertEqual(res.status, .unprocessableEntity)
        let fields = try errorBody(res).fields
        for key in ["name", "regionCode", "phone", "latitude", "committeeKind"] { XCTAssertNotNil(fields[key], key) }
        let count = try await Institution.query(on: app.db).count()
        XCTAssertEqual(count, city.institutions.count, "nothing written")
    }

    func testIndustryCommitteeNeedsField() async throws {
        var i = input(DemoCity.cityCode.rawValue, type: "mediation_committee", name: "示范市环境保护人民调解委员会")
        i.committeeKind = "industry"
        var res = try await send(.POST, "/api/v1/institutions", token: try await token("admin"), json: i)
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["industryField"])
        i.industryField = "environment"
        res = try await send(.POST, "/api/v1/institutions", token: try await token("admin"), json: i)
        XCTAssertEqual(res.status, .created)
    }

    func testUpdateAndDeactivate() async throws {
        let token = try await token("admin")
        let firm = city.institutions.first { $0.type == .lawFirm }!
        var changed = input(firm.region.rawValue, name: "安徽改名律师事务所")
        changed.phone = "0550-7654321"
        var res = try await send(.PUT, "/api/v1/institutions/\(firm.id)", token: token, json: changed)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(try res.content.decode(InstitutionController.Row.self).name, "安徽改名律师事务所")

        res = try await send(.POST, "/api/v1/institutions/\(firm.id)/deactivate", token: token)
        XCTAssertEqual(res.status, .ok)
        XCTAssertFalse(try res.content.decode(InstitutionController.Row.self).active)
        res = try await send(.GET, "/api/v1/institutions?type=law_firm", token: token)
        XCTAssertFalse(try res.content.decode(Paged<InstitutionController.Row>.self).items.contains { $0.id == firm.id })
        res = try await send(.GET, "/api/v1/institutions?type=law_firm&includeInactive=true", token: token)
        XCTAssertTrue(try res.content.decode(Paged<InstitutionController.Row>.self).items.contains { $0.id == firm.id })
    }

    func testReadOnlyRolesCannotWrite() async throws {
        for user in ["leader", "auditor", "operator", "clerk", "lawyer"] {
            let res = try await send(.POST, "/api/v1/institutions", token: try await token(user), json: input(DemoCity.cityCode.rawValue))
            XCTAssertEqual(res.status, .forbidden, user)
        }
        let firm = city.institutions.first { $0.type == .lawFirm }!
        let res = try await send(.POST, "/api/v1/institutions/\(firm.id)/deactivate", token: try await token("leader"))
        XCTAssertEqual(res.status, .forbidden)
    }

    func testMalformedIDIsNotFound() async throws {
        let res = try await send(.GET, "/api/v1/institutions/not-a-uuid", token: try await token("admin"))
        XCTAssertEqual(res.status, .notFound)
    }
}
