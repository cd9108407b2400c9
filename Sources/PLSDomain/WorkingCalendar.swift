/// The national working-day calendar: weekends are rest days except make-up working days (调休上班),
/// and announced holidays are rest days even on weekdays.
public struct WorkingCalendar: Sendable {
    public var holidays: Set<CivilDate>
    public var makeupWorkdays: Set<CivilDate>
    /// Years whose arrangement has been announced and loaded; beyond them deadlines are estimates.
    public var knownYears: Set<Int>

    public init(holidays: Set<CivilDate> = [], makeupWorkdays: Set<CivilDate> = [], knownYears: Set<Int> = []) {
        self.holidays = holidays
        self.makeupWorkdays = makeupWorkdays
        self.knownYears = knownYears
    }

    public func isWorkingDay(_ d: CivilDate) -> Bool {
        if holidays.contains(d) { return false }
        if makeupWorkdays.contains(d) { return true }
        return !d.isWeekend
    }

    /// The `n`-th working day after `start`; the start day itself is not counted.
    public func addingWorkingDays(_ n: Int, to start: CivilDate) -> CivilDate {
        precondition(n >= 0)
        var d = start, left = n
        while left > 0 {
            d = d.adding(days: 1)
            if isWorkingDay(d) { left -= 1 }
        }
        return d
    }

    /// `n` calendar days after `start`; a last day that is a rest day moves to the next working day.
    public func addingCalendarDays(_ n: Int, to start: CivilDate) -> CivilDate {
        nextWorkingDay(onOrAfter: start.adding(days: n))
    }

    public func nextWorkingDay(onOrAfter d: CivilDate) -> CivilDate {
        var day = d
        while !isWorkingDay(day) { day = day.adding(days: 1) }
        return day
    }

    /// Working days in (from, to]: how much of a working-day clock ran between two dates.
    public func workingDays(after from: CivilDate, through to: CivilDate) -> Int {
        guard to > from else { return 0 }
        var n = 0, d = from
        while d < to {
            d = d.adding(days: 1)
            if isWorkingDay(d) { n += 1 }
        }
        return n
    }

    /// Whether every year between the two dates has its arrangement loaded.
    public func covers(_ from: CivilDate, _ to: CivilDate) -> Bool {
        (min(from.year, to.year)...max(from.year, to.year)).allSatisfy(knownYears.contains)
    }
}

/// A time limit: N working days, or N calendar days (rolled to a working day).
public struct DeadlineRule: Hashable, Sendable, Codable {
    public enum Unit: String, Sendable, Codable, CaseIterable {
        case workingDays = "working_days"
        case calendarDays = "calendar_days"
        public var chineseName: String { self == .workingDays ? "个工作日" : "日" }
    }

    public var days: Int
    public var unit: Unit

    public init(days: Int, unit: Unit) {
        self.days = days
        self.unit = unit
    }

    public func due(from start: CivilDate, on calendar: WorkingCalendar) -> CivilDate {
        switch unit {
        case .workingDays: calendar.addingWorkingDays(days, to: start)
        case .calendarDays: calendar.addingCalendarDays(days, to: start)
        }
    }

    public var chineseDescription: String { "\(days) \(unit.chineseName)" }

    /// Time the clock stood still (waiting for the applicant's material), counted both ways so
    /// either kind of rule can skip it.
    public struct Pause: Equatable, Sendable {
        public var calendarDays: Int
        public var workingDays: Int
        public init(calendarDays: Int = 0, workingDays: Int = 0) {
            self.calendarDays = calendarDays
            self.workingDays = workingDays
        }
        /// From the day the clock stopped to the day it restarted: (from, to].
        public static func between(_ from: CivilDate, _ to: CivilDate, on calendar: WorkingCalendar) -> Pause {
            Pause(calendarDays: max(0, to.dayNumber - from.dayNumber), workingDays: calendar.workingDays(after: from, through: to))
        }
        public static func + (a: Pause, b: Pause) -> Pause {
            Pause(calendarDays: a.calendarDays + b.calendarDays, workingDays: a.workingDays + b.workingDays)
        }
    }

    /// The due date when the clock stood still for `paused`.
    public func due(from start: CivilDate, paused: Pause, on calendar: WorkingCalendar) -> CivilDate {
        switch unit {
        case .workingDays: calendar.addingWorkingDays(days + paused.workingDays, to: start)
        case .calendarDays: calendar.addingCalendarDays(days + paused.calendarDays, to: start)
        }
    }

    /// The due date after a suspension: the clock stood still for the working days spent suspended,
    /// so the due date moves by as many working days.
    public static func extend(_ due: CivilDate, bySuspension from: CivilDate, to: CivilDate, on calendar: WorkingCalendar) -> CivilDate {
        calendar.addingWorkingDays(calendar.workingDays(after: from, through: to), to: due)
    }
}

/// The calendar file as published in shared/data (and bundled in Resources/).
public struct HolidayCalendarFile: Decodable, Sendable {
    public struct Year: Decodable, Sendable {
        public var source: String?
        public var holidays: [CivilDate]
        public var makeupWorkdays: [CivilDate]
    }
    public var years: [String: Year]

    public var calendar: WorkingCalendar {
        var c = WorkingCalendar()
        for (year, y) in years {
            if let n = Int(year) { c.knownYears.insert(n) }
            c.holidays.formUnion(y.holidays)
            c.makeupWorkdays.formUnion(y.makeupWorkdays)
        }
        return c
    }
}
