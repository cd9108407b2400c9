import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Walk-in centres: tickets at the entrance, the window's calls, the hall screen.
    func centres() {
        let centres = api.grouped("centres", ":institutionId")
        centres.post("tickets", use: CentreController.apiIssue)
        centres.post("tickets", "call", use: CentreController.apiCall)
        centres.post("tickets", ":ticket", "served") { try await CentreController.apiFinish($0, served: true) }
        centres.post("tickets", ":ticket", "no-show") { try await CentreController.apiFinish($0, served: false) }
        centres.get("queue", use: CentreController.apiBoard)
        centres.get("stations", use: CentreController.apiStations)
        centres.put("stations", use: CentreController.apiSaveStations)
        web.get("centres", ":institutionId", "kiosk", use: CentrePages.kiosk)
        web.post("centres", ":institutionId", "kiosk", use: CentrePages.kioskIssue)
        web.get("centres", ":institutionId", "hall", use: CentrePages.hall)
        web.get("centres", ":institutionId", "hall.json", use: CentreController.apiBoard)
        web.get("centres", ":institutionId", "hall", "stream", use: CentreController.hallStream)
        web.get("centres", ":institutionId", "queue", use: CentrePages.queue)
        web.get("queue", use: CentrePages.mine)
        web.get("centres", ":institutionId", "stations", use: CentrePages.stations)
        web.post("centres", ":institutionId", "stations", use: CentrePages.saveStations)
        web.post("centres", ":institutionId", "queue", "call", use: CentrePages.call)
        web.post("centres", ":institutionId", "queue", ":ticket", ":outcome", use: CentrePages.finish)
    }
}

enum CentreController {
    static func centre(_ req: Request) throws -> UUID { try req.uuid("institutionId", notFound: "服务中心") }

    /// The entrance's kiosk asks without signing in (a touch screen in the hall); limited per address.
    static func apiIssue(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        let ticket = try await CentreQueue.issue(at: try centre(req), try req.content.decode(CentreQueue.TicketInput.self), app: req.application)
        return try Response(status: .created).encodeJSON(ticket)
    }

    static func apiCall(_ req: Request) async throws -> CentreQueue.Ticket {
        try await CentreQueue.callNext(at: try centre(req), try req.content.decode(CentreQueue.CallInput.self), by: try req.staff(), app: req.application)
    }

    static func apiFinish(_ req: Request, served: Bool) async throws -> CentreQueue.Ticket {
        try await CentreQueue.finish(try req.uuid("ticket", notFound: "号"), at: try centre(req), served: served, by: try req.staff(), app: req.application)
    }

    static func apiStations(_ req: Request) async throws -> CentreStations.View {
        _ = try req.staff()
        return try await CentreStations.view(try centre(req), on: req.sql)
    }

    static func apiSaveStations(_ req: Request) async throws -> CentreStations.View {
        try await CentreStations.save(try centre(req), try req.content.decode(CentreStations.Input.self), by: try req.staff(), app: req.application,
                                      actor: req.auditActor)
    }

    /// The hall screen's board pushed whenever it changes (`ServerSentEvents`). Limited per address like the kiosk (a
    /// screen reconnects three times a minute).
    static func hallStream(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        let centre = try centre(req)
        let app = req.application
        _ = try await CentreQueue.centre(centre, on: req.sql)
        // Sent when it changes only.
        return ServerSentEvents.response(initial: "") { last in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = .sortedKeys
            let board = String(decoding: try encoder.encode(try await CentreQueue.board(centre, forHall: true, app: app)), as: UTF8.self)
            return board == last ? (last, []) : (board, [ServerSentEvents.message(event: "board", data: board)])
        }
    }

    /// What the hall screen shows: numbers and windows only, nothing about anyone.
    static func apiBoard(_ req: Request) async throws -> CentreQueue.Board {
        try await CentreQueue.board(try centre(req), forHall: true, app: req.application)
    }
}

enum CentrePages {
    struct KioskContext: Encodable {
        var page: PageMeta; var centreId: UUID; var centreName: String; var matters: [SelectOption]; var groups: [SelectOption]
        var ticket: CentreQueue.Ticket?; var error: String?
    }

    static func kiosk(_ req: Request) async throws -> View { try await kiosk(req, ticket: nil, error: nil) }

    static func kiosk(_ req: Request, ticket: CentreQueue.Ticket?, error: String?) async throws -> View {
        let id = try CentreController.centre(req)
        let c = try await CentreQueue.centre(id, on: req.sql)
        return try await req.view.render("centres/kiosk", KioskContext(
            page: req.pageMeta(title: "取号 · \(c.name)"), centreId: id, centreName: c.name,
            matters: [MatterType.consultation, .legalAid, .mediation, .notarization, .judicialAppraisal, .arbitration].map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            groups: [PriorityGroup.elderly, .disabled, .militaryFamily, .veteran, .minor].map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            ticket: ticket, error: error))
    }

    static func kioskIssue(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        do {
            let group = req.formValue("priority").flatMap { $0.isEmpty ? nil : $0 }
            let t = try await CentreQueue.issue(at: try CentreController.centre(req),
                                                .init(matterType: req.formValue("matterType"), priority: group.map { .group($0) }), app: req.application)
            return try await kiosk(req, ticket: t, error: nil).encodeResponse(status: .created, for: req)
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await kiosk(req, ticket: nil, error: e.fields.values.first ?? e.message).encodeResponse(status: e.status, for: req)
        }
    }

    struct HallContext: Encodable { var page: PageMeta; var centreId: UUID; var board: CentreQueue.Board }

    static func hall(_ req: Request) async throws -> View {
        let id = try CentreController.centre(req)
        let board = try await CentreQueue.board(id, forHall: true, app: req.application)
        return try await req.view.render("centres/hall", HallContext(page: req.pageMeta(title: "叫号 · \(board.centreName)"), centreId: id, board: board))
    }

    struct QueueContext: Encodable {
        var page: PageMeta; var centreId: UUID; var board: CentreQueue.Board; var window: String; var matters: [SelectOption]; var error: String?
        var current: CentreQueue.Ticket?
        var windows: [CentreSetup.Window]
        var appointments: [Appointments.Appointment]
        var canSetUp: Bool
    }

    static func queue(_ req: Request) async throws -> View { try await queue(req, error: nil, current: nil) }

    static func queue(_ req: Request, error: String?, current: CentreQueue.Ticket?) async throws -> View {
        let p = try req.staff()
        let id = try CentreController.centre(req)
        let c = try await CentreQueue.centre(id, on: req.sql)
        try p.require(CentreQueue.mayWork(p, centre: id, region: c.region))
        let window = req.formValue("window") ?? (try? req.query.get(String.self, at: "window")) ?? req.session.data["window"] ?? ""
        // The window's matters, as chosen when it last called (kept in the session).
        let chosen = Set(req.formValues("matters").isEmpty ? (req.session.data["matters"] ?? "").split(separator: ",").map(String.init) : req.formValues("matters"))
        return try await req.view.render("centres/queue", QueueContext(
            page: req.pageMeta(title: "叫号 · \(c.name)"), centreId: id, board: try await CentreQueue.board(id, app: req.application),
            window: window, matters: [MatterType.consultation, .legalAid, .mediation, .notarization, .judicialAppraisal, .arbitration].map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: chosen.contains($0.rawValue)) },
            error: error, current: current, windows: try await CentreSetup.windows(of: id, day: req.today, activeOnly: true, on: req.sql),
            appointments: try await Appointments.ofCentre(id, day: req.today, app: req.application, on: req.sql),
            canSetUp: CentreSetup.mayManage(p, centre: id, region: c.region)))
    }

    struct StationsContext: Encodable { var page: PageMeta; var v: CentreStations.View; var modes: [SelectOption]; var canEdit: Bool; var error: String? }

    static func stations(_ req: Request) async throws -> View { try await stations(req, error: nil) }

    static func stations(_ req: Request, error: String?) async throws -> View {
        let p = try req.staff()
        let id = try CentreController.centre(req)
        let c = try await CentreStations.centre(id, on: req.sql)
        return try await req.view.render("centres/stations", StationsContext(
            page: req.pageMeta(title: "进驻职能 · \(c.name)"), v: try await CentreStations.view(id, on: req.sql),
            modes: StationingMode.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            canEdit: CentreStations.mayEdit(p, region: c.region), error: error))
    }

    static func saveStations(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try CentreController.centre(req)
        let lines = StationedFunction.allCases.compactMap { f -> CentreStations.Input.Line? in
            guard let mode = req.formValue("mode_" + f.rawValue), !mode.isEmpty else { return nil }
            return .init(function: f.rawValue, mode: mode, note: req.formValue("note_" + f.rawValue))
        }
        do {
            _ = try await CentreStations.save(id, .init(stations: lines), by: p, app: req.application, actor: req.auditActor)
            return req.redirect(to: "/centres/\(id)/stations", flash: "已保存进驻职能")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await stations(req, error: e.fields.values.first ?? e.message).encodeResponse(status: e.status, for: req)
        }
    }

    /// The window's own centre (the link on the window console).
    static func mine(_ req: Request) async throws -> Response {
        let p = try req.staff()
        guard let centre = p.institutionID, (try? await CentreQueue.centre(centre, on: req.sql)) != nil else {
            throw AppError(.notFound, "not_a_centre", "您所在的机构不设取号叫号（仅公共法律服务中心、站、室）")
        }
        return req.redirect(to: "/centres/\(centre)/queue")
    }

    static func call(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try CentreController.centre(req)
        do {
            let matters = req.formValues("matters")
            let t = try await CentreQueue.callNext(at: id, .init(window: req.formValue("window"), matters: matters), by: p, app: req.application)
            req.session.data["window"] = t.window
            req.session.data["matters"] = matters.joined(separator: ",")
            return req.redirect(to: "/centres/\(id)/queue", flash: "请 \(t.number) 号到 \(t.window ?? "") 号窗口")
        } catch let e as AppError where [.unprocessableEntity, .conflict].contains(e.status) {
            return try await queue(req, error: e.fields.values.first ?? e.message, current: nil).encodeResponse(status: e.status, for: req)
        }
    }

    static func finish(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try CentreController.centre(req)
        let served = req.parameters.get("outcome") == "served"
        guard served || req.parameters.get("outcome") == "no-show" else { throw AppError.notFound("操作") }
        do {
            let t = try await CentreQueue.finish(try req.uuid("ticket", notFound: "号"), at: id, served: served, by: p, app: req.application)
            return req.redirect(to: "/centres/\(id)/queue", flash: served ? "\(t.number) 已办结" : "\(t.number) 已过号")
        } catch let e as AppError where e.status == .conflict {
            return try await queue(req, error: e.message, current: nil).encodeResponse(status: e.status, for: req)
        }
    }
}
