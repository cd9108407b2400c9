import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 一网通办: every matter from every channel becomes one service request.
enum Intake {
    struct ApplicantInput: Content {
        var name: String?
        var mobile: String?
        var idNumber: String?
    }

    struct Input: Content {
        var matterType: String?
        var itemCode: String?
        var category: String?
        var channel: String?
        var description: String?
        var applicant: ApplicantInput?
        var priorityGroups: [String]?
        var regionCode: String?
        /// The other system's work-order number (12345, 110, a court).
        var externalReference: String?
        /// The same as a department system sends it (`SystemClients`), with its deadline and where to tell it
        /// (`WorkOrders`).
        var externalRef: String?
        var externalDue: String?
        var callbackUrl: String?
        /// Staff only: accept at once (default for staff).
        var accept: Bool?
        /// Staff only: a consultation answered on the spot, concluded with this answer.
        var answer: String?
    }

    /// The channels each role may enter a request through.
    static func channels(for role: Role) -> [RequestChannel] {
        switch role {
        case .citizen: [.web, .mobile]
        case .hotlineOperator: [.hotline, .transfer12345, .transfer110]
        // A town's clerk also takes in what a village legal adviser carries on from a visit.
        case .windowClerk: [.window, .referral, .villageAdviser]
        case .cityAdmin, .countyAdmin, .institutionAdmin: RequestChannel.allCases
        default: []
        }
    }

    struct Valid: Sendable {
        var matterType: MatterType
        var itemCode: String?
        var category: Category
        var channel: RequestChannel
        var description: String
        var name: String
        /// Nil only for a suspect named in a notified defence, who has no number to give.
        var mobile: MobileNumber?
        var id: IDNumber?
        var priorityGroups: [PriorityGroup]
        var regionCode: String
        var externalReference: String?
        var accept: Bool
        var answer: String?
    }

    static func validate(_ input: Input, by p: Principal, today: CivilDate, regions: RegionDirectory, on db: any SQLDatabase) async throws -> Valid {
        var errors = FieldErrors()
        // A department's system, only the channels its scopes name.
        let allowed = p.client.map { g in ClientScope.submitChannels.filter { g.allows(.submit($0)) } } ?? channels(for: p.role)
        if allowed.isEmpty { throw AppError.forbidden }
        let matter = errors.choice(input.matterType, "matterType", "事项类型", as: MatterType.self)
        var itemCode: String?
        if let code = input.itemCode, !code.isEmpty {
            if let item = try await Catalog.item(code, on: db), item.active {
                if let matter, item.matterType != matter.rawValue { errors.add("itemCode", "服务事项与事项类型不符") }
                // Staff register in-person items at the window or on a call; a citizen is told where to go.
                if !item.online, p.role == .citizen { errors.add("itemCode", "“\(item.name)”需到现场办理：\(item.location)") }
                itemCode = code
            } else {
                errors.add("itemCode", "服务事项不存在或已停用")
            }
        }
        let category = errors.choice(input.category, "category", "纠纷（事项）类别", as: Category.self)
        var channel: RequestChannel? = allowed.first
        if let raw = input.channel, !raw.isEmpty {
            channel = RequestChannel(rawValue: raw)
            if channel == nil { errors.add("channel", "渠道取值无效") }
            else if !allowed.contains(channel!) { errors.add("channel", "您不能从“\(channel!.chineseName)”渠道登记事项") }
        }
        let description = errors.required(input.description, "description", "事项描述", maxLength: 2000)
        let name = errors.required(input.applicant?.name, "applicant.name", "申请人姓名", maxLength: 40)
        let mobile = MobileNumber(input.applicant?.mobile ?? "")
        if mobile == nil { errors.add("applicant.mobile", (input.applicant?.mobile ?? "").isEmpty ? "请填写申请人手机号码" : "请输入正确的 11 位手机号码") }
        var id: IDNumber?
        let rawID = (input.applicant?.idNumber ?? "").trimmingCharacters(in: .whitespaces)
        if !rawID.isEmpty {
            switch IDNumber.validate(rawID, today: today) {
            case .success(let v): id = v
            case .failure(let problem): errors.add("applicant.idNumber", problem.message)
            }
        } else if channel == .window, matter.flatMap(MatterCases.forMatter)?.windowChecksIdentity ?? true {
            errors.add("applicant.idNumber", "窗口登记须核验申请人身份证号码")
        }
        var groups: [PriorityGroup] = []
        for g in input.priorityGroups ?? [] where !g.isEmpty {
            if let v = PriorityGroup(rawValue: g) { groups.append(v) } else { errors.add("priorityGroups", "特殊群体“\(g)”无效") }
        }
        if let id, id.age(on: today) >= 60, !groups.contains(.elderly) { groups.append(.elderly) }
        if let id, id.age(on: today) < 18, !groups.contains(.minor) { groups.append(.minor) }
        let regionCode = try await RegionNames.code(for: input.regionCode, on: db) ?? ""
        if regionCode.isEmpty {
            errors.add("regionCode", "请选择事项所在的村（社区）或镇（街道）")
        } else if let region = try await regions.find(regionCode, on: db), region.active {
            if region.level == RegionLevel.city.rawValue { errors.add("regionCode", "请选择到县（区）、镇（街道）或村（社区）") }
            if p.role.isStaff, case .region(let scope) = p.scope, !scope.contains(DivisionCode(regionCode)!) {
                errors.add("regionCode", "该区划不在您的管辖范围内")
            }
        } else {
            errors.add("regionCode", RegionNames.problem(regionCode))
        }
        let answer = errors.optional(input.answer, "answer", "解答内容", maxLength: 2000)
        if answer != nil {
            if p.role == .citizen { errors.add("answer", "群众不能直接办结事项") }
            else if matter != .consultation { errors.add("answer", "只有法律咨询可以当场解答办结") }
        }
        let external = errors.optional(input.externalReference ?? input.externalRef, "externalReference", "外部工单号", maxLength: 60)
        try errors.throwIfAny()
        return Valid(matterType: matter!, itemCode: itemCode, category: category!, channel: channel!, description: description, name: name,
                     mobile: mobile!, id: id, priorityGroups: groups, regionCode: regionCode, externalReference: external,
                     // Some cases are accepted only by their own decision (legal aid: 法律援助法 art. 43).
                     accept: (MatterCases.forMatter(matter!)?.acceptedOnIntake ?? true) && (p.role.isStaff && (input.accept ?? true) || answer != nil),
                     answer: answer)
    }

    struct Created: Sendable {
        var request: ServiceRequest
        var replayed: Bool
        /// The events this write appended (nil for a replay): the answer shows them without reading them back.
        var timeline: [RequestViews.TimelineEntry]?
    }

    /// Creates the request and its first events in one transaction. With an idempotency key,
    /// a retried submission returns the first result.
    /// `detail` writes a capability's detail row in the same transaction, before any acceptance.
    static func create(_ v: Valid, by p: Principal, idempotencyKey: String?, app: Application, on db: any Database,
                       detail: (@Sendable (ServiceRequest, Ledger.Writer) async throws -> Void)? = nil) async throws -> Created {
        let today = app.today
        let now = app.clock.now
        let calendar = app.workingCalendar
        let protector = app.personalData
        let scopedKey = idempotencyKey.map { "\(p.accountID.uuidString.lowercased()):\($0)" }
        let rules = app.rulesCache.rules(v.matterType)
        // Sealed and hashed before the write is queued: a batch builds its writes one after another, so what does not
        // depend on the chain or the number is done here, in parallel with the other callers.
        let mobileCipher = try v.mobile.map { try protector.encrypt($0.digits) } ?? ""
        let idCipher = try v.id.map { try protector.encrypt($0.value) }
        let sealedDescription = try protector.seal(v.description), sealedName = try protector.seal(v.name)
        let mobileHash = v.mobile.map { protector.lookupHash($0.digits) } ?? "", idHash = v.id.map { protector.lookupHash($0.value) }
        let acceptDue = rules.accept.due(from: today, on: calendar).description

        if p.role == .citizen {
            // A citizen files under the number they signed in with (verified by SMS): messages about the matter reach
            // them, never a number someone else typed.
            let own = try await (db as! any SQLDatabase).raw("SELECT mobile_hash FROM accounts WHERE id = \(bind: p.accountID)")
                .first(decodingColumn: "mobile_hash", as: String?.self) ?? nil
            guard v.mobile != nil, let own, Tokens.same(own, mobileHash) else {
                throw AppError.validation(["applicant.mobile": "请填写您登录时验证的手机号码"], message: "手机号码须为您登录时验证的号码")
            }
        }
        // A matter entered for a caller who has a portal account shows up in their 我的事项, to follow and rate.
        // Looked up before the write, which holds the lock: a read need not wait for it.
        let citizenAccountID: UUID? = if p.role == .citizen {
            p.accountID
        } else if v.mobile != nil {
            try await ColumnRows.all("""
                SELECT id FROM accounts WHERE mobile_hash = \(bind: mobileHash) AND role = \(bind: Role.citizen.rawValue) LIMIT 1
                """, on: db as! any SQLDatabase, prepared: true) { try $0.uuid("id") }.first
        } else {
            nil
        }

        let matterCase = MatterCases.forMatter(v.matterType)
        // What the write does decides how its batch is written (`Ledger.Batch`): a plain intake only holds its rows, and
        // is written in one step with the others of its batch; a case, an automatic assignment (which weighs open loads)
        // or an answer on the spot (the running figures, the rating SMS) writes or reads more, and opens a transaction.
        let created = try await app.ledger.write(on: db, numbersOn: today.description) { w in
            let tx = w.db
            let start = w.mark
            if let scopedKey {
                if let held = w.heldRequest(forKey: scopedKey) { return Created(request: held, replayed: true, timeline: nil) }
                if let existing = try await w.storedRequestID(forKey: scopedKey) {
                    return Created(request: try await RequestViews.find(existing.uuidString, scope: .everything, on: tx), replayed: true, timeline: nil)
                }
            }
            let sequence = try await w.nextSequence(on: today.description)
            let r = ServiceRequest()
            r.id = TimeOrderedID.make(millis: now.millis)
            r.number = RequestNumber.make(date: today, sequence: sequence)
            r.matterType = v.matterType.rawValue
            r.itemCode = v.itemCode
            r.category = v.category.rawValue
            r.channel = v.channel.rawValue
            // Names and free text are sealed at rest (PIPL, 等保 level 3); views open them for those allowed to see.
            r.description = sealedDescription
            r.applicantName = sealedName
            r.applicantMobileHash = mobileHash
            r.applicantMobileCipher = mobileCipher
            r.applicantMobileMasked = v.mobile?.masked ?? "—"
            r.applicantIDHash = idHash
            r.applicantIDCipher = idCipher
            r.applicantIDMasked = v.id?.masked
            r.applicantBirthDate = v.id?.birthDate.description
            r.applicantSex = v.id?.sex.rawValue
            r.priorityGroupsText = DelimitedList.encode(v.priorityGroups.map(\.rawValue))
            r.regionCode = v.regionCode
            r.citizenAccountID = citizenAccountID
            r.enteredBy = p.accountID
            r.status = RequestStatus.submitted.rawValue
            r.acceptDue = acceptDue
            r.externalReference = v.externalReference
            r.overdueLevel = 0
            r.createdAt = now
            r.updatedAt = now
            // Held for the batch's insert; a case row that refers to it has it written first (`Ledger.Batch`).
            try await w.save(r)
            let at = now.millis
            w.append(LedgerEvent(requestID: r.id!, atMillis: at, actorID: p.accountID, actorName: p.displayName,
                                           action: RequestAction.submit.rawValue, fromStatus: nil, toStatus: RequestStatus.submitted.rawValue,
                                           note: "经\(v.channel.chineseName)登记", noteIsFixedWording: true))
            if let detail {
                try await detail(r, w)
            } else if let matterCase {
                // Entered through the general intake: the case with what is known; its handlers complete it.
                try await matterCase.open(for: r, itemCode: v.itemCode, category: v.category, app: app, on: tx)
            }
            if v.accept {
                try await RequestActions.apply(.accept, to: r, input: .init(), by: p, writer: w, app: app, now: now, tell: false)
            }
            if let answer = v.answer {
                try await RequestActions.apply(.conclude, to: r, input: .init(outcome: "answered", summary: answer), by: p, writer: w, app: app, now: now)
            } else if v.accept {
                try await RequestActions.autoAssign(r, by: p, writer: w, app: app, now: now, tell: false)
            }
            if let scopedKey { try await w.saveKey(scopedKey, for: r, at: now) }
            try await tellAfterIntake(r, itemCode: v.itemCode, app: app, writer: w, at: now)
            return Created(request: r, replayed: false, timeline: w.events(since: start).map(RequestViews.TimelineEntry.init))
        }
        return created
    }

    /// The applicant hears once that the matter is in: its number, when to expect the next step, who handles it,
    /// what to bring. Written with the intake (its rows held with the request's, so a plain intake stays a one-step
    /// write, `Ledger.Writer.insert(into:)`); a detail that cannot be read leaves it out rather than fail the intake.
    static func tellAfterIntake(_ r: ServiceRequest, itemCode: String?, app: Application, writer w: Ledger.Writer, at now: Date) async throws {
        let status = r.requestStatus
        guard status != .concluded else { return }  // the conclusion has told them, with the rating link
        var text: String
        if let own = MatterType(rawValue: r.matterType).flatMap(MatterCases.forMatter)?.applicantNotice(.submit, r, reason: nil) {
            text = own
        } else if status == .submitted {
            text = "您的事项 \(r.number) 已提交，将于 \(r.acceptDue ?? "") 前受理。"
        } else {
            text = "您的事项 \(r.number) 已受理，将于 \(r.concludeDue ?? "") 前办结（节假日顺延）。"
        }
        let sql = w.db as! any SQLDatabase
        do {
            if let id = r.practitionerID, let name = try await sql.select().column("name").from(Practitioner.schema).where("id", .equal, id)
                .first(decodingColumn: "name", as: String.self) {
                text += "承办：\(name)，承办人员将与您联系。"
            }
            if let code = itemCode, let item = try await Catalog.item(code, on: sql), item.materials != "无" {
                text += "所需材料：\(item.materials)。"
            }
        } catch {
            // The error's type only: a database's message can quote the values it was given (a person's data).
            app.logger.warning("request \(r.number): the notice goes without its handler or materials (\(String(describing: type(of: error))))")
        }
        text += "进度可在“我的事项”查看或拨打 12348 查询。"
        try await Notifications.tellApplicant(r, text, app: app, writer: w, at: now)
    }
}
