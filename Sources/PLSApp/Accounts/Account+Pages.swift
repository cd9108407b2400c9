import Vapor
import SQLKit
import PLSDomain

/// Admin pages for 账号.
enum AccountPages {
    static let columns = ["用户名", "姓名", "角色", "区划", "所属机构", "状态"]

    static func cells(_ r: AccountController.Row) -> [Cell] {
        [Cell(text: r.username ?? r.mobile ?? "—", href: "/admin/accounts/\(r.id)"), Cell(text: r.displayName), Cell(text: r.roleName),
         Cell(text: r.regionName), Cell(text: r.institutionName ?? "—"),
         Cell(text: !r.active ? "已停用" : (r.locked ? "已锁定" : "正常"), badge: r.active && !r.locked ? "ok" : "muted")]
    }

    static func requireManager(_ req: Request) throws -> Principal {
        let p = try req.staff()
        try p.require(RegistryPermission.canManageAccounts(p.role))
        return p
    }

    static func list(_ req: Request) async throws -> View {
        let p = try requireManager(req)
        let filter = AccountController.Filter(from: req)
        let page = try PageRequest(from: req)
        let result = try await AccountController.list(filter, scope: p.scope, page: page, now: req.now, on: req.sql)
        let filters = [
            FormField(name: "q", label: "用户名或姓名", value: filter.q ?? ""),
            FormField.select("role", "角色", Role.self, selected: filter.role?.rawValue, required: false, blank: "全部角色"),
        ]
        return try await req.view.render("admin/list", ListPage(
            page: req.pageMeta(title: "账号"), heading: "账号", filters: filters,
            table: TableView(columns: columns, rows: result.items.map(cells), total: result.total, page: page, request: req),
            actions: [ActionButton(label: "新增账号", href: "/admin/accounts/new")]))
    }

    static func detail(_ req: Request) async throws -> View {
        let p = try requireManager(req)
        let id = try req.uuid("id")
        let r = try await AccountController.find(id, scope: p.scope, now: req.now, on: req.sql)
        var items = [DetailItem(label: "用户名", value: r.username ?? "—"), DetailItem(label: "角色", value: r.roleName),
                     DetailItem(label: "区划", value: r.regionName, href: "/admin/regions/\(r.regionCode)"),
                     DetailItem(label: "所属机构", value: r.institutionName ?? "—", href: r.institutionId.map { "/admin/institutions/\($0)" }),
                     DetailItem(label: "状态", value: !r.active ? "已停用" : (r.locked ? "登录失败过多，临时锁定" : "正常"))]
        if let m = r.mobile { items.insert(DetailItem(label: "手机", value: m), at: 1) }
        if let pid = r.practitionerId { items.append(DetailItem(label: "人员档案", value: "查看", href: "/admin/practitioners/\(pid)")) }
        var actions: [ActionButton] = []
        if r.role != Role.citizen.rawValue { actions.append(ActionButton(label: "修改或重置密码", href: "/admin/accounts/\(id)/edit")) }
        if r.active && id != p.accountID {
            actions.append(ActionButton(label: "停用", post: "/admin/accounts/\(id)/deactivate", danger: true, confirm: "确定停用该账号吗？"))
        }
        return try await req.view.render("admin/detail", DetailPage(page: req.pageMeta(title: r.displayName), heading: r.displayName,
                                                                    subtitle: r.roleName, items: items, actions: actions, related: []))
    }

    static let formKeys = ["username", "displayName", "role", "regionCode", "institutionId", "licenceNumber", "password"]

    static func institutionOptions(_ req: Request, scope: DataScope) async throws -> [SelectOption] {
        // Village rooms and committees are left out: their staff are rarely given accounts, and the list stays short.
        let types: [InstitutionType] = [.publicLegalServiceCentre, .publicLegalServiceStation, .judicialOffice, .legalAidCentre, .lawFirm,
                                        .notaryOffice, .appraisalInstitution, .arbitrationCommission, .grassrootsLegalServiceOffice]
        struct I: Decodable { var id: UUID; var name: String }
        return try await req.sql.select().column(SQLColumn("id", table: "i")).column(SQLColumn("name", table: "i"))
            .from(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")))
            .scoped(scope, InstitutionController.columns)
            .where(SQLColumn("type", table: "i"), .in, SQLBind.group(types.map(\.rawValue)))
            .where(SQLColumn("active", table: "i"), .equal, SQLBind(true))
            .orderBy(SQLColumn("region_code", table: "i")).orderBy(SQLColumn("name", table: "i")).limit(1_000)
            .all(decoding: I.self)
            .map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: false) }
    }

    static func fields(_ v: [String: String], by p: Principal, regions: [SelectOption], institutions: [SelectOption], isNew: Bool) -> [FormField] {
        var region = FormField(name: "regionCode", label: "所属区划", value: v["regionCode"] ?? "", options: regions, required: true,
                               hint: "输入名称或区划代码")
        region.datalist = true
        var institution = FormField(name: "institutionId", label: "所属机构", value: v["institutionId"] ?? "", options: institutions,
                                    hint: "窗口、机构管理员和法律服务人员必填：输入机构名称选择")
        institution.datalist = true
        return [
            FormField(name: "username", label: "用户名", value: v["username"] ?? "", required: true, hint: "3–32 位字母、数字或 - _ ."),
            FormField(name: "displayName", label: "姓名或名称", value: v["displayName"] ?? "", required: true),
            FormField.select("role", "角色", Role.self, selected: v["role"], blank: "请选择",
                             cases: Role.allCases.filter { $0 != .citizen && RegistryPermission.canGrant($0, by: p.role) }),
            region,
            institution,
            FormField(name: "licenceNumber", label: "人员执业证号", value: v["licenceNumber"] ?? "", hint: "法律服务人员账号必填，用于绑定人员档案"),
            FormField(name: "password", label: isNew ? "初始密码" : "新密码（不改请留空）", kind: .password, value: "", required: isNew,
                      hint: "至少 8 位，须同时包含字母和数字"),
        ]
    }

    static func read(_ req: Request) async throws -> ([String: String], AccountController.Input, [String: String]) {
        var v: [String: String] = [:]
        for key in formKeys { v[key] = req.formValue(key) ?? "" }
        var errors: [String: String] = [:]
        var practitionerID: UUID?
        let licence = (v["licenceNumber"] ?? "").trimmingCharacters(in: .whitespaces)
        if !licence.isEmpty {
            practitionerID = try await req.sql.select().column("id").from(Practitioner.schema).where("licence_number", .equal, licence)
                .first(decodingColumn: "id", as: UUID.self)
            if practitionerID == nil { errors["licenceNumber"] = "没有执业证号为 \(licence) 的人员" }
        }
        var institutionID: UUID?
        let inst = (v["institutionId"] ?? "").trimmingCharacters(in: .whitespaces)
        if !inst.isEmpty {
            institutionID = UUID(uuidString: inst)
            if institutionID == nil { errors["institutionId"] = "请从列表中选择机构" }
        }
        let input = AccountController.Input(username: v["username"], displayName: v["displayName"], role: v["role"],
                                            regionCode: v["regionCode"], institutionId: institutionID, practitionerId: practitionerID,
                                            password: v["password"])
        return (v, input, errors)
    }

    /// Field names of the API input that the page shows under another name.
    static func pageErrors(_ e: AppError) -> AppError {
        var e = e
        if let m = e.fields.removeValue(forKey: "practitionerId") { e.fields["licenceNumber"] = m }
        return e
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try requireManager(req)
        return try await req.renderForm(title: "新增账号", action: "/admin/accounts/new",
                                        fields: fields(["regionCode": p.region?.rawValue ?? ""], by: p,
                                                       regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                       institutions: try await institutionOptions(req, scope: p.scope), isNew: true),
                                        submit: "创建账号", cancel: "/admin/accounts")
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try requireManager(req)
        let (values, input, readErrors) = try await read(req)
        do {
            if !readErrors.isEmpty { throw AppError.validation(readErrors) }
            let account = try await AccountController.save(input, existing: nil, by: p, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.db)
            return req.redirect(to: "/admin/accounts/\(account.id!)", flash: "已创建账号 \(account.username ?? "")")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "新增账号", action: "/admin/accounts/new",
                                            fields: fields(values, by: p, regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                           institutions: try await institutionOptions(req, scope: p.scope), isNew: true),
                                            submit: "创建账号", cancel: "/admin/accounts", error: pageErrors(e))
        }
    }

    static func editForm(_ req: Request) async throws -> Response {
        let p = try requireManager(req)
        let id = try req.uuid("id")
        let r = try await AccountController.find(id, scope: p.scope, now: req.now, on: req.sql)
        guard r.role != Role.citizen.rawValue else { throw AppError.notFound("账号") }
        var licence = ""
        if let pid = r.practitionerId, let row = try? await PractitionerController.find(pid, scope: .everything, on: req.sql) {
            licence = row.licenceNumber
        }
        let values = ["username": r.username ?? "", "displayName": r.displayName, "role": r.role, "regionCode": r.regionCode,
                      "institutionId": r.institutionId?.uuidString ?? "", "licenceNumber": licence]
        return try await req.renderForm(title: "修改账号：\(r.displayName)", action: "/admin/accounts/\(id)/edit",
                                        fields: fields(values, by: p, regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                       institutions: try await institutionOptions(req, scope: p.scope), isNew: false),
                                        submit: "保存", cancel: "/admin/accounts/\(id)")
    }

    static func update(_ req: Request) async throws -> Response {
        let p = try requireManager(req)
        let id = try req.uuid("id")
        _ = try await AccountController.find(id, scope: p.scope, now: req.now, on: req.sql)
        guard let account = try await Account.find(id, on: req.db), account.role != Role.citizen.rawValue else { throw AppError.notFound("账号") }
        let (values, input, readErrors) = try await read(req)
        do {
            if !readErrors.isEmpty { throw AppError.validation(readErrors) }
            _ = try await AccountController.save(input, existing: account, by: p, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.db)
            return req.redirect(to: "/admin/accounts/\(id)", flash: "已保存")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "修改账号", action: "/admin/accounts/\(id)/edit",
                                            fields: fields(values, by: p, regions: try await RegionChoices.options(on: req, scope: p.scope),
                                                           institutions: try await institutionOptions(req, scope: p.scope), isNew: false),
                                            submit: "保存", cancel: "/admin/accounts/\(id)", error: pageErrors(e))
        }
    }

    static func deactivate(_ req: Request) async throws -> Response {
        let p = try requireManager(req)
        let id = try req.uuid("id")
        try await AccountController.setActive(id, false, by: p, actor: req.auditActor, protector: req.personalData, on: req.db, now: req.now)
        return req.redirect(to: "/admin/accounts/\(id)", flash: "已停用该账号")
    }
}
