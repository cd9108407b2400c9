import Vapor
import SQLKit
import PLSDomain

/// /api/v1/calendar: the national calendar, one year at a time.
enum CalendarController {
    struct YearView: Content { var year: Int; var source: String?; var holidays: [String]; var makeupWorkdays: [String] }

    static func year(_ year: Int, on db: any SQLDatabase) async throws -> YearView {
        let source = try await db.select().column("source").from("calendar_years").where("year", .equal, year)
            .first(decodingColumn: "source", as: String.self)
        struct D: Decodable { var day: String; var kind: String }
        let days = try await db.select().columns("day", "kind").from("calendar_days").where("year", .equal, year).orderBy("day")
            .all(decoding: D.self)
        return YearView(year: year, source: source, holidays: days.filter { $0.kind == "holiday" }.map(\.day),
                        makeupWorkdays: days.filter { $0.kind == "makeup" }.map(\.day))
    }

    static func apiGet(_ req: Request) async throws -> YearView {
        _ = try req.staff()
        guard let y = req.parameters.get("year").flatMap(Int.init) else { throw AppError.notFound("年份") }
        let view = try await year(y, on: req.sql)
        if view.source == nil { throw AppError(.notFound, "not_found", "\(y) 年的节假日安排尚未录入") }
        return view
    }

    static func apiPut(_ req: Request) async throws -> YearView {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let y = req.parameters.get("year").flatMap(Int.init) else { throw AppError.notFound("年份") }
        try await CalendarStore.save(year: y, try req.content.decode(CalendarStore.YearInput.self), at: req.now,
                                     audit: (req.auditActor, req.personalData), on: req.db)
        try await req.application.calendarStore.reload(from: req.sql)
        return try await year(y, on: req.sql)
    }

    struct DueView: Content { var from: String; var rule: String; var due: String; var calendarKnown: Bool }

    static func apiDue(_ req: Request) async throws -> DueView {
        var errors = FieldErrors()
        let from = (try? req.query.get(String.self, at: "from")).flatMap(CivilDate.init)
        if from == nil { errors.add("from", "请输入起算日期（YYYY-MM-DD）") }
        let working = try? req.query.get(Int.self, at: "workingDays")
        let calendarDays = try? req.query.get(Int.self, at: "calendarDays")
        if (working == nil) == (calendarDays == nil) { errors.add("workingDays", "请给出工作日或自然日天数之一") }
        if let n = working ?? calendarDays, !(0...3650).contains(n) { errors.add(working != nil ? "workingDays" : "calendarDays", "天数应在 0–3650 之间") }
        try errors.throwIfAny()
        let rule = DeadlineRule(days: working ?? calendarDays!, unit: working != nil ? .workingDays : .calendarDays)
        let cal = req.application.workingCalendar
        let due = rule.due(from: from!, on: cal)
        return DueView(from: from!.description, rule: rule.chineseDescription, due: due.description, calendarKnown: cal.covers(from!, due))
    }
}
