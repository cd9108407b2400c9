import Vapor
import Crypto
import Fluent
import SQLKit
import PLSDomain

extension Complaints {
    struct StepInput: Content {
        /// request-material: what is missing; refuse, extend: the reason; decide: the finding told to the complainant.
        var note: String?
        var reason: String?
        /// statement: whose (`complainant`, `respondent`, `witness`) and what they said.
        var party: String?
        var text: String?
        /// decide: whether the complaint is upheld, and the finding.
        var upheld: Bool?
        var finding: String?
    }

    static func take(_ step: ComplaintStep, on id: UUID, _ input: StepInput, by p: Principal, app: Application) async throws -> Stored {
        let sql = app.db as! any SQLDatabase
        let before = try await find(id, on: sql)
        guard visible(before, to: p) else { throw AppError.notFound("投诉") }
        guard mayHandle(before, p) else { throw AppError(.forbidden, "forbidden", "投诉由被投诉方所在县（区）司法局办理") }
        let protector = app.personalData, today = app.today, calendar = app.workingCalendar
        var errors = FieldErrors()
        var set: [(String, any Encodable & Sendable)] = []
        var note: String
        var statement: (party: Party, text: String)?
        switch step {
        case .requestMaterial:
            let what = errors.required(input.note, "note", "需补正的材料", maxLength: 500)
            try errors.throwIfAny()
            set = [("material_requested_on", today.description), ("material_note", try protector.seal(what))]
            note = "通知补正材料：\(what)"
        case .materialReceived:
            set = [("material_received_on", today.description)]
            note = "收到补正材料"
        case .accept:
            set = [("accepted_on", today.description),
                   ("decision_due", rules.decisionDue(from: today, extended: false, on: calendar).description)]
            note = "受理投诉"
        case .refuse:
            let reason = errors.required(input.reason, "reason", "不予受理的理由", maxLength: 1000)
            try errors.throwIfAny()
            set = [("refused_reason", try protector.seal(reason)), ("decided_on", today.description)]
            note = "不予受理：\(reason)"
        case .statement:
            let party = errors.choice(input.party, "party", "陈述人", as: Party.self)
            let text = errors.required(input.text, "text", "陈述内容", maxLength: 4000)
            try errors.throwIfAny()
            note = "记录\(partyNames[party!.rawValue] ?? "")陈述"
            statement = (party!, text)
        case .extend:
            let reason = errors.required(input.reason, "reason", "延长理由", maxLength: 1000)
            try errors.throwIfAny()
            let from = before.acceptedOn.flatMap(CivilDate.init) ?? today
            set = [("extended_on", today.description), ("extension_reason", try protector.seal(reason)),
                   ("decision_due", rules.decisionDue(from: from, extended: true, on: calendar).description)]
            note = "延长办理期限 \(rules.extensionDays) 日：\(reason)"
        case .decide:
            errors.check(input.upheld != nil, "upheld", "请选择投诉是否成立")
            let finding = errors.required(input.finding, "finding", "处理意见", maxLength: 4000)
            try errors.throwIfAny()
            set = [("upheld", input.upheld!), ("finding", try protector.seal(finding)), ("decided_on", today.description)]
            note = input.upheld! ? "投诉成立" : "投诉不成立"
        }
        let finalNote = note, heard = statement, columns = set
        try await app.ledger.write(on: app.db) { w in
            let tx = w.db as! any SQLDatabase
            let c = try await find(id, on: tx)
            let next: ComplaintStatus
            switch ComplaintFlow.next(step, from: c.state, materialRequested: c.materialRequestedOn != nil, extended: c.extendedOn != nil) {
            case .success(let s): next = s
            case .failure(.notNow(let message)): throw AppError.conflict("step_not_allowed", message)
            }
            let now = app.clock.now
            var update = tx.update(schema).set("status", to: next.rawValue).set("updated_at", to: now)
            for (column, value) in columns { update = update.set(SQLIdentifier(column), to: SQLBind(value)) }
            if step == .materialReceived, let from = c.materialRequestedOn.flatMap(CivilDate.init), let registered = CivilDate(c.registeredOn) {
                // The clock stood still from the request to the material (one request only, so one pause).
                let due = rules.acceptDue(registeredOn: registered, paused: .between(from, today, on: calendar), on: calendar)
                update = update.set("accept_due", to: due.description)
                    .set("decision_due", to: rules.decisionDue(from: due, extended: false, on: calendar).description)
            }
            try await update.where("id", .equal, id).run()
            if let heard {
                try await tx.insert(into: "complaint_statements").columns("id", "complaint_id", "party", "text", "recorded_on", "recorded_by", "created_at")
                    .values(SQLBind(UUID()), SQLBind(id), SQLBind(heard.party.rawValue), SQLBind(try protector.seal(heard.text)),
                            SQLBind(today.description), SQLBind(p.displayName), SQLBind(now)).run()
            }
            if let request = c.requestId {
                let r = try await RequestViews.find(request.uuidString, scope: .everything, on: w.db)
                w.append(LedgerEvent(requestID: request, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName,
                                     action: "complaint.\(step.rawValue)", fromStatus: r.status, toStatus: r.status, note: "投诉 \(c.number)：\(finalNote)"))
            }
            try await tell(after: step, c, input: input, upheld: input.upheld ?? false, by: p, app: app, on: w.db, at: now)
        }
        return try await find(id, on: sql)
    }

    enum Party: String, CaseIterable { case complainant, respondent, witness }

    /// The complainant hears of each decision (in writing: the letter page prints it); an upheld complaint goes into the
    /// respondent's credit record and, for a legal aid recipient, to the centre to designate someone else.
    private static func tell(after step: ComplaintStep, _ c: Stored, input: StepInput, upheld: Bool, by p: Principal, app: Application,
                             on db: any Database, at now: Date) async throws {
        let sql = db as! any SQLDatabase
        let phone = c.complainantMobileCipher.flatMap { try? app.personalData.decrypt($0) }.flatMap(MobileNumber.init)
        func tellComplainant(_ text: String) async throws {
            if let account = c.complainantAccountId { try await Notifications.notify(accounts: [account], request: c.requestId, text: text, now: now, on: sql) }
            if let phone { try await app.sendSMS(to: phone, text, on: db, at: now) }
        }
        switch step {
        case .requestMaterial:
            try await tellComplainant("您的投诉 \(c.number) 需补正材料：\(input.note ?? "")。补正后，受理期限重新计算。")
        case .accept:
            try await tellComplainant("您的投诉 \(c.number) 已受理，将于 \(rules.decisionDue(from: app.today, extended: false, on: app.workingCalendar)) 前作出处理决定。")
        case .refuse:
            try await tellComplainant("您的投诉 \(c.number) 不予受理：\(input.reason ?? "")。书面告知可在平台查看和打印。")
        case .extend:
            try await tellComplainant("您的投诉 \(c.number) 办理期限依法延长：\(input.reason ?? "")。")
        case .decide:
            try await tellComplainant("您的投诉 \(c.number) 已作出处理决定（\(upheld ? "投诉成立" : "投诉不成立")），书面决定可在平台查看和打印。")
            if upheld {
                let subject: (kind: CreditRecords.Subject, id: UUID)? = c.practitionerId.map { (.practitioner, $0) } ?? c.institutionId.map { (.institution, $0) }
                if let subject {
                    try await CreditRecords.add(subject: subject.kind, id: subject.id, kind: .upheldComplaint, title: "投诉成立（\(c.number)）",
                                                documentNumber: c.number, decidedOn: app.today, publicUntil: nil, source: c.id, by: p, on: sql, at: now)
                }
                if ComplaintKind(rawValue: c.kind) == .legalAidReplacement, let request = c.requestId {
                    // Art. 56: the centre designates someone else, through the legal aid step (the choice is theirs).
                    _ = try await LegalAidCases.orderReplacement(request: request, complaint: c.number, app: app, on: db, at: now)
                }
            }
        case .materialReceived, .statement:
            break
        }
    }

    // MARK: Deadlines

    /// Acceptance and decision: the county's own steps, escalated to it (there is no institution above it here).
    static func deadlines(dueBy horizon: CivilDate, on db: any SQLDatabase) async throws -> [WatchedDeadline] {
        struct Row: Decodable { var id: UUID; var requestId: UUID?; var number: String; var regionCode: String; var due: String }
        func rows(_ step: String, due: String, statuses: [ComplaintStatus]) async throws -> [Row] {
            try await db.raw("""
                SELECT c.id, c.request_id, c.number, c.region_code, \(unsafeRaw: due) AS due FROM complaints c
                WHERE c.status IN (\(binds: statuses.map(\.rawValue))) AND \(unsafeRaw: due) <= \(bind: horizon.description) AND
                """ + " " + Deadlines.notFinished(subject: "c.id", step: step, due: due) + " ORDER BY due LIMIT 500")
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
        func watched(_ rows: [Row], _ step: String, _ name: String) -> [WatchedDeadline] {
            rows.compactMap { c in
                guard let due = CivilDate(c.due) else { return nil }
                var d = WatchedDeadline(subjectID: c.id, requestID: c.requestId, number: c.number, regionCode: c.regionCode, step: step,
                                        name: name, due: due, institutionID: nil, countyTakesIt: true)
                d.noun = "投诉"
                return d
            }
        }
        return watched(try await rows("complaint.accept", due: "c.accept_due", statuses: [.registered]), "complaint.accept", "投诉受理")
            + watched(try await rows("complaint.decide", due: "c.decision_due", statuses: [.investigating]), "complaint.decide", "投诉处理决定")
    }
}

/// 信用档案 (issue #22, item 6): what the bureau records about institutions and practitioners. Commendations, penalties
/// and sanctions are public for their publication period; upheld complaints and review results are for staff.
enum CreditRecords {
    enum Subject: String, CaseIterable, Sendable, Codable { case institution, practitioner }

    enum Kind: String, CaseIterable, Sendable, Codable, ChineseNamed {
        case commendation
        case administrativePenalty = "administrative_penalty"
        case professionalSanction = "professional_sanction"
        case upheldComplaint = "upheld_complaint"
        case qualityReview = "quality_review"
        case publicInterest = "public_interest"

        var chineseName: String {
            switch self {
            case .commendation: "表彰奖励"
            case .administrativePenalty: "行政处罚"
            case .professionalSanction: "行业惩戒"
            case .upheldComplaint: "投诉成立"
            case .qualityReview: "质量评查"
            case .publicInterest: "公益法律服务"
            }
        }
    }

    /// The decision's document as kept under the data directory (PDF or an image of it).
    struct Document: Sendable { var storedName: String; var contentType: String; var sha256: String }

    @discardableResult
    static func add(subject: Subject, id: UUID, kind: Kind, title: String, documentNumber: String?, decidedOn: CivilDate, publicUntil: CivilDate?,
                    source: UUID?, document: Document? = nil, by p: Principal, on sql: any SQLDatabase, at now: Date) async throws -> UUID {
        let record = UUID()
        try await sql.insert(into: "credit_records")
            .columns("id", "subject_kind", "subject_id", "kind", "title", "document_number", "decided_on", "public_until", "source_id",
                     "document_stored", "document_type", "document_sha256", "created_by", "created_at")
            .values(SQLBind(record), SQLBind(subject.rawValue), SQLBind(id), SQLBind(kind.rawValue), SQLBind(title), SQLBind(documentNumber),
                    SQLBind(decidedOn.description), SQLBind(publicUntil?.description), SQLBind(source),
                    SQLBind(document?.storedName), SQLBind(document?.contentType), SQLBind(document?.sha256), SQLBind(p.accountID), SQLBind(now))
            .run()
        return record
    }

    static func documentDirectory(_ app: Application) -> String { app.settings.dataDirectory + "/credit-documents" }

    /// Checks an uploaded decision document (PDF, JPEG or PNG by its first bytes, at most 10 MB) and writes it, before
    /// any row points at it.
    static func store(document bytes: [UInt8], app: Application) async throws -> Document {
        var errors = FieldErrors()
        if bytes.count > Attachments.maxBytes { errors.add("document", "文书文件不能超过 10 MB") }
        let type = Attachments.sniff(bytes)
        if type == nil { errors.add("document", "文书只能是 PDF、JPG 或 PNG 文件") }
        try errors.throwIfAny()
        let stored = try await Attachments.write(bytes, app: app, directory: documentDirectory(app))
        return Document(storedName: stored, contentType: type!, sha256: Hex.encode(SHA256.hash(data: bytes)))
    }
}

/// The decision documents of credit records (行政处罚决定书, 表彰文件), kept beside the records.
struct M043AddCreditDocuments: AsyncMigration {
    static let fields = ["document_stored", "document_type", "document_sha256"]

    func prepare(on database: any Database) async throws {
        for field in Self.fields {
            try await database.schema("credit_records").field(.definition(name: .key(FieldKey(stringLiteral: field)), dataType: .string, constraints: [])).update()
        }
    }

    func revert(on database: any Database) async throws {
        for field in Self.fields { try await database.schema("credit_records").deleteField(FieldKey(stringLiteral: field)).update() }
    }
}

/// Complaints with their parties' statements, and the credit records.
struct M035CreateComplaintsAndCreditRecords: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Complaints.schema)
            .id()
            .field("number", .string, .required)
            .field("kind", .string, .required)
            .field("channel", .string, .required)
            .field("institution_id", .uuid, .references(Institution.schema, "id"))
            .field("practitioner_id", .uuid, .references(Practitioner.schema, "id"))
            .field("request_id", .uuid, .references(ServiceRequest.schema, "id"))
            .field("region_code", .string, .required)
            .field("complainant_name", .string, .required)
            .field("complainant_mobile_hash", .string)
            .field("complainant_mobile_cipher", .string)
            .field("complainant_mobile_masked", .string, .required)
            .field("complainant_account_id", .uuid)
            .field("content", .string, .required)
            .field("status", .string, .required)
            .field("registered_on", .string, .required)
            .field("accept_due", .string, .required)
            .field("material_requested_on", .string)
            .field("material_note", .string)
            .field("material_received_on", .string)
            .field("accepted_on", .string)
            .field("decision_due", .string, .required)
            .field("extended_on", .string)
            .field("extension_reason", .string)
            .field("decided_on", .string)
            .field("upheld", .bool)
            .field("finding", .string)
            .field("refused_reason", .string)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "number")
            .create()
        try await database.schema("complaint_statements")
            .id()
            .field("complaint_id", .uuid, .required, .references(Complaints.schema, "id", onDelete: .cascade))
            .field("party", .string, .required)
            .field("text", .string, .required)
            .field("recorded_on", .string, .required)
            .field("recorded_by", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("credit_records")
            .id()
            .field("subject_kind", .string, .required)
            .field("subject_id", .uuid, .required)
            .field("kind", .string, .required)
            .field("title", .string, .required)
            .field("document_number", .string)
            .field("decided_on", .string, .required)
            .field("public_until", .string)
            .field("source_id", .uuid)
            .field("created_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "complaints_region_idx").on(Complaints.schema).column("region_code").column("registered_on").run()
        try await sql.create(index: "complaints_status_idx").on(Complaints.schema).column("status").column("registered_on").run()
        try await sql.create(index: "complaint_statements_idx").on("complaint_statements").column("complaint_id").run()
        try await sql.create(index: "credit_subject_idx").on("credit_records").column("subject_kind").column("subject_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("credit_records").delete()
        try await database.schema("complaint_statements").delete()
        try await database.schema(Complaints.schema).delete()
    }
}
