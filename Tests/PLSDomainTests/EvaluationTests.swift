import Testing
@testable import PLSDomain

/// The evaluation loop's rules (国办发〔2019〕51号) on the 2026 calendar: rectification limits in working days across the
/// National Day holiday, the order of the steps, one appeal; complaints' acceptance clock and its one pause.
@Suite("Rectification and complaint rules")
struct EvaluationRuleTests {
    static let calendar = DeadlineStageTests.calendar
    func d(_ s: String) -> CivilDate { CivilDate(s)! }

    @Test("A bad rating on the eve of National Day: called back and rectified counting working days only")
    func limitsAcrossTheHoliday() {
        let rules = RectificationRules.standard
        // Wednesday 30 September: the next working day is Thursday 8 October (1–7 off, 10 October a make-up Saturday).
        #expect(rules.callbackDue(ratedOn: d("2026-09-30"), on: Self.calendar) == d("2026-10-08"))
        // Fifteen working days: 8, 9, 10 (make-up), 12–16, 19–23, 26, 27 October.
        #expect(rules.rectifyDue(ratedOn: d("2026-09-30"), on: Self.calendar) == d("2026-10-27"))
        // A province that gives five: 8, 9, 10, 12, 13 October.
        let five = RectificationRules(callbackDays: 1, rectifyDays: 5, appealDecisionDays: 5)
        #expect(five.rectifyDue(ratedOn: d("2026-09-30"), on: Self.calendar) == d("2026-10-13"))
        #expect(rules.appealDue(appealedOn: d("2026-03-02"), on: Self.calendar) == d("2026-03-09"))
    }

    @Test("The steps go in order; a callback not answered is tried up to three times")
    func order() {
        #expect(RectificationFlow.next(.rectify, from: .awaitingCallback) == .failure(.notNow("请先回访当事人，核实情况后再整改")))
        #expect(RectificationFlow.next(.callback, from: .awaitingCallback, reached: false, attempts: 1) == .success(.awaitingCallback))
        #expect(RectificationFlow.next(.callback, from: .awaitingCallback, reached: false, attempts: 3) == .success(.rectifying))
        #expect(RectificationFlow.next(.callback, from: .awaitingCallback, reached: true, attempts: 1) == .success(.rectifying))
        #expect(RectificationFlow.next(.rectify, from: .rectifying) == .success(.rectified))
        #expect(RectificationFlow.next(.reply, from: .rectifying).isFailure)
        #expect(RectificationFlow.next(.reply, from: .rectified) == .success(.replied))
        #expect(RectificationFlow.next(.evaluation, from: .rectified).isFailure)
        #expect(RectificationFlow.next(.evaluation, from: .replied) == .success(.closed))
        #expect(RectificationFlow.next(.evaluation, from: .closed).isFailure)
    }

    @Test("One appeal, before the reply; rejected, it returns to where it was")
    func appeals() {
        #expect(RectificationFlow.next(.appeal, from: .rectifying) == .success(.appealed))
        #expect(RectificationFlow.next(.appeal, from: .rectifying, appealed: true).isFailure)
        #expect(RectificationFlow.next(.appeal, from: .replied).isFailure)
        #expect(RectificationFlow.next(.appealDecision, from: .appealed, upheld: true) == .success(.withdrawn))
        #expect(RectificationFlow.next(.appealDecision, from: .appealed, upheld: false, before: .awaitingCallback) == .success(.awaitingCallback))
        #expect(RectificationFlow.next(.appealDecision, from: .rectifying).isFailure)
        #expect(!RectificationStatus.withdrawn.isOpen && RectificationStatus.appealed.isOpen)
    }

    @Test("A complaint: ten working days to accept, paused while material is awaited; sixty days to decide, extended once")
    func complaints() {
        let rules = ComplaintRules.standard
        // Registered Monday 21 September: 22–24 September (25–27 the Mid-Autumn holiday), 28–30 September, then 8, 9,
        // 10 (make-up) and 12 October.
        #expect(rules.acceptDue(registeredOn: d("2026-09-21"), on: Self.calendar) == d("2026-10-12"))
        // Material awaited from 22 to 25 September: the working days 23 and 24 more.
        let paused = DeadlineRule.Pause.between(d("2026-09-22"), d("2026-09-25"), on: Self.calendar)
        #expect(rules.acceptDue(registeredOn: d("2026-09-21"), paused: paused, on: Self.calendar) == d("2026-10-14"))
        // Sixty calendar days from acceptance, rolled to a working day; the extension adds thirty.
        let due = rules.decisionDue(from: d("2026-08-03"), extended: false, on: Self.calendar)
        #expect(due == d("2026-10-08"), "2 October falls in the holiday: the next working day")
        #expect(rules.decisionDue(from: d("2026-08-03"), extended: true, on: Self.calendar) == d("2026-11-02"))
        #expect(ComplaintFlow.next(.requestMaterial, from: .registered) == .success(.awaitingMaterial))
        #expect(ComplaintFlow.next(.requestMaterial, from: .registered, materialRequested: true).isFailure)
        #expect(ComplaintFlow.next(.decide, from: .registered).isFailure)
        #expect(ComplaintFlow.next(.extend, from: .investigating, extended: true).isFailure)
        #expect(ComplaintFlow.next(.accept, from: .refused).isFailure)
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { true } else { false } }
}

@Suite("Monthly rating rankings")
struct RatingRankingTests {
    func line(_ id: String, _ rated: Int, _ satisfied: Int) -> RatingLine { RatingLine(id: id, rated: rated, satisfied: satisfied, bad: 0, rectifiedOnTime: 0) }

    @Test("Ranked by satisfaction, then by how many rated; ties share a rank; the bottom tenth of those fairly rated is marked")
    func ranking() {
        let ranked = RatingRanking.rank([line("a", 10, 9), line("b", 20, 18), line("c", 5, 5), line("d", 2, 0), line("e", 10, 5), line("f", 20, 18)])
        #expect(ranked.map(\.line.id) == ["c", "b", "f", "a", "e", "d"])
        #expect(ranked.map(\.rank) == [1, 2, 2, 4, 5, 6])
        // d has only two ratings: too few to be put at the bottom; e is, as the lowest of five fairly rated.
        #expect(ranked.filter(\.bottom).map(\.line.id) == ["e"])
        #expect(ranked[0].line.satisfaction == 100)
    }

    @Test("Nobody is at the bottom alone, or without ratings")
    func alone() {
        #expect(RatingRanking.rank([line("a", 10, 1)]).allSatisfy { !$0.bottom })
        #expect(RatingRanking.rank([line("a", 0, 0), line("b", 0, 0)]).allSatisfy { !$0.bottom })
        let twenty = (0..<20).map { line(String(format: "%02d", $0), 10, $0 % 10) }
        #expect(RatingRanking.rank(twenty).filter(\.bottom).count == 2, "a tenth of twenty")
    }
}

@Suite("Case-file review samples and checklists")
struct QualityReviewRuleTests {
    @Test("The sample is a share rounded up, at least one, the same for the same seed and cases, another for another seed")
    func sample() {
        let ids = (0..<45).map { "case-\($0)" }
        let a = QualitySample.draw(ids, share: 0.05, seed: "2026-11")
        #expect(a.count == 3, "5% of 45 is 2.25: three")
        #expect(QualitySample.draw(ids.reversed(), share: 0.05, seed: "2026-11") == a, "the order the cases come in does not matter")
        #expect(QualitySample.draw(ids, share: 0.05, seed: "2026-12") != a)
        #expect(QualitySample.draw(["only"], share: 0.05, seed: "x") == ["only"])
        #expect(QualitySample.draw([], share: 0.05, seed: "x").isEmpty)
        #expect(QualitySample.draw(ids, share: 2, seed: "x").count == 45)
        #expect(QualitySample.fnv1a("a") == 0xaf63dc4c8601ec8c, "FNV-1a's published value for \"a\"")
    }

    @Test("Legal aid's checklist follows articles 57 and 59; scores are one per item within its points")
    func checklist() {
        let items = ReviewChecklist.defaults(for: .legalAid)
        #expect(items.map(\.points).reduce(0, +) == 100)
        #expect(items.allSatisfy { $0.text.contains("第五十九条") })
        #expect(ReviewChecklist.problems(scores: [25, 25, 25, 25], items: items) == nil)
        #expect(ReviewChecklist.problems(scores: [25, 25, 25], items: items) == "请为每一项评分（共 4 项）")
        #expect(ReviewChecklist.problems(scores: [25, 26, 25, 25], items: items) == "第 2 项的分数应为 0–25")
        #expect(ReviewChecklist.problems(scores: [25, -1, 25, 25], items: items) != nil)
    }

    @Test("Grades at 90, 80 and 60 per cent of the points, never rounded up; below 良好 a case is rectified")
    func grades() {
        #expect(ReviewGrade.of(total: 90, max: 100) == .excellent)
        #expect(ReviewGrade.of(total: 899, max: 1000) == .good, "89.9% is not 优秀")
        #expect(ReviewGrade.of(total: 40, max: 50) == .good)
        #expect(ReviewGrade.of(total: 79, max: 100) == .pass)
        #expect(ReviewGrade.of(total: 60, max: 100) == .pass)
        #expect(ReviewGrade.of(total: 59, max: 100) == .fail)
        #expect(ReviewGrade.of(total: 0, max: 0) == .fail, "an empty checklist earns nothing")
        #expect(ReviewGrade.allCases.filter(\.needsRectification) == [.pass, .fail])
    }
}

@Suite("Months as people write them")
struct MonthTests {
    @Test("YYYY-MM only, its first day and the next month's; the month before across a new year")
    func months() {
        #expect(CivilDate.month("2026-12")! == (CivilDate("2026-12-01")!, CivilDate("2027-01-01")!))
        #expect(CivilDate.month("2026-02")!.end == CivilDate("2026-03-01")!)
        for bad in ["2026-3", "2026-13", "26-03", "2026-03-01", "1999-12", "", "+202-03"] { #expect(CivilDate.month(bad) == nil, "\(bad)") }
        #expect(CivilDate("2026-01-15")!.previousMonthStart == CivilDate("2025-12-01")!)
        #expect(CivilDate("2026-01-15")!.previousMonthStart.monthKey == "2025-12")
    }
}

