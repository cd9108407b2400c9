/// How far a deadline the system computed has gone, on the working-day calendar. The plan's 超期督办 and the
/// statutory limits (法律援助法 arts. 36, 43, 49; 人民调解法 art. 33; an agreement's performance dates) all follow it:
/// the responsible institution is reminded on the last working day before the due date (a reminder it can still act
/// on, holidays included), told the day after the due date, and the county is told once a full working day has
/// passed since.
public enum DeadlineStage: Int, Comparable, Sendable, CaseIterable {
    case open = 0
    case dueSoon = 1
    case overdue = 2
    case escalated = 3

    public static func < (a: DeadlineStage, b: DeadlineStage) -> Bool { a.rawValue < b.rawValue }

    public static func on(_ today: CivilDate, due: CivilDate, calendar: WorkingCalendar) -> DeadlineStage {
        if today > due {
            // Escalated once the whole working day after the first notice has passed: the due date lies before the last
            // working day before today.
            return due < calendar.previousWorkingDay(before: today) ? .escalated : .overdue
        }
        // Due today, or no working day left between today and the due date.
        return due <= calendar.nextWorkingDay(onOrAfter: today.adding(days: 1)) ? .dueSoon : .open
    }
}

public extension WorkingCalendar {
    /// The last working day before `d` (a year of rest days at most is looked through).
    func previousWorkingDay(before d: CivilDate) -> CivilDate {
        var day = d.adding(days: -1)
        var steps = 0
        while !isWorkingDay(day), steps < 366 {
            day = day.adding(days: -1)
            steps += 1
        }
        return day
    }
}
