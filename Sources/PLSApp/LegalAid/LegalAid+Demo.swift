import Foundation
import SQLKit
import PLSDomain

/// 示范市's legal aid settings: each county's threshold, the roster, duty stations with a rota around
/// today, and suspects reported at the stations, a few of them still waiting for a duty lawyer so the
/// dashboard has a shortfall to show. Deterministic, like the rest of the demo city.
enum LegalAidDemo {
    static func seed(_ city: DemoCity, today: CivilDate, protector: PersonalDataProtector, on db: any SQLDatabase) async throws {
        var rng = SeededGenerator(seed: 12_348)
        let counties = city.regions.filter { $0.level == .county }
        // Monthly minimum living allowances of an Anhui prefecture, urban districts first.
        let allowances = [80_000, 78_000, 72_000, 70_000, 69_000]
        for (i, county) in counties.enumerated() {
            try await db.insert(into: "legal_aid_thresholds").columns("county_code", "minimum_living_allowance", "multiple", "updated_at")
                .values(SQLBind(county.code.rawValue), SQLBind(allowances[i % allowances.count]), SQLBind(i == 0 ? 2.2 : 2.0),
                        SQLBind(Date(timeIntervalSince1970: 1_767_225_600))).run()
        }

        // The roster: the legal aid officers, most lawyers (half of them for criminal cases) and some grassroots workers.
        let demoLawyer = city.accounts.first { $0.username == "lawyer" }?.practitionerID
        var criminalByCounty: [String: [UUID]] = [:]
        var rows: [[any SQLExpression]] = []
        for p in city.practitioners where LegalAidSettings.rosterTypes.contains(p.type) {
            let roll = Int.random(in: 0..<100, using: &rng)
            guard p.id == demoLawyer || p.type == .legalAidOfficer || (p.type == .lawyer && roll < 75) || roll < 30 else { continue }
            let years = p.id == demoLawyer ? 6 : Int.random(in: 0...15, using: &rng)
            let since = today.adding(days: -(years * 365 + Int.random(in: 30...330, using: &rng)))
            let criminal = p.type == .lawyer && (p.id == demoLawyer || roll % 2 == 0)
            if criminal { criminalByCounty[String(p.region.rawValue.prefix(6)), default: []].append(p.id) }
            rows.append([SQLBind(p.id), SQLBind(since.description), SQLBind(criminal), SQLBind(true), SQLBind(Date(timeIntervalSince1970: 1_767_225_600))])
        }
        try await DemoLoader.insertRows(db, "legal_aid_roster", ["practitioner_id", "practice_since", "criminal", "active", "added_at"], rows)

        // Duty stations at each county's court, procuratorate and detention centre, with a rota from a week ago to a fortnight ahead.
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
        for county in counties {
            let prefix = String(county.code.rawValue.prefix(6))
            let lawyers = (criminalByCounty[prefix] ?? []) + (criminalByCounty[String(city.rootCode.rawValue.prefix(6))] ?? [])
            let centre = city.institutions.first { $0.type == .legalAidCentre && $0.region == county.code }?.id
            for kind in DutyStationKind.allCases {
                let id = UUID(uuidString: "00000000-0000-4000-8000-\(prefix)\(CivilDate.pad(DutyStationKind.allCases.firstIndex(of: kind)!, 6))")!
                let name = county.name + (kind == .detentionCentre ? "看守所值班律师工作站" : kind.chineseName + "法律援助工作站")
                try await db.insert(into: "duty_stations").columns("id", "name", "kind", "region_code", "centre_id", "active")
                    .values(SQLBind(id), SQLBind(name), SQLBind(kind.rawValue), SQLBind(county.code.rawValue), SQLBind(centre), SQLBind(true)).run()
                guard !lawyers.isEmpty else { continue }
                var shifts = db.insert(into: "duty_shifts").columns("station_id", "day", "practitioner_id")
                for offset in -7...14 {
                    let lawyer = lawyers[(offset + 7 + DutyStationKind.allCases.firstIndex(of: kind)!) % lawyers.count]
                    shifts = shifts.values(SQLBind(id), SQLBind(today.adding(days: offset).description), SQLBind(lawyer))
                }
                try await shifts.run()
                // Suspects reported this year; the odd one still waiting for help.
                let stage: AidStage = kind == .court ? .firstInstance : (kind == .procuratorate ? .prosecution : .investigation)
                for n in 0..<4 {
                    let person = UUID()
                    let day = today.adding(days: -Int.random(in: 0...60, using: &rng))
                    let name = String(surnames[Int.random(in: 0..<surnames.count, using: &rng)]) + "某"
                    try await db.insert(into: "duty_persons").columns("id", "station_id", "region_code", "name", "case_reference", "stage", "registered_on", "created_at")
                        .values(SQLBind(person), SQLBind(id), SQLBind(county.code.rawValue), SQLBind(try protector.seal(name)), SQLBind("（演示）\(prefix)-\(n + 1)"),
                                SQLBind(stage.rawValue), SQLBind(day.description), SQLBind(Date(timeIntervalSince1970: 1_767_225_600))).run()
                    guard Int.random(in: 0..<100, using: &rng) < 90 else { continue }
                    try await db.insert(into: "duty_assistances").columns("id", "person_id", "station_id", "practitioner_id", "day", "kinds", "notes", "created_at")
                        .values(SQLBind(UUID()), SQLBind(person), SQLBind(id), SQLBind(lawyers[n % lawyers.count]), SQLBind(day.description),
                                SQLBind(DelimitedList.encode([DutyAssistanceKind.consultation.rawValue, DutyAssistanceKind.procedureAdvice.rawValue])),
                                SQLBind("（演示）告知诉讼权利，提出程序选择建议"), SQLBind(Date(timeIntervalSince1970: 1_767_225_600))).run()
                }
            }
        }
    }
}
