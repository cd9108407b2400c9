import Testing
@testable import PLSDomain

/// The leaders' view's rules: periods, 稳步提升, the county scorecard's arithmetic, withheld public counts, supply
/// against demand.
@Suite("The leaders' view's rules")
struct LeadersViewRulesTests {
    @Test func testPeriodsAreReadAsPeopleWriteThem() throws {
        let q3 = try #require(ReportPeriod("2026-Q3"))
        #expect(q3.kind == .quarter)
        #expect(q3.lastMonth == 9)
        #expect(q3.firstDay == CivilDate("2026-07-01"))
        #expect(q3.end == CivilDate("2026-10-01"))
        #expect(q3.chineseName == "2026 年第三季度")
        #expect(ReportPeriod("2026-q1")?.description == "2026-Q1")
        #expect(ReportPeriod("2026")?.lastMonth == 12)
        #expect(ReportPeriod("2026")?.end == CivilDate("2027-01-01"))
        #expect(ReportPeriod("2026-02")?.end == CivilDate("2026-03-01"))
        for bad in ["", "26", "2026-Q0", "2026-Q5", "2026-13", "2026-00", "1999", "2101", "2026-Q10", "２０２６", "2026-1", "99999999999999999999"] {
            #expect(ReportPeriod(bad) == nil, Comment(rawValue: bad))
        }
        // A quarter under way is judged on this month; one over, on its last month.
        #expect(q3.judgedMonth(today: CivilDate("2026-08-15")!) == "2026-08")
        #expect(q3.judgedMonth(today: CivilDate("2026-12-07")!) == "2026-09")
        #expect(!(q3.isOver(on: CivilDate("2026-09-30")!)))
        #expect(q3.isOver(on: CivilDate("2026-10-01")!))
    }

    /// 人民调解成功率稳步提升: above last year at the same point, not level with it; 100% held is met.
    @Test func testARisingRateMustBeAboveLastYears() {
        #expect(RisingTarget.isMet(value: 93.1, lastYear: 92.4))
        #expect(!(RisingTarget.isMet(value: 92.4, lastYear: 92.4)))
        #expect(!RisingTarget.isMet(value: 92.44, lastYear: 92.36), "the same to one decimal place, as printed")
        #expect(!(RisingTarget.isMet(value: 90, lastYear: 92.4)))
        #expect(RisingTarget.isMet(value: 100, lastYear: 100))
        #expect(Change.of(93.1, against: 92.4) == 0.7)
        #expect(Change.of(88, against: 92.4) == -4.4)
        #expect(Change.of(nil, against: 92.4) == nil)
        #expect(Change.of(90, against: nil) == nil)
    }

    @Test func testAScorecardWeighsMetAndProportionalIndicators() {
        let items = [
            CountyScoring.Item(indicator: "a", weight: 30, rule: .met, value: 100, target: 100, atLeast: true, met: true),
            CountyScoring.Item(indicator: "b", weight: 50, rule: .proportional, value: 80, target: 100, atLeast: true, met: false),
            CountyScoring.Item(indicator: "c", weight: 20, rule: .met, value: 60, target: 75, atLeast: true, met: false),
            // Nothing to measure: left out, neither won nor lost.
            CountyScoring.Item(indicator: "d", weight: 40, rule: .met, value: nil, target: 100, atLeast: true, met: nil),
        ]
        let s = CountyScoring.score(items)
        #expect(s.score == 70)  // 30 + 40 + 0 of 100
        #expect(s.lost.map(\.indicator) == ["c", "b"])
        #expect(s.lost.map(\.points) == [20, 10])
        // A ≤ target (a wait in minutes) in proportion: 15 minutes wanted, 20 taken, three quarters of the weight.
        let wait = CountyScoring.Item(indicator: "w", weight: 40, rule: .proportional, value: 20, target: 15, atLeast: false, met: false)
        #expect(abs((wait.earned ?? -1) - 30) < 0.0001)
        #expect(CountyScoring.Item(indicator: "z", weight: 10, rule: .proportional, value: 0, target: 0, atLeast: true, met: true).earned == 10)
        #expect(CountyScoring.score([]).score == 0)
        #expect(CountyScoring.score([items[3]]).score == 0)
    }

    @Test func testEqualScoresShareARank() {
        let ranks = CountyScoring.rank([("a", 90), ("b", 95), ("c", 90), ("d", 70)])
        #expect(ranks == ["b": 1, "a": 2, "c": 2, "d": 4])
        #expect(CountyScoring.rank([]) == [:])
    }

    @Test func testSmallPublicCountsAreWithheld() {
        #expect(PublicFigure.published(0) == nil)
        #expect(PublicFigure.published(9) == nil)
        #expect(PublicFigure.published(10) == 10)
        #expect(PublicFigure.published(12_348) == 12_348)
    }

    @Test func testDemandOutgrowsSupplyWhereItStandsFurtherAboveTheCity() {
        #expect(SupplyDemand.per10k(391, population: 3_912_000) == 1)
        #expect(SupplyDemand.per10k(5, population: 0) == nil)
        // Twice the city's demand with the city's supply: short.
        #expect(SupplyDemand.isShort(demand: 8, supply: 2, cityDemand: 4, citySupply: 2))
        // Twice the demand with twice the supply: not short.
        #expect(!(SupplyDemand.isShort(demand: 8, supply: 4, cityDemand: 4, citySupply: 2)))
        // No demand anywhere: nothing to be short of.
        #expect(!(SupplyDemand.isShort(demand: 0, supply: 0, cityDemand: 0, citySupply: 1)))
        // Demand and no one in the whole city to meet it.
        #expect(SupplyDemand.isShort(demand: 1, supply: nil, cityDemand: 1, citySupply: 0))
    }
}
