import Vapor
import Fluent
import SQLKit
import PLSDomain

extension ComplaintStatus: ChineseNamed {}
extension ComplaintKind: ChineseNamed {}
extension ComplaintChannel: ChineseNamed {}

/// 投诉 (issue #22, item 4): a complaint against an institution or practitioner, registered from the portal, the
/// hotline, a window or a letter, handled by the county bureau that supervises the respondent. Personal data sealed.
enum Complaints {
    /// The timeline's names of what a complaint about a matter records on it.
    static let eventNames: [String: String] = ComplaintStep.allCases.reduce(into: ["complaint": "投诉登记"]) { names, step in
        names["complaint.\(step.rawValue)"] = "投诉" + step.chineseName
    }

    static let schema = "complaints"
    static let rules = ComplaintRules.standard

    struct Input: Content {
        var kind: String?
        var channel: String?
        var institutionId: UUID?
        var practitionerId: UUID?
        /// The matter complained about (for a legal aid replacement, its legal aid case's request).
        var requestId: UUID?
        var name: String?
        var mobile: String?
        var content: String?
    }

    struct Stored: Decodable, Sendable {
        var id: UUID
        var number: String
        var kind: String
        var channel: String
        var institutionId: UUID?
        var practitionerId: UUID?
        var requestId: UUID?
        var regionCode: String
        var complainantName: String
        var complainantMobileMasked: String
        var complainantMobileCipher: String?
        var complainantAccountId: UUID?
        var content: String
        var status: String
        var registeredOn: String
        var acceptDue: String
        var materialRequestedOn: String?
        var materialNote: String?
        var materialReceivedOn: String?
        var acceptedOn: String?
        var decisionDue: String
        var extendedOn: String?
        var extensionReason: String?
        var decidedOn: String?
        var upheld: Bool?
        var finding: String?
        var refusedReason: String?
        var institutionName: String?
        var practitionerName: String?
        var regionName: String?
        var requestNumber: String?

        var state: ComplaintStatus { ComplaintStatus(rawValue: status) ?? .registered }
    }

    struct Statement: Content { var party: String; var partyName: String; var text: String; var recordedOn: String; var recordedBy: String }

    struct View: Content {
        var id: UUID
        var number: String
        var kind: String
        var kindName: String
        var channel: String
        var channelName: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var practitionerName: String?
        var requestId: UUID?
        var requestNumber: String?
        var regionCode: String
        var regionName: String
        var complainantName: String
        var complainantMobile: String
        var content: String
        var status: String
        var statusName: String
        var registeredOn: String
        var acceptDue: String
        var decisionDue: String
        var materialRequestedOn: String?
        var materialNote: String?
        var materialReceivedOn: String?
        var acceptedOn: String?
        var extendedOn: String?
        var extensionReason: String?
        var decidedOn: String?
        var upheld: Bool?
        var finding: String?
        var refusedReason: String?
        var statements: [Statement]
        var overdue: Bool
        var steps: [String]
    }

    static let select = """
        SELECT c.*, i.name AS institution_name, p.name AS practitioner_name, g.name AS region_name, r.number AS request_number
        FROM complaints c LEFT JOIN institutions i ON i.id = c.institution_id LEFT JOIN practitioners p ON p.id = c.practitioner_id
        LEFT JOIN regions g ON g.code = c.region_code LEFT JOIN service_requests r ON r.id = c.request_id
        """
    static let scopeColumns = ScopeColumns(region: "c.region_code", institution: "c.institution_id", owner: "c.complainant_account_id")

    // MARK: Registering

    /// Who registers on which channel: the person on the portal, an operator on the hotline, a clerk at a window, the
    /// bureau a letter.
    static func channel(for p: Principal, asked: ComplaintChannel?) throws -> ComplaintChannel {
        switch p.role {
        case .citizen: return .portal
        case .hotlineOperator: return .hotline
        case .windowClerk: return .window
        case .countyAdmin, .cityAdmin: return asked ?? .letter
        default: throw AppError(.forbidden, "forbidden", "投诉由群众在网上提交，或由热线、窗口、司法局登记")
        }
    }

    static func register(_ input: Input, by p: Principal, app: Application) async throws -> Stored {
        var errors = FieldErrors()
        let kind = errors.choice(input.kind, "kind", "投诉类型", as: ComplaintKind.self)
        let asked = input.channel.flatMap { $0.isEmpty ? nil : $0 }.flatMap(ComplaintChannel.init(rawValue:))
        if let raw = input.channel, !raw.isEmpty, asked == nil { errors.add("channel", "投诉渠道不正确") }
        let content = errors.required(input.content, "content", "投诉内容", maxLength: 2000)
        let name = p.role == .citizen ? (input.name?.nilIfEmpty ?? p.displayName) : errors.required(input.name, "name", "投诉人姓名", maxLength: 50)
        let mobile = MobileNumber(input.mobile ?? "")
        if p.role != .citizen, mobile == nil { errors.add("mobile", "请填写投诉人的 11 位手机号码") }
        if input.institutionId == nil && input.practitionerId == nil { errors.add("institutionId", "请选择被投诉的机构或人员") }
        if kind == .legalAidReplacement, input.requestId == nil { errors.add("requestId", "要求更换承办人员的，请填写法律援助事项") }
        try errors.throwIfAny()
        let channel = try channel(for: p, asked: asked)
        let sql = app.db as! any SQLDatabase

        // The respondent decides who supervises: the institution's (or the practitioner's) region, its county's bureau.
        struct Respondent: Decodable { var regionCode: String; var institutionId: UUID? }
        var institution = input.institutionId
        var region: String?
        if let id = input.practitionerId {
            guard let row = try await sql.raw("SELECT region_code, institution_id FROM practitioners WHERE id = \(bind: id)")
                .first(decoding: Respondent.self, keyDecodingStrategy: .snakeCase) else {
                throw AppError.validation(["practitionerId": "未找到被投诉人员"])
            }
            region = row.regionCode
            institution = institution ?? row.institutionId
        }
        if let id = institution {
            guard let code = try await sql.raw("SELECT region_code FROM institutions WHERE id = \(bind: id)").first(decodingColumn: "region_code", as: String.self) else {
                throw AppError.validation(["institutionId": "未找到被投诉机构"])
            }
            region = region ?? code
        }
        var citizenMobile: MobileNumber?
        if let request = input.requestId {
            let r = try await RequestViews.find(request.uuidString, scope: p.role == .citizen ? p.scope : .everything, on: app.db)
            if kind == .legalAidReplacement, r.matterType != MatterType.legalAid.rawValue {
                throw AppError.validation(["requestId": "更换承办人员只适用于法律援助事项"])
            }
        }
        if p.role == .citizen {
            let cipher = try await sql.raw("SELECT mobile_cipher FROM accounts WHERE id = \(bind: p.accountID)").first(decodingColumn: "mobile_cipher", as: String?.self) ?? nil
            citizenMobile = cipher.flatMap { try? app.personalData.decrypt($0) }.flatMap(MobileNumber.init)
        }
        let phone = p.role == .citizen ? citizenMobile : mobile
        let today = app.today, now = app.clock.now, calendar = app.workingCalendar
        let acceptDue = rules.acceptDue(registeredOn: today, on: calendar)
        let id = UUID()
        let number = "TS" + today.description.replacingOccurrences(of: "-", with: "") + "-" + String(id.uuidString.prefix(6))
        let protector = app.personalData, respondentInstitution = institution, supervising = region ?? ""
        try await app.ledger.write(on: app.db) { w in
            let tx = w.db as! any SQLDatabase
            try await tx.insert(into: schema)
                .columns("id", "number", "kind", "channel", "institution_id", "practitioner_id", "request_id", "region_code", "complainant_name",
                         "complainant_mobile_hash", "complainant_mobile_cipher", "complainant_mobile_masked", "complainant_account_id", "content",
                         "status", "registered_on", "accept_due", "decision_due", "created_by", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(number), SQLBind(kind!.rawValue), SQLBind(channel.rawValue), SQLBind(respondentInstitution), SQLBind(input.practitionerId),
                        SQLBind(input.requestId), SQLBind(supervising), SQLBind(try protector.seal(name)),
                        SQLBind(phone.map { protector.lookupHash($0.digits) }), SQLBind(try phone.map { try protector.encrypt($0.digits) }),
                        SQLBind(phone?.masked ?? "—"), SQLBind(p.role == .citizen ? p.accountID : nil), SQLBind(try protector.seal(content)),
                        SQLBind(ComplaintStatus.registered.rawValue), SQLBind(today.description), SQLBind(acceptDue.description),
                        SQLBind(rules.decisionDue(from: acceptDue, extended: false, on: calendar).description), SQLBind(p.accountID),
                        SQLBind(now), SQLBind(now))
                .run()
            if let request = input.requestId {
                let r = try await RequestViews.find(request.uuidString, scope: .everything, on: w.db)
                w.append(LedgerEvent(requestID: request, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName, action: "complaint",
                                     fromStatus: r.status, toStatus: r.status, note: "收到投诉 \(number)（\(kind!.chineseName)）", noteIsFixedWording: true))
            }
            let admins = try await Notifications.accounts(role: .countyAdmin, regionPrefix: Notifications.countyPrefix(supervising), on: tx)
            try await Notifications.notify(accounts: admins, request: input.requestId,
                                           text: "新投诉 \(number)：请于 \(acceptDue) 前决定是否受理", now: now, on: tx)
            if let phone {
                try await app.sendSMS(to: phone, "您的投诉已登记，编号 \(number)，将于 \(acceptDue) 前决定是否受理。可在平台或拨打 12348 查询。", on: w.db, at: now)
            }
        }
        return try await find(id, on: sql)
    }

    // MARK: Reading

    static func find(_ id: UUID, on db: any SQLDatabase) async throws -> Stored {
        guard let row = try await db.raw(SQLQueryString(select) + " WHERE c.id = \(bind: id)").first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError.notFound("投诉")
        }
        return row
    }

    static func visible(_ c: Stored, to p: Principal) -> Bool {
        // A practitioner sees the complaints about themselves, not their colleagues'.
        if p.role == .practitioner { return c.practitionerId != nil && c.practitionerId == p.practitionerID }
        switch p.scope {
        case .own(let account): return c.complainantAccountId == account
        default: return p.scope.includes(region: DivisionCode(c.regionCode), institution: c.institutionId)
        }
    }

    /// The supervising county's bureau (and the city's) handles; others read.
    static func mayHandle(_ c: Stored, _ p: Principal) -> Bool {
        p.role == .cityAdmin || (p.role == .countyAdmin && p.scope.includes(regionCode: c.regionCode))
    }

    /// The statements of several complaints in one query (a list's page reads them at once).
    static func statements(_ ids: [UUID], protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> [UUID: [Statement]] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { var complaintId: UUID; var party: String; var text: String; var recordedOn: String; var recordedBy: String }
        let rows = try await db.raw("""
            SELECT complaint_id, party, text, recorded_on, recorded_by FROM complaint_statements WHERE complaint_id IN (\(binds: ids)) ORDER BY created_at
            """).all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Dictionary(grouping: rows, by: \.complaintId).mapValues { group in
            group.map { Statement(party: $0.party, partyName: partyNames[$0.party] ?? $0.party, text: (try? protector.open($0.text)) ?? "",
                                  recordedOn: $0.recordedOn, recordedBy: $0.recordedBy) }
        }
    }

    static let partyNames = ["complainant": "投诉人", "respondent": "被投诉人", "witness": "其他知情人"]

    static func view(_ c: Stored, for p: Principal, app: Application, on db: any SQLDatabase) async throws -> View {
        try await views([c], for: p, app: app, on: db)[0]
    }

    static func views(_ rows: [Stored], for p: Principal, app: Application, on db: any SQLDatabase) async throws -> [View] {
        let heard = try await statements(rows.map(\.id), protector: app.personalData, on: db)
        return try rows.map { try view($0, statements: heard[$0.id] ?? [], for: p, app: app) }
    }

    private static func view(_ c: Stored, statements: [Statement], for p: Principal, app: Application) throws -> View {
        let protector = app.personalData, today = app.today.description
        let state = c.state
        let overdue = (state == .registered || state == .awaitingMaterial) && c.acceptDue < today || state == .investigating && c.decisionDue < today
        return View(
            id: c.id, number: c.number, kind: c.kind, kindName: ComplaintKind(rawValue: c.kind)?.chineseName ?? c.kind, channel: c.channel,
            channelName: ComplaintChannel(rawValue: c.channel)?.chineseName ?? c.channel, institutionId: c.institutionId, institutionName: c.institutionName,
            practitionerId: c.practitionerId, practitionerName: c.practitionerName, requestId: c.requestId, requestNumber: c.requestNumber,
            regionCode: c.regionCode, regionName: c.regionName ?? c.regionCode, complainantName: try protector.open(c.complainantName),
            complainantMobile: c.complainantMobileMasked, content: try protector.open(c.content), status: c.status, statusName: state.chineseName,
            registeredOn: c.registeredOn, acceptDue: c.acceptDue, decisionDue: c.decisionDue, materialRequestedOn: c.materialRequestedOn,
            materialNote: try protector.open(c.materialNote), materialReceivedOn: c.materialReceivedOn, acceptedOn: c.acceptedOn,
            extendedOn: c.extendedOn, extensionReason: try protector.open(c.extensionReason), decidedOn: c.decidedOn, upheld: c.upheld,
            finding: try protector.open(c.finding), refusedReason: try protector.open(c.refusedReason),
            statements: statements, overdue: overdue,
            steps: mayHandle(c, p) ? ComplaintStep.allCases.filter {
                ComplaintFlow.next($0, from: state, materialRequested: c.materialRequestedOn != nil, extended: c.extendedOn != nil).isSuccess
            }.map(\.rawValue) : [])
    }

    static func list(status: ComplaintStatus?, open: Bool, for p: Principal, page: PageRequest, on db: any SQLDatabase) async throws -> (rows: [Stored], total: Int) {
        var conditions: [SQLQueryString] = []
        if p.role == .practitioner {
            conditions.append(p.practitionerID.map { "c.practitioner_id = \(bind: $0)" } ?? "1 = 0")
        } else if let c = p.scope.condition(scopeColumns) {
            conditions.append(c)
        }
        if let status { conditions.append("c.status = \(bind: status.rawValue)") }
        if open { conditions.append("c.status IN (\(binds: ComplaintStatus.allCases.filter(\.isOpen).map(\.rawValue)))") }
        let clause: SQLQueryString = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total = try await db.raw("SELECT COUNT(*) AS n FROM complaints c" + clause).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw(SQLQueryString(select) + clause
                                    + " ORDER BY c.registered_on DESC, c.id LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return (rows, total)
    }
}
