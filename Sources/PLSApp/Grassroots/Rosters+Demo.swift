import Foundation
import SQLKit
import PLSDomain

/// 示范市's rosters, most places covered and some not, so the dashboard has gaps to show.
enum RostersDemo {
    static func seed(_ city: DemoCity, today: CivilDate, on db: any SQLDatabase) async throws {
        var rng = SeededGenerator(seed: 0x524F_5354)
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
        let given = Array("建国秀英玉兰桂芳志强丽华春梅文斌红霞德明")
        func person() -> String {
            String(surnames[Int.random(in: 0..<surnames.count, using: &rng)]) + String(given[Int.random(in: 0..<given.count, using: &rng)])
                + String(given[Int.random(in: 0..<given.count, using: &rng)])
        }
        let start = CivilDate(year: today.year - 1, month: 3, day: 1)!.description
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        var rows: [[any SQLExpression]] = []
        func add(_ kind: RosterKind, _ region: String, institution: UUID? = nil, partner: UUID? = nil, name: String, detail: String? = nil) {
            rows.append([SQLBind(UUID()), SQLBind(kind.rawValue), SQLBind(region), SQLBind(institution), SQLBind(partner), SQLBind(name),
                         SQLBind(detail), SQLBind(start), SQLBind(created)])
        }
        for r in city.regions {
            let roll = Int.random(in: 0..<100, using: &rng)
            if r.level == .naturalVillage {
                for _ in 0..<(roll < 8 ? 2 : 3) { add(.legalUnderstander, r.code.rawValue, name: person()) }
            } else if r.level == .village {
                if r.kind == .rural { for _ in 0..<(roll < 10 ? 1 : 2) { add(.ruleOfLawLeader, r.code.rawValue, name: person()) } }
                if roll < 88 { add(.cultureSite, r.code.rawValue, name: r.name + "法治文化广场", detail: "法治宣传栏、法治书屋") }
                if roll % 17 == 0 { add(.demonstrationVillage, r.code.rawValue, name: "省级民主法治示范村（社区）", detail: "\(today.year - 2) 年命名") }
            }
        }
        let firms = city.institutions.filter { $0.type == .lawFirm }
        for i in city.institutions {
            let roll = Int.random(in: 0..<100, using: &rng)
            if i.type == .school {
                if roll < 85 { add(.schoolCounsellor, i.region.rawValue, institution: i.id, name: person(), detail: "司法所") }
                if roll < 70 { add(.schoolVicePrincipal, i.region.rawValue, institution: i.id, name: person(), detail: "派出所") }
                if roll < 40, !firms.isEmpty { let f = firms[roll % firms.count]; add(.firmSchoolPairing, i.region.rawValue, institution: i.id, partner: f.id, name: f.name) }
            } else if i.type == .governmentBody {
                if roll < 90 { add(.governmentAdviser, i.region.rawValue, institution: i.id, name: person(), detail: roll % 3 == 0 ? "共享" : "个人") }
                if roll < 30 { add(.publicLawyer, i.region.rawValue, institution: i.id, name: person()) }
            }
        }
        try await DemoLoader.insertRows(db, "grassroots_rosters", ["id", "kind", "region_code", "institution_id", "partner_id", "name", "detail",
                                                                   "start_on", "created_at"], rows)
    }
}
