import Vapor
import SQLKit
import PLSDomain

/// Legal aid pages: the citizen's guided pre-check and application, the steps on a case, printable
/// notices, the centre's desk, notified defence entry, duty lawyers, statistics and settings.
enum LegalAidPages {
    // MARK: Pre-check and application (portal)

    static func matterOptions(_ selected: String?, on db: any SQLDatabase) async throws -> [SelectOption] {
        [SelectOption(value: "", label: "请选择要解决的问题", selected: selected == nil)]
            + (try await LegalAidSettings.matters(on: db)).map { SelectOption(value: $0.id, label: $0.name, selected: $0.id == selected) }
            + [SelectOption(value: "other", label: "其他问题", selected: selected == "other")]
    }

    /// The statuses, and a migrant worker's claim: art. 42 (3) spares the means check for wages and work injury only.
    static func statusFields(_ selected: [String], claim: String?) -> [FormField] {
        var claimField = FormField.select("claim", "进城务工人员请求的事项（第四十二条第（三）项）", MigrantWorkerClaim.self, selected: claim,
                                          required: false, blank: "不适用")
        claimField.hint = "进城务工人员仅在讨要劳动报酬或请求工伤赔偿时免予核查经济困难状况；交通事故等其他赔偿仍需核查"
        return [FormField.checkboxes("statuses", "以下情形不受经济困难条件限制（第三十二条）", AidStatus.self, selected: selected,
                                     cases: AidStatus.allCases.filter(\.liftsMeansTest)),
                FormField.checkboxes("statuses", "属于以下人员的，免予核查经济困难状况（第四十二条，需提供证明材料）", AidStatus.self, selected: selected,
                                     cases: AidStatus.allCases.filter { !$0.liftsMeansTest }),
                claimField]
    }

    struct CheckContext: Encodable {
        var page: PageMeta
        var fields: [FormField]
        var error: String?
        var result: LegalAidController.EligibilityView?
        var applyHref: String
    }

    static func checkFields(_ v: [String: String], statuses: [String], req: Request) async throws -> [FormField] {
        var matter = FormField(name: "matter", label: "您要解决的问题", kind: .select, required: true)
        matter.options = try await matterOptions(v["matter"], on: req.sql)
        var county = FormField(name: "regionCode", label: "您所在的县（区）", kind: .select, required: true)
        county.options = [SelectOption(value: "", label: "请选择", selected: false)]
            + (try await RegionChoices.options(on: req.sql, scope: .everything, levels: [.county])).map {
                SelectOption(value: $0.value, label: $0.label, selected: $0.value == v["regionCode"]) }
        var size = FormField(name: "householdSize", label: "家庭人口（人）", kind: .number, value: v["householdSize"] ?? "")
        size.half = true
        var income = FormField(name: "householdMonthlyIncome", label: "家庭月总收入（元）", kind: .number, value: v["householdMonthlyIncome"] ?? "",
                               hint: "工资、经营、养老金等全部收入")
        income.half = true
        return [matter, county, size, income] + statusFields(statuses, claim: v["claim"])
    }

    static func check(_ req: Request) async throws -> Response {
        let v = ["matter": (try? req.query.get(String.self, at: "matter")) ?? ""]
        let ctx = CheckContext(page: req.pageMeta(title: "法律援助自助预审"), fields: try await checkFields(v, statuses: [], req: req),
                               error: nil, result: nil, applyHref: "/legal-aid/apply")
        return try await req.view.render("legal-aid/check", ctx).encodeResponse(for: req)
    }

    static func checkSubmit(_ req: Request) async throws -> Response {
        try req.limit(.eligibility)
        var v: [String: String] = [:]
        for k in ["matter", "regionCode", "householdSize", "householdMonthlyIncome", "claim"] { v[k] = req.formValue(k) ?? "" }
        let statuses = req.formValues("statuses")
        let input = LegalAidController.EligibilityInput(matter: v["matter"], regionCode: v["regionCode"],
                                                        householdSize: Int(v["householdSize"] ?? ""),
                                                        householdMonthlyIncome: Double(v["householdMonthlyIncome"] ?? ""), statuses: statuses,
                                                        claim: v["claim"])
        var fields = try await checkFields(v, statuses: statuses, req: req)
        do {
            let result = try await LegalAidController.eligibility(input, on: req.sql)
            var query = v.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            query += statuses.map { "statuses=\($0)" }
            let ctx = CheckContext(page: req.pageMeta(title: "法律援助自助预审"), fields: fields, error: nil, result: result,
                                   applyHref: "/legal-aid/apply?" + query.sorted().joined(separator: "&"))
            return try await req.view.render("legal-aid/check", ctx).encodeResponse(for: req)
        } catch let e as AppError where e.status == .unprocessableEntity {
            fields = fields.withErrors(e.fields)
            let response = try await req.view.render("legal-aid/check", CheckContext(page: req.pageMeta(title: "法律援助自助预审"), fields: fields,
                                                                                     error: e.message, result: nil, applyHref: "")).encodeResponse(for: req)
            response.status = .unprocessableEntity
            return response
        }
    }

    static func applyFields(_ v: [String: String], statuses: [String], pledge: Bool, req: Request) async throws -> [FormField] {
        // Not `required` in the page: a criminal application is for the defence and names no matter (art. 24).
        var matter = FormField(name: "matter", label: "申请事项（刑事案件不必选择）", kind: .select)
        matter.options = try await matterOptions(v["matter"], on: req.sql)
        var kind = FormField(name: "kind", label: "案件类型", kind: .select)
        kind.options = [AidCaseKind.civil, .administrative, .criminal].map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == v["kind"]) }
        kind.half = true
        var region = FormField(name: "regionCode", label: "所在村（社区）或镇（街道）", kind: .text,
                               value: try await RegionNames.label(v["regionCode"], on: req.sql), required: true,
                               hint: "输入名称可选择，例如“城关区 · 三阳街道”")
        region.datalist = true
        region.options = try await RequestForm.regionOptions(on: req.sql)
        var size = FormField(name: "householdSize", label: "家庭人口（人）", kind: .number, value: v["householdSize"] ?? "")
        size.half = true
        var income = FormField(name: "householdMonthlyIncome", label: "家庭月总收入（元）", kind: .number, value: v["householdMonthlyIncome"] ?? "")
        income.half = true
        var name = FormField(name: "name", label: "申请人姓名", value: v["name"] ?? "", required: true)
        name.half = true
        var id = FormField(name: "idNumber", label: "身份证号码", value: v["idNumber"] ?? "", hint: "18 位，末位可为 X")
        id.half = true
        var mobile = FormField(name: "mobile", label: "手机号码", kind: .tel, value: v["mobile"] ?? "", required: true)
        mobile.half = true
        var pledgeField = FormField(name: "pledge", label: "经济困难状况说明（法律援助法第四十一条）", kind: .checkboxes)
        pledgeField.options = [SelectOption(value: "1", label: "本人承诺如实说明家庭经济状况，如有虚假愿承担相应责任", selected: pledge)]
        return [matter, kind, region, FormField(name: "description", label: "案情简述", kind: .textarea, value: v["description"] ?? "", required: true,
                                                 hint: "对方是谁、发生了什么、您希望得到什么帮助"),
                name, mobile, id, size, income] + statusFields(statuses, claim: v["claim"]) + [pledgeField]
    }

    static func applyForm(_ req: Request) async throws -> Response {
        let p = try PortalPages.citizen(req)
        var v: [String: String] = [:]
        for k in ["matter", "kind", "regionCode", "householdSize", "householdMonthlyIncome", "claim"] { v[k] = (try? req.query.get(String.self, at: k)) ?? "" }
        // The county chosen in the pre-check is a starting point; the applicant narrows it to their village.
        if let code = v["regionCode"], DivisionCode(code)?.level == .county { v["regionCode"] = "" }
        // A citizen signed up by SMS is "用户" and four digits until they give a name: not a name to print on an application.
        v["name"] = p.displayName.hasPrefix(AuthController.placeholderNamePrefix) ? "" : p.displayName
        if let account = try await Account.find(p.accountID, on: req.db), let cipher = account.mobileCipher {
            v["mobile"] = (try? req.personalData.decrypt(cipher)) ?? ""
        }
        let statuses = (try? req.query.get([String].self, at: "statuses")) ?? []
        return try await req.renderForm(title: "申请法律援助", action: "/legal-aid/apply",
                                        fields: try await applyFields(v, statuses: statuses, pledge: false, req: req),
                                        submit: "提交申请", cancel: "/legal-aid")
    }

    static func apply(_ req: Request) async throws -> Response {
        let p = try PortalPages.citizen(req)
        var v: [String: String] = [:]
        for k in ["matter", "kind", "regionCode", "householdSize", "householdMonthlyIncome", "name", "mobile", "idNumber", "description", "claim"] {
            v[k] = req.formValue(k) ?? ""
        }
        let statuses = req.formValues("statuses")
        let pledge = req.formValues("pledge").contains("1")
        let input = LegalAidCases.ApplicationInput(
            matter: v["matter"], kind: v["kind"], category: nil, description: v["description"],
            applicant: .init(name: v["name"], mobile: v["mobile"], idNumber: v["idNumber"]), regionCode: v["regionCode"],
            householdSize: Int(v["householdSize"] ?? ""), householdMonthlyIncome: Double(v["householdMonthlyIncome"] ?? ""),
            statuses: statuses, claim: v["claim"], pledge: pledge, priorityGroups: nil,
            channel: req.headers.first(name: .userAgent).map { $0.contains("Mobile") } == true ? RequestChannel.mobile.rawValue : RequestChannel.web.rawValue)
        do {
            let r = try await LegalAidCases.apply(input, by: p, idempotencyKey: nil, app: req.application)
            return req.redirect(to: "/my/\(r.number)", flash: "法律援助申请已提交，编号 \(r.number)。法律援助中心将在 7 日内作出决定")
        } catch let e as AppError where e.status == .unprocessableEntity {
            var fields = e.fields
            for (from, to) in [("applicant.name", "name"), ("applicant.mobile", "mobile"), ("applicant.idNumber", "idNumber")] {
                if let m = fields.removeValue(forKey: from) { fields[to] = m }
            }
            return try await req.renderForm(title: "申请法律援助", action: "/legal-aid/apply",
                                            fields: try await applyFields(v, statuses: statuses, pledge: pledge, req: req),
                                            submit: "提交申请", cancel: "/legal-aid", error: AppError.validation(fields))
        }
    }

    /// The applicant's objection from the portal (art. 49).
    static func object(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let number = req.parameters.get("number") ?? ""
        do {
            _ = try await LegalAidCases.perform(.objection, on: number, input: .init(text: req.formValue("text")), by: p, app: req.application)
            return req.redirect(to: "/my/\(number)", flash: "异议已提交，司法行政部门将在 5 日内审查")
        } catch let e as AppError where [.unprocessableEntity, .conflict].contains(e.status) {
            return try await PortalPages.myDetail(req, error: e)
        }
    }

    // MARK: Steps on a case (staff)

    /// The extra context the work page needs for a legal aid case.
    struct CaseForms: Encodable {
        var steps: [String: Bool]
        /// The designation form, or the same list for a replacement (art. 56, with its reason).
        var designate: Designate?
        struct Designate: Encodable { var step: String; var title: String; var button: String; var needsReason: Bool }
        /// The reason typed into a refused replacement, kept.
        var typedReason: String?
        var candidates: [Dispatch.Candidate]
        var hasCandidates: Bool
        /// The name searched for among the roster.
        var who: String?
        var provisionalGrounds: [SelectOption]
        var terminationGrounds: [SelectOption]
        var stages: [SelectOption]
    }

    static func forms(_ aid: LegalAidCases.View, request r: ServiceRequest, req: Request) async throws -> CaseForms {
        var candidates: [Dispatch.Candidate] = []
        var designate: CaseForms.Designate?
        if aid.steps.contains(LegalAidCases.Step.designation.rawValue) {
            designate = .init(step: LegalAidCases.Step.designation.rawValue, title: "指派（法律援助人员库）", button: "指派", needsReason: false)
        } else if aid.steps.contains(LegalAidCases.Step.replacement.rawValue) {
            designate = .init(step: LegalAidCases.Step.replacement.rawValue, title: "更换承办人员（法律援助法第五十六条）", button: "更换", needsReason: true)
        }
        if designate != nil {
            candidates = try await Dispatch.candidates(for: r, limit: 8, today: req.today, name: Dispatch.searchedName(req, key: "who"), on: req.sql)
                .filter { $0.practitionerId != r.practitionerID }
        }
        let kind = AidCaseKind(rawValue: aid.kind) ?? .civil
        func camel(_ s: String) -> String {
            let parts = s.split(separator: "-")
            return parts.first.map(String.init)! + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
        return CaseForms(steps: Dictionary(uniqueKeysWithValues: aid.steps.map { (camel($0), true) }), designate: designate, typedReason: req.formValue("reason"), candidates: candidates,
                         hasCandidates: !candidates.isEmpty, who: try? Dispatch.searchedName(req, key: "who"),
                         provisionalGrounds: ProvisionalGround.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
                         terminationGrounds: TerminationGround.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
                         stages: kind.stages.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == aid.stage) })
    }

    static func step(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = req.parameters.get("id") ?? ""
        guard let step = LegalAidCases.Step(rawValue: req.parameters.get("step") ?? "") else { throw AppError.notFound("操作") }
        let items = (req.formValue("items") ?? "").split(whereSeparator: \.isNewline).map(String.init)
        // A designee beyond the recommended few is named by licence number.
        var practitionerID = req.formValue("practitionerId").flatMap(UUID.init(uuidString:))
        if let licence = req.formValue("licenceNumber")?.trimmingCharacters(in: .whitespaces), !licence.isEmpty {
            practitionerID = try await req.sql.select().column("id").from(Practitioner.schema).where("licence_number", .equal, SQLBind(licence))
                .first(decodingColumn: "id", as: UUID.self)
            if practitionerID == nil {
                return try await WorkPages.detail(req, error: AppError.validation(["practitionerId": "未找到执业证号为“\(licence)”的人员"]))
            }
        }
        let input = LegalAidCases.StepInput(items: items, grant: req.formValue("grant").map { $0 == "1" }, reason: req.formValue("reason"),
                                            ground: req.formValue("ground"), practitionerId: practitionerID,
                                            text: req.formValue("text"), result: req.formValue("result"), stage: req.formValue("stage"),
                                            report: req.formValue("report"), note: req.formValue("note"))
        do {
            let r = try await LegalAidCases.perform(step, on: id, input: input, by: p, app: req.application)
            return req.redirect(to: "/work/\(r.id!)", flash: "已\(step.chineseName)")
        } catch let e as AppError where [.unprocessableEntity, .conflict, .forbidden].contains(e.status) {
            return try await WorkPages.detail(req, error: e)
        }
    }

    // MARK: Printable notices

    struct NoticeContext: Encodable {
        var title: String
        var centre: String
        var docNumber: String
        var recipient: String
        var paragraphs: [String]
        var date: String
        var back: String
        var cityName: String
    }

    static func notice(_ req: Request) async throws -> View {
        let p = try req.principal()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        guard let aid = d.legalAid, let kind = req.parameters.get("kind"), aid.notices.contains(kind) else { throw AppError.notFound("文书") }
        let centre = aid.centreName ?? "法律援助中心"
        let who = d.applicant.name + (d.applicant.idNumber.map { "（身份证号 \($0)）" } ?? "")
        let matter = aid.matterName ?? "法律援助"
        var title = "", paragraphs: [String] = [], date = aid.receivedOn, recipient = who
        switch kind {
        case "materials":
            title = "补充材料通知书"
            paragraphs = ["你于 \(chineseDate(aid.receivedOn)) 提出的法律援助申请（\(matter)，编号 \(d.number)），经审查，申请材料不齐全。"
                          + "根据《中华人民共和国法律援助法》第四十三条的规定，请补充提交以下材料："]
                + aid.missingMaterials.enumerated().map { "\($0.offset + 1). \($0.element)" }
                + ["补充材料期间不计入审查期限。逾期未补充材料或者作出说明的，视为撤回申请。"]
            date = aid.materialsRequestedOn ?? d.timeline.first { $0.action == "request_materials" }.map { CivilDate($0.at).description } ?? aid.receivedOn
        case "grant":
            title = "给予法律援助决定书"
            paragraphs = ["你于 \(chineseDate(aid.receivedOn)) 提出的法律援助申请（\(matter)，编号 \(d.number)），经审查，符合《中华人民共和国法律援助法》规定的条件，"
                          + "本中心决定给予法律援助。",
                          "本中心将自作出决定之日起三日内指派法律援助人员为你提供法律援助。受援人应当向法律援助人员如实陈述与法律援助事项有关的情况，及时提供有关证据材料。"
                          + "受援人的经济状况发生变化不再符合法律援助条件等情形的，本中心将依照该法第四十八条终止法律援助。"]
            date = aid.decidedOn ?? date
        case "refusal":
            title = "不予法律援助决定书"
            paragraphs = ["你于 \(chineseDate(aid.receivedOn)) 提出的法律援助申请（\(matter)，编号 \(d.number)），经审查，本中心决定不予法律援助。",
                          "理由：\(aid.decisionReason ?? "不符合法律援助条件")。",
                          "你对本决定有异议的，可以向设立本中心的司法行政部门提出，司法行政部门应当自收到异议之日起五日内进行审查（《中华人民共和国法律援助法》第四十九条）。"]
            date = aid.decidedOn ?? date
        case "designation":
            title = aid.notified ? "指派律师通知书" : "法律援助指派通知书"
            let designee = "\(d.institutionName ?? "")\(d.practitionerName ?? "")"
            if aid.notified {
                recipient = aid.organName ?? "办案机关"
                paragraphs = ["你单位《\(aid.letterNumber ?? "")》通知书收悉。根据《中华人民共和国法律援助法》第二十五条、第三十六条的规定，本中心指派 \(designee) 担任"
                              + "\(d.applicant.name)（涉嫌\(aid.charge ?? "")）的辩护人。", "请依法为辩护律师履行职责提供便利。"]
            } else {
                recipient = designee
                paragraphs = ["本中心已决定给予 \(who) 法律援助（\(matter)，编号 \(d.number)）。根据《中华人民共和国法律援助法》第四十三条的规定，指派你承办该法律援助事项。",
                              "请自收到本通知之日起及时与受援人联系，依法维护受援人的合法权益，并在办结后提交结案报告及有关材料。"]
            }
            date = aid.designatedOn ?? date
        default:
            throw AppError.notFound("文书")
        }
        let prefix = try await documentPrefix(ofCentreFor: r.id!, on: req.sql)
        return try await req.view.render("legal-aid/notice", NoticeContext(
            title: title, centre: centre, docNumber: "\(prefix)援〔\(date.prefix(4))〕\(d.number.suffix(10)) 号",
            recipient: recipient, paragraphs: paragraphs, date: chineseDate(date),
            back: p.role == .citizen ? "/my/\(d.number)" : "/work/\(d.id)", cityName: req.city.name))
    }

    /// The centre's own prefix of document numbers (`X援〔2027〕N号`, set on the institution), else the short name of
    /// the place it serves ("城关区" → "城关").
    static func documentPrefix(ofCentreFor request: UUID, on db: any SQLDatabase) async throws -> String {
        struct Row: Decodable { var documentPrefix: String?; var regionName: String? }
        let row = try await db.raw("""
            SELECT i.document_prefix, g.name AS region_name FROM legal_aid_cases c JOIN institutions i ON i.id = c.centre_id
            LEFT JOIN regions g ON g.code = i.region_code WHERE c.request_id = \(bind: request)
            """).first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        if let own = row?.documentPrefix?.nilIfEmpty { return own }
        return row?.regionName.map(CityIdentity.shortName) ?? "法援"
    }

    static func chineseDate(_ s: String) -> String {
        guard let d = CivilDate(s) else { return s }
        return "\(d.year) 年 \(d.month) 月 \(d.day) 日"
    }

    // MARK: The centre's desk

    struct DeskRow: Encodable { var id: UUID; var number: String; var name: String; var what: String; var due: String; var overdue: Bool; var groups: [String] }
    struct DeskContext: Encodable {
        var page: PageMeta
        var awaitingDecision: [DeskRow]
        var awaitingDesignation: [DeskRow]
        var objections: [DeskRow]
        var canEnterNotice: Bool
        var isBureau: Bool
    }

    static func desk(_ req: Request) async throws -> View {
        let p = try req.staff()
        let today = req.today.description
        struct R: Decodable {
            var id: UUID; var number: String; var applicantName: String; var priorityGroups: String; var status: String
            var acceptDue: String?; var designationDue: String?; var reviewDue: String?; var matterName: String?; var charge: String?
            var materialsRequestedOn: String?
        }
        func rows(_ condition: SQLQueryString, order: String) async throws -> [R] {
            var q: SQLQueryString = """
                SELECT r.id, r.number, r.applicant_name, r.priority_groups, r.status, r.accept_due, c.designation_due, c.review_due,
                       m.name AS matter_name, c.charge, c.materials_requested_on
                FROM legal_aid_cases c JOIN service_requests r ON r.id = c.request_id LEFT JOIN legal_aid_matters m ON m.id = c.aid_matter
                WHERE
                """
            q = q + " " + condition
            if case .region(let code) = p.scope { q = q + " AND r.region_code LIKE \(bind: code.scopePrefix + "%")" }
            if case .institution(let id) = p.scope { q = q + " AND (r.institution_id = \(bind: id) OR c.centre_id = \(bind: id))" }
            if case .own = p.scope { q = q + " AND 1 = 0" }
            return try await req.sql.raw(q + " ORDER BY COALESCE(\(unsafeRaw: order), '9999') LIMIT 50").all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        }
        func row(_ r: R, due: String?, what: String) -> DeskRow {
            DeskRow(id: r.id, number: r.number, name: (try? req.personalData.open(r.applicantName)) ?? "—", what: what, due: due ?? "—", overdue: (due ?? "9") < today,
                    groups: DelimitedList.decode(r.priorityGroups).compactMap { PriorityGroup(rawValue: $0)?.chineseName })
        }
        let decision = try await rows("r.status = 'submitted'", order: "r.accept_due").map {
            row($0, due: $0.materialsRequestedOn == nil ? $0.acceptDue : nil,
                what: ($0.matterName ?? "法律援助申请") + ($0.materialsRequestedOn != nil ? "（待补充材料，暂停计时）" : ""))
        }
        let designation = try await rows("r.status = 'accepted' AND c.designated_on IS NULL", order: "c.designation_due").map {
            row($0, due: $0.designationDue, what: $0.charge.map { "通知辩护：涉嫌\($0)" } ?? ($0.matterName ?? "法律援助"))
        }
        let objections = try await rows("c.objection_on IS NOT NULL AND c.review_result IS NULL", order: "c.review_due").map {
            row($0, due: $0.reviewDue, what: "对不予法律援助决定的异议")
        }
        return try await req.view.render("legal-aid/desk", DeskContext(
            page: req.pageMeta(title: "法律援助"), awaitingDecision: decision, awaitingDesignation: designation, objections: objections,
            canEnterNotice: RequestLifecycle.dispatchers.contains(p.role) && p.role != .institutionAdmin,
            isBureau: p.role == .countyAdmin || p.role == .cityAdmin))
    }

    // MARK: Notified defence entry

    static func noticeFields(_ v: [String: String], req: Request, p: Principal) async throws -> [FormField] {
        var organ = FormField.select("organ", "通知机关", NotifyingOrgan.self, selected: v["organ"])
        organ.half = true
        var organName = FormField(name: "organName", label: "机关名称", value: v["organName"] ?? "", required: true)
        organName.half = true
        var letter = FormField(name: "letterNumber", label: "通知书文号", value: v["letterNumber"] ?? "", required: true)
        letter.half = true
        var region = FormField(name: "regionCode", label: "所在县（区）", kind: .select, required: true)
        region.options = [SelectOption(value: "", label: "请选择", selected: false)]
            + (try await RegionChoices.options(on: req.sql, scope: p.scope, levels: [.county])).map {
                SelectOption(value: $0.value, label: $0.label, selected: $0.value == v["regionCode"]) }
        region.half = true
        var name = FormField(name: "suspectName", label: "犯罪嫌疑人、被告人姓名", value: v["suspectName"] ?? "", required: true)
        name.half = true
        var id = FormField(name: "suspectIdNumber", label: "身份证号码（选填）", value: v["suspectIdNumber"] ?? "")
        id.half = true
        var charge = FormField(name: "charge", label: "涉嫌罪名", value: v["charge"] ?? "", required: true)
        charge.half = true
        var stage = FormField.select("stage", "诉讼阶段", AidStage.self, selected: v["stage"], cases: AidCaseKind.criminal.stages + [.retrial])
        stage.half = true
        var place = FormField(name: "detentionPlace", label: "羁押场所", value: v["detentionPlace"] ?? "")
        place.half = true
        var mobile = FormField(name: "contactMobile", label: "承办人手机（选填）", kind: .tel, value: v["contactMobile"] ?? "")
        mobile.half = true
        let reason = FormField.select("reason", "通知辩护情形（法律援助法第二十五条）", NotifiedDefenceReason.self, selected: v["reason"])
        return [organ, organName, letter, region, name, id, charge, stage, place, mobile, reason,
                FormField(name: "note", label: "备注", kind: .textarea, value: v["note"] ?? "")]
    }

    static let noticeKeys = ["organ", "organName", "letterNumber", "regionCode", "suspectName", "suspectIdNumber", "charge", "stage",
                             "detentionPlace", "contactMobile", "reason", "note"]

    static func noticeForm(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(RequestLifecycle.dispatchers.contains(p.role) && p.role != .institutionAdmin)
        var v: [String: String] = [:]
        if let county = p.region?.ancestor(at: .county) { v["regionCode"] = county.rawValue }
        return try await req.renderForm(title: "登记通知辩护", action: "/legal-aid/notices/new", fields: try await noticeFields(v, req: req, p: p),
                                        submit: "登记并受理", cancel: "/legal-aid/desk")
    }

    static func noticeSubmit(_ req: Request) async throws -> Response {
        let p = try req.staff()
        var v: [String: String] = [:]
        for k in noticeKeys { v[k] = req.formValue(k) ?? "" }
        let input = CriminalLegalAid.NoticeInput(organ: v["organ"], organName: v["organName"], letterNumber: v["letterNumber"],
                                                 suspectName: v["suspectName"], suspectIdNumber: v["suspectIdNumber"], charge: v["charge"],
                                                 stage: v["stage"], detentionPlace: v["detentionPlace"], reason: v["reason"],
                                                 regionCode: v["regionCode"], contactMobile: v["contactMobile"], note: v["note"])
        do {
            let (r, replayed) = try await CriminalLegalAid.receive(input, by: p, app: req.application)
            return req.redirect(to: "/work/\(r.id!)", flash: replayed ? "该通知书此前已登记（\(r.number)）" : "已登记通知辩护 \(r.number)，请于 3 日内指派律师")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await req.renderForm(title: "登记通知辩护", action: "/legal-aid/notices/new", fields: try await noticeFields(v, req: req, p: p),
                                            submit: "登记并受理", cancel: "/legal-aid/desk", error: e)
        }
    }

    // MARK: Duty lawyers

    struct DutyContext: Encodable {
        var page: PageMeta
        var stations: [SelectOption]
        var station: CriminalLegalAid.Station?
        var rota: [RotaDay]
        var waiting: [CriminalLegalAid.Person]
        var hasWaiting: Bool
        var kinds: [SelectOption]
        var stages: [SelectOption]
        var lawyers: [SelectOption]
        var isLawyer: Bool
        var error: String?
        var errors: [String: String]
        struct RotaDay: Encodable { var day: String; var names: String; var today: Bool }
    }

    static func duty(_ req: Request, error: AppError? = nil) async throws -> Response {
        let p = try req.staff()
        let stations = try await CriminalLegalAid.stations(prefix: try await CriminalLegalAid.dutyPrefix(p, on: req.sql), lawyer: CriminalLegalAid.dutyLawyer(p), on: req.sql)
        let chosen = ((try? req.query.get(String.self, at: "station")) ?? req.formValue("stationId")).flatMap(UUID.init(uuidString:))
        let station = stations.first { $0.id == chosen } ?? stations.first
        var rota: [DutyContext.RotaDay] = [], waiting: [CriminalLegalAid.Person] = [], lawyers: [SelectOption] = []
        if let station {
            rota = try await CriminalLegalAid.shifts(station: station.id, from: req.today, to: req.today.adding(days: 6), on: req.sql).map {
                .init(day: $0.day, names: $0.lawyers.map(\.name).joined(separator: "、").nilIfEmpty ?? "未排班", today: $0.day == req.today.description)
            }
            waiting = try await CriminalLegalAid.persons(prefix: station.regionCode, station: station.id, unassistedOnly: true,
                                                         page: PageRequest(page: 1, per: 50), protector: req.personalData, on: req.sql).items
            struct L: Decodable { var id: UUID; var name: String }
            lawyers = try await req.sql.raw("""
                SELECT p.id, p.name FROM practitioners p JOIN legal_aid_roster l ON l.practitioner_id = p.id
                WHERE p.type = 'lawyer' AND l.active = \(bind: true) AND l.criminal = \(bind: true)
                  AND (p.region_code LIKE \(bind: String(station.regionCode.prefix(6)) + "%") OR p.region_code = \(bind: DivisionCode(station.regionCode)?.ancestor(at: .city)?.rawValue ?? ""))
                ORDER BY p.name LIMIT 200
                """).all(decoding: L.self).map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: false) }
        }
        let ctx = DutyContext(
            page: req.pageMeta(title: "值班律师"),
            stations: stations.map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: $0.id == station?.id) },
            station: station, rota: rota, waiting: waiting, hasWaiting: !waiting.isEmpty,
            kinds: DutyAssistanceKind.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            stages: AidCaseKind.criminal.stages.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            lawyers: lawyers, isLawyer: p.role == .practitioner, error: error?.message, errors: error?.fields ?? [:])
        let response = try await req.view.render("legal-aid/duty", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func dutyPage(_ req: Request) async throws -> Response { try await duty(req) }

    static func recordAssistance(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let station = req.formValue("stationId") ?? ""
        let personID = req.formValue("personId").flatMap(UUID.init(uuidString:))
        let input = CriminalLegalAid.AssistanceInput(
            personId: personID,
            person: personID == nil ? .init(stationId: UUID(uuidString: station), name: req.formValue("name"), caseReference: req.formValue("caseReference"),
                                            stage: req.formValue("stage"), registeredOn: nil) : nil,
            practitionerId: req.formValue("practitionerId").flatMap(UUID.init(uuidString:)), day: nil,
            kinds: req.formValues("kinds"), notes: req.formValue("notes"))
        do {
            _ = try await CriminalLegalAid.recordAssistance(input, by: p, today: req.today, now: req.now, app: req.application)
            return req.redirect(to: "/legal-aid/duty?station=\(station)", flash: "已记录法律帮助")
        } catch let e as AppError where [.unprocessableEntity, .forbidden, .notFound].contains(e.status) {
            return try await duty(req, error: e)
        }
    }

    // MARK: Statistics

    struct StatsContext: Encodable {
        var page: PageMeta
        var year: Int
        var regionName: String
        var cards: [IndicatorPages.IndicatorCard]
        var stats: LegalAidIndicators.Statistics
        var chart: BarChart
        var totals: LegalAidIndicators.Month
    }

    /// A server-rendered bar chart: one bar per month, heights in the SVG's own units.
    struct BarChart: Encodable {
        struct Bar: Encodable { var x: Int; var y: Int; var height: Int; var label: String; var value: Int; var labelX: Int }
        var bars: [Bar]
        var max: Int
    }

    static func statistics(_ req: Request) async throws -> View {
        let p = try req.staff()
        let (scope, row) = try await IndicatorController.scope(req, p)
        let stats = try await LegalAidIndicators.statistics(region: scope.region, year: scope.year, on: req.sql)
        let indicators = try await IndicatorRegistry(LegalAidIndicators.all).compute(scope, on: req.sql)
        let values = stats.months.map { $0.applications + $0.notices }
        let top = max(1, values.max() ?? 1)
        let bars = stats.months.enumerated().map { i, m -> BarChart.Bar in
            let v = m.applications + m.notices
            let h = Int((Double(v) / Double(top) * 140).rounded())
            return .init(x: 40 + i * 46, y: 170 - h, height: h, label: "\(m.month)月", value: v, labelX: 40 + i * 46 + 14)
        }
        let totals = stats.months.reduce(LegalAidIndicators.Month(month: 0, applications: 0, granted: 0, refused: 0, notices: 0, dutyAssistances: 0)) {
            .init(month: 0, applications: $0.applications + $1.applications, granted: $0.granted + $1.granted, refused: $0.refused + $1.refused,
                  notices: $0.notices + $1.notices, dutyAssistances: $0.dutyAssistances + $1.dutyAssistances)
        }
        return try await req.view.render("legal-aid/stats", StatsContext(page: req.pageMeta(title: "法律援助统计"), year: scope.year, regionName: row.name,
                                                                          cards: IndicatorPages.cards(indicators, limit: 10), stats: stats, chart: BarChart(bars: bars, max: top),
                                                                          totals: totals))
    }

    // MARK: Settings

    struct SettingsContext: Encodable {
        var page: PageMeta
        var thresholds: [LegalAidSettings.ThresholdView]
        var rules: [LegalAidSettings.RuleView]
        var rates: [LegalAidSettings.RateView]
        var matters: [LegalAidSettings.MatterRow]
        var roster: [LegalAidSettings.RosterEntry]
        var rosterTotal: Int
        var rosterPage: Int
        var prevHref: String?
        var nextHref: String?
        var isCity: Bool
        var error: String?
    }

    static func settings(_ req: Request, error: AppError? = nil) async throws -> Response {
        let p = try req.staff()
        try p.require([.cityAdmin, .countyAdmin].contains(p.role))
        let prefix = LegalAidController.regionPrefix(p)
        let roster = try await LegalAidSettings.roster(prefix: prefix, page: try PageRequest(from: req), today: req.today, on: req.sql)
        let ctx = SettingsContext(page: req.pageMeta(title: "法律援助设置"), thresholds: try await LegalAidSettings.thresholds(prefix: prefix, on: req.sql),
                                  rules: try await LegalAidSettings.ruleViews(on: req.sql), rates: try await LegalAidSettings.rateViews(on: req.sql),
                                  matters: try await LegalAidSettings.matters(includeInactive: true, on: req.sql), roster: roster.items,
                                  rosterTotal: roster.total, rosterPage: roster.page,
                                  prevHref: roster.page > 1 ? "/admin/legal-aid?page=\(roster.page - 1)" : nil,
                                  nextHref: roster.page * roster.per < roster.total ? "/admin/legal-aid?page=\(roster.page + 1)" : nil,
                                  isCity: p.role == .cityAdmin, error: error?.message)
        let response = try await req.view.render("legal-aid/settings", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    static func settingsPage(_ req: Request) async throws -> Response { try await settings(req) }

    /// One handler for the settings page's small forms: each names what it saves.
    static func saveSetting(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let what = req.parameters.get("what") ?? ""
        let key = req.parameters.get("key") ?? ""
        do {
            switch what {
            case "thresholds":
                _ = try await LegalAidSettings.saveThreshold(county: key, .init(minimumLivingAllowance: req.formValue("minimumLivingAllowance").flatMap(Double.init),
                                                                                multiple: req.formValue("multiple").flatMap(Double.init)),
                                                             by: p, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
            case "rules":
                try p.require(p.role == .cityAdmin)
                _ = try await LegalAidSettings.saveRule(key, .init(days: req.formValue("days").flatMap(Int.init), unit: req.formValue("unit")), actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
            case "rates":
                try p.require(p.role == .cityAdmin)
                let parts = key.split(separator: ":").map(String.init)
                _ = try await LegalAidSettings.saveRate(.init(kind: parts.first, stage: parts.last, amount: req.formValue("amount").flatMap(Double.init)), on: req.sql)
            case "matters":
                try p.require(p.role == .cityAdmin)
                _ = try await LegalAidSettings.saveMatter(key, .init(name: req.formValue("name"), basis: req.formValue("basis"),
                                                                     migrantWorkerClaims: req.formValues("migrantWorkerClaims"),
                                                                     active: req.formValue("active") == "1"), on: req.sql)
            case "roster":
                let licence = (req.formValue("licenceNumber") ?? "").trimmingCharacters(in: .whitespaces)
                guard let id = try await req.sql.select().column("id").from(Practitioner.schema).where("licence_number", .equal, SQLBind(licence))
                    .first(decodingColumn: "id", as: UUID.self) else {
                    throw AppError.validation(["licenceNumber": "未找到该执业证号的人员"], message: "未找到执业证号为“\(licence)”的人员")
                }
                _ = try await LegalAidSettings.saveRosterEntry(id, .init(practiceSince: req.formValue("practiceSince"), criminal: req.formValue("criminal") == "1",
                                                                         active: true), by: p, today: req.today, now: req.now, on: req.sql)
            default:
                throw AppError.notFound("设置")
            }
            return req.redirect(to: "/admin/legal-aid", flash: "已保存")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await settings(req, error: AppError.validation(e.fields, message: e.fields.values.sorted().joined(separator: "；")))
        }
    }
}
