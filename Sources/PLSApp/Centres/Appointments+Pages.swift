import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Appointments at walk-in centres and each centre's windows, hours and rota.
    func centreArrangements() {
        api.get("centres", use: AppointmentController.apiCentres)
        let centre = api.grouped("centres", ":institutionId")
        centre.get("slots", use: AppointmentController.apiSlots)
        centre.post("appointments", use: AppointmentController.apiBook)
        centre.get("appointments", use: AppointmentController.apiOfCentre)
        centre.post("appointments", "check-in", use: AppointmentController.apiCheckIn)
        centre.get("arrangements", use: AppointmentController.apiArrangements)
        centre.post("windows", use: AppointmentController.apiSaveWindow)
        centre.post("windows", ":windowId", "close", use: AppointmentController.apiCloseWindow)
        centre.put("hours", use: AppointmentController.apiSaveHours)
        centre.put("rota", use: AppointmentController.apiSaveRota)
        api.get("appointments", use: AppointmentController.apiMine)
        api.post("appointments", ":id", "cancel", use: AppointmentController.apiCancel)
        web.get("appointments", use: AppointmentPages.book)
        web.post("appointments", use: AppointmentPages.submit)
        web.post("appointments", ":id", "cancel", use: AppointmentPages.cancel)
        web.post("centres", ":institutionId", "kiosk", "check-in", use: AppointmentPages.checkIn)
        web.get("centres", ":institutionId", "setup", use: CentreSetupPages.setup)
        web.post("centres", ":institutionId", "setup", ":part", use: CentreSetupPages.save)
    }
}

enum AppointmentController {
    struct CentreRow: Content { var id: UUID; var name: String; var address: String; var regionName: String? }

    /// The centres that take visitors, for anyone choosing where to go.
    static func centres(on db: any SQLDatabase) async throws -> [CentreRow] {
        try await db.raw("""
            SELECT i.id, i.name, i.address, g.name AS region_name FROM institutions i LEFT JOIN regions g ON g.code = i.region_code
            WHERE i.active = \(bind: true) AND i.type IN (\(binds: CentreQueue.centreTypes.map(\.rawValue))) ORDER BY i.region_code, i.name LIMIT 500
            """).all(decoding: CentreRow.self, keyDecodingStrategy: .snakeCase)
    }

    static func apiCentres(_ req: Request) async throws -> [CentreRow] { try await centres(on: req.sql) }

    static func apiSlots(_ req: Request) async throws -> [Appointments.Slot] {
        try req.limit(.eligibility)
        return try await Appointments.slots(at: try CentreController.centre(req), day: try? req.query.get(String.self, at: "day"), app: req.application)
    }

    static func apiBook(_ req: Request) async throws -> Response {
        let a = try await Appointments.book(at: try CentreController.centre(req), try req.content.decode(Appointments.BookInput.self),
                                            by: try req.principal(), app: req.application)
        return try Response(status: .created).encodeJSON(a)
    }

    static func apiOfCentre(_ req: Request) async throws -> [Appointments.Appointment] {
        let p = try req.staff()
        let centre = try CentreController.centre(req)
        let c = try await CentreQueue.centre(centre, on: req.sql)
        try p.require(CentreQueue.mayWork(p, centre: centre, region: c.region))
        let raw = try? req.query.get(String.self, at: "day")
        guard let day = raw.map({ CivilDate(String($0.prefix(10))) }) ?? req.today else { throw AppError.validation(["day": "日期格式为 YYYY-MM-DD"]) }
        return try await Appointments.ofCentre(centre, day: day, app: req.application, on: req.sql)
    }

    struct CodeInput: Content { var code: String? }

    /// The kiosk checks a visitor in without signing in; limited per address like the tickets.
    static func apiCheckIn(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        let t = try await Appointments.checkIn(at: try CentreController.centre(req), code: try req.content.decode(CodeInput.self).code, app: req.application)
        return try Response(status: .created).encodeJSON(t)
    }

    static func apiMine(_ req: Request) async throws -> [Appointments.Appointment] {
        let p = try req.principal()
        guard p.role == .citizen else { throw AppError(.forbidden, "forbidden", "群众查看本人的预约；中心工作人员请按中心查看") }
        return try await Appointments.mine(p, app: req.application, on: req.sql)
    }

    static func apiCancel(_ req: Request) async throws -> Appointments.Appointment {
        try await Appointments.cancel(try req.uuid("id", notFound: "预约"), by: try req.principal(), app: req.application)
    }

    static func week(_ req: Request) -> CivilDate {
        let raw = (try? req.query.get(String.self, at: "week")) ?? ""
        return CivilDate(String(raw.prefix(10))).flatMap { abs($0.dayNumber - req.today.dayNumber) <= 366 ? $0 : nil } ?? req.today
    }

    static func apiArrangements(_ req: Request) async throws -> CentreSetup.Arrangements {
        _ = try req.staff()
        return try await CentreSetup.arrangements(try CentreController.centre(req), week: week(req), app: req.application, on: req.sql)
    }

    static func apiSaveWindow(_ req: Request) async throws -> CentreSetup.Window {
        try await CentreSetup.saveWindow(at: try CentreController.centre(req), try req.content.decode(CentreSetup.WindowInput.self), by: try req.staff(),
                                         app: req.application, actor: req.auditActor)
    }

    static func apiCloseWindow(_ req: Request) async throws -> HTTPStatus {
        try await CentreSetup.closeWindow(try req.uuid("windowId", notFound: "窗口"), at: try CentreController.centre(req), by: try req.staff(),
                                          app: req.application, actor: req.auditActor)
        return .noContent
    }

    static func apiSaveHours(_ req: Request) async throws -> CentreSetup.HoursView {
        try await CentreSetup.saveHours(at: try CentreController.centre(req), try req.content.decode(CentreSetup.HoursInput.self), by: try req.staff(),
                                        app: req.application, actor: req.auditActor)
    }

    static func apiSaveRota(_ req: Request) async throws -> HTTPStatus {
        try await CentreSetup.saveRota(at: try CentreController.centre(req), try req.content.decode(CentreSetup.RotaInput.self), by: try req.staff(),
                                       app: req.application, actor: req.auditActor)
        return .noContent
    }
}

enum AppointmentPages {
    struct BookContext: Encodable {
        var page: PageMeta
        var centres: [SelectOption]
        var matters: [SelectOption]
        var day: String
        var slots: [SlotOption]
        var chosenCentre: String
        var name: String
        var mobile: String
        var callId: String
        var signedIn: Bool
        var staff: Bool
        var mine: [Appointments.Appointment]
        var booked: Appointments.Appointment?
        var error: String?
        var errors: [String: String]
        var errorLinks: [ErrorLink]
        struct SlotOption: Encodable { var value: String; var label: String; var available: Int; var selected: Bool }
    }

    static func book(_ req: Request) async throws -> View { try await book(req, error: nil, booked: nil) }

    static func book(_ req: Request, error: AppError?, booked: Appointments.Appointment?) async throws -> View {
        let p = req.auth.get(Principal.self)
        func value(_ key: String) -> String? { req.formValue(key) ?? (try? req.query.get(String.self, at: key)) }
        let centres = try await AppointmentController.centres(on: req.sql)
        let chosen = value("centre") ?? ""
        let day = value("day") ?? req.application.workingCalendar.nextWorkingDay(onOrAfter: req.today.adding(days: 1)).description
        var slots: [BookContext.SlotOption] = []
        var slotError: String?
        if let centre = UUID(uuidString: chosen) {
            do {
                slots = try await Appointments.slots(at: centre, day: day, app: req.application).map {
                    .init(value: $0.start, label: "\($0.start)–\($0.end)", available: $0.available, selected: $0.start == value("slot"))
                }
            } catch let e as AppError where e.status.code < 500 { slotError = e.fields.values.first ?? e.message }
        }
        // The operator on a call: the caller's number from the call, never typed again.
        var mobile = value("mobile") ?? ""
        var callId = value("call") ?? value("callId") ?? ""
        if let p, p.role == .hotlineOperator, mobile.isEmpty, let call = UUID(uuidString: callId), try await Calls.isOperator(p, of: call, on: req.sql) {
            mobile = try req.personalData.decrypt(try await Calls.find(call, app: req.application, on: req.sql).callerCipher)
        } else if p?.role != .hotlineOperator { callId = "" }
        let fields = error?.fields ?? (slotError.map { ["day": $0] } ?? [:])
        let matter = value("matterType") ?? MatterType.legalAid.rawValue
        return try await req.view.render("centres/appointments", BookContext(
            page: req.pageMeta(title: "预约办理"),
            centres: centres.map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: $0.id.uuidString == chosen) },
            matters: CentreSetup.windowMatters.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == matter) },
            day: day, slots: slots, chosenCentre: chosen, name: value("name") ?? "", mobile: mobile, callId: callId, signedIn: p != nil,
            staff: p?.role.isStaff == true, mine: p?.role == .citizen ? try await Appointments.mine(p!, app: req.application, on: req.sql) : [],
            booked: booked, error: error?.message, errors: fields,
            errorLinks: ErrorLink.links(fields, [("centre", "ap-centre", "服务中心"), ("matterType", "ap-matter", "办理事项"), ("day", "ap-day", "日期"),
                                                 ("slot", "ap-slot", "预约时段"), ("name", "ap-name", "姓名"), ("mobile", "ap-mobile", "手机号")])))
    }

    static func submit(_ req: Request) async throws -> Response {
        let p = try req.principal()
        do {
            guard let centre = req.formValue("centre").flatMap(UUID.init(uuidString:)) else { throw AppError.validation(["centre": "请选择服务中心"]) }
            let a = try await Appointments.book(at: centre, .init(matterType: req.formValue("matterType"), day: req.formValue("day"), slot: req.formValue("slot"),
                                                                  name: req.formValue("name"), mobile: req.formValue("mobile"),
                                                                  callId: req.formValue("callId").flatMap(UUID.init(uuidString:))),
                                                by: p, app: req.application)
            return try await book(req, error: nil, booked: a).encodeResponse(status: .created, for: req)
        } catch let e as AppError where [.unprocessableEntity, .conflict, .forbidden, .notFound].contains(e.status) {
            return try await book(req, error: e, booked: nil).encodeResponse(status: e.status, for: req)
        }
    }

    static func cancel(_ req: Request) async throws -> Response {
        let a = try await Appointments.cancel(try req.uuid("id", notFound: "预约"), by: try req.principal(), app: req.application)
        return req.redirect(to: "/appointments", flash: "已取消 \(a.day) \(a.slot) 的预约")
    }

    /// The kiosk's check-in form: the ticket on the kiosk's own page, or what is wrong.
    static func checkIn(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        do {
            let t = try await Appointments.checkIn(at: try CentreController.centre(req), code: req.formValue("code"), app: req.application)
            return try await CentrePages.kiosk(req, ticket: t, error: nil).encodeResponse(status: .created, for: req)
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await CentrePages.kiosk(req, ticket: nil, error: e.fields.values.first ?? e.message).encodeResponse(status: e.status, for: req)
        }
    }
}

enum CentreSetupPages {
    struct SetupContext: Encodable {
        var page: PageMeta; var centreId: UUID; var centreName: String; var windows: [CentreSetup.Window]; var matters: [SelectOption]
        var hours: CentreSetup.HoursView; var days: [Day]; var rows: [RotaRow]; var error: String?; var week: String; var previous: String; var next: String
        struct Day: Encodable { var date: String; var label: String }
        struct RotaRow: Encodable { var window: String; var cells: [Cell] }
        struct Cell: Encodable { var field: String; var options: [SelectOption] }
    }

    static func setup(_ req: Request) async throws -> View { try await setup(req, error: nil) }

    static func setup(_ req: Request, error: String?) async throws -> View {
        let p = try req.staff()
        let centre = try CentreController.centre(req)
        let c = try await CentreSetup.manager(p, centre: centre, on: req.sql)
        let start = AppointmentController.week(req)
        let a = try await CentreSetup.arrangements(centre, week: start, app: req.application, on: req.sql)
        // The week's working days.
        let days = (0..<7).map { start.adding(days: $0) }.filter { req.application.workingCalendar.isWorkingDay($0) }
        let onDuty = Dictionary(a.rota.map { ("\($0.windowId)|\($0.day)", $0.accountId) }, uniquingKeysWith: { x, _ in x })
        let rows = a.windows.filter(\.active).map { w in
            SetupContext.RotaRow(window: w.number, cells: days.map { d in
                let who = onDuty["\(w.id)|\(d)"] ?? nil
                return .init(field: "duty_\(w.id)_\(d)", options: [SelectOption(value: "", label: "—", selected: who == nil)]
                             + a.staff.map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: $0.id == who) })
            })
        }
        let weekdays = ["一", "二", "三", "四", "五", "六", "日"]
        return try await req.view.render("centres/setup", SetupContext(
            page: req.pageMeta(title: "窗口与预约设置 · \(c.name)"), centreId: centre, centreName: c.name, windows: a.windows,
            matters: CentreSetup.windowMatters.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) }, hours: a.hours,
            days: days.map { .init(date: $0.description, label: "\($0.month)月\($0.day)日 周\(weekdays[$0.weekday])") },
            rows: rows, error: error, week: start.description, previous: start.adding(days: -7).description, next: start.adding(days: 7).description))
    }

    static func save(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let centre = try CentreController.centre(req)
        let app = req.application
        do {
            switch req.parameters.get("part") {
            case "window":
                let w = try await CentreSetup.saveWindow(at: centre, .init(number: req.formValue("number"), matters: req.formValues("matters")), by: p,
                                                         app: app, actor: req.auditActor)
                return req.redirect(to: "/centres/\(centre)/setup", flash: "已保存 \(w.number) 号窗口")
            case "close":
                guard let id = req.formValue("windowId").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("窗口") }
                try await CentreSetup.closeWindow(id, at: centre, by: p, app: app, actor: req.auditActor)
                return req.redirect(to: "/centres/\(centre)/setup", flash: "窗口已停用")
            case "hours":
                let sessions = [("am_start", "am_end"), ("pm_start", "pm_end")].compactMap { s, e -> CentreSetup.HoursView.Session? in
                    guard let a = req.formValue(s), !a.isEmpty || !(req.formValue(e) ?? "").isEmpty else { return nil }
                    return .init(start: a, end: req.formValue(e) ?? "")
                }
                func int(_ k: String) -> Int? { req.formValue(k).flatMap { Int($0.prefix(4)) } }
                _ = try await CentreSetup.saveHours(at: centre, .init(sessions: sessions, slotMinutes: int("slotMinutes"), slotCapacity: int("slotCapacity"),
                                                                      waitTargetMinutes: int("waitTargetMinutes")), by: p, app: app, actor: req.auditActor)
                return req.redirect(to: "/centres/\(centre)/setup", flash: "已保存办公时间与预约设置")
            case "rota":
                // Every cell of the grid: "duty_<window>_<day>" = an account, or empty for no one.
                let body = try req.content.decode([String: String].self)
                let duties = body.keys.filter { $0.hasPrefix("duty_") }.prefix(500).compactMap { key -> CentreSetup.Duty? in
                    let parts = key.dropFirst(5).split(separator: "_")
                    guard parts.count == 2, let w = UUID(uuidString: String(parts[0])) else { return nil }
                    return .init(windowId: w, day: String(parts[1]), accountId: body[key].flatMap(UUID.init(uuidString:)), name: nil)
                }
                try await CentreSetup.saveRota(at: centre, .init(duties: Array(duties)), by: p, app: app, actor: req.auditActor)
                return req.redirect(to: "/centres/\(centre)/setup?week=\(req.formValue("week") ?? "")", flash: "已保存值班表")
            default:
                throw AppError.notFound("操作")
            }
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await setup(req, error: e.fields.values.first ?? e.message).encodeResponse(status: e.status, for: req)
        }
    }
}
