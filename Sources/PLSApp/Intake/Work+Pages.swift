import Vapor
import SQLKit
import PLSDomain

/// Staff pages: the queue of requests, one request with its actions, the hotline console and the window.
enum WorkPages {
    struct QueueContext: Encodable {
        var page: PageMeta
        var heading: String
        var filters: [FormField]
        var table: TableView
        var canBulkAssign: Bool
    }

    static func queue(_ req: Request) async throws -> View {
        let p = try req.staff()
        var filter = try RequestViews.Filter(from: req)
        let mine = (try? req.query.get(String.self, at: "mine")) == "1" || (p.role == .practitioner && req.url.query == nil)
        if mine, let pid = p.practitionerID { filter.practitioner = pid }
        let page = try PageRequest(from: req)
        let result = try await RequestViews.list(filter, scope: p.scope, page: page, today: req.today,
                                                 calendar: req.application.workingCalendar, protector: req.personalData, on: req.sql)
        var overdue = FormField(name: "overdue", label: "时限", kind: .select)
        overdue.options = [SelectOption(value: "", label: "全部", selected: !filter.overdue), SelectOption(value: "1", label: "仅超期", selected: filter.overdue)]
        let filters = [
            FormField.select("status", "状态", RequestStatus.self, selected: filter.status?.rawValue, required: false, blank: "全部状态"),
            FormField.select("matterType", "事项类型", MatterType.self, selected: filter.matterType?.rawValue, required: false, blank: "全部类型"),
            FormField.select("channel", "渠道", RequestChannel.self, selected: filter.channel?.rawValue, required: false, blank: "全部渠道"),
            overdue,
            FormField(name: "number", label: "事项编号", value: filter.number ?? ""),
        ]
        let bulk = RequestLifecycle.dispatchers.contains(p.role)
        let table = TableView(columns: (bulk ? ["选择"] : []) + ["事项编号", "事项", "申请人", "所在地", "状态", "承办", "办结期限"], rows: result.items.map { r in
            (bulk ? [Cell(text: "选择 \(r.number)", checkbox: r.id.uuidString)] : []) + [Cell(text: r.number, href: "/work/\(r.id)"), Cell(text: r.matterTypeName + " · " + r.categoryName),
             // Priority groups are flagged in every list (法律援助法 and the plan's 特殊群体).
             Cell(text: r.applicantName + " " + r.applicantMobile + groupsNote(r.priorityGroups)), Cell(text: r.regionName),
             Cell(text: r.statusName, badge: r.overdue ? "warn" : (r.status == "concluded" ? "ok" : "muted")),
             Cell(text: r.practitionerName ?? r.institutionName ?? "—"),
             Cell(text: (r.concludeDue ?? "—") + (r.overdueStep.map { "（\($0)已超期）" } ?? ""), badge: r.overdue ? "warn" : nil)]
        }, total: result.total, page: page, request: req)
        return try await req.view.render("work/queue", QueueContext(
            page: req.pageMeta(title: "事项"), heading: mine ? "我承办的事项" : "事项", filters: filters, table: table,
            canBulkAssign: bulk))
    }

    static func groupsNote(_ groups: [String]) -> String {
        let names = groups.compactMap { PriorityGroup(rawValue: $0)?.chineseName }
        return names.isEmpty ? "" : "（" + names.joined(separator: "、") + "）"
    }

    struct DetailContext: Encodable {
        var page: PageMeta
        var d: RequestViews.Detail
        var timeline: [TimelineItem]
        var actions: [String: Bool]
        var candidates: [Dispatch.Candidate]
        var targets: [SelectOption]
        var outcomes: [SelectOption]
        var ratings: [SelectOption]
        var error: String?
        var errors: [String: String]
        var created: String
        var groupNames: [String]
        var hasCandidates: Bool
        /// The name searched for among the eligible.
        var who: String?
        var attachments: [AttachmentView]
        var hasAttachments: Bool
        var canUpload: Bool
        /// The matter cases' parts of the page (HTML from their own templates).
        var caseNotices: [String]
        var casePanels: [String]
        var caseForms: [String]
        /// The failed form's text by `action_field` (`conclude_summary`, `reject_reason` …).
        var kept: [String: String]
        /// The failed general form's errors by `action_field`, so that a refused reason shows in that form only.
        var formErrors: [String: String]
        var errorLinks: [ErrorLink]
        /// The applicant's full number, once the handler has asked for it.
        var contact: RequestActions.Contact?
        var canReachApplicant: Bool
        var canCorrectCategory: Bool
        var categories: [SelectOption]
        /// The rectification a bad rating opened, with the page it is worked on.
        var rectification: Rectifications.View?
        /// Transfers sent to another system through the platform, with its answer.
        var transfers: [TransferLine]
        struct TransferLine: Encodable { var system: String; var stateName: String; var reference: String?; var reason: String?; var sentAt: String; var refused: Bool }
    }

    /// The handler asks for the applicant's full number (recorded); the page shows it beside the masked one.
    static func contact(_ req: Request) async throws -> Response {
        let p = try req.staff()
        do {
            let c = try await RequestActions.revealContact(req.parameters.get("id") ?? "", by: p, actor: req.auditActor, app: req.application)
            return try await detail(req, contact: c)
        } catch let e as AppError where e.status == .forbidden {
            return try await detail(req, error: e)
        }
    }

    static func detail(_ req: Request, error: AppError? = nil, contact: RequestActions.Contact? = nil) async throws -> Response {
        let p = try req.staff()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        var candidates: [Dispatch.Candidate] = []
        if d.actions.contains(RequestAction.assign.rawValue) { candidates = try await Dispatch.candidates(for: r, limit: 8, today: req.today, name: Dispatch.searchedName(req, key: "who"), on: req.sql) }
        let files = try await Attachments.list(r.id!, on: req.sql)
        let input = CasePageInput(page: req.pageMeta(title: "事项 \(d.number)"), detail: d, request: r, error: error)
        var parts: [CasePageParts] = []
        for c in MatterCases.registered { parts.append(try await c.workPage(input, req: req)) }
        let matter = MatterType(rawValue: d.matterType) ?? .consultation
        let chosen = error == nil ? nil : req.formValue("outcome")
        let allowed = RequestActions.outcomes(for: matter)
        let outcomes = allowed.map { SelectOption(value: $0, label: RequestActions.outcomes[$0] ?? $0, selected: $0 == (chosen ?? allowed[0])) }
        // What was typed into the form that failed, so that a validation error never empties it.
        var kept: [String: String] = [:], formErrors: [String: String] = [:], links: [ErrorLink] = []
        if let error, let raw = req.parameters.get("action") {
            let action = raw.replacingOccurrences(of: "-", with: "_")
            for field in ["reason", "summary", "note", "reference"] {
                if let v = req.formValue(field) { kept["\(action)_\(field)"] = v }
            }
            for (field, message) in error.fields { formErrors["\(action)_\(field)"] = message }
            links = ErrorLink.links(formErrors, actionFields)
        }
        let ctx = DetailContext(
            page: input.page, d: d, timeline: TimelineItem.from(d.timeline),
            // Leaf reads `take-back` as a subtraction: the keys are camel case.
            actions: Dictionary(uniqueKeysWithValues: d.actions.map { ($0 == "take_back" ? "takeBack" : $0, true) }),
            candidates: candidates,
            targets: TransferTarget.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: false) },
            outcomes: outcomes, ratings: Rating.allCases.reversed().map { SelectOption(value: String($0.rawValue), label: $0.chineseName, selected: false) },
            error: error?.message, errors: error?.fields ?? [:], created: DateFormatter.chinaTime.string(from: d.createdAt),
            groupNames: d.priorityGroups.compactMap { PriorityGroup(rawValue: $0)?.chineseName }, hasCandidates: !candidates.isEmpty,
            who: try? Dispatch.searchedName(req, key: "who"), attachments: AttachmentView.list(files, base: "/work/\(d.id)"), hasAttachments: !files.isEmpty, canUpload: Attachments.mayUpload(r, p),
            caseNotices: parts.compactMap(\.notice), casePanels: parts.compactMap(\.panel), caseForms: parts.compactMap(\.forms),
            kept: kept, formErrors: formErrors, errorLinks: links, contact: contact, canReachApplicant: RequestActions.mayReachApplicant(r, p),
            canCorrectCategory: r.requestStatus.isOpen && RequestActions.mayCorrect(r, p),
            categories: PLSDomain.Category.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == d.category) },
            rectification: try await (r.rating ?? 5) <= 2 ? Rectifications.find(request: r.id!, on: req.sql)
                .map { try Rectifications.view($0, for: p, protector: req.personalData, today: req.today) } : nil,
            transfers: try await OutboundTransfers.lines(of: r.id!, app: req.application, on: req.sql).map {
                .init(system: $0.system, stateName: $0.stateName, reference: $0.reference, reason: $0.reason,
                      sentAt: DateFormatter.chinaTime.string(from: $0.sentAt), refused: $0.state == OutboundTransfers.State.refused.rawValue) })
        let response = try await req.view.render("work/detail", ctx).encodeResponse(for: req)
        if let error { response.status = error.status }
        return response
    }

    /// The general action forms' fields on the work page (`action_field`, element id, label).
    static let actionFields: [(key: String, id: String, label: String)] = [
        ("reject_reason", "reject-reason", "不予受理的理由"), ("assign_practitionerId", "assign", "承办人员"), ("assign_institutionId", "assign", "承办机构"),
        ("suspend_reason", "suspend-reason", "中止原因"), ("conclude_outcome", "outcome", "办理结果"), ("conclude_summary", "summary", "办理情况"),
        ("transfer_target", "target", "转办对象"), ("transfer_reason", "transfer-reason", "转办理由"), ("transfer_reference", "reference", "对方工单号"),
        ("category_category", "category", "类别"), ("category_reason", "category-reason", "更正说明"),
    ]

    static func detailPage(_ req: Request) async throws -> Response { try await detail(req) }

    /// One form per action, posted to /work/:id/:action.
    static func act(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = req.parameters.get("id") ?? ""
        let name = req.parameters.get("action") ?? ""
        do {
            if name == "category" {
                _ = try await RequestActions.recategorize(id, .init(category: req.formValue("category"), reason: req.formValue("reason")),
                                                          by: p, app: req.application)
                return req.redirect(to: "/work/\(id)", flash: "已更正类别")
            }
            if name == "evaluation" {
                _ = try await RequestActions.evaluate(id, .init(rating: req.formValue("rating").flatMap(Int.init), comment: req.formValue("comment")),
                                                      by: p, app: req.application)
                return req.redirect(to: "/work/\(id)", flash: "已录入回访评价")
            }
            guard let action = RequestAction(rawValue: name.replacingOccurrences(of: "-", with: "_")), action != .submit else {
                throw AppError.notFound("操作")
            }
            let input = RequestActions.Input(note: req.formValue("note")?.nilIfEmpty, reason: req.formValue("reason"),
                                             institutionId: req.formValue("institutionId").flatMap(UUID.init(uuidString:)),
                                             practitionerId: req.formValue("practitionerId").flatMap(UUID.init(uuidString:)),
                                             target: req.formValue("target"), reference: req.formValue("reference"),
                                             outcome: req.formValue("outcome"), summary: req.formValue("summary"))
            let r = try await RequestActions.perform(action, on: id, input: input, by: p, app: req.application)
            return req.redirect(to: "/work/\(r.id!)", flash: "已\(action.chineseName)")
        } catch let e as AppError where [.unprocessableEntity, .conflict, .forbidden].contains(e.status) {
            return try await detail(req, error: e)
        }
    }

    static func bulkAssign(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let ids = req.formValues("requestIds").compactMap(UUID.init(uuidString:))
        let licence = (req.formValue("licenceNumber") ?? "").trimmingCharacters(in: .whitespaces)
        guard !ids.isEmpty else { return req.redirect(to: "/work", flash: "请先勾选要分派的事项") }
        guard let practitioner = try await req.sql.select().column("id").from(Practitioner.schema).where("licence_number", .equal, licence)
            .first(decodingColumn: "id", as: UUID.self) else {
            return req.redirect(to: "/work", flash: "没有执业证号为“\(licence)”的人员")
        }
        let result = await RequestActions.assignMany(Array(ids.prefix(100)), input: .init(practitionerId: practitioner), by: p, app: req.application)
        let ok = result.assigned.count, failed = result.failed.map(\.error.message)
        return req.redirect(to: "/work", flash: "已分派 \(ok) 件" + (failed.isEmpty ? "" : "，\(failed.count) 件未分派：\(failed.first!)"))
    }

    // MARK: Hotline console and window

    struct IntakeContext: Encodable {
        var page: PageMeta
        var mode: String
        var heading: String
        var v: [String: String]
        var errors: [String: String]
        var error: String?
        var categories: [SelectOption]
        var matters: [SelectOption]
        var groups: [SelectOption]
        var regions: [SelectOption]
        var history: [HistoryItem]
        var duplicates: [HistoryItem]
        var formToken: String
        var quick: [SelectOption]
        // Leaf treats an empty array as true: these say whether there is anything to show.
        var hasHistory: Bool
        var hasDuplicates: Bool
        var errorLinks: [ErrorLink]
        /// The operator's own state on the hotline console.
        var operatorState: OperatorStates.Bar?
    }

    /// One earlier matter of the caller: when, what, how it stands, who handles it.
    struct HistoryItem: Encodable {
        var id: UUID; var number: String; var date: String; var what: String; var status: String; var handler: String
        /// Still open: a repeat call is added to it (催办) instead of making a new matter.
        var open: Bool

        init(_ r: RequestViews.Row) {
            id = r.id; number = r.number; date = String(DateFormatter.chinaTime.string(from: r.createdAt).prefix(10))
            what = r.matterTypeName + " · " + r.categoryName; status = r.statusName
            handler = r.practitionerName ?? r.institutionName ?? "未分派"
            open = RequestStatus(rawValue: r.status)?.isOpen ?? false
        }
    }

    static let quickCategories: [PLSDomain.Category] = [.labor, .marriageFamily, .contractDebt, .traffic, .property, .land, .consumer, .personalInjury]

    static func intakePage(_ req: Request, mode: String, v: [String: String], groups: [String], error: AppError? = nil,
                           duplicates: [RequestViews.Row] = [], lookedUp: Bool = false) async throws -> Response {
        let p = try req.staff()
        var history: [RequestViews.Row] = []
        if let m = MobileNumber(v["mobile"] ?? "") {
            var f = RequestViews.Filter()
            f.mobileHash = req.personalData.lookupHash(m.digits)
            history = try await RequestViews.list(f, scope: p.scope, page: PageRequest(page: 1, per: 10), today: req.today, protector: req.personalData, on: req.sql).items
        }
        var v = v
        v["regionCode"] = try await RegionNames.label(v["regionCode"], on: req.sql)
        // A known caller's name is filled from their last matter (the operator corrects it if someone else calls).
        if (v["name"] ?? "").isEmpty, let last = history.first { v["name"] = last.applicantName }
        let ctx = IntakeContext(
            page: req.pageMeta(title: mode == "hotline" ? "12348 热线坐席" : "窗口登记"), mode: mode,
            heading: mode == "hotline" ? "12348 热线坐席" : "窗口登记", v: v, errors: error.map(RequestForm.pageFields) ?? [:], error: error?.message,
            categories: RequestForm.categoryOptions(v["category"]), matters: RequestForm.matterOptions(v["matterType"] ?? "consultation"),
            groups: RequestForm.groupOptions(groups), regions: try await RequestForm.regionOptions(on: req.sql, within: p.scope),
            history: history.map(HistoryItem.init), duplicates: duplicates.map(HistoryItem.init), formToken: v["formToken"]?.nilIfEmpty ?? Tokens.random(bytes: 12),
            quick: quickCategories.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == v["category"]) },
            hasHistory: !history.isEmpty, hasDuplicates: !duplicates.isEmpty,
            errorLinks: ErrorLink.links(error.map(RequestForm.pageFields) ?? [:], RequestForm.summaryFields),
            operatorState: mode == "hotline" ? try await OperatorStates.bar(for: p, app: req.application, on: req.sql) : nil)
        let response = try await req.view.render("work/intake", ctx).encodeResponse(for: req)
        // A save held back for possible duplicates is a conflict; a lookup that shows them is an answer.
        if let error { response.status = error.status } else if !duplicates.isEmpty, !lookedUp { response.status = .conflict }
        return response
    }

    static func requireChannel(_ req: Request, _ mode: String) throws -> Principal {
        let p = try req.staff()
        let channel: RequestChannel = mode == "hotline" ? .hotline : .window
        try p.require(Intake.channels(for: p.role).contains(channel))
        return p
    }

    static func hotline(_ req: Request) async throws -> Response {
        let p = try requireChannel(req, "hotline")
        var v = ["mobile": (try? req.query.get(String.self, at: "mobile")) ?? "", "matterType": "consultation"]
        // The screen pop: the call this operator took, its caller's number filled in (never typed again), its history shown.
        if let raw = try? req.query.get(String.self, at: "call"), let id = UUID(uuidString: raw) {
            let (call, cipher) = try await Calls.find(id, app: req.application, on: req.sql)
            guard p.role == .hotlineOperator, try await Calls.isOperator(p, of: id, on: req.sql) else { throw AppError.notFound("通话") }
            v["mobile"] = try req.personalData.decrypt(cipher)
            v["callId"] = call.id.uuidString
            v["callCaption"] = "\(call.callerMasked) · \(call.stateName)"
        }
        return try await intakePage(req, mode: "hotline", v: v, groups: [])
    }

    static func window(_ req: Request) async throws -> Response {
        _ = try requireChannel(req, "window")
        return try await intakePage(req, mode: "window", v: ["matterType": "consultation"], groups: [])
    }

    static func submit(_ req: Request, mode: String) async throws -> Response {
        let p = try requireChannel(req, mode)
        var values = RequestForm.read(req)
        values.v["formToken"] = req.formValue("formToken") ?? ""
        values.v["channel"] = mode == "hotline" ? RequestChannel.hotline.rawValue : RequestChannel.window.rawValue
        let answerNow = req.formValue("action") == "answer"
        // A repeat call about an open matter: recorded on it, with what the caller said now, instead of a new matter.
        if let target = req.formValue("urge")?.nilIfEmpty {
            do {
                let r = try await RequestActions.urge(target, .init(note: values.v["description"]?.nilIfEmpty), by: p, app: req.application)
                // The call was about this matter: its record points at it.
                if mode == "hotline", let call = req.formValue("callId").flatMap(UUID.init(uuidString:)) {
                    try await Calls.link(call: call, to: r.id!, operator: p, on: req.sql)
                }
                return req.redirect(to: "/\(mode)", flash: "已记录催办：事项 \(r.number)，已提醒承办人员")
            } catch let e as AppError where [.unprocessableEntity, .conflict].contains(e.status) {
                return try await intakePage(req, mode: mode, v: values.v, groups: values.groups, error: e)
            }
        }
        // Enter in a field: the caller's history and duplicates for what is typed so far; nothing is saved.
        if req.formValue("action") == "lookup" {
            var dups: [RequestViews.Row] = []
            if let mobile = MobileNumber(values.v["mobile"] ?? ""), let category = Category(rawValue: values.v["category"] ?? "") {
                dups = try await Dispatch.recentDuplicates(req, mobile: mobile, category: category, scope: p.scope)
            }
            return try await intakePage(req, mode: mode, v: values.v, groups: values.groups, duplicates: dups, lookedUp: true)
        }
        do {
            let valid = try await Intake.validate(RequestForm.input(values, answer: answerNow), by: p, today: req.today, regions: req.application.regionDirectory, on: req.sql)
            if answerNow, (values.v["answer"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw AppError.validation(["answer": "当场解答须填写解答内容"])
            }
            // Possible duplicates are shown before saving; the clerk confirms to go on.
            if req.formValue("confirmDuplicate") != "1", let mobile = valid.mobile {
                let dups = try await Dispatch.recentDuplicates(req, mobile: mobile, category: valid.category, scope: p.scope)
                if !dups.isEmpty { return try await intakePage(req, mode: mode, v: values.v, groups: values.groups, duplicates: dups) }
            }
            let created = try await Intake.create(valid, by: p, idempotencyKey: values.v["formToken"]?.nilIfEmpty, app: req.application, on: req.db)
            let r = created.request
            // Taken on a call: the call record points at the matter (the keypad's rating is then its rating).
            if mode == "hotline", let call = req.formValue("callId").flatMap(UUID.init(uuidString:)) {
                try await Calls.link(call: call, to: r.id!, operator: p, on: req.sql)
            }
            return req.redirect(to: answerNow ? "/\(mode)" : "/work/\(r.id!)",
                                flash: answerNow ? "已当场解答并办结，事项编号 \(r.number)"
                                    : (valid.matterType == .legalAid ? "已登记法律援助申请 \(r.number)，请审查" : "已登记并受理，事项编号 \(r.number)，请分派"))
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await intakePage(req, mode: mode, v: values.v, groups: values.groups, error: e)
        }
    }

    struct DuplicatesContext: Encodable { var duplicates: [HistoryItem]; var hasDuplicates: Bool }

    /// The possible duplicates for the number and category typed so far, as the console's panel (fetched by app.js
    /// as soon as both are known).
    static func duplicatesPanel(_ req: Request, mode: String) async throws -> View {
        let p = try requireChannel(req, mode)
        var dups: [RequestViews.Row] = []
        if let mobile = MobileNumber((try? req.query.get(String.self, at: "mobile")) ?? ""),
           let category = (try? req.query.get(String.self, at: "category")).flatMap(Category.init(rawValue:)) {
            dups = try await Dispatch.recentDuplicates(req, mobile: mobile, category: category, scope: p.scope)
        }
        return try await req.view.render("work/duplicates", DuplicatesContext(duplicates: dups.map(HistoryItem.init), hasDuplicates: !dups.isEmpty))
    }

    static func hotlineDuplicates(_ req: Request) async throws -> View { try await duplicatesPanel(req, mode: "hotline") }
    static func windowDuplicates(_ req: Request) async throws -> View { try await duplicatesPanel(req, mode: "window") }

    static func hotlineSubmit(_ req: Request) async throws -> Response { try await submit(req, mode: "hotline") }
    static func windowSubmit(_ req: Request) async throws -> Response { try await submit(req, mode: "window") }

    // MARK: Notifications

    struct NotificationsContext: Encodable { var page: PageMeta; var items: [Item]; var hasItems: Bool; struct Item: Encodable { var text: String; var at: String; var href: String?; var read: Bool } }

    static func notifications(_ req: Request) async throws -> View {
        let p = try req.principal()
        struct Row: Decodable { var text: String; var createdAt: Date; var requestId: UUID?; var readAt: Date? }
        let rows = try await req.sql.select().columns("text", "created_at", "request_id", "read_at").from("notifications")
            .where("account_id", .equal, SQLBind(p.accountID)).orderBy("created_at", .descending).limit(50)
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        try await req.sql.raw("UPDATE notifications SET read_at = \(bind: req.now) WHERE account_id = \(bind: p.accountID) AND read_at IS NULL").run()
        req.storage[UnreadNotifications.self] = 0
        let f = DateFormatter.chinaTime
        return try await req.view.render("work/notifications", NotificationsContext(page: req.pageMeta(title: "提醒"), items: rows.map {
            .init(text: $0.text, at: f.string(from: $0.createdAt), href: $0.requestId.map { "/work/\($0)" }, read: $0.readAt != nil)
        }, hasItems: !rows.isEmpty))
    }
}
