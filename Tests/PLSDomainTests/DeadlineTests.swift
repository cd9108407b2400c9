import Testing
@testable import PLSDomain

/// Reminders and escalation on the 2026 calendar (国务院办公厅 2025-11-04): National Day 1–7 October with the make-up
/// Saturday of 10 October, the Spring Festival 15–23 February with the make-up Saturdays of 14 and 28 February.
@Suite("Deadline stages across holidays")
struct DeadlineStageTests {
    static let calendar: WorkingCalendar = {
        func d(_ s: String) -> CivilDate { CivilDate(s)! }
        let holidays = ["2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22",
                        "2026-02-23", "2026-09-25", "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
                        "2026-10-05", "2026-10-06", "2026-10-07"].map(d)
        return WorkingCalendar(holidays: Set(holidays), makeupWorkdays: Set(["2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"].map(d)),
                               knownYears: [2026])
    }()

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var due: String
        var today: String
        var stage: DeadlineStage
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // A legal aid application received on 30 September: seven days end on 7 October, a holiday, so on Thursday the 8th.
        Case(name: "two working days before: nothing yet", due: "2026-10-08", today: "2026-09-29", stage: .open),
        Case(name: "the last working day before the holiday week: reminded", due: "2026-10-08", today: "2026-09-30", stage: .dueSoon),
        Case(name: "during the holiday: still only reminded", due: "2026-10-08", today: "2026-10-04", stage: .dueSoon),
        Case(name: "on the due date: reminded", due: "2026-10-08", today: "2026-10-08", stage: .dueSoon),
        Case(name: "the day after: overdue, the institution is told", due: "2026-10-08", today: "2026-10-09", stage: .overdue),
        Case(name: "the make-up Saturday after a full working day: the county", due: "2026-10-08", today: "2026-10-10", stage: .escalated),
        // Due on Tuesday 24 February, after the Spring Festival: the make-up Saturday of the 14th is the last working day.
        Case(name: "Friday the 13th before the festival: not yet", due: "2026-02-24", today: "2026-02-13", stage: .open),
        Case(name: "the make-up Saturday before the festival: reminded", due: "2026-02-24", today: "2026-02-14", stage: .dueSoon),
        Case(name: "overdue on the Wednesday after", due: "2026-02-24", today: "2026-02-25", stage: .overdue),
        Case(name: "escalated on the Thursday", due: "2026-02-24", today: "2026-02-26", stage: .escalated),
        // Due on a Friday: told over the weekend, the institution has Monday; the county hears on Tuesday.
        Case(name: "due Friday, Saturday overdue", due: "2026-11-27", today: "2026-11-28", stage: .overdue),
        Case(name: "due Friday, Monday still the institution's", due: "2026-11-27", today: "2026-11-30", stage: .overdue),
        Case(name: "due Friday, Tuesday escalates", due: "2026-11-27", today: "2026-12-01", stage: .escalated),
    ]

    @Test("each stage on its day", arguments: cases)
    func stage(_ c: Case) {
        #expect(DeadlineStage.on(CivilDate(c.today)!, due: CivilDate(c.due)!, calendar: Self.calendar) == c.stage)
    }

    @Test("the last working day before a date skips weekends and holidays, and counts make-up Saturdays")
    func previousWorkingDay() {
        #expect(Self.calendar.previousWorkingDay(before: CivilDate("2026-10-08")!) == CivilDate("2026-09-30")!)
        #expect(Self.calendar.previousWorkingDay(before: CivilDate("2026-10-12")!) == CivilDate("2026-10-10")!)
        #expect(Self.calendar.previousWorkingDay(before: CivilDate("2026-02-24")!) == CivilDate("2026-02-14")!)
    }
}
