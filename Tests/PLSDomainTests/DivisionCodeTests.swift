import Testing
import Foundation
@testable import PLSDomain

@Suite("Statistical division codes")
struct DivisionCodeTests {
    @Test("levels follow the shape PPCCDDTTTVVV", arguments: [
        ("340100000000", RegionLevel.city),        // 合肥市
        ("340102000000", .county),                // 瑶海区
        ("340102001000", .town),                  // 明光路街道
        ("340102001001", .village),               // a 社区居委会
        ("340122100201", .village),               // a 村委会
        ("340122100201003", .naturalVillage),
    ])
    func level(code: String, level: RegionLevel) {
        #expect(DivisionCode(code)?.level == level)
    }

    @Test("malformed codes are refused", arguments: [
        "", "34010000000", "3401000000000", "34010000000A", "340000000000", // province only
        "000100000000", "340100001000", // a town under a zero county
        "340100000001", "340102000001", // a village without a town
        "340102001000001", // natural village under a town
        "340122100201000", // natural village number 000
        " 3401 0000 0000",
        "３４０１００００００００", // full-width digits
        "34010200100١", // an Arabic-Indic digit
    ])
    func invalid(code: String) {
        #expect(DivisionCode(code) == nil)
    }

    @Test("surrounding spaces, ASCII or full-width, are trimmed; the code keeps only its digits")
    func trimmed() {
        #expect(DivisionCode(" 340102001001 ")?.rawValue == "340102001001")
        #expect(DivisionCode("\u{3000}340102001001\u{3000}")?.level == .village)
        #expect(DivisionCode(" 340102001001 ") == DivisionCode("340102001001"))
    }

    @Test func parents() {
        let natural = DivisionCode("340122100201003")!
        #expect(natural.parent?.rawValue == "340122100201")
        #expect(natural.parent?.parent?.rawValue == "340122100000")
        #expect(natural.parent?.parent?.parent?.rawValue == "340122000000")
        #expect(natural.parent?.parent?.parent?.parent?.rawValue == "340100000000")
        #expect(natural.parent?.parent?.parent?.parent?.parent == nil)
    }

    @Test func ancestors() {
        let natural = DivisionCode("349901101203002")!
        #expect(natural.ancestor(at: .county)?.rawValue == "349901000000")
        #expect(natural.ancestor(at: .town)?.rawValue == "349901101000")
        #expect(natural.ancestor(at: .naturalVillage) == natural)
        #expect(DivisionCode("349901000000")!.ancestor(at: .town) == nil, "a county has no town above it")
    }

    @Test func scopeContainment() {
        let county = DivisionCode("349901000000")!
        #expect(county.contains(DivisionCode("349901101203")!))
        #expect(county.contains(county))
        #expect(!county.contains(DivisionCode("349902101203")!))
        #expect(DivisionCode("349900000000")!.contains(DivisionCode("349923105210001")!))
        #expect(county.scopePrefix == "349901")
    }

    @Test("village kind from the code: 001–199 communities, 200–399 villages")
    func villageKind() {
        #expect(DivisionCode("340102001001")?.villageKind == .community)
        #expect(DivisionCode("340122100199")?.villageKind == .community)
        #expect(DivisionCode("340122100200")?.villageKind == .rural)
        #expect(DivisionCode("340122100000")?.villageKind == nil)
    }

    @Test func naturalVillageNumbering() {
        let village = DivisionCode("340122100201")!
        #expect(village.naturalVillage(7)?.rawValue == "340122100201007")
        #expect(village.naturalVillage(0) == nil)
        #expect(village.naturalVillage(1000) == nil)
        #expect(DivisionCode("340122100000")!.naturalVillage(1) == nil)
    }
}

@Suite("Region import file")
struct RegionCSVTests {
    let existing: Set<String> = ["349900000000", "349901000000"]

    @Test func acceptsAValidFileInAnyOrder() throws {
        let text = "\u{FEFF}code,name,level,parent_code,population\r\n349901001001,新村社区,village,349901001000,5000\r\n349901001000,新街道,town,349901000000\r\n\r\n"
        let rows = try RegionCSV.parse(text, existing: existing)
        #expect(rows.map(\.code.rawValue) == ["349901001000", "349901001001"], "parents first")
        #expect(rows[1].population == 5000)
        #expect(rows[0].population == 0)
    }

    @Test("each fault names its line", arguments: [
        ("349901001000,甲镇,town,349901000000\n34990100100,乙村,village,349901001000", 2, "区划代码"),
        ("349901001000,甲镇,village,349901000000", 1, "层级"),
        ("349901001000,甲镇,town,349900000000", 1, "上级代码应为"),
        ("349901001000,甲镇,town", 1, "列"),
        ("349901001000,甲镇,town,349901000000,很多", 1, "人口"),
        ("349901001000,甲镇,town,349901000000\n349901001000,甲镇,town,349901000000", 2, "重复"),
        ("349901000000,城关区,county,349900000000", 1, "已存在"),
        ("349901001000,,town,349901000000", 1, "名称"),
        ("349901001000,甲镇,town,349901000000\n349902001001,乙社区,village,349902001000", 2, "上级区划 349902001000 不存在"),
    ])
    func faults(text: String, line: Int, mentions: String) {
        #expect(throws: RegionCSV.Failure.self) { try RegionCSV.parse(text, existing: existing) }
        do {
            _ = try RegionCSV.parse(text, existing: existing)
        } catch {
            #expect(error.line == line)
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }
}
