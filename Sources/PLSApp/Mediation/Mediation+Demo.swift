import Foundation
import SQLKit
import PLSDomain

/// 示范市's mediation network: members for every committee (a few breaking art. 9, so the warnings
/// have something to show), mediators full- or part-time, and a listening point in most villages.
enum MediationDemo {
    static func seed(_ city: DemoCity, today: CivilDate, on db: any SQLDatabase) async throws {
        var rng = SeededGenerator(seed: 0x4D45_4449)
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
        let given = Array("建国秀英玉兰桂芳志强丽华春梅文斌红霞德明淑珍海燕")
        func name() -> String {
            String(surnames[Int.random(in: 0..<surnames.count, using: &rng)]) + String(given[Int.random(in: 0..<given.count, using: &rng)])
                + String(given[Int.random(in: 0..<given.count, using: &rng)])
        }
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        var members: [[any SQLExpression]] = []
        for c in city.institutions where c.type == .mediationCommittee {
            let roll = Int.random(in: 0..<100, using: &rng)
            let count = roll < 3 ? 2 : Int.random(in: 3...7, using: &rng)
            // Most committees were elected in the last three years; a few terms have run out.
            let start = today.adding(days: -(roll >= 3 && roll < 7 ? 3 * 365 + 30 : Int.random(in: 30...900, using: &rng)))
            for i in 0..<count {
                let female = roll >= 7 && roll < 10 ? false : (i == 1 || Int.random(in: 0..<3, using: &rng) == 0)
                members.append([SQLBind(UUID()), SQLBind(c.id), SQLBind(name()), SQLBind(female ? Gender.female.rawValue : Gender.male.rawValue),
                                SQLBind(i == 0 ? CommitteeRole.director.rawValue : (i == 1 ? CommitteeRole.deputyDirector.rawValue : CommitteeRole.member.rawValue)),
                                SQLBind(start.description), SQLBind(created)])
            }
        }
        try await DemoLoader.insertRows(db, "committee_members", ["id", "institution_id", "name", "gender", "role", "term_start", "created_at"], members)
        try await DemoLoader.insertRows(db, "mediators", ["practitioner_id", "full_time"], city.practitioners.filter { $0.type == .mediator }.map {
            [SQLBind($0.id), SQLBind(Int.random(in: 0..<4, using: &rng) == 0)]
        })
        var points: [[any SQLExpression]] = []
        for v in city.regions where v.level == .village {
            guard Int.random(in: 0..<10, using: &rng) < 8 else { continue }
            let committee = city.institutions.first { $0.type == .mediationCommittee && $0.region == v.code }?.id
            points.append([SQLBind(UUID()), SQLBind(v.name + "百姓说事点"), SQLBind(v.code.rawValue), SQLBind(committee),
                           SQLBind(["每周一、三、五 上午", "每周二、四 下午", "每月逢 5 日、15 日、25 日"][Int.random(in: 0...2, using: &rng)]), SQLBind(true)])
        }
        try await DemoLoader.insertRows(db, "listening_points", ["id", "name", "region_code", "committee_id", "hours", "active"], points)
    }
}
