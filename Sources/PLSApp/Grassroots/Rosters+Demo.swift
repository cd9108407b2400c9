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
        var rows: [[any SQLExpression]] = [], work: [[any SQLExpression]] = []
        @discardableResult
        func add(_ kind: RosterKind, _ region: String, institution: UUID? = nil, partner: UUID? = nil, name: String, detail: String? = nil) -> UUID {
            let id = UUID()
            rows.append([SQLBind(id), SQLBind(kind.rawValue), SQLBind(region), SQLBind(institution), SQLBind(partner), SQLBind(name),
                         SQLBind(detail), SQLBind(start), SQLBind(created)])
            return id
        }
        let subjects: [(AdviserWork.Kind, String)] = [
            (.normativeDocumentReview, "《关于加强城市管理工作的实施意见》合法性审核"), (.majorDecisionReview, "老旧小区改造项目重大决策合法性审查"),
            (.petitionReception, "参与领导干部接访日接待"), (.administrativeLitigation, "代理一起行政处罚决定行政诉讼"),
            (.administrativeReconsideration, "办理一起行政复议案件"), (.normativeDocumentReview, "《政府信息公开工作规则》合法性审核"),
        ]
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
                if roll < 90 {
                    let adviser = add(.governmentAdviser, i.region.rawValue, institution: i.id, name: person(), detail: roll % 3 == 0 ? "共享" : "个人")
                    // A few records of work for each adviser of the city and the counties.
                    if [.city, .county].contains(i.region.level) {
                        for k in 0..<(1 + roll % 4) {
                            let (kind, subject) = subjects[(roll + k) % subjects.count]
                            let day = CivilDate(year: today.year, month: 1 + (roll + 3 * k) % max(1, today.month), day: 1 + (roll * 7 + k) % 27)!
                            work.append([SQLBind(UUID()), SQLBind(adviser), SQLBind(kind.rawValue), SQLBind(min(day, today).description), SQLBind(subject),
                                         SQLBind(nil as String?), SQLBind(created)])
                        }
                    }
                }
                if roll < 30 { add(.publicLawyer, i.region.rawValue, institution: i.id, name: person()) }
            }
        }
        try await DemoLoader.insertRows(db, "grassroots_rosters", ["id", "kind", "region_code", "institution_id", "partner_id", "name", "detail",
                                                                   "start_on", "created_at"], rows)
        try await DemoLoader.insertRows(db, "adviser_work_records", ["id", "roster_id", "kind", "done_on", "subject", "note", "created_at"], work)
        try await seedTraining(city, today: today, created: created, rng: &rng, on: db)
    }

    /// Two sessions of the year: the city's training of village advisers (most came, most passed) and a
    /// county's for mediators, whose attendance is still to be entered.
    static func seedTraining(_ city: DemoCity, today: CivilDate, created: Date, rng: inout SeededGenerator, on db: any SQLDatabase) async throws {
        let advisers = Set(city.practitioners.filter { [.lawyer, .grassrootsLegalWorker].contains($0.type) }.prefix(40).map(\.id))
        let cityTraining = UUID(), countyTraining = UUID()
        let county = city.regions.first { $0.level == .county }!
        try await DemoLoader.insertRows(db, "training_sessions", ["id", "title", "held_on", "region_code", "hours", "audience", "created_at"], [
            [SQLBind(cityTraining), SQLBind("\(today.year) 年村（居）法律顾问业务培训"), SQLBind(CivilDate(year: today.year, month: 4, day: 16)!.description),
             SQLBind(city.rootCode.rawValue), SQLBind(6.0), SQLBind("村（居）法律顾问"), SQLBind(created)],
            [SQLBind(countyTraining), SQLBind("\(county.name)人民调解员岗前培训"), SQLBind(CivilDate(year: today.year, month: 9, day: 8)!.description),
             SQLBind(county.code.rawValue), SQLBind(3.0), SQLBind("人民调解员"), SQLBind(created)],
        ])
        var attendance: [[any SQLExpression]] = []
        for id in advisers.sorted(by: { $0.uuidString < $1.uuidString }) {
            let roll = Int.random(in: 0..<100, using: &rng)
            let attended = roll >= 8
            attendance.append([SQLBind(cityTraining), SQLBind(id), SQLBind(attended), SQLBind(attended ? Double(52 + roll % 47) : nil)])
        }
        try await DemoLoader.insertRows(db, "training_attendance", ["session_id", "practitioner_id", "attended", "score"], attendance)
    }
}
