import Vapor
import Fluent
import SQLKit
import Crypto
import PLSDomain
import Spreadsheets

/// 村（居）法律顾问: assignments of lawyers and grassroots legal workers to villages and communities, the
/// service log entered on a phone (or imported from a county's spreadsheet), and the quantified view of
/// hours and items against the plan's targets.
enum VillageAdvisers {
    static let adviserTypes: [PractitionerType] = [.lawyer, .grassrootsLegalWorker]

    // MARK: Assignments

    struct Assignment: Content {
        var id: UUID
        var practitionerId: UUID
        var practitionerName: String
        var regionCode: String
        var regionName: String
        var startOn: String
        var endOn: String?
    }
    struct AssignmentInput: Content { var practitionerId: UUID?; var regionCode: String?; var startOn: String?; var endOn: String? }

    static func assignments(prefix: String, practitioner: UUID?, current: Bool, today: CivilDate, page: PageRequest,
                            on db: any SQLDatabase) async throws -> Paged<Assignment> {
        var filter: SQLQueryString = "WHERE a.region_code LIKE \(bind: prefix + "%")"
        if let practitioner { filter = filter + " AND a.practitioner_id = \(bind: practitioner)" }
        if current { filter = filter + " AND (a.end_on IS NULL OR a.end_on >= \(bind: today.description))" }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM adviser_assignments a " + filter).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw("""
            SELECT a.id, a.practitioner_id, p.name AS practitioner_name, a.region_code, g.name AS region_name, a.start_on, a.end_on
            FROM adviser_assignments a JOIN practitioners p ON p.id = a.practitioner_id JOIN regions g ON g.code = a.region_code
            """ + " " + filter + " ORDER BY a.region_code, a.start_on DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: Assignment.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows, total: total, page: page.page, per: page.per)
    }

    /// County and city administrators assign; one adviser may serve several villages, and a village's
    /// earlier advisers stay on record with their end dates.
    static func assign(_ input: AssignmentInput, by p: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector, today: CivilDate,
                       now: Date, on db: any SQLDatabase) async throws -> Assignment {
        try p.require(p.role == .cityAdmin || p.role == .countyAdmin)
        var errors = FieldErrors()
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        let region = try await RegionController.find(code, on: db)
        if region?.level != RegionLevel.village.rawValue { errors.add("regionCode", "请选择村（社区）") }
        else if !p.scope.includes(regionCode: code) { errors.add("regionCode", "该村（社区）不在您的管辖范围内") }
        var practitioner: PractitionerController.Row?
        if let id = input.practitionerId { practitioner = try? await PractitionerController.find(id, scope: .everything, on: db) }
        if practitioner == nil { errors.add("practitionerId", "请选择律师或基层法律服务工作者") }
        else if !adviserTypes.map(\.rawValue).contains(practitioner!.type) { errors.add("practitionerId", "村（居）法律顾问由律师或基层法律服务工作者担任") }
        else if practitioner!.status != PractitionerStatus.practising.rawValue { errors.add("practitionerId", "\(practitioner!.name)目前不在执业状态") }
        let start = input.startOn?.nilIfEmpty.map(CivilDate.init) ?? today
        if start == nil { errors.add("startOn", "起始日期格式应为 YYYY-MM-DD") }
        var end: CivilDate?
        if let raw = input.endOn?.nilIfEmpty {
            end = CivilDate(raw)
            if end == nil || (start != nil && end! < start!) { errors.add("endOn", "结束日期应不早于起始日期") }
        }
        try errors.throwIfAny()
        let id = UUID()
        let made = Assignment(id: id, practitionerId: practitioner!.id, practitionerName: practitioner!.name, regionCode: code, regionName: region!.name,
                              startOn: start!.description, endOn: end?.description)
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.insert(into: "adviser_assignments").columns("id", "practitioner_id", "region_code", "start_on", "end_on", "created_at")
                .values(SQLBind(id), SQLBind(made.practitionerId), SQLBind(code), SQLBind(made.startOn), SQLBind(made.endOn), SQLBind(now)).run()
            try await AuditLog.record("adviser.assign", target: "\(made.regionName)法律顾问 \(made.practitionerName)", after: made,
                                      by: actor, protector: protector, on: sql, at: now)
        }
        return made
    }

    static func endAssignment(_ id: UUID, on day: CivilDate?, by p: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector,
                              today: CivilDate, now: Date, on db: any SQLDatabase) async throws {
        try p.require(p.role == .cityAdmin || p.role == .countyAdmin)
        struct R: Decodable { var regionCode: String; var startOn: String }
        guard let row = try await db.select().columns("region_code", "start_on").from("adviser_assignments").where("id", .equal, SQLBind(id))
            .first(decoding: R.self, keyDecodingStrategy: .snakeCase), p.scope.includes(regionCode: row.regionCode) else {
            throw AppError.notFound("聘任记录")
        }
        let end = day ?? today
        if end.description < row.startOn { throw AppError.validation(["endOn": "结束日期应不早于起始日期"]) }
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update("adviser_assignments").set("end_on", to: SQLBind(end.description)).where("id", .equal, SQLBind(id)).run()
            try await AuditLog.record("adviser.end", target: "聘任记录 \(id.uuidString.lowercased())（\(row.regionCode)）",
                                      before: ["endOn": nil as String?], after: ["endOn": end.description], by: actor, protector: protector, on: sql, at: now)
        }
    }

    // MARK: The service log

    struct ServiceInput: Content {
        var practitionerId: UUID?
        var regionCode: String?
        var servedOn: String?
        var hours: Double?
        var kind: String?
        var items: Int?
        var people: Int?
        var notes: String?
    }

    struct Service: Content {
        var id: UUID
        var practitionerId: UUID
        var practitionerName: String
        var regionCode: String
        var regionName: String
        var servedOn: String
        var hours: Double
        var kind: String
        var kindName: String
        var items: Int
        var people: Int
        var notes: String?
        var requestId: UUID?
        /// The photos of the visit, by id (`…/services/{id}/photos/{photoId}`).
        var photoIds: [UUID] = []
    }

    struct ValidService: Sendable {
        var practitioner: UUID
        var regionCode: String
        var entry: AdviserServiceEntry
        var notes: String?
    }

    /// Checks one entry: the numbers, and that the adviser served that village on that day. `field` prefixes
    /// the field names (an import names its columns).
    /// Advisers' assignments (village and term), loaded once for a whole sheet rather than once per row.
    struct Assignments: Sendable {
        struct Term: Decodable, Sendable { var practitionerId: UUID; var regionCode: String; var startOn: String; var endOn: String? }
        var terms: [UUID: [Term]] = [:]

        static func load(for practitioners: Set<UUID>, on db: any SQLDatabase) async throws -> Assignments {
            var a = Assignments()
            guard !practitioners.isEmpty else { return a }
            for t in try await db.select().columns("practitioner_id", "region_code", "start_on", "end_on").from("adviser_assignments")
                .where("practitioner_id", .in, SQLBind.group(Array(practitioners))).all(decoding: Term.self, keyDecodingStrategy: .snakeCase) {
                a.terms[t.practitionerId, default: []].append(t)
            }
            return a
        }

        func serves(_ practitioner: UUID, _ code: String, on day: CivilDate) -> Bool {
            (terms[practitioner] ?? []).contains { $0.regionCode == code && $0.startOn <= day.description && ($0.endOn.map { $0 >= day.description } ?? true) }
        }
    }

    static func validate(_ input: ServiceInput, by p: Principal, today: CivilDate, assignments: Assignments,
                         errors: inout FieldErrors) -> ValidService? {
        // An adviser logs their own service; a clerk or administrator may log it for them.
        let practitioner = p.role == .practitioner ? p.practitionerID : input.practitionerId
        if practitioner == nil { errors.add("practitionerId", "请选择法律顾问") }
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        if code.isEmpty { errors.add("regionCode", "请选择服务的村（社区）") }
        let day = input.servedOn?.nilIfEmpty.map(CivilDate.init) ?? today
        if day == nil { errors.add("servedOn", "服务日期格式应为 YYYY-MM-DD") }
        let kind = errors.choice(input.kind, "kind", "服务类型", as: AdviserServiceKind.self)
        let notes = errors.optional(input.notes, "notes", "服务情况", maxLength: 1000)
        guard let hours = input.hours else { errors.add("hours", "请填写服务时长（小时）"); return nil }
        let items = input.items ?? 1, people = input.people ?? 0
        if let day {
            for problem in AdviserServiceEntry.problems(day: day, hours: hours, items: items, people: people, today: today) {
                errors.add(problem.field, problem.message)
            }
        }
        guard let practitioner, let day, let kind, !code.isEmpty else { return nil }
        if p.role != .practitioner, !p.scope.includes(regionCode: code) && p.role != .cityAdmin {
            errors.add("regionCode", "该村（社区）不在您的管辖范围内")
        }
        if !assignments.serves(practitioner, code, on: day) { errors.add("regionCode", "该顾问在 \(day) 未受聘于该村（社区）") }
        return ValidService(practitioner: practitioner, regionCode: code,
                            entry: AdviserServiceEntry(day: day, hours: hours, kind: kind, items: items, people: people), notes: notes)
    }

    static func insert(_ v: ValidService, by p: Principal, now: Date, on db: any SQLDatabase) async throws -> UUID {
        let id = UUID()
        try await db.insert(into: "adviser_services")
            .columns("id", "practitioner_id", "region_code", "served_on", "hours", "kind", "items", "people", "notes", "entered_by", "created_at")
            .values(SQLBind(id), SQLBind(v.practitioner), SQLBind(v.regionCode), SQLBind(v.entry.day.description), SQLBind(v.entry.hours),
                    SQLBind(v.entry.kind.rawValue), SQLBind(v.entry.items), SQLBind(v.entry.people), SQLBind(v.notes), SQLBind(p.accountID), SQLBind(now)).run()
        return id
    }

    static func log(_ input: ServiceInput, photos: [[UInt8]] = [], by p: Principal, today: CivilDate, now: Date, app: Application) async throws -> Service {
        try p.require(p.role.isStaff && !p.role.isReadOnly && p.role != .hotlineOperator)
        let db = app.db as! any SQLDatabase
        var errors = FieldErrors()
        let practitioner = p.role == .practitioner ? p.practitionerID : input.practitionerId
        let valid = validate(input, by: p, today: today, assignments: try await Assignments.load(for: Set([practitioner].compactMap { $0 }), on: db),
                             errors: &errors)
        checkPhotos(photos, adding: 0, errors: &errors)
        try errors.throwIfAny()
        // The files first, then the entry and its photos in one transaction; a failed write leaves no files behind.
        let stored = try await store(photos, app: app)
        let entry = valid!
        let id: UUID
        do {
            id = try await app.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                let id = try await insert(entry, by: p, now: now, on: sql)
                try await insertPhotos(stored, service: id, now: now, on: sql)
                return id
            }
        } catch {
            for s in stored { Attachments.remove(s.storedName, app: app) }
            throw error
        }
        return try await service(id, on: db)!
    }

    // MARK: Photos

    static let maxPhotos = 3
    /// A visit's form with its photos (three phone photos, each at most the size `checkPhotos` allows).
    static let uploadLimit = 32 * 1024 * 1024

    struct StoredPhoto: Sendable { var storedName: String; var contentType: String; var size: Int; var sha256: String }

    /// Photos are JPEG or PNG (by their first bytes), at most 10 MB each and three to an entry.
    static func checkPhotos(_ photos: [[UInt8]], adding existing: Int, errors: inout FieldErrors) {
        if existing + photos.count > maxPhotos { errors.add("photos", "每条服务记录最多 \(maxPhotos) 张照片") }
        for (i, bytes) in photos.enumerated() {
            if bytes.count > Attachments.maxBytes { errors.add("photos", "第 \(i + 1) 张照片超过 10 MB") }
            else if !["image/jpeg", "image/png"].contains(Attachments.sniff(bytes) ?? "") { errors.add("photos", "第 \(i + 1) 个文件不是 JPG 或 PNG 照片") }
        }
    }

    static func store(_ photos: [[UInt8]], app: Application) async throws -> [StoredPhoto] {
        var stored: [StoredPhoto] = []
        do {
            for bytes in photos {
                stored.append(StoredPhoto(storedName: try await Attachments.write(bytes, app: app), contentType: Attachments.sniff(bytes)!,
                                          size: bytes.count, sha256: Hex.encode(SHA256.hash(data: bytes))))
            }
        } catch {
            for s in stored { Attachments.remove(s.storedName, app: app) }
            throw error
        }
        return stored
    }

    static func insertPhotos(_ photos: [StoredPhoto], service id: UUID, now: Date, on db: any SQLDatabase) async throws {
        for s in photos {
            try await db.insert(into: "adviser_service_photos").columns("id", "service_id", "content_type", "size", "sha256", "stored_name", "created_at")
                .values(SQLBind(UUID()), SQLBind(id), SQLBind(s.contentType), SQLBind(s.size), SQLBind(s.sha256), SQLBind(s.storedName), SQLBind(now)).run()
        }
    }

    /// Adds photos to an entry already logged, by those who may see it.
    static func addPhotos(_ id: UUID, _ photos: [[UInt8]], by p: Principal, now: Date, app: Application) async throws -> Service {
        try p.require(p.role.isStaff && !p.role.isReadOnly && p.role != .hotlineOperator)
        let db = app.db as! any SQLDatabase
        guard let s = try await services(filter: scopeFilter(p) + " AND s.id = \(bind: id)", page: PageRequest(page: 1, per: 1), on: db).items.first else {
            throw AppError.notFound("服务记录")
        }
        var errors = FieldErrors()
        if photos.isEmpty { errors.add("photos", "请选择照片") }
        checkPhotos(photos, adding: s.photoIds.count, errors: &errors)
        try errors.throwIfAny()
        let stored = try await store(photos, app: app)
        do {
            try await app.db.atomic { tx in
                let sql = tx as! any SQLDatabase
                // Counted again inside the write: two uploads at once must not pass three between them.
                let n = try await sql.raw("SELECT COUNT(*) AS n FROM adviser_service_photos WHERE service_id = \(bind: id)").first(decodingColumn: "n", as: Int.self) ?? 0
                if n + stored.count > maxPhotos { throw AppError.validation(["photos": "每条服务记录最多 \(maxPhotos) 张照片"]) }
                try await insertPhotos(stored, service: id, now: now, on: sql)
            }
        } catch {
            for s in stored { Attachments.remove(s.storedName, app: app) }
            throw error
        }
        return try await service(id, on: db)!
    }

    /// One photo, to those who may see its entry.
    static func photo(_ req: Request, service id: UUID, photo: UUID) async throws -> Response {
        let p = try req.staff()
        guard try await services(filter: scopeFilter(p) + " AND s.id = \(bind: id)", page: PageRequest(page: 1, per: 1), on: req.sql).items.first != nil else {
            throw AppError.notFound("服务记录")
        }
        struct Stored: Decodable { var contentType: String; var storedName: String }
        guard let a = try await req.sql.select().columns("content_type", "stored_name").from("adviser_service_photos")
            .where("id", .equal, SQLBind(photo)).where("service_id", .equal, SQLBind(id))
            .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("照片") }
        let response = try await req.fileio.asyncStreamFile(at: Attachments.directory(req.application) + "/" + a.storedName)
        response.headers.contentType = a.contentType == "image/png" ? .png : .jpeg
        response.headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=86400")
        return response
    }

    static func service(_ id: UUID, on db: any SQLDatabase) async throws -> Service? {
        try await services(filter: "WHERE s.id = \(bind: id)", page: PageRequest(page: 1, per: 1), on: db).items.first
    }

    static func services(filter: SQLQueryString, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<Service> {
        struct R: Decodable {
            var id: UUID; var practitionerId: UUID; var practitionerName: String; var regionCode: String; var regionName: String; var servedOn: String
            var hours: Double; var kind: String; var items: Int; var people: Int; var notes: String?; var requestId: UUID?
        }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM adviser_services s " + filter).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw("""
            SELECT s.id, s.practitioner_id, p.name AS practitioner_name, s.region_code, g.name AS region_name, s.served_on, s.hours, s.kind,
                   s.items, s.people, s.notes, s.request_id
            FROM adviser_services s JOIN practitioners p ON p.id = s.practitioner_id JOIN regions g ON g.code = s.region_code
            """ + " " + filter + " ORDER BY s.served_on DESC, s.created_at DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        // The page's photos in one query.
        var photos: [UUID: [UUID]] = [:]
        if !rows.isEmpty {
            struct Ph: Decodable { var id: UUID; var serviceId: UUID }
            for ph in try await db.select().columns("id", "service_id").from("adviser_service_photos")
                .where("service_id", .in, SQLBind.group(rows.map(\.id))).orderBy("created_at")
                .all(decoding: Ph.self, keyDecodingStrategy: .snakeCase) { photos[ph.serviceId, default: []].append(ph.id) }
        }
        return Paged(items: rows.map {
            Service(id: $0.id, practitionerId: $0.practitionerId, practitionerName: $0.practitionerName, regionCode: $0.regionCode,
                    regionName: $0.regionName, servedOn: $0.servedOn, hours: $0.hours, kind: $0.kind,
                    kindName: AdviserServiceKind(rawValue: $0.kind)?.chineseName ?? $0.kind, items: $0.items, people: $0.people, notes: $0.notes,
                    requestId: $0.requestId, photoIds: photos[$0.id] ?? [])
        }, total: total, page: page.page, per: page.per)
    }

    /// What a principal's log lists cover: an adviser their own entries, others their area.
    static func scopeFilter(_ p: Principal) -> SQLQueryString {
        switch p.scope {
        case .everything: return "WHERE 1 = 1"
        case .region(let code): return "WHERE s.region_code LIKE \(bind: code.scopePrefix + "%")"
        case .institution(let id):
            if p.role == .practitioner, let me = p.practitionerID { return "WHERE s.practitioner_id = \(bind: me)" }
            return "WHERE s.practitioner_id IN (SELECT id FROM practitioners WHERE institution_id = \(bind: id))"
        case .own: return "WHERE 1 = 0"
        }
    }

    /// Who is to be served when a visit is carried on: the person met, how to reach them, and what the matter is about.
    struct Carry: Sendable {
        var description: String?
        var name: String?
        var mobile: String?
        var category: String?
    }

    /// The person's fields checked before anything is saved (the log page checks them before logging the hours).
    static func checkCarry(_ c: Carry, kind: AdviserServiceKind?) -> [String: String] {
        var errors = FieldErrors()
        _ = errors.required(c.name, "personName", "当事人姓名", maxLength: 50)
        if MobileNumber(c.mobile ?? "") == nil { errors.add("personMobile", "请填写当事人的 11 位手机号码，承办人员据此联系") }
        if kind?.becomes == .mediation, (c.category ?? "").isEmpty { errors.add("category", "纠纷须选择类别（如邻里纠纷）") }
        else if let raw = c.category?.nilIfEmpty, Category(rawValue: raw) == nil { errors.add("category", "类别取值无效") }
        return errors.fields
    }

    /// A consultation or dispute met on a visit becomes a service request in one step, linked to the entry: in the
    /// person's own name and number, through the adviser's channel, a dispute under its category.
    static func toRequest(_ id: UUID, _ carry: Carry, by p: Principal, app: Application) async throws -> ServiceRequest {
        // Those who may log (the adviser, clerks and administrators of the area) may carry a visit on.
        try p.require(p.role.isStaff && !p.role.isReadOnly && ![.hotlineOperator, .institutionAdmin].contains(p.role))
        let db = app.db as! any SQLDatabase
        guard let s = try await services(filter: scopeFilter(p) + " AND s.id = \(bind: id)", page: PageRequest(page: 1, per: 1), on: db).items.first else {
            throw AppError.notFound("服务记录")
        }
        guard s.requestId == nil else { throw AppError.conflict("already_converted", "该服务记录已转为事项") }
        guard let matter = AdviserServiceKind(rawValue: s.kind)?.becomes else {
            throw AppError.conflict("not_convertible", "只有法律咨询和矛盾纠纷可以转为事项")
        }
        let problems = checkCarry(carry, kind: AdviserServiceKind(rawValue: s.kind))
        if !problems.isEmpty { throw AppError.validation(problems) }
        let desk = p.asIntakeDesk(region: DivisionCode(s.regionCode), institution: p.institutionID)
        let valid = try await Intake.validate(Intake.Input(
            matterType: matter.rawValue, itemCode: nil, category: carry.category?.nilIfEmpty ?? Category.other.rawValue,
            channel: RequestChannel.villageAdviser.rawValue,
            description: carry.description?.nilIfEmpty ?? s.notes ?? "\(s.regionName)法律顾问\(s.servedOn)服务中发现：\(s.kindName)",
            applicant: .init(name: carry.name, mobile: carry.mobile, idNumber: nil), priorityGroups: nil, regionCode: s.regionCode,
            externalReference: nil, accept: true, answer: nil), by: desk, today: app.today, regions: app.regionDirectory, on: db)
        let created = try await Intake.create(valid, by: desk, idempotencyKey: "adviser-service-\(id)", app: app, on: app.db) { r, w in
            let sql = w.db as! any SQLDatabase
            // Read again inside the write: a clerk may have carried the same visit on a moment ago.
            let linked = try await sql.select().column("request_id").from("adviser_services").where("id", .equal, SQLBind(id))
                .first(decodingColumn: "request_id", as: UUID?.self)
            if linked != nil, linked! != nil { throw AppError.conflict("already_converted", "该服务记录已转为事项") }
            try await sql.update("adviser_services").set("request_id", to: SQLBind(r.id!)).where("id", .equal, SQLBind(id)).run()
            if matter == .mediation { try await MediationCases.newApplicationCase(for: r, app: app, on: w.db) }
        }
        return created.request
    }

    // MARK: Quantified management

    struct VillageFigure: Content {
        var code: String
        var name: String
        var adviserNames: String
        /// The adviser named (the first by name where several serve the village).
        var adviserId: UUID?
        var hours: Double
        var items: Int
        var pace: Double
        var behind: Bool
        var met: Bool
    }

    /// Each village and community of the region with this year's hours and items against 50 hours and the pace.
    static func villages(prefix: String, today: CivilDate, behindOnly: Bool, page: PageRequest, on db: any SQLDatabase) async throws -> Paged<VillageFigure> {
        let first = "\(today.year)-01-01", last = "\(today.year)-12-31"
        struct R: Decodable { var code: String; var name: String; var hours: Double?; var items: Int?; var advisers: String?; var adviserId: UUID? }
        let pace = AdviserTargets.pace(AdviserTargets.hoursPerVillage, on: today)
        let hoursExpr: SQLQueryString = "(SELECT SUM(s.hours) FROM adviser_services s WHERE s.region_code = g.code AND s.served_on >= \(bind: first) AND s.served_on <= \(bind: last))"
        var filter: SQLQueryString = "WHERE g.level = \(bind: RegionLevel.village.rawValue) AND g.active = \(bind: true) AND g.code LIKE \(bind: prefix + "%")"
        if behindOnly { filter = filter + " AND COALESCE(" + hoursExpr + ", 0) < \(bind: (pace * 10).rounded(.down) / 10)" }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM regions g " + filter).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw("SELECT g.code, g.name, " + hoursExpr + """
             AS hours,
                   (SELECT CAST(SUM(s.items) AS BIGINT) FROM adviser_services s WHERE s.region_code = g.code AND s.served_on >= \(bind: first) AND s.served_on <= \(bind: last)) AS items,
                   (SELECT p.name FROM adviser_assignments a JOIN practitioners p ON p.id = a.practitioner_id
                     WHERE a.region_code = g.code AND (a.end_on IS NULL OR a.end_on >= \(bind: today.description)) ORDER BY p.name, p.id LIMIT 1) AS advisers,
                   (SELECT p.id FROM adviser_assignments a JOIN practitioners p ON p.id = a.practitioner_id
                     WHERE a.region_code = g.code AND (a.end_on IS NULL OR a.end_on >= \(bind: today.description)) ORDER BY p.name, p.id LIMIT 1) AS adviser_id
            FROM regions g
            """ + " " + filter + " ORDER BY COALESCE(" + hoursExpr + ", 0), g.code LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: rows.map { r in
            let hours = r.hours ?? 0
            return VillageFigure(code: r.code, name: r.name, adviserNames: r.advisers ?? "（未聘请）", adviserId: r.adviserId, hours: (hours * 10).rounded() / 10, items: r.items ?? 0,
                                 pace: (pace * 10).rounded() / 10, behind: AdviserTargets.isBehind(hours, annual: AdviserTargets.hoursPerVillage, on: today),
                                 met: hours >= AdviserTargets.hoursPerVillage)
        }, total: total, page: page.page, per: page.per)
    }

    struct AdviserSummary: Content {
        struct Village: Content {
            var code: String; var name: String; var hours: Double; var items: Int; var pace: Double; var behind: Bool
            /// Still theirs today (a village they left this year keeps its hours in their totals).
            var current: Bool
        }
        var practitionerId: UUID
        var name: String
        var villages: [Village]
        var hours: Double
        var items: Int
    }

    static func adviser(_ id: UUID, today: CivilDate, on db: any SQLDatabase) async throws -> AdviserSummary {
        let prac = try await PractitionerController.find(id, scope: .everything, on: db)
        let first = "\(today.year)-01-01", last = "\(today.year)-12-31"
        struct R: Decodable { var code: String; var name: String; var hours: Double?; var items: Int?; var current: Int }
        let rows = try await db.raw("""
            SELECT g.code, g.name,
                   (SELECT COUNT(*) FROM adviser_assignments a WHERE a.region_code = g.code AND a.practitioner_id = \(bind: id)
                      AND a.start_on <= \(bind: today.description) AND (a.end_on IS NULL OR a.end_on >= \(bind: today.description))) AS current,
                   (SELECT SUM(s.hours) FROM adviser_services s WHERE s.region_code = g.code AND s.practitioner_id = \(bind: id)
                      AND s.served_on >= \(bind: first) AND s.served_on <= \(bind: last)) AS hours,
                   (SELECT CAST(SUM(s.items) AS BIGINT) FROM adviser_services s WHERE s.region_code = g.code AND s.practitioner_id = \(bind: id)
                      AND s.served_on >= \(bind: first) AND s.served_on <= \(bind: last)) AS items
            FROM regions g WHERE g.code IN (SELECT region_code FROM adviser_assignments WHERE practitioner_id = \(bind: id)
                                             AND start_on <= \(bind: today.description) AND (end_on IS NULL OR end_on >= \(bind: today.description)))
               OR g.code IN (SELECT region_code FROM adviser_services WHERE practitioner_id = \(bind: id)
                                             AND served_on >= \(bind: first) AND served_on <= \(bind: last))
            ORDER BY g.code
            """).all(decoding: R.self)
        let pace = AdviserTargets.pace(AdviserTargets.hoursPerVillage, on: today)
        let villages = rows.map { r in
            AdviserSummary.Village(code: r.code, name: r.name, hours: ((r.hours ?? 0) * 10).rounded() / 10, items: r.items ?? 0,
                                   pace: (pace * 10).rounded() / 10,
                                   behind: AdviserTargets.isBehind(r.hours ?? 0, annual: AdviserTargets.hoursPerVillage, on: today), current: r.current > 0)
        }
        return AdviserSummary(practitionerId: id, name: prac.name, villages: villages, hours: villages.reduce(0) { $0 + $1.hours },
                              items: villages.reduce(0) { $0 + $1.items })
    }

    struct MonthlyRow: Content { var county: String; var countyName: String; var hours: Double; var items: Int; var people: Int; var villagesServed: Int }

    /// The monthly report per county: hours, items, people and villages served in the month.
    static func monthly(year: Int, month: Int, prefix: String, on db: any SQLDatabase) async throws -> [MonthlyRow] {
        let from = CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-01", to = CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-31"
        struct R: Decodable { var county: String; var countyName: String?; var hours: Double?; var items: Int; var people: Int; var villages: Int }
        return try await db.raw("""
            SELECT SUBSTR(s.region_code, 1, 6) || '000000' AS county, g.name AS county_name, SUM(s.hours) AS hours,
                   CAST(SUM(s.items) AS BIGINT) AS items, CAST(SUM(s.people) AS BIGINT) AS people, COUNT(DISTINCT s.region_code) AS villages
            FROM adviser_services s LEFT JOIN regions g ON g.code = SUBSTR(s.region_code, 1, 6) || '000000'
            WHERE s.served_on >= \(bind: from) AND s.served_on <= \(bind: to) AND s.region_code LIKE \(bind: prefix + "%")
            GROUP BY SUBSTR(s.region_code, 1, 6) || '000000', g.name ORDER BY county
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            MonthlyRow(county: $0.county, countyName: $0.countyName ?? $0.county, hours: (($0.hours ?? 0) * 10).rounded() / 10, items: $0.items,
                       people: $0.people, villagesServed: $0.villages)
        }
    }

    // MARK: Spreadsheets

    /// The service log's column layout, for import and export alike.
    static let columns = ["licence_number", "village_code", "served_on", "hours", "kind", "items", "people", "notes"]

    struct ImportFailure: Content { var line: Int; var message: String }

    struct ImportResult: Content { var imported: Int; var errors: [ImportFailure] }

    /// Every row is checked first; one bad row and nothing is imported, each bad row named with its reason.
    static func importServices(_ file: ByteBuffer?, by p: Principal, today: CivilDate, now: Date, app: Application) async throws -> ImportResult {
        try p.require([.cityAdmin, .countyAdmin, .windowClerk].contains(p.role))
        let db = app.db as! any SQLDatabase
        let (rows, firstLine) = try SheetFile.records(file, columns: columns)
        struct P: Decodable { var id: UUID; var licenceNumber: String }
        let licences = Set(rows.compactMap { $0.first?.trimmingCharacters(in: .whitespaces) })
        var byLicence: [String: UUID] = [:]
        if !licences.isEmpty {
            for r in try await db.select().columns("id", "licence_number").from(Practitioner.schema).where("licence_number", .in, SQLBind.group(Array(licences)))
                .all(decoding: P.self, keyDecodingStrategy: .snakeCase) { byLicence[r.licenceNumber] = r.id }
        }
        let assignments = try await Assignments.load(for: Set(byLicence.values), on: db)
        var failures: [ImportFailure] = [], valid: [ValidService] = []
        for (i, cells) in rows.enumerated() {
            let line = firstLine + i
            // Empty rows (a spreadsheet's trailing ",,,,,,,") are skipped but keep the numbering.
            if CSVTable.isBlank(cells) { continue }
            guard cells.count == columns.count else {
                failures.append(.init(line: line, message: "应有 \(columns.count) 列（\(columns.joined(separator: ","))），实有 \(cells.count) 列"))
                continue
            }
            let c = cells.map { $0.trimmingCharacters(in: .whitespaces) }
            guard let practitioner = byLicence[c[0]] else { failures.append(.init(line: line, message: "执业证号“\(c[0])”不存在")); continue }
            var errors = FieldErrors()
            if Double(c[3]) == nil { errors.add("hours", "服务时长“\(c[3])”不是数字") }
            if !c[5].isEmpty, Int(c[5]) == nil { errors.add("items", "服务件数“\(c[5])”不是整数") }
            if !c[6].isEmpty, Int(c[6]) == nil { errors.add("people", "服务人数“\(c[6])”不是整数") }
            let input = ServiceInput(practitionerId: practitioner, regionCode: c[1], servedOn: c[2].isEmpty ? "-" : c[2], hours: Double(c[3]), kind: c[4],
                                     items: c[5].isEmpty ? 1 : Int(c[5]), people: c[6].isEmpty ? 0 : Int(c[6]), notes: c[7])
            let row = validate(input, by: p, today: today, assignments: assignments, errors: &errors)
            if errors.fields.isEmpty, let row { valid.append(row) } else {
                failures.append(.init(line: line, message: errors.fields.sorted { $0.key < $1.key }.map(\.value).joined(separator: "；")))
            }
        }
        if !failures.isEmpty { return ImportResult(imported: 0, errors: failures) }
        let entries = valid
        try await app.db.atomic { tx in
            for v in entries { _ = try await insert(v, by: p, now: now, on: tx as! any SQLDatabase) }
        }
        return ImportResult(imported: entries.count, errors: [])
    }

    /// The export's numeric columns: hours, items, people.
    static let numericColumns: Set<Int> = [3, 5, 6]

    /// The header and the rows of the log, in the import's layout, so that an export re-imports unchanged.
    static func exportServices(filter: SQLQueryString, on db: any SQLDatabase) async throws -> [[String]] {
        struct R: Decodable { var licenceNumber: String; var regionCode: String; var servedOn: String; var hours: Double; var kind: String; var items: Int; var people: Int; var notes: String? }
        let rows = try await db.raw("""
            SELECT p.licence_number, s.region_code, s.served_on, s.hours, s.kind, s.items, s.people, s.notes
            FROM adviser_services s JOIN practitioners p ON p.id = s.practitioner_id
            """ + " " + filter + " ORDER BY s.served_on, s.created_at LIMIT 20000").all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return [columns] + rows.map { r in
            [r.licenceNumber, r.regionCode, r.servedOn, r.hours == r.hours.rounded() ? String(Int(r.hours)) : String(r.hours), r.kind,
             String(r.items), String(r.people), r.notes ?? ""]
        }
    }
}
