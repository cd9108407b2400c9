import XCTVapor
import PLSDomain
@testable import PLSApp

final class RegionTests: AppTestCase {
    func testListIsPagedAndFiltered() async throws {
        let token = try await token("admin")
        var res = try await send(.GET, "/api/v1/regions?level=town&per=2", token: token)
        XCTAssertEqual(res.status, .ok)
        var page = try res.content.decode(Paged<RegionController.Row>.self)
        XCTAssertEqual(page.total, city.regions.filter { $0.level == .town }.count)
        XCTAssertEqual(page.items.count, 2)
        XCTAssertTrue(page.items.allSatisfy { $0.level == "town" })

        res = try await send(.GET, "/api/v1/regions?parent=\(DemoCity.cityCode.rawValue)", token: token)
        page = try res.content.decode(Paged<RegionController.Row>.self)
        XCTAssertEqual(page.items.map(\.name), ["城关区", "东湖区"])

        res = try await send(.GET, "/api/v1/regions?q=%E5%9F%8E%E5%85%B3", token: token) // 城关
        page = try res.content.decode(Paged<RegionController.Row>.self)
        XCTAssertEqual(page.items.first?.name, "城关区")
    }

    func testDetailHasPathFromCity() async throws {
        let village = city.regions.first { $0.level == .village }!
        let res = try await send(.GET, "/api/v1/regions/\(village.code.rawValue)", token: try await token("operator"))
        XCTAssertEqual(res.status, .ok)
        let detail = try res.content.decode(RegionController.Detail.self)
        XCTAssertEqual(detail.path.map(\.level), ["city", "county", "town", "village"])
        XCTAssertEqual(detail.path.last?.code, village.code.rawValue)
    }

    func testCreateValidatesCodeParentAndDuplicate() async throws {
        let token = try await token("admin")
        let town = city.regions.first { $0.level == .town }!
        let newCode = String(town.code.rawValue.prefix(9)) + "399"

        var res = try await send(.POST, "/api/v1/regions", token: token, json: ["code": "12345", "name": "坏代码"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["code"])

        res = try await send(.POST, "/api/v1/regions", token: token, json: ["code": "349903888000", "name": "无上级镇"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["parentCode"])

        res = try await send(.POST, "/api/v1/regions", token: token, json: ["code": newCode, "name": "新建村", "level": "town"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["level"])

        res = try await send(.POST, "/api/v1/regions", token: token, json: ["code": newCode, "name": "新建村"])
        XCTAssertEqual(res.status, .created, res.body.string)
        let row = try res.content.decode(RegionController.Row.self)
        XCTAssertEqual(row.level, "village")
        XCTAssertEqual(row.kind, "rural")
        XCTAssertEqual(row.parentCode, town.code.rawValue)

        res = try await send(.POST, "/api/v1/regions", token: token, json: ["code": newCode, "name": "重复"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertTrue(try errorBody(res).fields["code"]?.contains("已存在") ?? false)
    }

    func testOnlyCityAdminEditsRegions() async throws {
        for user in ["county-admin", "leader", "operator", "lawyer"] {
            let res = try await send(.POST, "/api/v1/regions", token: try await token(user), json: ["code": "349901001399", "name": "x"])
            XCTAssertEqual(res.status, .forbidden, user)
        }
        let anonymous = try await send(.GET, "/api/v1/regions")
        XCTAssertEqual(anonymous.status, .unauthorized)
    }

    func testRenameAndDeactivate() async throws {
        let token = try await token("admin")
        let town = city.regions.first { $0.level == .town }!
        var res = try await send(.PUT, "/api/v1/regions/\(town.code.rawValue)", token: token, json: RegionController.Update(name: "改名镇", population: 1))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(RegionController.Row.self).name, "改名镇")

        res = try await send(.PUT, "/api/v1/regions/\(town.code.rawValue)", token: token, json: ["name": "  "])
        XCTAssertEqual(res.status, .unprocessableEntity)

        // A town with villages in use cannot be switched off.
        res = try await send(.POST, "/api/v1/regions/\(town.code.rawValue)/deactivate", token: token)
        XCTAssertEqual(res.status, .conflict)
        let village = city.regions.first { $0.level == .village && $0.kind == .community }!
        res = try await send(.POST, "/api/v1/regions/\(village.code.rawValue)/deactivate", token: token)
        XCTAssertEqual(res.status, .ok)
        XCTAssertFalse(try res.content.decode(RegionController.Row.self).active)

        res = try await send(.GET, "/api/v1/regions/999999999999", token: token)
        XCTAssertEqual(res.status, .notFound)
    }

    func testImportIsAllOrNothing() async throws {
        let token = try await token("admin")
        let bad = """
        code,name,level,parent_code,population
        349901001301,甲村,village,349901001000,1200
        349901001302,乙村,village,349901009000,800
        """
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        var res = try await app.testable().sendRequest(.POST, "/api/v1/regions/import", headers: headers, body: ByteBuffer(string: bad))
        XCTAssertEqual(res.status, .unprocessableEntity)
        let message = try errorBody(res).message
        XCTAssertTrue(message.contains("第 3 行"), message)
        res = try await send(.GET, "/api/v1/regions/349901001301", token: token)
        XCTAssertEqual(res.status, .notFound, "nothing of a failed import is kept")

        let good = """
        349901001301,甲村,village,349901001000,1200
        349901001301001,张家庄,natural_village,349901001301,300
        """
        res = try await app.testable().sendRequest(.POST, "/api/v1/regions/import", headers: headers, body: ByteBuffer(string: good))
        XCTAssertEqual(res.status, .ok, res.body.string)
        XCTAssertEqual(try res.content.decode(RegionController.ImportResult.self).imported, 2)
        res = try await send(.GET, "/api/v1/regions/349901001301001", token: token)
        XCTAssertEqual(try res.content.decode(RegionController.Detail.self).region.parentCode, "349901001301")
    }
}
