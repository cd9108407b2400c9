import Vapor
import PLSDomain

/// Admin pages for 行政区划.
enum RegionPages {
    static func levelName(_ raw: String) -> String { RegionLevel(rawValue: raw)?.chineseName ?? raw }

    static func cells(_ r: RegionController.Row) -> [Cell] {
        [Cell(text: r.code), Cell(text: r.name, href: "/admin/regions/\(r.code)"), Cell(text: levelName(r.level)),
         Cell(text: r.kind.flatMap(VillageKind.init(rawValue:))?.chineseName ?? "—"), Cell(text: String(r.population)),
         Cell(text: r.active ? "在用" : "已停用", badge: r.active ? "ok" : "muted")]
    }
    static let columns = ["代码", "名称", "层级", "类型", "人口", "状态"]

    static func list(_ req: Request) async throws -> View {
        let p = try req.staff()
        var filter = RegionController.Filter(from: req)
        if filter.parent == nil && filter.q == nil && filter.level == nil { filter.parent = req.city.code?.rawValue }
        let page = try PageRequest(from: req)
        let result = try await RegionController.list(filter, page: page, on: req.sql)
        var heading = "行政区划"
        if let parent = filter.parent, let row = try await RegionController.find(parent, on: req.sql) { heading = "\(row.name)的下级区划" }
        let filters = [
            FormField(name: "q", label: "名称或代码", value: filter.q ?? ""),
            FormField.select("level", "层级", RegionLevel.self, selected: filter.level?.rawValue, required: false, blank: "全部层级"),
        ]
        var actions: [ActionButton] = []
        if RegistryPermission.canEditRegions(p.role) { actions.append(ActionButton(label: "新增区划", href: "/admin/regions/new")) }
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "行政区划"), heading: heading, filters: filters,
            table: TableView(columns: columns, rows: result.items.map(cells), total: result.total, page: page, request: req),
            actions: actions))
    }

    static func detail(_ req: Request) async throws -> View {
        let p = try req.staff()
        let code = req.parameters.get("code") ?? ""
        let detail = try await RegionController.detail(code, on: req.sql)
        let r = detail.region
        let page = try PageRequest(from: req)
        let children = try await RegionController.list(.init(parent: code, includeInactive: true), page: page, on: req.sql)
        var items = [DetailItem(label: "区划代码", value: r.code), DetailItem(label: "层级", value: levelName(r.level)),
                     DetailItem(label: "所属", value: detail.path.dropLast().map(\.name).joined(separator: " › ")),
                     DetailItem(label: "人口", value: String(r.population)),
                     DetailItem(label: "辖区内机构", value: "\(detail.institutionCount) 个", href: "/admin/institutions?region=\(r.code)"),
                     DetailItem(label: "状态", value: r.active ? "在用" : "已停用")]
        if let kind = r.kind.flatMap(VillageKind.init(rawValue:)) { items.insert(DetailItem(label: "类型", value: kind.chineseName), at: 2) }
        if let parent = r.parentCode { items.append(DetailItem(label: "上级区划", value: parent, href: "/admin/regions/\(parent)")) }
        var actions: [ActionButton] = []
        if RegistryPermission.canEditRegions(p.role) {
            actions.append(ActionButton(label: "修改", href: "/admin/regions/\(r.code)/edit"))
            if r.active {
                actions.append(ActionButton(label: "停用", post: "/admin/regions/\(r.code)/deactivate", danger: true,
                                            confirm: "确定停用“\(r.name)”吗？"))
            }
        }
        if let level = RegionLevel(rawValue: r.level), level != .city, level != .naturalVillage {
            actions.append(ActionButton(label: "查看指标", href: "/admin/indicators?region=\(r.code)"))
        } else if r.level == RegionLevel.city.rawValue {
            actions.append(ActionButton(label: "查看指标", href: "/admin/indicators?region=\(r.code)"))
        }
        return try await req.view.render("admin/detail", DetailPage(
            page: req.pageMeta(title: r.name), heading: r.name, subtitle: detail.path.map(\.name).joined(separator: " › "),
            items: items, actions: actions,
            related: children.total == 0 ? [] : [RelatedTable(heading: "下级区划（\(children.total)）",
                                                              table: TableView(columns: columns, rows: children.items.map(cells),
                                                                               total: children.total, page: page, request: req))]))
    }

    static func formFields(code: String = "", name: String = "", population: String = "", parent: String = "", isNew: Bool) -> [FormField] {
        var fields = [
            FormField(name: "name", label: "名称", value: name, required: true),
            FormField(name: "population", label: "人口", kind: .number, value: population),
        ]
        if isNew {
            fields.insert(FormField(name: "code", label: "区划代码", kind: .text, value: code, required: true,
                                    hint: "12 位统计用区划代码；自然村为所属村代码加 3 位序号。上级区划须已存在，层级由代码确定"), at: 0)
        }
        return fields
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        return try await req.renderForm(title: "新增行政区划", action: "/admin/regions/new",
                                        fields: formFields(code: (try? req.query.get(String.self, at: "parent")) ?? "", isNew: true),
                                        submit: "保存", cancel: "/admin/regions")
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let code = req.formValue("code") ?? "", name = req.formValue("name") ?? "", population = req.formValue("population") ?? ""
        do {
            var errors = FieldErrors()
            let pop = population.isEmpty ? 0 : Int(population)
            if pop == nil { errors.add("population", "人口须为整数") }
            try errors.throwIfAny()
            let row = try await RegionController.validateNew(.init(code: code, name: name, level: nil, parentCode: nil, population: pop), on: req.sql)
            try await RegionController.insert([row], on: req.sql)
            return req.redirect(to: "/admin/regions/\(row.code.rawValue)", flash: "已新增“\(row.name)”")
        } catch let e as AppError {
            return try await req.renderForm(title: "新增行政区划", action: "/admin/regions/new",
                                            fields: formFields(code: code, name: name, population: population, isNew: true),
                                            submit: "保存", cancel: "/admin/regions", error: e)
        }
    }

    static func editForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let code = req.parameters.get("code") ?? ""
        guard let r = try await RegionController.find(code, on: req.sql) else { throw AppError.notFound("行政区划") }
        return try await req.renderForm(title: "修改：\(r.name)", action: "/admin/regions/\(code)/edit",
                                        fields: formFields(name: r.name, population: String(r.population), isNew: false),
                                        submit: "保存", cancel: "/admin/regions/\(code)")
    }

    static func update(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let code = req.parameters.get("code") ?? ""
        let name = req.formValue("name") ?? "", population = req.formValue("population") ?? ""
        do {
            guard let pop = population.isEmpty ? 0 : Int(population) else { throw AppError.validation(["population": "人口须为整数"]) }
            let row = try await RegionController.update(code, .init(name: name, population: pop), on: req.db)
            return req.redirect(to: "/admin/regions/\(code)", flash: "已保存“\(row.name)”")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "修改行政区划", action: "/admin/regions/\(code)/edit",
                                            fields: formFields(name: name, population: population, isNew: false),
                                            submit: "保存", cancel: "/admin/regions/\(code)", error: e)
        }
    }

    static func deactivate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditRegions(p.role))
        let code = req.parameters.get("code") ?? ""
        let row = try await RegionController.setActive(code, false, on: req.db)
        return req.redirect(to: "/admin/regions/\(code)", flash: "已停用“\(row.name)”")
    }
}
