import Vapor
import Fluent
import SQLKit
import NIOConcurrencyHelpers
import PLSDomain

/// 节假日: the national calendar lives in the database so administrators can add next year's;
/// the app keeps a copy in memory, reloaded whenever it changes.
struct M005CreateCalendar: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("calendar_years")
            .field("year", .int, .identifier(auto: false))
            .field("source", .string, .required)
            .field("updated_at", .datetime)
            .create()
        try await database.schema("calendar_days")
            .field("day", .string, .identifier(auto: false))
            .field("year", .int, .required, .references("calendar_years", "year", onDelete: .cascade))
            .field("kind", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("calendar_days").delete()
        try await database.schema("calendar_years").delete()
    }
}

final class CalendarStore: Sendable {
    private let box = NIOLockedValueBox(WorkingCalendar())

    var calendar: WorkingCalendar { box.withLockedValue { $0 } }

    struct YearRow: Decodable { var year: Int; var source: String }
    struct DayRow: Decodable { var day: String; var kind: String }

    func reload(from db: any SQLDatabase) async throws {
        let years = try await db.select().columns("year", "source").from("calendar_years").all(decoding: YearRow.self)
        let days = try await db.select().columns("day", "kind").from("calendar_days").all(decoding: DayRow.self)
        var c = WorkingCalendar(knownYears: Set(years.map(\.year)))
        for d in days {
            guard let date = CivilDate(d.day) else { continue }
            if d.kind == "holiday" { c.holidays.insert(date) } else { c.makeupWorkdays.insert(date) }
        }
        box.withLockedValue { $0 = c }
    }

    struct YearInput: Content {
        var source: String?
        var holidays: [CivilDate]
        var makeupWorkdays: [CivilDate]
    }

    /// Replaces one year's arrangement in one transaction.
    /// `audit`: who changed it, for the audit log (the first start's seeding from the bundled file is no one's act).
    static func save(year: Int, _ input: YearInput, at now: Date, audit: (actor: AuditLog.Actor, protector: PersonalDataProtector)? = nil,
                     on database: any Database) async throws {
        var errors = FieldErrors()
        let source = errors.required(input.source, "source", "依据（国务院办公厅通知）", maxLength: 200)
        if !(2000...2100).contains(year) { errors.add("year", "年份应在 2000–2100 之间") }
        for d in input.holidays where d.year != year { errors.add("holidays", "\(d) 不在 \(year) 年") }
        for d in input.makeupWorkdays where d.year != year { errors.add("makeupWorkdays", "\(d) 不在 \(year) 年") }
        let both = Set(input.holidays).intersection(input.makeupWorkdays)
        if let d = both.sorted().first { errors.add("makeupWorkdays", "\(d) 不能既是节假日又是调休上班日") }
        for d in input.makeupWorkdays where !d.isWeekend { errors.add("makeupWorkdays", "\(d) 是工作日，无需调休上班") }
        try errors.throwIfAny()
        struct Arrangement: Codable { var source: String; var holidays: [String]; var makeupWorkdays: [String] }
        var before: Arrangement?
        if audit != nil {
            let db = database as! any SQLDatabase
            if let stored = try await db.select().column("source").from("calendar_years").where("year", .equal, year).first(decodingColumn: "source", as: String.self) {
                struct D: Decodable { var day: String; var kind: String }
                let days = try await db.select().columns("day", "kind").from("calendar_days").where("year", .equal, year).orderBy("day").all(decoding: D.self)
                before = Arrangement(source: stored, holidays: days.filter { $0.kind == "holiday" }.map(\.day),
                                     makeupWorkdays: days.filter { $0.kind == "makeup" }.map(\.day))
            }
        }
        let after = Arrangement(source: source, holidays: input.holidays.sorted().map(\.description), makeupWorkdays: input.makeupWorkdays.sorted().map(\.description))
        try await database.atomic { [before] tx in
            let sql = tx as! any SQLDatabase
            if let audit {
                try await AuditLog.record("calendar.year", target: "\(year) 年节假日安排", before: before, after: after, by: audit.actor,
                                          protector: audit.protector, on: sql, at: now)
            }
            try await sql.delete(from: "calendar_days").where("year", .equal, year).run()
            try await sql.delete(from: "calendar_years").where("year", .equal, year).run()
            try await sql.insert(into: "calendar_years").columns("year", "source", "updated_at")
                .values(SQLBind(year), SQLBind(source), SQLBind(now)).run()
            let rows = input.holidays.map { ($0, "holiday") } + input.makeupWorkdays.map { ($0, "makeup") }
            if !rows.isEmpty {
                var insert = sql.insert(into: "calendar_days").columns("day", "year", "kind")
                for (d, kind) in rows { insert = insert.values(SQLBind(d.description), SQLBind(year), SQLBind(kind)) }
                try await insert.run()
            }
        }
    }

    /// On first start, the bundled national calendar.
    static func seedIfEmpty(app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        let count = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("calendar_years")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        if count == 0 {
            let path = app.directory.resourcesDirectory + "calendar/cn-holiday-calendar.json"
            guard let data = FileManager.default.contents(atPath: path) else {
                app.logger.warning("No calendar at \(path): deadlines count weekends only until an administrator adds the holidays")
                return
            }
            let file = try JSONDecoder().decode(HolidayCalendarFile.self, from: data)
            for (year, y) in file.years {
                guard let n = Int(year) else { continue }
                try await save(year: n, .init(source: y.source ?? "国务院办公厅通知", holidays: y.holidays, makeupWorkdays: y.makeupWorkdays),
                               at: app.clock.now, on: app.db)
            }
        }
        try await app.calendarStore.reload(from: sql)
    }
}

extension Application {
    private struct CalendarKey: StorageKey { typealias Value = CalendarStore }
    var calendarStore: CalendarStore {
        get {
            guard let s = storage[CalendarKey.self] else { fatalError("configure(_:) sets the calendar store") }
            return s
        }
        set { storage[CalendarKey.self] = newValue }
    }
    var workingCalendar: WorkingCalendar { calendarStore.calendar }
    /// Today in China, from the injected clock.
    var today: CivilDate { CivilDate(clock.now) }
}

extension Request {
    var today: CivilDate { application.today }
}
