import Foundation
import SQLKit
import PLSDomain

/// 示范市's village legal advisers: nearly every village and community has one (a few still do not), each
/// with a year of logged visits, some villages ahead of the 50-hour pace and some behind.
enum GrassrootsDemo {
    static func seed(_ city: DemoCity, today: CivilDate, on db: any SQLDatabase) async throws {
        var rng = SeededGenerator(seed: 0x4144_5649)
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        let byCounty = Dictionary(grouping: city.practitioners.filter { VillageAdvisers.adviserTypes.contains($0.type) }) { String($0.region.rawValue.prefix(6)) }
        let start = CivilDate(year: today.year, month: 1, day: 1)!
        let daysSoFar = max(1, today.dayNumber - start.dayNumber)
        var assignments: [[any SQLExpression]] = [], services: [[any SQLExpression]] = []
        let kinds = AdviserServiceKind.allCases
        // The demo adviser (account `adviser`) serves three villages of their own area.
        let demoAdviser = city.accounts.first { $0.username == "adviser" }.flatMap { a in city.practitioners.first { $0.id == a.practitionerID } }
        let own = Set(city.regions.filter { v in v.level == .village && demoAdviser.map { $0.region.contains(v.code) } == true }.prefix(3).map(\.code))
        for village in city.regions where village.level == .village {
            guard let pool = byCounty[String(village.code.rawValue.prefix(6))], !pool.isEmpty,
                  own.contains(village.code) || Int.random(in: 0..<100, using: &rng) < 96 else { continue }
            let adviser = own.contains(village.code) ? demoAdviser! : pool[Int.random(in: 0..<pool.count, using: &rng)]
            assignments.append([SQLBind(UUID()), SQLBind(adviser.id), SQLBind(village.code.rawValue),
                                SQLBind(CivilDate(year: today.year - 1, month: 1, day: 1)!.description), SQLBind(nil as String?), SQLBind(created)])
            // Most villages keep pace; about one in six falls behind.
            let behind = Int.random(in: 0..<6, using: &rng) == 0
            let target = (behind ? 0.5 : 1.05) * AdviserTargets.pace(AdviserTargets.hoursPerVillage, on: today)
            var hours = 0.0
            while hours < target {
                let h = Double(Int.random(in: 2...8, using: &rng)) / 2
                hours += h
                let day = start.adding(days: Int.random(in: 0..<daysSoFar, using: &rng))
                services.append([SQLBind(UUID()), SQLBind(adviser.id), SQLBind(village.code.rawValue), SQLBind(day.description), SQLBind(h),
                                 SQLBind(kinds[Int.random(in: 0..<kinds.count, using: &rng)].rawValue), SQLBind(Int.random(in: 1...3, using: &rng)),
                                 SQLBind(Int.random(in: 1...30, using: &rng)), SQLBind("（演示）驻村服务"), SQLBind(created)])
            }
        }
        try await DemoLoader.insertRows(db, "adviser_assignments", ["id", "practitioner_id", "region_code", "start_on", "end_on", "created_at"], assignments)
        try await DemoLoader.insertRows(db, "adviser_services", ["id", "practitioner_id", "region_code", "served_on", "hours", "kind", "items", "people", "notes", "created_at"], services)
    }
}
