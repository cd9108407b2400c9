import Vapor
import SQLKit
import PLSDomain

/// Admin pages for 法律服务人员.
enum PractitionerPages {
    static let columns = ["姓名", "类型", "执业证号", "所属机构", "专长", "状态"]

    static func cells(_ r: PractitionerController.Row) -> [Cell] {
        [Cell(text: r.name, href: "/admin/practitioners/\(r.id)"), Cell(text: r.typeName), Cell(text: r.licenceNumber),
         Cell(text: r.institutionName, href: "/admin/institutions/\(r.institutionId)"),
         Cell(text: r.specialities.compactMap { Category(rawValue: $0)?.chineseName }.joined(separator: "、")),
         Cell(text: r.statusName, badge: r.status == PractitionerStatus.practising.rawValue ? "ok" : "muted")]
    }

    static func list(_ req: Request) async throws -> View {
        let p = try req.staff()
        let filter = PractitionerController.Filter(from: req)
        let page = try PageRequest(from: req)
        let result = try await PractitionerController.list(filter, scope: p.scope, page: page, on: req.sql)
        let filters = [
            FormField(name: "q", label: "姓名或执业证号", value: filter.q ?? ""),
            FormField.select("type", "类型", PractitionerType.self, selected: filter.type?.rawValue, required: false, blank: "全部类型"),
            FormField.select("speciality", "专长", Category.self, selected: filter.speciality?.rawValue, required: false, blank: "全部专长"),
            FormField.select("status", "状态", PractitionerStatus.self, selected: filter.status?.rawValue, required: false, blank: "全部状态"),
        ]
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "法律服务人员"), heading: "法律服务人员", filters: filters,
            table: TableView(columns: columns, rows: result.items.map(cells), total: result.total, page: page, request: req),
            actions: []))
    }

    static func detail(_ req: Request) async throws -> View {
        let p = try req.staff()
        let id = try req.uuid("id")
        let r = try await PractitionerController.find(id, scope: p.scope, on: req.sql)
        let items = [
            DetailItem(label: "类型", value: r.typeName),
            DetailItem(label: "性别", value: r.gender.flatMap(Gender.init(rawValue:))?.chineseName ?? "—"),
            DetailItem(label: "执业证号", value: r.licenceNumber),
            DetailItem(label: "所属机构", value: r.institutionName, href: "/admin/institutions/\(r.institutionId)"),
            DetailItem(label: "专长", value: r.specialities.compactMap { Category(rawValue: $0)?.chineseName }.joined(separator: "、")),
            DetailItem(label: "服务区划", value: r.regionsServed.joined(separator: "、")),
            DetailItem(label: "执业状态", value: r.statusName),
        ]
        var actions: [ActionButton] = []
        if RegistryPermission.canEditInstitutions(p.role) {
            actions.append(ActionButton(label: "修改", href: "/admin/practitioners/\(id)/edit"))
            if r.status != PractitionerStatus.left.rawValue {
                actions.append(ActionButton(label: "登记离职", post: "/admin/practitioners/\(id)/deactivate", danger: true,
                                            confirm: "确定将\(r.name)登记为离职吗？"))
            }
        }
        return try await req.view.render("admin/detail", DetailPage(page: req.pageMeta(title: r.name), heading: r.name,
                                                                    subtitle: r.typeName, items: items, actions: actions, related: []))
    }

    static let formKeys = ["type", "name", "gender", "licenceNumber", "institutionId", "regionsServed", "status"]

    static func fields(_ v: [String: String], specialities: [String], institution: InstitutionController.Row?) -> [FormField] {
        var institutionField = FormField(name: "institutionId", label: "所属机构", value: v["institutionId"] ?? "", required: true,
                                         hint: institution.map { "当前：\($0.name)" } ?? "从机构页面点“新增人员”可自动带入机构")
        institutionField.readonly = institution != nil
        return [
            FormField.select("type", "人员类型", PractitionerType.self, selected: v["type"], blank: "请选择"),
            FormField(name: "name", label: "姓名", value: v["name"] ?? "", required: true),
            FormField.select("gender", "性别", Gender.self, selected: v["gender"], required: false, blank: "未填"),
            FormField(name: "licenceNumber", label: "执业证号", value: v["licenceNumber"] ?? "", required: true),
            institutionField,
            FormField.checkboxes("specialities", "专长", Category.self, selected: specialities),
            FormField(name: "regionsServed", label: "服务区划代码", value: v["regionsServed"] ?? "",
                      hint: "多个用逗号分隔；留空则为所属机构所在区划"),
            FormField.select("status", "执业状态", PractitionerStatus.self, selected: v["status"] ?? PractitionerStatus.practising.rawValue),
        ]
    }

    static func read(_ req: Request) -> ([String: String], [String], PractitionerController.Input) {
        var v: [String: String] = [:]
        for key in formKeys { v[key] = req.formValue(key) ?? "" }
        let specialities = req.formValues("specialities")
        let input = PractitionerController.Input(
            type: v["type"], name: v["name"], gender: v["gender"], licenceNumber: v["licenceNumber"],
            institutionId: UUID(uuidString: v["institutionId"] ?? ""), specialities: specialities,
            regionsServed: (v["regionsServed"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " }).map(String.init),
            status: v["status"])
        return (v, specialities, input)
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditInstitutions(p.role))
        var institution: InstitutionController.Row?
        if let raw = try? req.query.get(String.self, at: "institution"), let id = UUID(uuidString: raw) {
            institution = try await InstitutionController.find(id, scope: p.scope, on: req.sql)
        } else if let id = p.institutionID {
            institution = try? await InstitutionController.find(id, scope: p.scope, on: req.sql)
        }
        return try await req.renderForm(title: "新增人员", action: "/admin/practitioners/new",
                                        fields: fields(["institutionId": institution?.id.uuidString ?? ""], specialities: [], institution: institution),
                                        submit: "保存", cancel: institution.map { "/admin/institutions/\($0.id)" } ?? "/admin/practitioners")
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let (values, specialities, input) = read(req)
        do {
            let id = try await PractitionerController.create(input, by: p, on: req.db)
            return req.redirect(to: "/admin/practitioners/\(id)", flash: "已新增人员")
        } catch let e as AppError where e.status == .unprocessableEntity {
            let institution = try? await input.institutionId.asyncMap { try await InstitutionController.find($0, scope: p.scope, on: req.sql) }
            return try await req.renderForm(title: "新增人员", action: "/admin/practitioners/new",
                                            fields: fields(values, specialities: specialities, institution: institution ?? nil),
                                            submit: "保存", cancel: "/admin/practitioners", error: e)
        }
    }

    static func editForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RegistryPermission.canEditInstitutions(p.role))
        let id = try req.uuid("id")
        let r = try await PractitionerController.find(id, scope: p.scope, on: req.sql)
        let values = ["type": r.type, "name": r.name, "gender": r.gender ?? "", "licenceNumber": r.licenceNumber,
                      "institutionId": r.institutionId.uuidString, "regionsServed": r.regionsServed.joined(separator: ","), "status": r.status]
        var f = fields(values, specialities: r.specialities, institution: nil)
        f[4].hint = "当前：\(r.institutionName)；调动时填写新机构的编号"
        return try await req.renderForm(title: "修改：\(r.name)", action: "/admin/practitioners/\(id)/edit",
                                        fields: f, submit: "保存", cancel: "/admin/practitioners/\(id)")
    }

    static func update(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id")
        let (values, specialities, input) = read(req)
        do {
            try await PractitionerController.update(id, input, by: p, on: req.db)
            return req.redirect(to: "/admin/practitioners/\(id)", flash: "已保存")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "修改人员", action: "/admin/practitioners/\(id)/edit",
                                            fields: fields(values, specialities: specialities, institution: nil),
                                            submit: "保存", cancel: "/admin/practitioners/\(id)", error: e)
        }
    }

    static func deactivate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id")
        try await PractitionerController.deactivate(id, by: p, on: req.db)
        return req.redirect(to: "/admin/practitioners/\(id)", flash: "已登记离职")
    }
}
