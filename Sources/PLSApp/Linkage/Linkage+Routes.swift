import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Department systems: their registration and tokens, the orders they send and the status that goes back.
    func linkage() {
        api.post("oauth", "token", use: SystemClients.token)
        let clients = api.grouped("system-clients")
        clients.post(use: LinkageController.apiRegister)
        clients.get(use: LinkageController.apiList)
        clients.post(":id", "rotate", use: LinkageController.apiRotate)
        clients.post(":id", "deactivate") { try await LinkageController.apiSetActive($0, false) }
        clients.post(":id", "activate") { try await LinkageController.apiSetActive($0, true) }
        clients.get(":id", "calls", use: LinkageController.apiCalls)
        clients.get(":id", "deliveries", use: LinkageController.apiDeliveries)
        api.post("work-order-callbacks", ":id", "resend", use: LinkageController.apiResend)
        api.get("work-orders", ":reference", use: LinkageController.apiStatus)
        api.post("transfers", ":number", "answer", use: LinkageController.apiAnswer)
        admin.get("system-clients", use: LinkagePages.list)
        admin.post("system-clients", use: LinkagePages.register)
        admin.get("system-clients", ":id", use: LinkagePages.detail)
        admin.post("system-clients", ":id", "rotate", use: LinkagePages.rotate)
        admin.post("system-clients", ":id", "active", use: LinkagePages.setActive)
        admin.post("system-clients", ":id", "deliveries", ":delivery", "resend", use: LinkagePages.resend)
    }
}

enum LinkageController {
    static func manager(_ req: Request) throws -> Principal {
        let p = try req.staff()
        try p.require(SystemClients.mayManage(p))
        return p
    }

    static func apiRegister(_ req: Request) async throws -> Response {
        let p = try manager(req)
        let created = try await SystemClients.register(try req.content.decode(SystemClients.CreateInput.self), by: p, app: req.application,
                                                       actor: req.auditActor)
        return try Response(status: .created).encodeJSON(created)
    }

    static func apiList(_ req: Request) async throws -> [SystemClients.Row] {
        _ = try manager(req)
        return try await SystemClients.list(on: req.sql)
    }

    static func apiRotate(_ req: Request) async throws -> SystemClients.Credentials {
        let p = try manager(req)
        return try await SystemClients.rotate(try req.uuid("id", notFound: "对接系统"), by: p, app: req.application, actor: req.auditActor)
    }

    static func apiSetActive(_ req: Request, _ active: Bool) async throws -> HTTPStatus {
        let p = try manager(req)
        try await SystemClients.setActive(try req.uuid("id", notFound: "对接系统"), active, by: p, app: req.application, actor: req.auditActor)
        return .noContent
    }

    static func apiCalls(_ req: Request) async throws -> Paged<SystemClients.Call> {
        _ = try manager(req)
        let id = try req.uuid("id", notFound: "对接系统")
        _ = try await SystemClients.find(id, on: req.sql)
        return try await SystemClients.calls(of: id, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiDeliveries(_ req: Request) async throws -> Paged<WorkOrders.DeliveryRow> {
        _ = try manager(req)
        let id = try req.uuid("id", notFound: "对接系统")
        _ = try await SystemClients.find(id, on: req.sql)
        return try await WorkOrders.deliveries(of: id, page: try PageRequest(from: req), on: req.sql)
    }

    static func apiResend(_ req: Request) async throws -> HTTPStatus {
        let p = try manager(req)
        try await WorkOrders.resend(try req.uuid("id", notFound: "推送记录"), by: p, app: req.application)
        return .accepted
    }

    /// A receiving system (12345, 110) answers a transfer it was sent.
    static func apiAnswer(_ req: Request) async throws -> OutboundTransfers.Answer {
        try await OutboundTransfers.answer(number: req.parameters.get("number") ?? "", try req.content.decode(OutboundTransfers.AnswerInput.self),
                                           by: try req.principal(), app: req.application)
    }

    /// A system asks after an order it sent, by its own reference.
    static func apiStatus(_ req: Request) async throws -> WorkOrders.Status {
        guard let grant = try req.principal().client else { throw AppError(.forbidden, "forbidden", "仅供对接系统查询其提交的工单") }
        return try await WorkOrders.status(reference: req.parameters.get("reference") ?? "", grant: grant, app: req.application)
    }
}

enum LinkagePages {
    struct ListContext: Encodable {
        var page: PageMeta; var clients: [SystemClients.Row]; var scopes: [SelectOption]; var credentials: SystemClients.Credentials?
        var error: String?; var errors: [String: String]; var errorLinks: [ErrorLink]; var name: String; var transferUrl: String; var rateLimit: String
    }

    static func list(_ req: Request) async throws -> View { try await list(req, credentials: nil, error: nil) }

    static func list(_ req: Request, credentials: SystemClients.Credentials?, error: AppError?) async throws -> View {
        _ = try LinkageController.manager(req)
        let chosen = error == nil ? [] : req.formValues("scopes")
        return try await req.view.render("admin/system-clients", ListContext(
            page: req.pageMeta(title: "系统对接"), clients: try await SystemClients.list(on: req.sql),
            scopes: ClientScope.all.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: chosen.contains($0.rawValue)) },
            credentials: credentials, error: error?.message, errors: error?.fields ?? [:],
            errorLinks: ErrorLink.links(error?.fields ?? [:], [("name", "sc-name", "系统名称"), ("scopes", "sc-scopes", "权限"), ("rateLimit", "sc-rate", "每分钟调用上限"),
                                                                 ("transferUrl", "sc-transfer-url", "转办推送地址")]),
            name: error == nil ? "" : req.formValue("name") ?? "", transferUrl: error == nil ? "" : req.formValue("transferUrl") ?? "", rateLimit: error == nil ? String(SystemClients.defaultRateLimit) : req.formValue("rateLimit") ?? ""))
    }

    static func register(_ req: Request) async throws -> Response {
        let p = try LinkageController.manager(req)
        let rate = req.formValue("rateLimit").flatMap { $0.isEmpty ? nil : $0 }
        do {
            guard rate == nil || Int(rate!.prefix(7)) != nil else { throw AppError.validation(["rateLimit": "每分钟调用上限应为整数"]) }
            let created = try await SystemClients.register(.init(name: req.formValue("name"), scopes: req.formValues("scopes"), rateLimit: rate.flatMap { Int($0.prefix(7)) },
                                                                 transferUrl: req.formValue("transferUrl")),
                                                           by: p, app: req.application, actor: req.auditActor)
            // The secret is shown on this answer only, never again (not in a redirect's address or a flash).
            return try await list(req, credentials: created, error: nil).encodeResponse(status: .created, for: req)
        } catch let e as AppError where e.status.code < 500 {
            return try await list(req, credentials: nil, error: e).encodeResponse(status: e.status, for: req)
        }
    }

    struct DetailContext: Encodable {
        var page: PageMeta; var client: SystemClients.Row; var calls: [CallLine]; var deliveries: [WorkOrders.DeliveryRow]
        var credentials: SystemClients.Credentials?
        struct CallLine: Encodable { var at: String; var method: String; var path: String; var status: Int }
    }

    static func detail(_ req: Request) async throws -> View { try await detail(req, credentials: nil) }

    static func detail(_ req: Request, credentials: SystemClients.Credentials?) async throws -> View {
        _ = try LinkageController.manager(req)
        let id = try req.uuid("id", notFound: "对接系统")
        guard let client = try await SystemClients.list(on: req.sql).first(where: { $0.id == id }) else { throw AppError.notFound("对接系统") }
        let first = PageRequest(page: 1, per: 50)
        return try await req.view.render("admin/system-client", DetailContext(
            page: req.pageMeta(title: "系统对接 · \(client.name)"), client: client,
            calls: try await SystemClients.calls(of: id, page: first, on: req.sql).items.map {
                DetailContext.CallLine(at: DateFormatter.chinaTime.string(from: $0.at), method: $0.method, path: $0.path, status: $0.status) },
            deliveries: try await WorkOrders.deliveries(of: id, page: first, on: req.sql).items, credentials: credentials))
    }

    static func rotate(_ req: Request) async throws -> View {
        let p = try LinkageController.manager(req)
        let created = try await SystemClients.rotate(try req.uuid("id", notFound: "对接系统"), by: p, app: req.application, actor: req.auditActor)
        return try await detail(req, credentials: created)
    }

    static func setActive(_ req: Request) async throws -> Response {
        let p = try LinkageController.manager(req)
        let id = try req.uuid("id", notFound: "对接系统")
        let active = req.formValue("active") == "1"
        try await SystemClients.setActive(id, active, by: p, app: req.application, actor: req.auditActor)
        return req.redirect(to: "/admin/system-clients/\(id)", flash: active ? "已启用" : "已停用，其令牌立即失效")
    }

    static func resend(_ req: Request) async throws -> Response {
        let p = try LinkageController.manager(req)
        let id = try req.uuid("id", notFound: "对接系统")
        try await WorkOrders.resend(try req.uuid("delivery", notFound: "推送记录"), by: p, app: req.application)
        return req.redirect(to: "/admin/system-clients/\(id)", flash: "已重新排队推送")
    }
}
