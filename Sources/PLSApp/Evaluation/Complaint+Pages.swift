import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// Complaints (registered, handled by the supervising county, decided in writing) and the credit records.
    func complaints() {
        let complaints = api.grouped("complaints")
        complaints.post(use: ComplaintController.apiRegister)
        complaints.get(use: ComplaintController.apiList)
        complaints.get(":id", use: ComplaintController.apiGet)
        for step in ComplaintStep.allCases {
            complaints.post(":id", PathComponent(stringLiteral: step.rawValue)) { try await ComplaintController.apiStep($0, step) }
        }
        api.get("credit", use: CreditController.apiLookup)
        api.post("credit", use: CreditController.apiAdd)
        api.grouped(SignedInFirst()).on(.POST, "credit", ":id", "document", body: .stream, use: CreditController.apiAttach)
        api.get("credit", ":id", "document", use: CreditController.document)
        web.get("complaints", use: ComplaintPages.desk)
        web.get("complaints", "new", use: ComplaintPages.newForm)
        web.post("complaints", "new", use: ComplaintPages.register)
        web.get("complaints", ":id", use: ComplaintPages.detail)
        web.get("complaints", ":id", "letter", use: ComplaintPages.letter)
        web.post("complaints", ":id", ":step", use: ComplaintPages.step)
        web.get("credit", use: CreditController.page)
        web.grouped(SignedInFirst()).on(.POST, "credit", body: .stream, use: CreditController.addFromPage)
        web.get("credit", ":id", "document", use: CreditController.document)
    }
}

enum ComplaintController {
    static func apiRegister(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let c = try await Complaints.register(try req.content.decode(Complaints.Input.self), by: p, app: req.application)
        let response = try await Complaints.view(c, for: p, app: req.application, on: req.sql).encodeResponse(for: req)
        response.status = .created
        return response
    }

    static func status(_ req: Request) throws -> (ComplaintStatus?, Bool) {
        guard let raw = (try? req.query.get(String.self, at: "status")), !raw.isEmpty else { return (nil, false) }
        if raw == "open" { return (nil, true) }
        guard let s = ComplaintStatus(rawValue: raw) else { throw AppError.validation(["status": "状态不正确"]) }
        return (s, false)
    }

    static func apiList(_ req: Request) async throws -> Paged<Complaints.View> {
        let p = try req.principal()
        let page = try PageRequest(from: req)
        let (status, open) = try status(req)
        let (rows, total) = try await Complaints.list(status: status, open: open, for: p, page: page, on: req.sql)
        return Paged(items: try await Complaints.views(rows, for: p, app: req.application, on: req.sql), total: total, page: page.page, per: page.per)
    }

    static func id(_ req: Request) throws -> UUID { try req.uuid("id", notFound: "投诉") }

    static func apiGet(_ req: Request) async throws -> Complaints.View {
        let p = try req.principal()
        let c = try await Complaints.find(try id(req), on: req.sql)
        guard Complaints.visible(c, to: p) else { throw AppError.notFound("投诉") }
        return try await Complaints.view(c, for: p, app: req.application, on: req.sql)
    }

    static func apiStep(_ req: Request, _ step: ComplaintStep) async throws -> Complaints.View {
        let p = try req.principal()
        let c = try await Complaints.take(step, on: try id(req), try req.content.decode(Complaints.StepInput.self), by: p, app: req.application)
        return try await Complaints.view(c, for: p, app: req.application, on: req.sql)
    }
}

enum ComplaintPages {
    static func mayOpenDesk(_ p: Principal) -> Bool { [.countyAdmin, .cityAdmin, .leader, .auditor, .institutionAdmin].contains(p.role) }
    static func mayRegister(_ p: Principal) -> Bool { [.citizen, .hotlineOperator, .windowClerk, .countyAdmin, .cityAdmin].contains(p.role) }

    static func desk(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(mayOpenDesk(p))
        let page = try PageRequest(from: req)
        let raw = (try? req.query.get(String.self, at: "status")) ?? "open"
        let status = raw.isEmpty || raw == "open" ? nil : ComplaintStatus(rawValue: raw)
        let (rows, total) = try await Complaints.list(status: status, open: raw == "open", for: p, page: page, on: req.sql)
        let today = req.today.description
        let table = TableView(columns: ["投诉编号", "被投诉方", "类型", "状态", "受理期限", "处理期限"], rows: rows.map { c in
            let late = (c.state == .registered || c.state == .awaitingMaterial) && c.acceptDue < today || c.state == .investigating && c.decisionDue < today
            return [Cell(text: c.number, href: "/complaints/\(c.id)"), Cell(text: c.practitionerName ?? c.institutionName ?? ""),
                    Cell(text: ComplaintKind(rawValue: c.kind)?.chineseName ?? c.kind),
                    Cell(text: c.state.chineseName + (late ? "（已超期）" : ""), badge: late ? "danger" : nil), Cell(text: c.acceptDue), Cell(text: c.decisionDue)]
        }, total: total, page: page, request: req)
        var options = [SelectOption(value: "open", label: "办理中", selected: raw == "open"), SelectOption(value: "", label: "全部", selected: raw.isEmpty)]
        options += ComplaintStatus.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == raw) }
        let actions = mayRegister(p) ? [ActionButton(label: "登记投诉", href: "/complaints/new")] : []
        return try await req.view.render("admin/list", ListPage(page: req.pageMeta(title: "投诉"), heading: "投诉办理",
                                                                filters: [FormField(name: "status", label: "状态", kind: .select, value: raw, options: options)],
                                                                table: table, actions: actions))
    }

    static func fields(_ req: Request, _ p: Principal, errors: [String: String] = [:]) -> [FormField] {
        var fields: [FormField] = []
        fields.append(FormField.select("kind", "投诉类型", ComplaintKind.self, selected: req.formValue("kind") ?? ComplaintKind.service.rawValue))
        fields.append(FormField(name: "respondent", label: "被投诉的机构或人员", value: req.formValue("respondent") ?? "", required: true,
                                hint: "填写机构全称，或人员姓名、执业证号"))
        if p.role != .citizen {
            fields.append(FormField(name: "name", label: "投诉人姓名", value: req.formValue("name") ?? "", required: true, half: true))
            fields.append(FormField(name: "mobile", label: "投诉人手机号码", kind: .tel, value: req.formValue("mobile") ?? "", required: true, half: true))
        }
        if [.countyAdmin, .cityAdmin].contains(p.role) {
            fields.append(FormField.select("channel", "来源", ComplaintChannel.self, selected: req.formValue("channel") ?? ComplaintChannel.letter.rawValue,
                                           cases: [.letter, .window, .hotline]))
        }
        fields.append(FormField(name: "requestNumber", label: "相关事项编号（选填；要求更换法律援助承办人员的必填）", value: req.formValue("requestNumber") ?? ""))
        fields.append(FormField(name: "content", label: "投诉事实和请求", kind: .textarea, value: req.formValue("content") ?? "", required: true))
        return fields.map { f in var f = f; f.error = errors[f.name]; return f }
    }

    static func newForm(_ req: Request) async throws -> Response {
        let p = try req.principal()
        try p.require(mayRegister(p))
        return try await form(req, p, error: nil)
    }

    static func form(_ req: Request, _ p: Principal, error: AppError?) async throws -> Response {
        var errors = error?.fields ?? [:]
        // The form names the respondent and the matter in words; the API's fields are their ids.
        for (from, to) in [("institutionId", "respondent"), ("practitionerId", "respondent"), ("requestId", "requestNumber")] {
            if let m = errors.removeValue(forKey: from) { errors[to] = m }
        }
        let response = try await req.view.render("admin/form", FormPage(
            page: req.pageMeta(title: "投诉"), heading: p.role == .citizen ? "我要投诉" : "登记投诉", action: "/complaints/new",
            fields: fields(req, p, errors: errors), submitLabel: "提交投诉", cancelHref: p.role == .citizen ? "/my" : "/complaints",
            error: error?.message)).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func register(_ req: Request) async throws -> Response {
        let p = try req.principal()
        try p.require(mayRegister(p))
        do {
            var input = Complaints.Input(kind: req.formValue("kind"), channel: req.formValue("channel"), name: req.formValue("name"),
                                         mobile: req.formValue("mobile"), content: req.formValue("content"))
            (input.institutionId, input.practitionerId) = try await respondent(req.formValue("respondent"), on: req.sql)
            if let number = req.formValue("requestNumber")?.trimmingCharacters(in: .whitespaces), !number.isEmpty {
                guard let r = try? await RequestViews.find(number, scope: p.role == .citizen ? p.scope : .everything, on: req.db) else {
                    throw AppError.validation(["requestNumber": "未找到该事项编号"])
                }
                input.requestId = r.id
            }
            let c = try await Complaints.register(input, by: p, app: req.application)
            return req.redirect(to: "/complaints/\(c.id)", flash: "投诉已登记，编号 \(c.number)")
        } catch let e as AppError where e.status.code < 500 {
            return try await form(req, p, error: e)
        }
    }

    /// A respondent as typed: a licence number, then a practitioner's or an institution's exact name; an ambiguous
    /// name is refused with a hint.
    static func respondent(_ typed: String?, on db: any SQLDatabase) async throws -> (UUID?, UUID?) {
        let text = (typed ?? "").trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.count <= 100 else { throw AppError.validation(["respondent": "请填写被投诉的机构或人员"]) }
        let byLicence = try await db.raw("SELECT id FROM practitioners WHERE licence_number = \(bind: text)").all(decodingColumn: "id", as: UUID.self)
        if let id = byLicence.first { return (nil, id) }
        let people = try await db.raw("SELECT id FROM practitioners WHERE name = \(bind: text) LIMIT 2").all(decodingColumn: "id", as: UUID.self)
        if people.count > 1 { throw AppError.validation(["respondent": "有多名人员叫“\(text)”，请填写执业证号"]) }
        if let id = people.first { return (nil, id) }
        let places = try await db.raw("SELECT id FROM institutions WHERE name = \(bind: text) LIMIT 2").all(decodingColumn: "id", as: UUID.self)
        if places.count == 1 { return (places[0], nil) }
        throw AppError.validation(["respondent": places.isEmpty ? "未找到“\(text)”，请填写机构全称或人员执业证号" : "有多家机构叫“\(text)”"])
    }

    struct DetailContext: Encodable {
        var page: PageMeta
        var c: Complaints.View
        var can: [String: Bool]
        var error: String?
        var errors: [String: String]
        var errorLinks: [ErrorLink]
        var kept: [String: String]
        var staff: Bool
    }

    static let fieldIDs: [(key: String, id: String, label: String)] = [
        ("note", "cp-note", "需补正的材料"), ("reason", "cp-reason", "理由"), ("party", "cp-party", "陈述人"), ("text", "cp-text", "陈述内容"),
        ("upheld", "cp-upheld", "是否成立"), ("finding", "cp-finding", "处理意见"),
    ]

    static func detail(_ req: Request) async throws -> Response { try await detail(req, error: nil) }

    static func detail(_ req: Request, error: AppError?) async throws -> Response {
        let p = try req.principal()
        let c = try await Complaints.find(try ComplaintController.id(req), on: req.sql)
        guard Complaints.visible(c, to: p) else { throw AppError.notFound("投诉") }
        let v = try await Complaints.view(c, for: p, app: req.application, on: req.sql)
        var kept: [String: String] = [:]
        if error != nil { for f in ["note", "reason", "text", "finding", "party"] { kept[f] = req.formValue(f) } }
        let ctx = DetailContext(page: req.pageMeta(title: "投诉 \(v.number)"), c: v,
                                can: Dictionary(uniqueKeysWithValues: v.steps.map { ($0.replacingOccurrences(of: "-", with: "_"), true) }),
                                error: error?.message, errors: error?.fields ?? [:], errorLinks: ErrorLink.links(error?.fields ?? [:], fieldIDs),
                                kept: kept, staff: p.role.isStaff)
        let response = try await req.view.render("evaluation/complaint", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func step(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try ComplaintController.id(req)
        guard let step = req.parameters.get("step").flatMap(ComplaintStep.init(rawValue:)) else { throw AppError.notFound("操作") }
        let flag = req.formValue("upheld").flatMap { $0 == "1" ? true : $0 == "0" ? false : nil }
        let input = Complaints.StepInput(note: req.formValue("note"), reason: req.formValue("reason"), party: req.formValue("party"),
                                         text: req.formValue("text"), upheld: flag, finding: req.formValue("finding"))
        do {
            _ = try await Complaints.take(step, on: id, input, by: p, app: req.application)
            return req.redirect(to: "/complaints/\(id)", flash: "已\(step.chineseName)")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            return try await detail(req, error: e)
        }
    }

    /// The written result for the complainant (书面告知), printable on A4.
    static func letter(_ req: Request) async throws -> View {
        let p = try req.principal()
        let c = try await Complaints.find(try ComplaintController.id(req), on: req.sql)
        guard Complaints.visible(c, to: p) else { throw AppError.notFound("投诉") }
        guard c.state == .decided || c.state == .refused else { throw AppError.conflict("not_decided", "投诉尚未作出决定") }
        let v = try await Complaints.view(c, for: p, app: req.application, on: req.sql)
        struct Letter: Encodable { var page: PageMeta; var c: Complaints.View; var issuer: String }
        return try await req.view.render("evaluation/complaint-letter", Letter(page: req.pageMeta(title: "投诉处理告知书 \(v.number)"), c: v,
                                                                              issuer: v.regionName + "司法局"))
    }
}

enum CreditController {
    struct Entry: Content {
        var id: UUID
        var subject: String
        var subjectId: UUID
        var subjectName: String
        var kind: String
        var kindName: String
        var title: String
        var documentNumber: String?
        var decidedOn: String
        var publicUntil: String?
        /// The decision document, where one was kept: shown to whoever may see the entry.
        var documentUrl: String?
    }

    /// `publicInterest`: this year's public-interest service of the practitioners found (item 7: shown in the record).
    struct Lookup: Content { var q: String; var items: [Entry]; var total: Int; var publicInterest: [PublicInterest.Total] }

    static func publicInterest(_ q: String, req: Request) async throws -> [PublicInterest.Total] {
        try await PublicInterest.totals(year: req.today.year, scope: .everything, names: [q], page: PageRequest(page: 1, per: 10),
                                        annualHours: req.city.publicInterestHours, on: req.sql).items
    }

    /// Commendations, penalties and sanctions are published for their period; the rest are the staff's.
    static let publicKinds: [CreditRecords.Kind] = [.commendation, .administrativePenalty, .professionalSanction]

    static func lookup(_ q: String, staff: Bool, today: CivilDate, on db: any SQLDatabase) async throws -> [Entry] {
        struct Row: Decodable {
            var id: UUID; var subjectKind: String; var subjectId: UUID; var kind: String; var title: String; var documentNumber: String?
            var decidedOn: String; var publicUntil: String?; var subjectName: String?; var documentType: String?
        }
        var query: SQLQueryString = """
            SELECT x.id, x.subject_kind, x.subject_id, x.kind, x.title, x.document_number, x.decided_on, x.public_until, x.document_type,
                   COALESCE(p.name, i.name) AS subject_name
            FROM credit_records x LEFT JOIN practitioners p ON x.subject_kind = 'practitioner' AND p.id = x.subject_id
            LEFT JOIN institutions i ON x.subject_kind = 'institution' AND i.id = x.subject_id
            WHERE (p.name = \(bind: q) OR p.licence_number = \(bind: q) OR i.name = \(bind: q))
            """
        if !staff {
            query = query + " AND " + publicNow(today)
        }
        query = query + " ORDER BY x.decided_on DESC LIMIT 100"
        return try await db.raw(query).all(decoding: Row.self, keyDecodingStrategy: .snakeCase).map { r in
            Entry(id: r.id, subject: r.subjectKind, subjectId: r.subjectId, subjectName: r.subjectName ?? "", kind: r.kind,
                  kindName: CreditRecords.Kind(rawValue: r.kind)?.chineseName ?? r.kind, title: r.title, documentNumber: r.documentNumber,
                  decidedOn: r.decidedOn, publicUntil: r.publicUntil, documentUrl: r.documentType == nil ? nil : "/credit/\(r.id)/document")
        }
    }

    /// An entry the public sees today: a published kind within its publication period.
    static func publicNow(_ today: CivilDate) -> SQLQueryString {
        "x.kind IN (\(binds: publicKinds.map(\.rawValue))) AND x.public_until >= \(bind: today.description)"
    }

    /// The decision document: to anyone while the entry is public, otherwise to staff.
    static func document(_ req: Request) async throws -> Response {
        let id = try req.uuid("id", notFound: "信用记录")
        let staff = req.auth.get(Principal.self)?.role.isStaff == true
        struct Stored: Decodable { var documentStored: String; var documentType: String; var title: String }
        var query: SQLQueryString = "SELECT x.document_stored, x.document_type, x.title FROM credit_records x WHERE x.id = \(bind: id) AND x.document_stored IS NOT NULL"
        if !staff { query = query + " AND " + publicNow(req.today) }
        guard let d = try await req.sql.raw(query).first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("文书") }
        let response = try await req.fileio.asyncStreamFile(at: CreditRecords.documentDirectory(req.application) + "/" + d.documentStored)
        let parts = d.documentType.split(separator: "/").map(String.init)
        if parts.count == 2 { response.headers.contentType = HTTPMediaType(type: parts[0], subType: parts[1]) }
        let name = (d.title + (d.documentType == "application/pdf" ? ".pdf" : d.documentType == "image/png" ? ".png" : ".jpg"))
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "document"
        response.headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename*=UTF-8''\(name)")
        return response
    }

    /// Attaches (or replaces) the decision document of a record the bureau entered.
    static func apiAttach(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(mayAdd(p))
        let id = try req.uuid("id", notFound: "信用记录")
        guard let old = try await req.sql.raw("SELECT document_stored FROM credit_records WHERE id = \(bind: id)").first() else {
            throw AppError.notFound("信用记录")
        }
        guard let file = try await req.receivedFile("file", limit: Attachments.uploadLimit) else { throw AppError.validation(["file": "请选择文书文件"]) }
        let document: CreditRecords.Document
        do { document = try await CreditRecords.store(document: Array(file.data.readableBytesView), app: req.application) }
        catch let e as AppError { throw AppError(e.status, e.code, e.message, fields: e.fields.isEmpty ? [:] : ["file": e.fields.values.first!]) }
        let actor = req.auditActor, protector = req.personalData, now = req.now
        do {
            try await req.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                try await sql.update("credit_records").set("document_stored", to: document.storedName).set("document_type", to: document.contentType)
                    .set("document_sha256", to: document.sha256).where("id", .equal, id).run()
                try await AuditLog.record("credit.document", target: id.uuidString, after: ["sha256": document.sha256],
                                          by: actor, protector: protector, on: sql, at: now)
            }
        } catch {
            Attachments.remove(document.storedName, app: req.application, directory: CreditRecords.documentDirectory(req.application))
            throw error
        }
        if let previous = try? old.decode(column: "document_stored", as: String?.self) {
            Attachments.remove(previous, app: req.application, directory: CreditRecords.documentDirectory(req.application))
        }
        return try Response(status: .created).encodeJSON(["id": id.uuidString, "documentUrl": "/credit/\(id)/document", "sha256": document.sha256])
    }

    static func query(_ req: Request) throws -> String {
        let q = ((try? req.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespaces)
        guard !q.isEmpty else { throw AppError.validation(["q": "请输入机构名称、人员姓名或执业证号"]) }
        guard q.count <= 100 else { throw AppError.validation(["q": "不超过 100 个字"]) }
        return q
    }

    /// Anyone may look up; the anonymous and citizens see what is public and for as long as it is.
    static func apiLookup(_ req: Request) async throws -> Lookup {
        let q = try query(req)
        let staff = req.auth.get(Principal.self)?.role.isStaff == true
        let items = try await lookup(q, staff: staff, today: req.today, on: req.sql)
        return Lookup(q: q, items: items, total: items.count, publicInterest: try await publicInterest(q, req: req))
    }

    struct AddInput: Content {
        var subject: String?
        var subjectId: UUID?
        var kind: String?
        var title: String?
        var documentNumber: String?
        var decidedOn: String?
        var publicUntil: String?
    }

    static func mayAdd(_ p: Principal) -> Bool { [.cityAdmin, .countyAdmin].contains(p.role) }

    /// The bureau enters commendations, penalties and sanctions with their document and publication period.
    static func apiAdd(_ req: Request) async throws -> Response {
        let id = try await add(try req.content.decode(AddInput.self), req: req)
        return try Response(status: .created).encodeJSON(["id": id.uuidString])
    }

    /// `document`: the decision's file, checked by `add`'s caller and written before the row.
    @discardableResult
    static func add(_ input: AddInput, document: [UInt8]? = nil, req: Request) async throws -> UUID {
        let p = try req.staff()
        try p.require(mayAdd(p))
        var errors = FieldErrors()
        let subject = errors.choice(input.subject, "subject", "对象", as: CreditRecords.Subject.self)
        let kind = errors.choice(input.kind, "kind", "类型", as: CreditRecords.Kind.self)
        let title = errors.required(input.title, "title", "事由", maxLength: 200)
        let number = errors.optional(input.documentNumber, "documentNumber", "文书编号", maxLength: 60)
        let decided = input.decidedOn.flatMap(CivilDate.init)
        if decided == nil { errors.add("decidedOn", "请填写决定日期（YYYY-MM-DD）") }
        let until = input.publicUntil.flatMap { $0.isEmpty ? nil : CivilDate($0) }
        if let raw = input.publicUntil, !raw.isEmpty, until == nil { errors.add("publicUntil", "公示截止日期格式为 YYYY-MM-DD") }
        if input.subjectId == nil { errors.add("subjectId", "请选择机构或人员") }
        try errors.throwIfAny()
        let table = subject == .practitioner ? Practitioner.schema : Institution.schema
        guard try await req.sql.raw("SELECT id FROM \(ident: table) WHERE id = \(bind: input.subjectId!)").first() != nil else {
            throw AppError.validation(["subjectId": "未找到该机构或人员"])
        }
        let stored: CreditRecords.Document? = if let document { try await CreditRecords.store(document: document, app: req.application) } else { nil }
        let actor = req.auditActor, protector = req.personalData, now = req.now
        do {
            return try await req.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                let id = try await CreditRecords.add(subject: subject!, id: input.subjectId!, kind: kind!, title: title, documentNumber: number,
                                                     decidedOn: decided!, publicUntil: until, source: nil, document: stored, by: p, on: sql, at: now)
                try await AuditLog.record("credit.add", target: title, after: ["kind": kind!.rawValue, "documentNumber": number, "publicUntil": until?.description,
                                                                               "document": stored?.sha256],
                                          by: actor, protector: protector, on: sql, at: now)
                return id
            }
        } catch {
            if let stored { Attachments.remove(stored.storedName, app: req.application, directory: CreditRecords.documentDirectory(req.application)) }
            throw error
        }
    }

    /// The same from the lookup page: the subject named as on a complaint (licence number, or a unique name), with the
    /// decision's document if chosen (the form is multipart, received to disk first).
    static func addFromPage(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(mayAdd(p))
        let form = try await req.receiveForm(limit: Attachments.uploadLimit)
        defer { form.discard() }
        var kept: [String: String] = [:]
        for f in keptFields { kept[f] = form.text(f) }
        do {
            let (institution, practitioner) = try await ComplaintPages.respondent(kept["subject"], on: req.sql)
            let document = try await form.bytes(of: "document", app: req.application).first
            try await add(AddInput(subject: practitioner != nil ? "practitioner" : "institution", subjectId: practitioner ?? institution,
                                   kind: kept["kind"], title: kept["title"], documentNumber: kept["documentNumber"],
                                   decidedOn: kept["decidedOn"], publicUntil: kept["publicUntil"]), document: document, req: req)
            return req.redirect(to: "/credit?q=" + (kept["subject"]?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                                flash: "已录入信用记录")
        } catch let e as AppError where e.status.code < 500 {
            var fields = e.fields
            if let m = fields.removeValue(forKey: "respondent") ?? fields.removeValue(forKey: "subjectId") { fields["subject"] = m }
            let response = try await page(req, error: AppError(e.status, e.code, e.message, fields: fields), kept: kept).encodeResponse(for: req)
            response.status = e.status
            return response
        }
    }

    static let keptFields = ["subject", "kind", "title", "documentNumber", "decidedOn", "publicUntil"]

    /// 信用查询: the public lookup page; the bureau's staff enter records there too.
    static func page(_ req: Request) async throws -> View { try await page(req, error: nil, kept: [:]) }

    static func page(_ req: Request, error: AppError?, kept: [String: String]) async throws -> View {
        let q = ((try? req.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespaces)
        let staff = req.auth.get(Principal.self)?.role.isStaff == true
        let items = q.isEmpty || q.count > 100 ? [] : try await lookup(q, staff: staff, today: req.today, on: req.sql)
        let service = q.isEmpty || q.count > 100 ? [] : try await publicInterest(q, req: req)
        struct Context: Encodable {
            var page: PageMeta; var q: String; var items: [Entry]; var searched: Bool; var staff: Bool; var publicInterest: [PublicInterest.Total]
            var year: Int; var canAdd: Bool; var kinds: [SelectOption]; var error: String?; var errors: [String: String]; var kept: [String: String]
            var errorLinks: [ErrorLink]
        }
        let fields = [("subject", "cr-subject", "对象"), ("kind", "cr-kind", "类型"), ("title", "cr-title", "事由"), ("documentNumber", "cr-number", "文书编号"),
                      ("decidedOn", "cr-decided", "决定日期"), ("publicUntil", "cr-until", "公示截止"), ("document", "cr-document", "文书文件")].map { (key: $0.0, id: $0.1, label: $0.2) }
        return try await req.view.render("evaluation/credit", Context(
            page: req.pageMeta(title: "信用信息查询"), q: q, items: items, searched: !q.isEmpty, staff: staff, publicInterest: service,
            year: req.today.year, canAdd: req.auth.get(Principal.self).map(mayAdd) ?? false,
            kinds: [CreditRecords.Kind.commendation, .administrativePenalty, .professionalSanction].map {
                SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == kept["kind"]) },
            error: error?.message, errors: error?.fields ?? [:], kept: kept, errorLinks: ErrorLink.links(error?.fields ?? [:], fields)))
    }
}
