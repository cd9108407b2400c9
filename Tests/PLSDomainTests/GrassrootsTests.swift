import Testing
@testable import PLSDomain

@Suite("Village legal advisers: the 50-hour pace, log entries, spreadsheets")
struct GrassrootsRulesTests {
    func d(_ s: String) -> CivilDate { CivilDate(s)! }

    @Test("the pace of 50 hours a year, by the day", arguments: [
        ("2026-01-01", 50.0 / 365),
        ("2026-07-02", 50.0 * 183 / 365),
        ("2026-12-31", 50.0),
        ("2028-12-31", 50.0),          // a leap year ends on the target too
    ])
    func pace(day: String, expected: Double) {
        #expect(abs(AdviserTargets.pace(50, on: d(day)) - expected) < 1e-9)
    }

    @Test("behind the pace, with half hours judged to a tenth")
    func behind() {
        // 29 November: 333 days gone, the pace is 45.6 hours.
        #expect(AdviserTargets.isBehind(45.5, annual: 50, on: d("2026-11-29")))
        #expect(!AdviserTargets.isBehind(45.6, annual: 50, on: d("2026-11-29")))
        #expect(!AdviserTargets.isBehind(50, annual: 50, on: d("2026-12-31")))
        #expect(AdviserTargets.isBehind(49.5, annual: 50, on: d("2026-12-31")))
    }

    @Test("an entry is checked whole", arguments: [
        ("2026-11-29", 2.0, 1, 5, [AdviserServiceEntry.Problem]()),
        ("2026-11-30", 2.0, 1, 5, [.future]),
        ("2024-12-31", 2.0, 1, 5, [.tooOld]),
        ("2026-11-01", 0.25, 1, 5, [.hours]),
        ("2026-11-01", 1.2, 0, -1, [.hours, .items, .people]),
        ("2026-11-01", 12.5, 1, 0, [.hours]),
    ])
    func entry(day: String, hours: Double, items: Int, people: Int, problems: [AdviserServiceEntry.Problem]) {
        #expect(AdviserServiceEntry.problems(day: d(day), hours: hours, items: items, people: people, today: d("2026-11-29")) == problems)
    }

    @Test("a consultation or a dispute becomes a request; the rest stay in the log")
    func becomes() {
        #expect(AdviserServiceKind.consultation.becomes == .consultation)
        #expect(AdviserServiceKind.disputeResolution.becomes == .mediation)
        #expect(AdviserServiceKind.publicity.becomes == nil)
    }

    @Test("a county's share of the city's 17,000 items follows its villages, rounded up so the shares cover the whole")
    func shares() {
        #expect(AdviserTargets.share(of: 17_000, villages: 100, ofCity: 500) == 3_400)
        #expect(AdviserTargets.share(of: 17_000, villages: 1, ofCity: 3) == 5_667)
        #expect(3 * AdviserTargets.share(of: 17_000, villages: 1, ofCity: 3) >= 17_000)
        #expect(AdviserTargets.share(of: 17_000, villages: 500, ofCity: 500) == 17_000)
        #expect(AdviserTargets.share(of: 17_000, villages: 0, ofCity: 500) == 0)
        #expect(AdviserTargets.share(of: 17_000, villages: 3, ofCity: 0) == 0)
    }
}

@Suite("Government bodies and their legal advisers (实施方案 三(六))")
struct GovernmentBodyTests {
    @Test("committees and governments of the city, counties and towns are expected to retain an adviser", arguments: [
        (GovernmentBodyKind.partyCommittee, RegionLevel.city, true), (.government, .city, true),
        (.partyCommittee, .county, true), (.government, .county, true),
        (.partyCommittee, .town, true), (.government, .town, true),
        (.government, .village, false),
    ])
    func committeesAndGovernments(kind: GovernmentBodyKind, level: RegionLevel, expected: Bool) {
        #expect(GovernmentBodies.expectsAdviser(kind: kind, level: level, enforcementHeavy: false) == expected)
    }

    @Test("departments of the city and counties only where enforcement duties are heavy")
    func departments() {
        #expect(GovernmentBodies.expectsAdviser(kind: .department, level: .city, enforcementHeavy: true))
        #expect(GovernmentBodies.expectsAdviser(kind: .department, level: .county, enforcementHeavy: true))
        #expect(!GovernmentBodies.expectsAdviser(kind: .department, level: .city, enforcementHeavy: false))
        #expect(!GovernmentBodies.expectsAdviser(kind: .department, level: .town, enforcementHeavy: true))
    }

    @Test("the kind a registered name suggests", arguments: [
        ("中共示范市委员会", GovernmentBodyKind.partyCommittee), ("中共三阳街道工作委员会", .partyCommittee), ("西山县委党工委", .partyCommittee),
        ("示范市人民政府", .government), ("三阳街道办事处", .government), ("示范经济开发区管理委员会", .government),
        ("示范市市场监督管理局", .department), ("示范市档案馆", .department),
    ])
    func suggestedKinds(name: String, kind: GovernmentBodyKind) {
        #expect(GovernmentBodies.suggestedKind(name: name) == kind)
    }

    @Test("the seven departments the plan names")
    func namedDepartments() {
        for name in ["示范市市场监督管理局", "示范市城市管理局", "国家税务总局示范市税务局", "示范市住房和城乡建设局", "示范市自然资源和规划局",
                     "示范市生态环境局", "示范市交通运输局"] {
            #expect(GovernmentBodies.isNamedEnforcementDepartment(name: name), "\(name)")
        }
        #expect(!GovernmentBodies.isNamedEnforcementDepartment(name: "示范市档案馆"))
    }

    @Test("schools the plan names for a counsellor: central schools and the city's own (二(四))", arguments: [
        ("示范市第一中学", RegionLevel.city, SchoolKind.cityLevel), ("示范市特殊教育学校", .city, .cityLevel),
        ("城关镇中心学校", .town, .central), ("三阳镇中心小学", .town, .central), ("凤埠中心校", .village, .central),
        ("凤埠村小学", .village, .other), ("西山县第二中学", .county, .other),
    ])
    func schoolKinds(name: String, level: RegionLevel, kind: SchoolKind) {
        #expect(Schools.suggestedKind(name: name, level: level) == kind)
        #expect(kind.expectsCounsellor == (kind != .other))
    }
}
