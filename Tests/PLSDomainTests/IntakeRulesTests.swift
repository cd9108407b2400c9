import Testing
import Foundation
@testable import PLSDomain

@Suite("Resident identity numbers (GB 11643-1999)")
struct IDNumberTests {
    @Test("the standard's own examples and a check digit X", arguments: [
        ("11010519491231002X", 1949, 12, 31, Gender.female),
        ("440524188001010014", 1880, 1, 1, Gender.male),
        ("11010519491231002x", 1949, 12, 31, Gender.female),
    ])
    func valid(id: String, y: Int, m: Int, d: Int, sex: Gender) throws {
        let parsed = try #require(IDNumber(id))
        #expect(parsed.birthDate == CivilDate(year: y, month: m, day: d))
        #expect(parsed.sex == sex)
        #expect(parsed.value.last == id.uppercased().last)
        #expect(parsed.addressCode == String(id.prefix(6)))
    }

    @Test("each fault is named", arguments: [
        ("11010519491231002", IDNumber.Problem.length),
        ("1101051949123100XX", .characters),
        ("110105194913310028", .birthDate),        // month 13
        ("110105194902300024", .birthDate),        // 30 February
        ("110105194912310021", .checkDigit),
        ("440524188001010015", .checkDigit),
    ])
    func invalid(id: String, problem: IDNumber.Problem) {
        guard case .failure(let p) = IDNumber.validate(id) else { Issue.record("accepted \(id)"); return }
        #expect(p == problem)
        #expect(!p.message.isEmpty)
    }

    @Test func birthInTheFutureIsRefused() {
        let id = "110105" + "20300101" + "002"
        let full = id + String(IDNumber.checkCharacter(for: id)!)
        #expect(IDNumber.validate(full, today: CivilDate("2026-11-29")) == .failure(.birthDate))
    }

    @Test func ageOnADate() {
        let id = IDNumber("11010519491231002X")!
        #expect(id.age(on: CivilDate("2026-12-30")!) == 76)
        #expect(id.age(on: CivilDate("2026-12-31")!) == 77)
    }
}

@Suite("Civil dates")
struct CivilDateTests {
    @Test func dayArithmeticAndWeekdays() {
        let d = CivilDate("2026-02-28")!
        #expect(d.adding(days: 1) == CivilDate("2026-03-01"))
        #expect(CivilDate("2024-02-28")!.adding(days: 1) == CivilDate("2024-02-29"))
        #expect(CivilDate("2026-11-29")!.weekday == 6, "a Sunday")
        #expect(CivilDate("1970-01-01")!.dayNumber == 0)
        #expect(CivilDate(dayNumber: CivilDate("2031-07-15")!.dayNumber) == CivilDate("2031-07-15"))
        #expect(CivilDate("2026-02-30") == nil)
        #expect(CivilDate(Date(timeIntervalSince1970: 1_795_968_000 - 8 * 3600)) == CivilDate("2026-11-29"), "midnight in Beijing")
    }
}

@Suite("Deadlines on the national calendar")
struct DeadlineTests {
    static let calendar: WorkingCalendar = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/calendar/cn-holiday-calendar.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(HolidayCalendarFile.self, from: data).calendar
    }()

    func d(_ s: String) -> CivilDate { CivilDate(s)! }

    @Test("working days skip the Spring Festival and count its make-up Saturday", arguments: [
        ("2026-02-12", 5, "2026-02-26"),   // Fri 13, Sat 14 (make-up), then 24, 25, 26
        ("2026-02-13", 1, "2026-02-14"),   // the make-up Saturday is a working day
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-27", 1, "2026-02-28"),   // the second make-up Saturday
        ("2026-09-30", 1, "2026-10-08"),   // National Day week
        ("2026-10-07", 3, "2026-10-10"),   // 8, 9 and the make-up Saturday 10
        ("2025-09-30", 1, "2025-10-09"),   // 2025: eight days off with Mid-Autumn
        ("2025-09-26", 1, "2025-09-28"),   // the make-up Sunday
        ("2026-11-27", 1, "2026-11-30"),   // an ordinary weekend
        ("2026-11-30", 0, "2026-11-30"),
    ])
    func workingDays(start: String, n: Int, due: String) {
        #expect(Self.calendar.addingWorkingDays(n, to: d(start)) == d(due))
        #expect(DeadlineRule(days: n, unit: .workingDays).due(from: d(start), on: Self.calendar) == d(due))
    }

    @Test("calendar days end on a working day", arguments: [
        ("2026-01-02", 30, "2026-02-02"),   // 1 Feb is a Sunday
        ("2026-02-10", 7, "2026-02-24"),    // 17 Feb is the Spring Festival
        ("2026-09-01", 30, "2026-10-08"),   // 1 Oct is National Day
        ("2026-03-02", 30, "2026-04-01"),
    ])
    func calendarDays(start: String, n: Int, due: String) {
        #expect(DeadlineRule(days: n, unit: .calendarDays).due(from: d(start), on: Self.calendar) == d(due))
    }

    @Test("a suspension stops the clock for the working days it lasts")
    func suspension() {
        // Suspended Monday 2 March, resumed Thursday 5 March: three working days (3, 4, 5) did not count.
        #expect(DeadlineRule.extend(d("2026-03-10"), bySuspension: d("2026-03-02"), to: d("2026-03-05"), on: Self.calendar) == d("2026-03-13"))
        // Suspended over the National Day week: only 30 Sep and 8 Oct count.
        #expect(Self.calendar.workingDays(after: d("2026-09-29"), through: d("2026-10-08")) == 2)
        #expect(DeadlineRule.extend(d("2026-10-12"), bySuspension: d("2026-10-01"), to: d("2026-10-03"), on: Self.calendar) == d("2026-10-12"))
    }

    @Test func knownYears() {
        #expect(Self.calendar.covers(d("2026-12-01"), d("2025-01-05")))
        #expect(!Self.calendar.covers(d("2026-12-01"), d("2027-01-05")))
    }
}

@Suite("The request state machine")
struct LifecycleTests {
    @Test("the path of a matter from intake to conclusion")
    func happyPath() {
        var s = RequestStatus.submitted
        for (action, role) in [(RequestAction.accept, Role.windowClerk), (.assign, .windowClerk), (.start, .practitioner),
                               (.suspend, .practitioner), (.resume, .practitioner), (.conclude, .practitioner)] {
            guard case .success(let next) = RequestLifecycle.next(from: s, action: action, by: role) else {
                Issue.record("\(action) from \(s) by \(role)"); return
            }
            s = next
        }
        #expect(s == .concluded)
    }

    @Test("actions not allowed from a state", arguments: [
        (RequestStatus.submitted, RequestAction.start), (.submitted, .conclude), (.concluded, .accept),
        (.rejected, .accept), (.suspended, .conclude), (.inProgress, .accept), (.transferred, .conclude), (.concluded, .transfer),
    ])
    func invalid(from: RequestStatus, action: RequestAction) {
        guard case .failure(.invalidTransition(let e)) = RequestLifecycle.next(from: from, action: action, by: .cityAdmin) else {
            Issue.record("allowed \(action) from \(from)"); return
        }
        #expect(e.message.contains(from.chineseName))
    }

    @Test("roles", arguments: [
        (RequestAction.accept, Role.practitioner), (.accept, .citizen), (.assign, .leader), (.start, .hotlineOperator),
        (.suspend, .windowClerk), (.transfer, .practitioner), (.conclude, .auditor),
    ])
    func forbidden(action: RequestAction, role: Role) {
        let from = RequestLifecycle.rules[action]!.from.first!
        #expect(RequestLifecycle.next(from: from, action: action, by: role) == .failure(.roleNotAllowed))
    }

    @Test func transferAndTakeBack() {
        #expect(RequestLifecycle.next(from: .inProgress, action: .transfer, by: .hotlineOperator) == .success(.transferred))
        #expect(RequestLifecycle.next(from: .transferred, action: .takeBack, by: .hotlineOperator) == .success(.accepted))
    }

    @Test func buttonsOffered() {
        #expect(RequestLifecycle.available(from: .submitted, to: .windowClerk) == [.accept, .reject])
        #expect(RequestLifecycle.available(from: .inProgress, to: .practitioner) == [.suspend, .conclude])
        #expect(RequestLifecycle.available(from: .concluded, to: .cityAdmin) == [.reopen])
        #expect(RequestLifecycle.available(from: .concluded, to: .windowClerk).isEmpty)
        // A refusal is set aside only by the justice bureau (法律援助法 art. 49).
        #expect(RequestLifecycle.available(from: .rejected, to: .countyAdmin) == [.reopen])
        #expect(RequestLifecycle.available(from: .rejected, to: .windowClerk).isEmpty)
    }

    @Test func numbersSortByDate() {
        let a = RequestNumber.make(date: CivilDate("2026-11-29")!, sequence: 12)
        let b = RequestNumber.make(date: CivilDate("2026-11-30")!, sequence: 1)
        #expect(a == "FW20261129000012")
        #expect(a < b)
    }

    @Test func badRatings() {
        #expect(Rating.allCases.filter(\.isBad) == [.veryDissatisfied, .dissatisfied])
        #expect(Rating.allCases.filter(\.isSatisfied) == [.satisfied, .verySatisfied])
    }
}

@Suite("Matching demand to supply")
struct MatchingTests {
    func facts(specs: Int? = 1, place: Matching.Place = .village, load: Int = 0, cap: Int = 10,
               avg: Double? = nil, n: Int = 0, recent: Int = 0, duty: Bool? = nil) -> Matching.Facts {
        .init(specialityCount: specs, place: place, openLoad: load, capacity: cap, averageRating: avg, ratingCount: n,
              recentAssignments: recent, onDutyToday: duty)
    }

    @Test func specialityAndPlaceOutweighLoad() {
        let specialist = Matching.score(facts(load: 5))
        let idle = Matching.score(facts(specs: nil, load: 0))
        #expect(specialist.value > idle.value)
        #expect(specialist.reasons.first == "专攻该纠纷类别（+40）")
    }

    @Test("one who does only this matter's kind beats a generalist")
    func narrowerSpecialistsRankHigher() {
        #expect(Matching.score(facts(specs: 1)).value == Matching.score(facts(specs: 2)).value + 5)
        #expect(Matching.score(facts(specs: 2)).value > Matching.score(facts(specs: 3)).value)
        #expect(Matching.score(facts(specs: 3)).reasons.first == "专长包括该纠纷类别（共 3 项专长）（+33.3）")
        #expect(Matching.score(facts(specs: 0)).value == Matching.score(facts(specs: 1)).value, "a bad count is read as one")
    }

    @Test func nearerBeatsFarther() {
        let places: [Matching.Place] = [.village, .town, .county, .sameCounty, .elsewhere]
        let values = places.map { Matching.score(facts(place: $0)).value }
        #expect(values == values.sorted(by: >))
        #expect(Set(values).count == places.count)
    }

    @Test("each open matter costs points, not only a full desk")
    func loadSeparatesPeople() {
        #expect(Matching.score(facts(load: 1)).value == Matching.score(facts(load: 0)).value - 2)
        #expect(Matching.score(facts(load: 3, cap: 7)).value == 81.4)
    }

    @Test func fullPractitionersSinkAndSayWhy() {
        let full = Matching.score(facts(load: 10, cap: 10))
        #expect(full.overCapacity)
        #expect(full.value < Matching.score(facts(specs: nil, place: .elsewhere)).value)
        #expect(full.reasons.last == "已满负荷（−60）")
    }

    @Test("one glowing rating does not outweigh many")
    func ratingsAreShrunk() {
        let one = Matching.score(facts(avg: 5, n: 1)).value
        let many = Matching.score(facts(avg: 4.6, n: 40)).value
        #expect(many > one)
        // Out-of-range averages from bad data neither overflow nor dominate.
        #expect(Matching.score(facts(avg: 99, n: 10)).value == Matching.score(facts(avg: 5, n: 10)).value)
    }

    @Test("work lately assigned shares the next one round, at most 5 points")
    func recentAssignmentsRotate() {
        #expect(Matching.score(facts(recent: 4)).value == Matching.score(facts()).value - 2)
        #expect(Matching.score(facts(recent: 400)).value == Matching.score(facts()).value - 5)
        #expect(Matching.score(facts(recent: 4)).reasons.contains("近 30 日已分派 4 件（−2）"))
    }

    @Test func theDemoCaseNoLongerTies() {
        // The demo's first candidates: one free, one with two open matters, one on duty.
        let a = Matching.score(facts()), b = Matching.score(facts(load: 2)), c = Matching.score(facts(specs: 3, duty: true))
        #expect(Set([a.value, b.value, c.value]).count == 3)
        #expect(a.value == 90 && a.reasons.first == "专攻该纠纷类别（+40）")
    }

    @Test("ties are broken by a rule the list names")
    func tieBreaks() {
        let entries = [
            Matching.Entry(score: 80, openLoad: 2, recentAssignments: 0, name: "乙"),
            Matching.Entry(score: 80, openLoad: 1, recentAssignments: 3, name: "甲"),
            Matching.Entry(score: 90, openLoad: 5, recentAssignments: 0, name: "丙"),
            Matching.Entry(score: 80, openLoad: 2, recentAssignments: 1, name: "丁"),
            Matching.Entry(score: 80, openLoad: 2, recentAssignments: 1, name: "戊"),
        ]
        let ranked = Matching.rank(entries)
        #expect(ranked.map { entries[$0.index].name } == ["丙", "甲", "乙", "丁", "戊"])
        #expect(ranked.map(\.tieBreak) == [nil, nil, "与甲同分，在办件数较少者优先", "与乙同分，近 30 日分派较少者优先", "与丁同分，按姓名排序"])
        #expect(Matching.rank([]).isEmpty)
    }
}
