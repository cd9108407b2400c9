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
        var overdue: Bool
        var createdAt: Date
    }

    struct Stored: Decodable {
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
        var createdAt: Date
    }

    /// A list row read column by column: the busiest list of the platform skips the Decodable machinery.
    static func stored(_ r: any SQLRow) throws -> Stored {
        Stored(id: try r.decode(column: "id", as: UUID.self), number: try r.decode(column: "number", as: String.self),
               matterType: try r.decode(column: "matter_type", as: String.self), category: try r.decode(column: "category", as: String.self),
               channel: try r.decode(column: "channel", as: String.self), applicantName: try r.decode(column: "applicant_name", as: String.self),
               applicantMobileMasked: try r.decode(column: "applicant_mobile_masked", as: String.self),
               priorityGroups: try r.decode(column: "priority_groups", as: String.self), regionCode: try r.decode(column: "region_code", as: String.self),
               regionName: try r.decode(column: "region_name", as: String.self), status: try r.decode(column: "status", as: String.self),
               institutionId: try r.decode(column: "institution_id", as: UUID?.self), institutionName: try r.decode(column: "institution_name", as: String?.self),
               practitionerId: try r.decode(column: "practitioner_id", as: UUID?.self),
               practitionerName: try r.decode(column: "practitioner_name", as: String?.self),
               concludeDue: try r.decode(column: "conclude_due", as: String?.self), createdAt: try r.decode(column: "created_at", as: Date.self))
    }

    static func row(_ s: Stored, today: CivilDate) -> Row {
        let status = RequestStatus(rawValue: s.status) ?? .submitted
        return Row(id: s.id, number: s.number, matterType: s.matterType, matterTypeName: MatterType(rawValue: s.matterType)?.chineseName ?? s.matterType,
                   category: s.category, categoryName: Category(rawValue: s.category)?.chineseName ?? s.category,
                   channel: s.channel, channelName: RequestChannel(rawValue: s.channel)?.chineseName ?? s.channel,
                   applicantName: s.applicantName, applicantMobile: s.applicantMobileMasked,
                   priorityGroups: DelimitedList.decode(s.priorityGroups), regionCode: s.regionCode, regionName: s.regionName,
                   status: s.status, statusName: status.chineseName, institutionId: s.institutionId, institutionName: s.institutionName,
                   practitionerId: s.practitionerId, practitionerName: s.practitionerName, concludeDue: s.concludeDue,
                   overdue: isOverdue(status: status, due: s.concludeDue, today: today), createdAt: s.createdAt)
    }

    static func isOverdue(status: RequestStatus, due: String?, today: CivilDate) -> Bool {
        guard status.isOpen, status != .suspended, let due, let d = CivilDate(due) else { return false }
        return d < today
    }

    static func select(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select()
            .column(SQLColumn("id", table: "r")).column(SQLColumn("number", table: "r")).column(SQLColumn("matter_type", table: "r"))
            .column(SQLColumn("category", table: "r")).column(SQLColumn("channel", table: "r")).column(SQLColumn("applicant_name", table: "r"))
            .column(SQLColumn("applicant_mobile_masked", table: "r")).column(SQLColumn("priority_groups", table: "r"))
            .column(SQLColumn("region_code", table: "r")).column(SQLColumn("name", table: "g"), as: "region_name")
            .column(SQLColumn("status", table: "r")).column(SQLColumn("institution_id", table: "r"))
            .column(SQLColumn("name", table: "i"), as: "institution_name").column(SQLColumn("practitioner_id", table: "r"))
            .column(SQLColumn("name", table: "p"), as: "practitioner_name").column(SQLColumn("conclude_due", table: "r"))
            .column(SQLColumn("created_at", table: "r"))
            .from(SQLAlias(SQLIdentifier(ServiceRequest.schema), as: SQLIdentifier("r")))
            .join(SQLAlias(SQLIdentifier(Region.schema), as: SQLIdentifier("g")), method: SQLJoinMethod.inner,
                  on: SQLColumn("region_code", table: "r"), .equal, SQLColumn("code", table: "g"))
            .join(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")), method: SQLJoinMethod.left,
                  on: SQLColumn("institution_id", table: "r"), .equal, SQLColumn("id", table: "i"))
            .join(SQLAlias(SQLIdentifier(Practitioner.schema), as: SQLIdentifier("p")), method: SQLJoinMethod.left,
                  on: SQLColumn("practitioner_id", table: "r"), .equal, SQLColumn("id", table: "p"))
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

    static func apply(_ f: Filter, scope: DataScope, today: CivilDate, soon: CivilDate? = nil, to s: SQLSelectBuilder) -> SQLSelectBuilder {
        var s = s.scoped(scope, columns)
        if let v = f.status { s = s.where(SQLColumn("status", table: "r"), .equal, SQLBind(v.rawValue)) }
        if let v = f.matterType { s = s.where(SQLColumn("matter_type", table: "r"), .equal, SQLBind(v.rawValue)) }
        if let v = f.channel { s = s.where(SQLColumn("channel", table: "r"), .equal, SQLBind(v.rawValue)) }
        if let v = f.category { s = s.where(SQLColumn("category", table: "r"), .equal, SQLBind(v.rawValue)) }
        if let v = f.region { s = s.where(SQLColumn("region_code", table: "r"), .like, SQLBind(v.scopePrefix + "%")) }
        if let v = f.institution { s = s.where(SQLColumn("institution_id", table: "r"), .equal, SQLBind(v)) }
        if let v = f.practitioner { s = s.where(SQLColumn("practitioner_id", table: "r"), .equal, SQLBind(v)) }
        if let v = f.mobileHash { s = s.where(SQLColumn("applicant_mobile_hash", table: "r"), .equal, SQLBind(v)) }
        if let v = f.number { s = s.where(SQLColumn("number", table: "r"), .equal, SQLBind(v)) }
        if f.overdue {
            s = s.where(SQLColumn("status", table: "r"), .in, SQLBind.group(RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)))
                .where(SQLColumn("conclude_due", table: "r"), .lessThan, SQLBind(today.description))
        }
        if f.dueSoon, let soon {
            s = s.where(SQLColumn("status", table: "r"), .in, SQLBind.group(RequestStatus.open.filter { $0 != .suspended }.map(\.rawValue)))
                .where(SQLColumn("conclude_due", table: "r"), .greaterThanOrEqual, SQLBind(today.description))
                .where(SQLColumn("conclude_due", table: "r"), .lessThanOrEqual, SQLBind(soon.description))
        }
        return s
    }

    static func list(_ f: Filter, scope: DataScope, page: PageRequest, today: CivilDate, calendar: WorkingCalendar = WorkingCalendar(),
                     on db: any SQLDatabase) async throws -> Paged<Row> {
        let soon = calendar.addingWorkingDays(2, to: today)
        let total = try await apply(f, scope: scope, today: today, soon: soon, to: db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier(ServiceRequest.schema), as: SQLIdentifier("r"))))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await apply(f, scope: scope, today: today, soon: soon, to: select(db))
            .orderBy(SQLColumn("created_at", table: "r"), SQLDirection.descending).limit(page.per).offset(page.offset)
            .all().map(stored)
        return Paged(items: rows.map { row($0, today: today) }, total: total, page: page.page, per: page.per)
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
        /// For a legal aid request: its case (法律援助案件).
        var legalAid: LegalAidCases.View?
        /// For notarization and appraisal: the applicant is a legal aid recipient (art. 53).
        var feeReduction: LegalAidCases.FeeReduction?
        /// For a mediation request: its case (调解案件).
        var mediation: MediationCases.View?
    }

    static func actionName(_ raw: String) -> String {
        if raw == "evaluate" { return "评价" }
        if raw == "notify" { return "提醒" }
        if let name = LegalAidCases.eventNames[raw] ?? MediationCases.eventNames[raw] { return name }
        return RequestAction(rawValue: raw)?.chineseName ?? raw
    }

    static func timeline(_ id: UUID, on db: any SQLDatabase) async throws -> [TimelineEntry] {
        try await db.raw("""
            SELECT seq, at_ms, actor_name, action, from_status, to_status, note FROM request_events WHERE request_id = \(bind: id) ORDER BY seq
            """).all().map { r in
            let toStatus = try r.decode(column: "to_status", as: String.self), action = try r.decode(column: "action", as: String.self)
            return TimelineEntry(seq: try r.decode(column: "seq", as: Int64.self),
                                 at: Date(timeIntervalSince1970: Double(try r.decode(column: "at_ms", as: Int64.self)) / 1000),
                                 actor: try r.decode(column: "actor_name", as: String.self), action: action, actionName: actionName(action),
                                 fromStatus: try r.decode(column: "from_status", as: String?.self), toStatus: toStatus,
                                 toStatusName: RequestStatus(rawValue: toStatus)?.chineseName ?? toStatus, note: try r.decode(column: "note", as: String?.self))
        }
    }

    /// The request with `id` (or its number) if the scope allows it; 404 otherwise. Read with SQLKit
    /// (`ServiceRequest.read`); writes read it again inside the ledger's transaction.
    static func find(_ idOrNumber: String, scope: DataScope, on db: any Database) async throws -> ServiceRequest {
        let filter: SQLQueryString = UUID(uuidString: idOrNumber).map { "id = \(bind: $0)" } ?? "number = \(bind: idOrNumber)"
        guard let row = try await (db as! any SQLDatabase).raw("SELECT * FROM service_requests WHERE " + filter + " LIMIT 1").first()
        else { throw AppError.notFound("事项") }
        let r = try ServiceRequest.read(row)
        guard visible(r, in: scope) else { throw AppError.notFound("事项") }
        return r
    }

    /// The one scope rule of the domain, applied to a request already read.
    static func visible(_ r: ServiceRequest, in scope: DataScope) -> Bool {
        scope.includes(region: DivisionCode(r.regionCode), institution: r.institutionID, owner: r.citizenAccountID)
    }

    static func detail(_ r: ServiceRequest, for principal: Principal?, app: Application, on db: any SQLDatabase) async throws -> Detail {
        let id = r.id!
        // The three names in one round trip.
        struct Names: Decodable { var regionName: String?; var institutionName: String?; var practitionerName: String? }
        let names = try await db.raw("""
            SELECT (SELECT name FROM regions WHERE code = \(bind: r.regionCode)) AS region_name,
                   (SELECT name FROM institutions WHERE id = \(bind: r.institutionID)) AS institution_name,
                   (SELECT name FROM practitioners WHERE id = \(bind: r.practitionerID)) AS practitioner_name
            """).first(decoding: Names.self, keyDecodingStrategy: .snakeCase)
        let institutionName = names?.institutionName, practitionerName = names?.practitionerName
        let status = r.requestStatus
        var actions: [String] = []
        var legalAid: LegalAidCases.View?
        if r.matterType == MatterType.legalAid.rawValue, let c = try await LegalAidCase.find(id, on: app.db) {
            legalAid = try await LegalAidCases.view(c, of: r, for: principal, today: app.today, on: db)
        }
        var mediation: MediationCases.View?
        if r.matterType == MatterType.mediation.rawValue, let c = try await MediationCase.find(id, on: app.db) {
            mediation = try await MediationCases.view(c, of: r, for: principal, today: app.today, on: db)
        }
        if let principal {
            actions = RequestLifecycle.available(from: status, to: principal.role)
                .filter { RequestActions.mayAct($0, on: r, principal) && $0 != .reopen }
                // A legal aid case moves by its own steps (decision, designation, closing), which call these.
                .filter { legalAid == nil || [.start, .suspend, .resume, .transfer, .takeBack].contains($0) }
                .filter { mediation == nil || $0 != .conclude }
                .map(\.rawValue)
            if RequestActions.mayEvaluate(r, principal) { actions.append("evaluate") }
        }
        return Detail(
            id: id, number: r.number, matterType: r.matterType, matterTypeName: MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType,
            itemCode: r.itemCode, category: r.category, categoryName: Category(rawValue: r.category)?.chineseName ?? r.category,
            channel: r.channel, channelName: RequestChannel(rawValue: r.channel)?.chineseName ?? r.channel, description: r.description,
            applicant: Applicant(name: r.applicantName, mobile: r.applicantMobileMasked, idNumber: r.applicantIDMasked,
                                 birthDate: r.applicantBirthDate, sex: r.applicantSex),
            priorityGroups: DelimitedList.decode(r.priorityGroupsText), regionCode: r.regionCode, regionName: names?.regionName ?? r.regionCode,
            status: r.status, statusName: status.chineseName, institutionId: r.institutionID, institutionName: institutionName,
            practitionerId: r.practitionerID, practitionerName: practitionerName, acceptDue: r.acceptDue, concludeDue: r.concludeDue,
            overdue: isOverdue(status: status, due: r.concludeDue, today: app.today), suspendedOn: r.suspendedOn,
            transferTarget: r.transferTarget, transferReference: r.transferReference, externalReference: r.externalReference,
            rejectReason: r.rejectReason, outcome: r.outcome, summary: r.summary, concludedOn: r.concludedOn,
            concludedOnTime: r.concludedOnTime, rating: r.rating, ratingComment: r.ratingComment, createdAt: r.createdAt,
            actions: actions, timeline: try await timeline(id, on: db), legalAid: legalAid,
            feeReduction: try await LegalAidCases.feeReduction(for: r, on: db), mediation: mediation)
    }
}
