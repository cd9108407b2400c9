import Vapor
import SQLKit
import PLSDomain

/// The catalog's settings pages: each matter's time limits and the service guides (办事指南).
enum CatalogPages {
    struct RulesContext: Encodable {
        struct Row: Encodable { var matterType: String; var name: String; var acceptDays: Int; var acceptUnit: String; var concludeDays: Int
            var concludeUnit: String; var autoAssign: String; var units: [SelectOption]; var concludeUnits: [SelectOption]; var autos: [SelectOption] }
        var page: PageMeta
        var rows: [Row]
        var canEdit: Bool
        var error: String?
    }

    static func rules(_ req: Request, error: AppError? = nil) async throws -> Response {
        let p = try req.settingsReader()
        let rules = try await Catalog.allRules(on: req.sql)
        func units(_ selected: String) -> [SelectOption] {
            DeadlineRule.Unit.allCases.map { SelectOption(value: $0.rawValue, label: $0 == .workingDays ? "工作日" : "自然日", selected: $0.rawValue == selected) }
        }
        let autoNames = ["off": "人工分派", "best": "自动分派给最佳人选", "rotation": "在符合条件的人员中轮流分派"]
        let rows = rules.map { r in
            RulesContext.Row(matterType: r.matterType, name: MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType,
                             acceptDays: r.acceptDays, acceptUnit: r.acceptUnit, concludeDays: r.concludeDays, concludeUnit: r.concludeUnit,
                             autoAssign: r.autoAssign, units: units(r.acceptUnit), concludeUnits: units(r.concludeUnit),
                             autos: Catalog.AutoAssign.allCases.map { SelectOption(value: $0.rawValue, label: autoNames[$0.rawValue] ?? $0.rawValue, selected: $0.rawValue == r.autoAssign) })
        }
        let response = try await req.view.render("work/rules", RulesContext(page: req.pageMeta(title: "办理时限"), rows: rows,
                                                                             canEdit: p.role == .cityAdmin, error: error?.message))
            .encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func rulesPage(_ req: Request) async throws -> Response { try await rules(req) }

    static func saveRules(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let type = MatterType(rawValue: req.parameters.get("matterType") ?? "") else { throw AppError.notFound("事项类型") }
        do {
            _ = try await Catalog.updateRules(type, .init(acceptDays: req.formValue("acceptDays").flatMap(Int.init), acceptUnit: req.formValue("acceptUnit"),
                                                          concludeDays: req.formValue("concludeDays").flatMap(Int.init),
                                                          concludeUnit: req.formValue("concludeUnit"), autoAssign: req.formValue("autoAssign")),
                                              actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
            try await req.application.rulesCache.reload(from: req.sql)
            return req.redirect(to: "/admin/rules", flash: "已保存\(type.chineseName)的办理时限")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await rules(req, error: AppError.validation(e.fields, message: "\(type.chineseName)：" + e.fields.values.sorted().joined(separator: "；")))
        }
    }

    // MARK: Service guides

    static func catalog(_ req: Request) async throws -> View {
        let p = try req.settingsReader()
        let items = try await Catalog.items(on: req.sql, includeInactive: true)
        let page = PageRequest(page: 1, per: 100)
        let rows = items.map { i in
            [Cell(text: i.name, href: p.role == .cityAdmin ? "/admin/catalog/\(i.code)" : "/services/\(i.code)"),
             Cell(text: MatterType(rawValue: i.matterType)?.chineseName ?? i.matterType), Cell(text: i.fee), Cell(text: i.timeLimit),
             Cell(text: i.active ? (i.online ? "可网上申请" : "现场办理") : "已停用", badge: i.active ? "ok" : "muted")]
        }
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "办事指南"), heading: "办事指南（服务事项目录）", filters: [],
            table: TableView(columns: ["事项", "类型", "收费", "时限", "状态"], rows: rows, total: items.count, page: page, request: req),
            actions: []))
    }

    static func guideFields(_ i: Catalog.Item) -> [FormField] {
        var online = FormField(name: "online", label: "网上申请", kind: .select)
        online.options = [SelectOption(value: "true", label: "可网上申请", selected: i.online), SelectOption(value: "false", label: "仅现场办理", selected: !i.online)]
        var active = FormField(name: "active", label: "状态", kind: .select)
        active.options = [SelectOption(value: "true", label: "在用", selected: i.active), SelectOption(value: "false", label: "停用", selected: !i.active)]
        return [
            FormField(name: "name", label: "事项名称", value: i.name, required: true),
            FormField(name: "conditions", label: "办理条件", kind: .textarea, value: i.conditions, required: true),
            FormField(name: "materials", label: "所需材料", kind: .textarea, value: i.materials, required: true),
            FormField(name: "steps", label: "办理流程", kind: .textarea, value: i.steps, required: true),
            FormField(name: "fee", label: "收费标准", value: i.fee, required: true, half: true),
            FormField(name: "timeLimit", label: "办理时限", value: i.timeLimit, required: true, half: true),
            FormField(name: "location", label: "办理地点", kind: .textarea, value: i.location, required: true),
            online, active,
        ]
    }

    static func guideForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let item = try await Catalog.item(req.parameters.get("code") ?? "", on: req.sql) else { throw AppError.notFound("服务事项") }
        return try await req.renderForm(title: "修改办事指南：\(item.name)", action: "/admin/catalog/\(item.code)", fields: guideFields(item),
                                        submit: "保存", cancel: "/admin/catalog")
    }

    static func saveGuide(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard var item = try await Catalog.item(req.parameters.get("code") ?? "", on: req.sql) else { throw AppError.notFound("服务事项") }
        let input = Catalog.ItemInput(name: req.formValue("name"), conditions: req.formValue("conditions"), materials: req.formValue("materials"),
                                      steps: req.formValue("steps"), fee: req.formValue("fee"), timeLimit: req.formValue("timeLimit"),
                                      location: req.formValue("location"), online: req.formValue("online").map { $0 == "true" },
                                      active: req.formValue("active").map { $0 == "true" }, sort: nil)
        do {
            let saved = try await Catalog.update(item.code, input, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
            return req.redirect(to: "/admin/catalog", flash: "已保存“\(saved.name)”的办事指南")
        } catch let e as AppError where e.status == .unprocessableEntity {
            item.name = input.name ?? ""; item.conditions = input.conditions ?? ""; item.materials = input.materials ?? ""
            item.steps = input.steps ?? ""; item.fee = input.fee ?? ""; item.timeLimit = input.timeLimit ?? ""; item.location = input.location ?? ""
            return try await req.renderForm(title: "修改办事指南：\(item.code)", action: "/admin/catalog/\(item.code)", fields: guideFields(item),
                                            submit: "保存", cancel: "/admin/catalog", error: e)
        }
    }
}
