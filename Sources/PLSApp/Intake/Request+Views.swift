import Vapor
import Fluent
import SQLKit
import PLSDomain

/// What the lists and the detail page show of a request: plain structs read with SQLKit,
/// personal data already masked.
enum RequestViews {
    static let columns = ScopeColumns(region: "r.region_code", institution: "r.institution_id", owner: "r.citizen_account_id")

    struct Row: Content {
        var id: UUID
        var number: String
        var matterType: String
        var matterTypeName: String
        var category: String
        var categoryName: String
        var channel: String
        var channelName: String
        var applicantName: String
        var applicantMobile: String
        var priorityGroups: [String]
        var regionCode: String
        var regionName: String
        var status: String
        var statusName: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var practitionerName: String?
        var concludeDue: String?
        /// Any step past due: the conclusion, the acceptance or a step of the case.
        var overdue: Bool
        /// Which step is past due (办结, 受理, 审查决定, 指派 …); nil when none.
        var overdueStep: String?
        var createdAt: Date
    }

    struct Stored {
        var id: UUID
        var number: String
        var matterType: String
        var category: String
        var channel: String
        var applicantName: String
        var applicantMobileMasked: String
        var priorityGroups: String
        var regionCode: String
        var regionName: String
        var status: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var practitionerName: String?
        var concludeDue: String?
        var overdueStep: String?
        var createdAt: Date
    }

    /// A list row read column by column: the busiest list of the platform skips the Decodable machinery.
    static func stored(_ r: any ColumnReader) throws -> Stored {
        Stored(id: try r.uuid("id"), number: try r.text("number"), matterType: try r.text("matter_type"), category: try r.text("category"),
               channel: try r.text("channel"), applicantName: try r.text("applicant_name"),
               applicantMobileMasked: try r.text("applicant_mobile_masked"), priorityGroups: try r.text("priority_groups"),
               regionCode: try r.text("region_code"), regionName: try r.text("region_name"), status: try r.text("status"),
               institutionId: try r.optionalUUID("institution_id"), institutionName: try r.optionalText("institution_name"),
               practitionerId: try r.optionalUUID("practitioner_id"), practitionerName: try r.optionalText("practitioner_name"),
               concludeDue: try r.optionalText("conclude_due"), overdueStep: try r.optionalText("overdue_step"), createdAt: try r.date("created_at"))
    }

    static func row(_ s: Stored, today: CivilDate, protector: PersonalDataProtector) throws -> Row {
        let status = RequestStatus(rawValue: s.status) ?? .submitted
        return Row(id: s.id, number: s.number, matterType: s.matterType, matterTypeName: MatterType(rawValue: s.matterType)?.chineseName ?? s.matterType,
                   category: s.category, categoryName: Category(rawValue: s.category)?.chineseName ?? s.category,
                   channel: s.channel, channelName: RequestChannel(rawValue: s.channel)?.chineseName ?? s.channel,
                   applicantName: try protector.open(s.applicantName), applicantMobile: s.applicantMobileMasked,
                   priorityGroups: DelimitedList.decode(s.priorityGroups), regionCode: s.regionCode, regionName: s.regionName,
                   status: s.status, statusName: MatterCases.statusName(status, matter: s.matterType), institutionId: s.institutionId, institutionName: s.institutionName,
                   practitionerId: s.practitionerId, practitionerName: s.practitionerName, concludeDue: s.concludeDue,
                   overdue: s.overdueStep != nil || isOverdue(status: status, due: s.concludeDue, today: today),
                   overdueStep: s.overdueStep, createdAt: s.createdAt)
    }

    static func isOverdue(status: RequestStatus, due: String?, today: CivilDate) -> Bool {
        guard status.isOpen, status != .suspended, let due, let d = CivilDate(due) else { return false }
        return d < today
    }

    /// The columns of a list row and the names they show, as SQL text: the busiest query of the platform
    /// skips SQLKit's builder, whose identifier quoting cost more than the query. The names are scalar sub-queries,
    /// not joins: PostgreSQL planned the four-table join in 2 ms for a 0.3 ms read, the sub-queries in 0.6 ms.
    static func selectFrom(today: CivilDate) -> SQLQueryString {
        """
        SELECT r.id, r.number, r.matter_type, r.category, r.channel, r.applicant_name, r.applicant_mobile_masked, r.priority_groups,
               r.region_code, (SELECT name FROM regions WHERE code = r.region_code) AS region_name, r.status,
               r.institution_id, (SELECT name FROM institutions WHERE id = r.institution_id) AS institution_name, r.practitioner_id,
               (SELECT name FROM practitioners WHERE id = r.practitioner_id) AS practitioner_name, r.conclude_due, r.created_at,
        """ + " " + overdueStep(today: today) + """
         AS overdue_step
        FROM service_requests r
        """
    }

    /// The first step of a request that is past due, by name, or NULL: the conclusion, the acceptance (where the
    /// case does not watch its own), then each case's steps. Evaluated per row, so the flag is never stale.
    static func overdueStep(today: CivilDate) -> SQLQueryString {
        let t = today.description
        let open = RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)
        var expr: SQLQueryString = "CASE WHEN r.status IN (\(binds: open)) AND r.conclude_due < \(bind: t) THEN \(literal: "办结")"
        let own = MatterCases.registered.filter(\.watchesItsOwnAcceptance).map(\.matter.rawValue)
        expr = expr + " WHEN r.status = \(bind: RequestStatus.submitted.rawValue) AND r.accept_due < \(bind: t)"
        if !own.isEmpty { expr = expr + " AND r.matter_type NOT IN (\(binds: own))" }
        expr = expr + " THEN \(literal: "受理")"
        for c in MatterCases.registered {
            guard let caseSteps = c.overdueSteps(today: today), !caseSteps.steps.isEmpty else { continue }
            // The case's row read once, its steps tested on it in order; no row, no step past due.
            var first: SQLQueryString = "CASE"
            for step in caseSteps.steps { first = first + " WHEN " + step.condition + " THEN \(literal: step.name)" }
            expr = expr + " WHEN r.matter_type = \(bind: c.matter.rawValue) THEN (SELECT " + first
                + " END FROM \(ident: caseSteps.table) c WHERE c.request_id = r.id)"
        }
        return expr + " END"
    }

    struct Filter: Sendable {
        var status: RequestStatus?
        var matterType: MatterType?
        var channel: RequestChannel?
        var category: Category?
        var region: DivisionCode?
        var institution: UUID?
        var practitioner: UUID?
        var overdue = false
        /// Due within the next two working days and still open.
        var dueSoon = false
        var mobileHash: String?
        var number: String?
        /// Entered on or after (the duplicate check's last 30 days).
        var createdSince: Date?

        init() {}

        init(from req: Request) throws {
            func value(_ key: String) -> String? { req.queryValue(key).flatMap { $0.isEmpty ? nil : $0 } }
            var errors = FieldErrors()
            func parse<E: RawRepresentable>(_ key: String, _ label: String, _ type: E.Type) -> E? where E.RawValue == String {
                guard let v = value(key) else { return nil }
                guard let e = E(rawValue: v) else { errors.add(key, "\(label)取值无效"); return nil }
                return e
            }
            status = parse("status", "状态", RequestStatus.self)
            matterType = parse("matterType", "事项类型", MatterType.self)
            channel = parse("channel", "渠道", RequestChannel.self)
            category = parse("category", "类别", Category.self)
            if let r = value("region") {
                region = DivisionCode(r)
                if region == nil { errors.add("region", "区划代码无效") }
            }
            if let a = value("assignee") ?? value("practitioner") {
                practitioner = UUID(uuidString: a)
                if practitioner == nil { errors.add("assignee", "人员编号无效") }
            }
            if let i = value("institution") {
                institution = UUID(uuidString: i)
                if institution == nil { errors.add("institution", "机构编号无效") }
            }
            overdue = value("overdue").map { ["1", "true", "yes"].contains($0) } ?? false
            dueSoon = value("dueSoon").map { ["1", "true", "yes"].contains($0) } ?? false
            if let m = value("mobile") {
                guard let mobile = MobileNumber(m) else { errors.add("mobile", "手机号码无效"); try errors.throwIfAny(); return }
                mobileHash = req.personalData.lookupHash(mobile.digits)
            }
            number = value("number")
            try errors.throwIfAny()
        }
    }

    /// The filter and the scope as one WHERE clause ("" when nothing narrows the list).
    static func whereClause(_ f: Filter, scope: DataScope, today: CivilDate, soon: CivilDate? = nil) -> SQLQueryString {
        var conditions: [SQLQueryString] = []
        if let c = scope.condition(columns) { conditions.append(c) }
        if let v = f.status { conditions.append("r.status = \(bind: v.rawValue)") }
        if let v = f.matterType { conditions.append("r.matter_type = \(bind: v.rawValue)") }
        if let v = f.channel { conditions.append("r.channel = \(bind: v.rawValue)") }
        if let v = f.category { conditions.append("r.category = \(bind: v.rawValue)") }
        if let v = f.region { conditions.append("r.region_code LIKE \(bind: v.scopePrefix + "%")") }
        if let v = f.institution { conditions.append("r.institution_id = \(bind: v)") }
        if let v = f.practitioner { conditions.append("r.practitioner_id = \(bind: v)") }
        if let v = f.mobileHash { conditions.append("r.applicant_mobile_hash = \(bind: v)") }
        if let v = f.number { conditions.append("r.number = \(bind: v)") }
        if let v = f.createdSince { conditions.append("r.created_at >= \(bind: v)") }
        let open: [any Encodable & Sendable] = RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)
        if f.overdue {
            // Overdue matters are open ones, and the few a case's step names beyond them: their ids first, each read
            // through an index, so that neither database tries the CASE on every request (QueryPlanTests).
            var candidates: SQLQueryString = "SELECT o.id FROM service_requests o WHERE o.status IN (\(binds: RequestStatus.open.map(\.rawValue)))"
            for c in MatterCases.registered {
                for step in c.overdueSteps(today: today)?.steps ?? [] { if let beyond = step.beyondOpen { candidates = candidates + " UNION ALL " + beyond } }
            }
            conditions.append("r.id IN (" + candidates + ") AND (" + overdueStep(today: today) + ") IS NOT NULL")
        }
        if f.dueSoon, let soon {
            conditions.append("r.status IN (\(binds: open)) AND r.conclude_due >= \(bind: today.description) AND r.conclude_due <= \(bind: soon.description)")
        }
        guard var clause = conditions.first.map({ " WHERE " + $0 }) else { return "" }
        for c in conditions.dropFirst() { clause = clause + " AND " + c }
        return clause
    }

    static func list(_ f: Filter, scope: DataScope, page: PageRequest, today: CivilDate, calendar: WorkingCalendar = WorkingCalendar(),
                     protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> Paged<Row> {
        let soon = calendar.addingWorkingDays(2, to: today)
        let clause = whereClause(f, scope: scope, today: today, soon: soon)
        let total: Int
        if let counted = try await RequestCounts.total(f, scope: scope, on: db) { total = counted } else {
            total = try await db.raw("SELECT COUNT(*) AS n FROM service_requests r" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        }
        let rows = try await ColumnRows.all(selectFrom(today: today) + clause + " ORDER BY r.created_at DESC LIMIT \(literal: page.per) OFFSET \(literal: page.offset)",
                                            on: db, prepared: preparable(f, scope: scope, page: page), ofManyTexts: true, stored)
        return Paged(items: try rows.map { try row($0, today: today, protector: protector) }, total: total, page: page.page, per: page.per)
    }

    /// Whether the list's statement may be prepared (PostgreSQL): parsed once per connection, and planned once whenever
    /// PostgreSQL judges its generic plan no costlier than a plan for the values (at a million requests it judged it 5%
    /// costlier and went on planning each call). Only when every condition is a key's equality, whose generic plan reads
    /// the index a value would (`QueryPlanTests`); not with a region's `LIKE` prefix (a generic plan cannot take it from
    /// an index), nor the overdue and due-soon ones (sub-queries, date ranges). Only the first pages: `LIMIT` and
    /// `OFFSET` stay literals, so a generic plan knows how few rows it reads (bound, it guesses a tenth of the table).
    /// Its texts are bounded but many (filters × scopes × pages), hence prepared `ofManyTexts`.
    static func preparable(_ f: Filter, scope: DataScope, page: PageRequest) -> Bool {
        if case .region = scope { return false }
        return f.region == nil && !f.overdue && !f.dueSoon && f.createdSince == nil && page.page <= 5
            && [20, 50, PageRequest.maxPer].contains(page.per)
    }

    // MARK: Detail


    struct TimelineEntry: Content {
        var seq: Int64
        var at: Date
        var actor: String
        var action: String
        var actionName: String
        var fromStatus: String?
        var toStatus: String
        var toStatusName: String
        var note: String?
    }

    struct Applicant: Content {
        var name: String
        var mobile: String
        var idNumber: String?
        var birthDate: String?
        var sex: String?
    }

    struct Detail: Content {
        var id: UUID
        var number: String
        var matterType: String
        var matterTypeName: String
        var itemCode: String?
        var category: String
        var categoryName: String
        var channel: String
        var channelName: String
        var description: String
        var applicant: Applicant
        var priorityGroups: [String]
        var regionCode: String
        var regionName: String
        var status: String
        var statusName: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var practitionerName: String?
        var acceptDue: String?
        var concludeDue: String?
        var overdue: Bool
        var suspendedOn: String?
        var transferTarget: String?
        var transferReference: String?
        var externalReference: String?
        var rejectReason: String?
        var outcome: String?
        var summary: String?
        var concludedOn: String?
        var concludedOnTime: Bool?
        var rating: Int?
        var ratingComment: String?
        var createdAt: Date
        /// The actions the viewer may take now.
        var actions: [String]
        var timeline: [TimelineEntry]
        /// What the registered matter cases add (`MatterCase.sections`), each encoded under its key (`legalAid`,
        /// `mediation`, …). Decoding leaves them out: a client reads a section by its key.
        var sections: [CaseSection] = []

        enum CodingKeys: String, CodingKey {
            case id, number, matterType, matterTypeName, itemCode, category, categoryName, channel, channelName, description, applicant
            case priorityGroups, regionCode, regionName, status, statusName, institutionId, institutionName, practitionerId, practitionerName
            case acceptDue, concludeDue, overdue, suspendedOn, transferTarget, transferReference, externalReference, rejectReason, outcome
            case summary, concludedOn, concludedOnTime, rating, ratingComment, createdAt, actions, timeline
        }

        /// As synthesized Codable would write the fields (nil ones left out), then the sections under their keys.
        /// `JSONWriterTests` compares this with the JSON writer on real rows.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: SectionKey.self)
            func put<T: Encodable>(_ key: CodingKeys, _ value: T?) throws { try c.encodeIfPresent(value, forKey: SectionKey(key.stringValue)) }
            try put(.id, id); try put(.number, number); try put(.matterType, matterType); try put(.matterTypeName, matterTypeName)
            try put(.itemCode, itemCode); try put(.category, category); try put(.categoryName, categoryName); try put(.channel, channel)
            try put(.channelName, channelName); try put(.description, description); try put(.applicant, applicant)
            try put(.priorityGroups, priorityGroups); try put(.regionCode, regionCode); try put(.regionName, regionName)
            try put(.status, status); try put(.statusName, statusName); try put(.institutionId, institutionId)
            try put(.institutionName, institutionName); try put(.practitionerId, practitionerId); try put(.practitionerName, practitionerName)
            try put(.acceptDue, acceptDue); try put(.concludeDue, concludeDue); try put(.overdue, overdue); try put(.suspendedOn, suspendedOn)
            try put(.transferTarget, transferTarget); try put(.transferReference, transferReference)
            try put(.externalReference, externalReference); try put(.rejectReason, rejectReason); try put(.outcome, outcome)
            try put(.summary, summary); try put(.concludedOn, concludedOn); try put(.concludedOnTime, concludedOnTime)
            try put(.rating, rating); try put(.ratingComment, ratingComment); try put(.createdAt, createdAt)
            try put(.actions, actions); try put(.timeline, timeline)
            for s in sections { try c.encode(s.value, forKey: SectionKey("\(s.key)")) }
        }

        struct SectionKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// The events that change no status (`RequestActions.urge` and the like).
    static let sideActionNames = ["urge": "催办", "recategorize": "更正类别", "view_contact": "查看联系电话"]

    static func actionName(_ raw: String) -> String {
        if raw == "evaluate" { return "评价" }
        if raw == "notify" { return "提醒" }
        if let name = sideActionNames[raw] ?? capabilityEventNames[raw] { return name }
        if let name = MatterCases.eventNames[raw] { return name }
        return RequestAction(rawValue: raw)?.chineseName ?? raw
    }

    static func timeline(_ id: UUID, protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> [TimelineEntry] {
        // One way to show an event, whether read back here or just appended (`TimelineEntry.init(_:)`).
        try await ColumnRows.all("""
            SELECT seq, at_ms, actor_name, action, from_status, to_status, note FROM request_events WHERE request_id = \(bind: id) ORDER BY seq
            """, on: db, prepared: true) { r in
            TimelineEntry((seq: try r.int64("seq"), event: LedgerEvent(
                requestID: id, atMillis: try r.int64("at_ms"), actorID: nil, actorName: try r.text("actor_name"),
                action: try r.text("action"), fromStatus: try r.optionalText("from_status"), toStatus: try r.text("to_status"),
                note: try protector.open(try r.optionalText("note")))))
        }
    }

    /// The request with `id` (or its number) if the scope allows it; 404 otherwise. Read column by column
    /// (`ServiceRequest.read`), with its assignees' names; writes read it again inside the ledger's transaction.
    static func find(_ idOrNumber: String, scope: DataScope, on db: any Database) async throws -> ServiceRequest {
        let filter: SQLQueryString = UUID(uuidString: idOrNumber).map { "r.id = \(bind: $0)" } ?? "r.number = \(bind: idOrNumber)"
        let rows = try await ColumnRows.all("""
            SELECT r.*, (SELECT name FROM institutions WHERE id = r.institution_id) AS assigned_institution_name,
                   (SELECT name FROM practitioners WHERE id = r.practitioner_id) AS assigned_practitioner_name
            FROM service_requests r
            """ + " WHERE " + filter + " LIMIT 1", on: db as! any SQLDatabase, prepared: true) { row in
            let r = try ServiceRequest.read(row)
            r.assigneeNames = .init(institutionID: r.institutionID, practitionerID: r.practitionerID,
                                    institution: try row.optionalText("assigned_institution_name"),
                                    practitioner: try row.optionalText("assigned_practitioner_name"))
            return r
        }
        guard let r = rows.first, visible(r, in: scope) else { throw AppError.notFound("事项") }
        return r
    }

    /// The one scope rule of the domain, applied to a request already read.
    static func visible(_ r: ServiceRequest, in scope: DataScope) -> Bool {
        scope.includes(region: DivisionCode(r.regionCode), institution: r.institutionID, owner: r.citizenAccountID)
    }

    /// `timeline`: the events when the caller has just written them (an intake's answer), else read.
    static func detail(_ r: ServiceRequest, for principal: Principal?, app: Application, on db: any SQLDatabase,
                       timeline known: [TimelineEntry]? = nil) async throws -> Detail {
        let id = r.id!
        // The region's name from the directory; the assignees' names as `find` read them with the row, else in one round trip.
        let regionName = try await app.regionDirectory.find(r.regionCode, on: db)?.name
        struct Names: Decodable { var institutionName: String?; var practitionerName: String? }
        let names: Names?
        if let read = r.assigneeNames, read.institutionID == r.institutionID, read.practitionerID == r.practitionerID {
            names = Names(institutionName: read.institution, practitionerName: read.practitioner)
        } else if r.institutionID == nil && r.practitionerID == nil {
            names = nil
        } else { names = try await db.raw("""
            SELECT (SELECT name FROM institutions WHERE id = \(bind: r.institutionID)) AS institution_name,
                   (SELECT name FROM practitioners WHERE id = \(bind: r.practitionerID)) AS practitioner_name
            """).first(decoding: Names.self, keyDecodingStrategy: .snakeCase) }
        let institutionName = names?.institutionName, practitionerName = names?.practitionerName
        let status = r.requestStatus
        var actions: [String] = []
        let sections = try await MatterCases.sections(of: r, for: principal, app: app, on: db)
        // A case moves by its own steps (legal aid's decision and closing, mediation's outcome), which call the general
        // actions they replace: those are not offered while the case is there.
        let matterCase = MatterCases.forMatter(r.matterType).flatMap { c in sections.isEmpty ? nil : c }
        if let principal {
            actions = RequestLifecycle.available(from: status, to: principal.role)
                .filter { RequestActions.mayAct($0, on: r, principal) && $0 != .reopen }
                .filter { matterCase?.offers($0) ?? true }
                .map(\.rawValue)
            if RequestActions.mayEvaluate(r, principal) { actions.append("evaluate") }
        }
        let timelineEntries: [TimelineEntry]
        if let known { timelineEntries = known } else { timelineEntries = try await timeline(id, protector: app.personalData, on: db) }
        return Detail(
            id: id, number: r.number, matterType: r.matterType, matterTypeName: MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType,
            itemCode: r.itemCode, category: r.category, categoryName: Category(rawValue: r.category)?.chineseName ?? r.category,
            channel: r.channel, channelName: RequestChannel(rawValue: r.channel)?.chineseName ?? r.channel, description: try app.personalData.open(r.description),
            // Masked again as shown (rows stored before the narrower mask), and only the month of birth: with the
            // whole date beside a 4+4 mask only the county digits were left to guess.
            applicant: Applicant(name: try app.personalData.open(r.applicantName), mobile: r.applicantMobileMasked, idNumber: r.applicantIDMasked.map(Masking.idNumber),
                                 birthDate: r.applicantBirthDate.map { String($0.prefix(7)) }, sex: r.applicantSex),
            priorityGroups: DelimitedList.decode(r.priorityGroupsText), regionCode: r.regionCode, regionName: regionName ?? r.regionCode,
            status: r.status, statusName: MatterCases.statusName(status, matter: r.matterType), institutionId: r.institutionID, institutionName: institutionName,
            practitionerId: r.practitionerID, practitionerName: practitionerName, acceptDue: r.acceptDue, concludeDue: r.concludeDue,
            overdue: isOverdue(status: status, due: r.concludeDue, today: app.today), suspendedOn: r.suspendedOn,
            transferTarget: r.transferTarget, transferReference: r.transferReference, externalReference: r.externalReference,
            rejectReason: try app.personalData.open(r.rejectReason), outcome: r.outcome, summary: try app.personalData.open(r.summary), concludedOn: r.concludedOn,
            concludedOnTime: r.concludedOnTime, rating: r.rating, ratingComment: try app.personalData.open(r.ratingComment), createdAt: r.createdAt,
            actions: actions, timeline: timelineEntries, sections: sections)
    }
}

extension RequestViews.TimelineEntry {
    /// An event as the timeline shows it: read back by `RequestViews.timeline`, or just appended by a write.
    init(_ appended: (seq: Int64, event: LedgerEvent)) {
        let e = appended.event
        self.init(seq: appended.seq, at: Date(timeIntervalSince1970: Double(e.atMillis) / 1000), actor: e.actorName, action: e.action,
                  actionName: RequestViews.actionName(e.action), fromStatus: e.fromStatus, toStatus: e.toStatus,
                  toStatusName: RequestStatus(rawValue: e.toStatus)?.chineseName ?? e.toStatus, note: e.note)
    }
}
