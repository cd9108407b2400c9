import Testing
@testable import PLSDomain

@Suite("People's mediation rules (人民调解法)")
struct MediationRulesTests {
    let calendar = DeadlineTests.calendar
    func d(_ s: String) -> CivilDate { CivilDate(s)! }
    func member(_ name: String, _ g: Gender, _ role: CommitteeRole = .member, since: String = "2025-01-10") -> CommitteeMember {
        CommitteeMember(name: name, gender: g, role: role, termStart: d(since))
    }

    @Test("art. 8: three to nine members, one director, a woman among them")
    func composition() {
        let good = [member("王", .male, .director), member("李", .female), member("张", .male)]
        #expect(MediationRules.composition(good, on: d("2026-11-29")).isEmpty)
        #expect(MediationRules.composition(Array(good.prefix(2)), on: d("2026-11-29")) == [.tooFew(2)])
        let men = [member("王", .male, .director), member("赵", .male), member("张", .male)]
        #expect(MediationRules.composition(men, on: d("2026-11-29")) == [.noWoman])
        let ten = (0..<10).map { member("员\($0)", $0 == 0 ? .female : .male, $0 == 0 ? .director : .member) }
        #expect(MediationRules.composition(ten, on: d("2026-11-29")) == [.tooMany(10)])
        let twoHeads = [member("王", .male, .director), member("李", .female, .director), member("张", .male)]
        #expect(MediationRules.composition(twoHeads, on: d("2026-11-29")) == [.severalDirectors(2)])
        let headless = [member("王", .male, .deputyDirector), member("李", .female), member("张", .male)]
        #expect(MediationRules.composition(headless, on: d("2026-11-29")) == [.noDirector])
        #expect(CompositionWarning.noWoman.article == "人民调解法第八条第三款")
        #expect(CompositionWarning.tooFew(2).article == "人民调解法第八条第二款")
    }

    @Test("art. 9: a three-year term ends on its third anniversary")
    func terms() {
        let old = [member("王", .male, .director, since: "2023-11-29"), member("李", .female, since: "2023-11-30"), member("张", .male)]
        #expect(MediationRules.composition(old, on: d("2026-11-29")) == [.termExpired(names: ["王"])])
        #expect(MediationRules.termEnd(from: d("2024-02-29")) == d("2027-02-28"))
        #expect(CompositionWarning.termExpired(names: ["王"]).message.contains("三年任期已满"))
    }

    @Test("art. 33: thirty days to apply for judicial confirmation, a last day on a holiday moves on", arguments: [
        ("2026-11-02", "2026-12-02"),   // an ordinary Wednesday
        ("2026-09-01", "2026-10-08"),   // 1 October is National Day: after the holiday week
        ("2026-01-16", "2026-02-24"),   // 15 February falls in the Spring Festival
        ("2026-10-31", "2026-11-30"),   // 30 November is a Monday
        ("2026-10-30", "2026-11-30"),   // 29 November is a Sunday
    ])
    func confirmation(effective: String, deadline: String) {
        #expect(MediationRules.confirmationDeadline(effectiveOn: d(effective), calendar: calendar) == d(deadline))
    }

    @Test("a mass dispute: many people or a large sum")
    func mass() {
        #expect(MediationRules.isMass(peopleInvolved: 12, amount: nil, peopleThreshold: 10, amountThreshold: 50_000_000))
        #expect(MediationRules.isMass(peopleInvolved: 2, amount: 50_000_000, peopleThreshold: 10, amountThreshold: 50_000_000))
        #expect(!MediationRules.isMass(peopleInvolved: 9, amount: 49_999_999, peopleThreshold: 10, amountThreshold: 50_000_000))
    }

    @Test("hotspots: the last 30 days against the usual level of the half-year before", arguments: [
        (6, 6, 2.0, 3, true),     // usually 1 a month, now 6
        (2, 6, 2.0, 3, false),    // below the minimum worth raising
        (5, 18, 2.0, 3, false),   // usually 3 a month: 5 is not more than twice that
        (7, 18, 2.0, 3, true),
        (3, 0, 2.0, 3, true),     // nothing before: 3 is more than twice "one"
    ])
    func hotspot(recent: Int, earlier: Int, multiple: Double, minimum: Int, expected: Bool) {
        #expect(Hotspot.isHotspot(recent: recent, earlier: earlier, multiple: multiple, minimum: minimum) == expected)
    }

    @Test("an agreement is fulfilled only when every obligation is", arguments: [
        ([FulfilmentStatus.fulfilled, .fulfilled], FulfilmentStatus.fulfilled),
        ([.fulfilled, .pending], .partlyFulfilled),
        ([.partlyFulfilled], .partlyFulfilled),
        ([.notFulfilled, .pending], .notFulfilled),
        ([.pending], .pending),
        ([], .pending),
    ])
    func fulfilment(statuses: [FulfilmentStatus], overall: FulfilmentStatus) {
        #expect(FulfilmentStatus.overall(statuses) == overall)
    }

    @Test("every outcome maps to a request outcome")
    func outcomes() {
        #expect(Set(MediationOutcome.allCases.map(\.requestOutcome)).count == MediationOutcome.allCases.count)
        #expect(MediationOutcome.notMediated.chineseName == "当事人拒绝调解")
    }
}
