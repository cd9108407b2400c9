import Vapor
import PLSDomain

/// Admin pages for 机构.
enum InstitutionPages {
    static let columns = ["名称", "类型", "所在区划", "电话", "状态"]

    static func cells(_ r: InstitutionController.Row) -> [Cell] {
        var type = r.typeName ?? r.type
        if let kind = r.committeeKind.flatMap(MediationCommitteeKind.init(rawValue:)) {
            type = kind == .industry ? (r.industryField.flatMap(IndustryField.init(rawValue:))?.chineseName ?? "") + "调委会" : kind.chineseName
        }
        if let kind = r.bodyKind.flatMap(GovernmentBodyKind.init(rawValue:)) { type = kind.chineseName + (r.adviserExpected == true ? "（应聘法律顾问）" : "") }
        if let kind = r.schoolKind.flatMap(SchoolKind.init(rawValue:)) { type = "学校（\(kind.chineseName)）" }
        return [Cell(text: r.name, href: "/admin/institutions/\(r.id)"), Cell(text: type),
                Cell(text: r.regionName ?? r.regionCode, href: "/admin/regions/\(r.regionCode)"), Cell(text: r.phone),
                Cell(text: r.active ? "在用" : "已停用", badge: r.active ? "ok" : "muted")]
    }

    static func list(_ req: Request) async throws -> View {
        let p = try req.staff()
        let filter = InstitutionController.Filter(from: req)
        let page = try PageRequest(from: req)
        let result = try await InstitutionController.list(filter, scope: p.scope, page: page, on: req.sql)
        var regionField = FormField(name: "region", label: "区划", kind: .select, value: filter.region?.rawValue ?? "")
        regionField.options = [SelectOption(value: "", label: "全部区划", selected: filter.region == nil)]
            + (try await RegionChoices.options(on: req, scope: p.scope)).filter { DivisionCode($0.value)?.level != .town }
            .map { var o = $0; o.selected = $0.value == filter.region?.rawValue; return o }
        let filters = [
            FormField(name: "q", label: "名称", value: filter.q ?? ""),
            FormField.select("type", "类型", InstitutionType.self, selected: filter.type?.rawValue, required: false, blank: "全部类型"),
            regionField,
        ]
        var actions: [ActionButton] = []
        if RegistryPermission.canCreateInstitutions(p.role) { actions.append(ActionButton(label: "新增机构", href: "/admin/institutions/new")) }
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "机构"), heading: "机构", filters: filters,
            table: TableView(columns: columns, rows: result.items.map(cells), total: result.total, page: page, request: req),
            actions: actions))
    }

    static func detail(_ req: Request) async throws -> View {
        let p = try req.staff()
        let id = try req.uuid("id")
        let r = try await InstitutionController.find(id, scope: p.scope, on: req.sql)
        let page = try PageRequest(from: req)
        var filter = PractitionerController.Filter()
        filter.institution = id
        let people = try await PractitionerController.list(filter, scope: .everything, page: page, on: req.sql)
        var items = [DetailItem(label: "类型", value: r.typeName ?? r.type),
                     DetailItem(label: "所在区划", value: r.regionName ?? r.regionCode, href: "/admin/regions/\(r.regionCode)"),
                     DetailItem(label: "地址", value: r.address), DetailItem(label: "电话", value: r.phone),
                     DetailItem(label: "办公时间", value: r.openingHours.isEmpty ? "—" : r.openingHours)]
        if let lat = r.latitude, let lon = r.longitude { items.append(DetailItem(label: "坐标", value: String(format: "%.4f, %.4f", lat, lon))) }
        if let kind = r.committeeKind.flatMap(MediationCommitteeKind.init(rawValue:)) { items.append(DetailItem(label: "调委会类别", value: kind.chineseName)) }
        if let field = r.industryField.flatMap(IndustryField.init(rawValue:)) { items.append(DetailItem(label: "行业领域", value: field.chineseName)) }
        if let kind = r.bodyKind.flatMap(GovernmentBodyKind.init(rawValue:)) {
            items.append(DetailItem(label: "机关类别", value: kind.chineseName + (r.enforcementHeavy == true ? "，执法职能较多" : "")))
            items.append(DetailItem(label: "法律顾问", value: r.adviserExpected == true ? "实施方案要求聘用法律顾问（计入党政机关法律顾问覆盖率）" : "实施方案未作要求"))
        }
        if let kind = r.schoolKind.flatMap(SchoolKind.init(rawValue:)) {
            items.append(DetailItem(label: "学校类别", value: kind.chineseName + (kind.expectsCounsellor
                ? "（实施方案要求配备法治辅导员，计入学校法治辅导员配备率）" : "（实施方案未作要求）")))
        }
        items.append(DetailItem(label: "状态", value: r.active ? "在用" : "已停用"))
        var actions: [ActionButton] = []
        if RegistryPermission.canEditInstitutions(p.role) {
            actions.append(ActionButton(label: "修改", href: "/admin/institutions/\(id)/edit"))
            actions.append(ActionButton(label: "新增人员", href: "/admin/practitioners/new?institution=\(id)"))
        }
        if RegistryPermission.canCreateInstitutions(p.role), r.active {
            actions.append(ActionButton(label: "停用", post: "/admin/institutions/\(id)/deactivate", danger: true, confirm: "确定停用“\(r.name)”吗？"))
        }
        return try await req.view.render("admin/detail", DetailPage(
            page: req.pageMeta(title: r.name), heading: r.name, subtitle: r.typeName, items: items, actions: actions,
            related: [RelatedTable(heading: "人员（\(people.total)）",
                                   table: TableView(columns: PractitionerPages.columns, rows: people.items.map(PractitionerPages.cells),
                                                    total: people.total, page: page, request: req))]))
    }

    static func fields(_ v: [String: String], regions: [SelectOption], lockTypeAndRegion: Bool = false) -> [FormField] {
        var region = FormField(name: "regionCode", label: "所在区划", value: v["regionCode"] ?? "", options: regions, required: true,
                               hint: "输入名称或 12 位区划代码（村、社区请填代码）", readonly: lockTypeAndRegion)
        region.datalist = true
        var type = FormField.select("type", "机构类型", InstitutionType.self, selected: v["type"], blank: "请选择")
        type.readonly = lockTypeAndRegion
        return [
            type,
            FormField(name: "name", label: "名称", value: v["name"] ?? "", required: true),
            region,
            FormField(name: "address", label: "地址", value: v["address"] ?? "", required: true),
            FormField(name: "phone", label: "电话", kind: .tel, value: v["phone"] ?? "", required: true, half: true),
            FormField(name: "openingHours", label: "办公时间", value: v["openingHours"] ?? "", hint: "如：工作日 8:30—12:00，14:30—17:30", half: true),
            FormField(name: "latitude", label: "纬度", value: v["latitude"] ?? "", hint: "用于法律服务地图，可留空", half: true),
            FormField(name: "longitude", label: "经度", value: v["longitude"] ?? "", half: true),
            FormField.select("committeeKind", "调委会类别（仅人民调解委员会）", MediationCommitteeKind.self, selected: v["committeeKind"],
                             required: false, blank: "不适用"),
            FormField.select("industryField", "行业领域（仅行业性专业性调委会）", IndustryField.self, selected: v["industryField"],
                             required: false, blank: "不适用"),
            FormField.select("bodyKind", "机关类别（仅党政机关）", GovernmentBodyKind.self, selected: v["bodyKind"], required: false, blank: "不适用"),
            FormField(name: "enforcementHeavy", label: "执法职能（仅工作部门）", kind: .select, value: v["enforcementHeavy"] ?? "",
                      options: [SelectOption(value: "", label: "一般", selected: v["enforcementHeavy"] != "true"),
                                SelectOption(value: "true", label: "执法职能较多（原则上应聘用法律顾问）", selected: v["enforcementHeavy"] == "true")],
                      hint: "市场监管、城管、税务、住建、自然资源和规划、生态环境、交通运输等部门"),
            { var f = FormField.select("schoolKind", "学校类别（仅学校）", SchoolKind.self, selected: v["schoolKind"], required: false,
                                       blank: "按名称判断")
              f.hint = "中心校和市直校须配备法治辅导员（实施方案二（四））"
              return f }(),
            FormField(name: "documentPrefix", label: "文书编号前缀（仅法律援助中心）", value: v["documentPrefix"] ?? "",
                      hint: "如填“西江”，文书编号为“西江援〔2027〕…号”；不填则用所在地简称"),
        ]
    }

    static let formKeys = ["type", "name", "regionCode", "address", "phone", "openingHours", "latitude", "longitude", "committeeKind", "industryField",
                           "bodyKind", "enforcementHeavy", "schoolKind", "documentPrefix"]

    /// Reads the form; numbers that do not parse are named rather than dropped.
    static func input(_ req: Request) -> ([String: String], InstitutionController.Input, [String: String]) {
        var v: [String: String] = [:]
        for key in formKeys { v[key] = req.formValue(key) ?? "" }
        var errors: [String: String] = [:]
        func number(_ key: String) -> Double? {
            let s = (v[key] ?? "").trimmingCharacters(in: .whitespaces)
            if s.isEmpty { return nil }
            guard let d = Double(s) else { errors[key] = "请输入数字"; return nil }
            return d
        }
        let input = InstitutionController.Input(type: v["type"], name: v["name"], regionCode: v["regionCode"], address: v["address"],
                                                phone: v["phone"], openingHours: v["openingHours"], latitude: number("latitude"),
                                                longitude: number("longitude"), committeeKind: v["committeeKind"], industryField: v["industryField"],
                                                bodyKind: v["bodyKind"], enforcementHeavy: v["enforcementHeavy"] == "true",
                                                schoolKind: v["schoolKind"], documentPrefix: v["documentPrefix"])
        return (v, input, errors)
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canCreateInstitutions(p.role))
        return try await req.renderForm(title: "新增机构", action: "/admin/institutions/new",
                                        fields: fields([:], regions: try await RegionChoices.options(on: req, scope: p.scope)),
                                        submit: "保存", cancel: "/admin/institutions")
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canCreateInstitutions(p.role))
        let (values, input, parseErrors) = input(req)
        do {
            if !parseErrors.isEmpty { throw AppError.validation(parseErrors) }
            let id = try await InstitutionController.create(input, by: p, on: req.db)
            return req.redirect(to: "/admin/institutions/\(id)", flash: "已新增机构")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "新增机构", action: "/admin/institutions/new",
                                            fields: fields(values, regions: try await RegionChoices.options(on: req, scope: p.scope)),
                                            submit: "保存", cancel: "/admin/institutions", error: e)
        }
    }

    static func editForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditInstitutions(p.role))
        let id = try req.uuid("id")
        let r = try await InstitutionController.find(id, scope: p.scope, on: req.sql)
        let values = ["type": r.type, "name": r.name, "regionCode": r.regionCode, "address": r.address, "phone": r.phone,
                      "openingHours": r.openingHours, "latitude": r.latitude.map { String($0) } ?? "",
                      "longitude": r.longitude.map { String($0) } ?? "", "committeeKind": r.committeeKind ?? "", "industryField": r.industryField ?? "",
                      "bodyKind": r.bodyKind ?? "", "enforcementHeavy": r.enforcementHeavy == true ? "true" : "",
                      "schoolKind": r.schoolKind ?? "", "documentPrefix": r.documentPrefix ?? ""]
        return try await req.renderForm(title: "修改：\(r.name)", action: "/admin/institutions/\(id)/edit",
                                        fields: fields(values, regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                       lockTypeAndRegion: p.role == .institutionAdmin),
                                        submit: "保存", cancel: "/admin/institutions/\(id)")
    }

    static func update(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditInstitutions(p.role))
        let id = try req.uuid("id")
        let (values, input, parseErrors) = input(req)
        do {
            if !parseErrors.isEmpty { throw AppError.validation(parseErrors) }
            try await InstitutionController.update(id, input, by: p, on: req.db)
            return req.redirect(to: "/admin/institutions/\(id)", flash: "已保存")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "修改机构", action: "/admin/institutions/\(id)/edit",
                                            fields: fields(values, regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                           lockTypeAndRegion: p.role == .institutionAdmin),
                                            submit: "保存", cancel: "/admin/institutions/\(id)", error: e)
        }
    }

    static func deactivate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id")
        try await InstitutionController.setActive(id, false, by: p, on: req.db)
        return req.redirect(to: "/admin/institutions/\(id)", flash: "已停用该机构")
    }
}
