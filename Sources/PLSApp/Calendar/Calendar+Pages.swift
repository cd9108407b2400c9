import Vapor
import SQLKit
import PLSDomain

/// The holiday calendar's page: each year's holidays and make-up working days, and next year's entered by the city's
/// administrator from the State Council's notice.
enum CalendarPages {

    struct CalendarContext: Encodable {
        struct Year: Encodable { var year: Int; var source: String; var holidays: Int; var makeup: Int }
        var page: PageMeta
        var years: [Year]
        var canEdit: Bool
        var nextYear: Int
    }

    static func calendar(_ req: Request) async throws -> View {
        let p = try req.settingsReader()
        struct Row: Decodable { var year: Int; var source: String; var holidays: Int; var makeup: Int }
        let rows = try await req.sql.raw("""
            SELECT y.year, y.source,
                   CAST(COALESCE(SUM(CASE WHEN d.kind = 'holiday' THEN 1 ELSE 0 END), 0) AS BIGINT) AS holidays,
                   CAST(COALESCE(SUM(CASE WHEN d.kind = 'makeup' THEN 1 ELSE 0 END), 0) AS BIGINT) AS makeup
            FROM calendar_years y LEFT JOIN calendar_days d ON d.year = y.year
            GROUP BY y.year, y.source ORDER BY y.year DESC
            """).all(decoding: Row.self)
        let next = (rows.map(\.year).max() ?? req.today.year) + 1
        return try await req.view.render("calendar/holidays", CalendarContext(
            page: req.pageMeta(title: "节假日安排"), years: rows.map { .init(year: $0.year, source: $0.source, holidays: $0.holidays, makeup: $0.makeup) },
            canEdit: p.role == .cityAdmin, nextYear: next))
    }

    static func yearFields(source: String, holidays: String, makeup: String) -> [FormField] {
        [FormField(name: "source", label: "依据", value: source, required: true, hint: "如：国务院办公厅关于2027年部分节假日安排的通知"),
         FormField(name: "holidays", label: "放假日期", kind: .textarea, value: holidays, hint: "每行一个日期（YYYY-MM-DD），或用逗号分隔"),
         FormField(name: "makeupWorkdays", label: "调休上班日期", kind: .textarea, value: makeup, hint: "周末上班的日期")]
    }

    static func yearForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let year = req.parameters.get("year").flatMap(Int.init) else { throw AppError.notFound("年份") }
        let view = try await CalendarController.year(year, on: req.sql)
        return try await req.renderForm(title: "\(year) 年节假日安排", action: "/admin/calendar/\(year)",
                                        fields: yearFields(source: view.source ?? "", holidays: view.holidays.joined(separator: "\n"),
                                                           makeup: view.makeupWorkdays.joined(separator: "\n")),
                                        submit: "保存", cancel: "/admin/calendar")
    }

    static func parseDates(_ text: String, field: String, errors: inout FieldErrors) -> [CivilDate] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "，" || $0 == " " || $0 == "\r" }).compactMap { raw in
            let s = String(raw).trimmingCharacters(in: .whitespaces)
            if s.isEmpty { return nil }
            guard let d = CivilDate(s) else { errors.add(field, "“\(s)”不是有效日期（YYYY-MM-DD）"); return nil }
            return d
        }
    }

    static func saveYear(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let year = req.parameters.get("year").flatMap(Int.init) else { throw AppError.notFound("年份") }
        let source = req.formValue("source") ?? "", holidays = req.formValue("holidays") ?? "", makeup = req.formValue("makeupWorkdays") ?? ""
        do {
            var errors = FieldErrors()
            let h = parseDates(holidays, field: "holidays", errors: &errors)
            let m = parseDates(makeup, field: "makeupWorkdays", errors: &errors)
            try errors.throwIfAny()
            try await CalendarStore.save(year: year, .init(source: source, holidays: h, makeupWorkdays: m), at: req.now,
                                         audit: (req.auditActor, req.personalData), on: req.db)
            try await req.application.calendarStore.reload(from: req.sql)
            return req.redirect(to: "/admin/calendar", flash: "已保存 \(year) 年节假日安排")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "\(year) 年节假日安排", action: "/admin/calendar/\(year)",
                                            fields: yearFields(source: source, holidays: holidays, makeup: makeup),
                                            submit: "保存", cancel: "/admin/calendar", error: e)
        }
    }
}
