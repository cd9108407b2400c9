import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Criminal legal aid: notices of notified defence from courts, procuratorates and public security
/// (arts. 25, 36) and the duty lawyers at their stations (arts. 14, 30).
enum CriminalLegalAid {
    // MARK: Notified defence

    struct NoticeInput: Content {
        var organ: String?
        var organName: String?
        var letterNumber: String?
        var suspectName: String?
        var suspectIdNumber: String?
        var charge: String?
        var stage: String?
        var detentionPlace: String?
        var reason: String?
        var regionCode: String?
        /// The organ's contact (the case officer's mobile), for the letter back; optional.
        var contactMobile: String?
        var note: String?
    }

    /// The stages each organ notifies in.
    static func stages(of organ: NotifyingOrgan) -> [AidStage] {
        switch organ {
        case .publicSecurity: [.investigation]
        case .procuratorate: [.investigation, .prosecution]
        case .court: [.firstInstance, .secondInstance, .deathPenaltyReview, .retrial]
        }
    }

    /// Records the notice as an accepted legal aid request: no application and no means test (art. 25), a lawyer
    /// to be designated within three days (art. 36). The same letter sent twice returns the first record.
    static func receive(_ input: NoticeInput, by p: Principal, app: Application) async throws -> (ServiceRequest, replayed: Bool) {
        try p.require(RequestLifecycle.dispatchers.contains(p.role) && p.role != .institutionAdmin)
        let db = app.db as! any SQLDatabase
        let today = app.today
        var errors = FieldErrors()
        let organ = errors.choice(input.organ, "organ", "通知机关类别", as: NotifyingOrgan.self)
        let organName = errors.required(input.organName, "organName", "通知机关名称", maxLength: 60)
        let letter = errors.required(input.letterNumber, "letterNumber", "通知书文号", maxLength: 60)
        let name = errors.required(input.suspectName, "suspectName", "犯罪嫌疑人、被告人姓名", maxLength: 40)
        let charge = errors.required(input.charge, "charge", "涉嫌罪名", maxLength: 60)
        let stage = errors.choice(input.stage, "stage", "诉讼阶段", as: AidStage.self)
        if let organ, let stage, !stages(of: organ).contains(stage) { errors.add("stage", "\(organ.chineseName)不在“\(stage.chineseName)”通知辩护") }
        let place = errors.optional(input.detentionPlace, "detentionPlace", "羁押场所", maxLength: 60)
        let reason = errors.choice(input.reason, "reason", "通知辩护的情形（第二十五条）", as: NotifiedDefenceReason.self)
        let note = errors.optional(input.note, "note", "备注", maxLength: 500)
        var mobile: MobileNumber?
        if let raw = input.contactMobile?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            mobile = MobileNumber(raw)
            if mobile == nil { errors.add("contactMobile", "请输入正确的 11 位手机号码") }
        }
        var id: IDNumber?
        if let raw = input.suspectIdNumber?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            switch IDNumber.validate(raw, today: today) {
            case .success(let v): id = v
            case .failure(let problem): errors.add("suspectIdNumber", problem.message)
            }
        }
        let regionCode = try await RegionNames.code(for: input.regionCode, on: db) ?? ""
        if let region = try await RegionController.find(regionCode, on: db), region.active, region.level != RegionLevel.city.rawValue {
            if case .region(let scope) = p.scope, !scope.contains(DivisionCode(regionCode)!) { errors.add("regionCode", "该区划不在您的管辖范围内") }
        } else {
            errors.add("regionCode", "请选择通知机关所在的县（区）")
        }
        try errors.throwIfAny()
        if let replay = try await existingNotice(organName: organName, letter: letter, scope: p.scope, app: app) { return (replay, true) }
        var groups = reason!.priorityGroup.map { [$0] } ?? []
        if let id, id.age(on: today) < 18, !groups.contains(.minor) { groups.append(.minor) }
        let valid = Intake.Valid(matterType: .legalAid, itemCode: "legal_aid.criminal", category: .criminal, channel: .referral,
                                 description: "\(organName)通知辩护（\(letter)）：\(name)涉嫌\(charge)，\(stage!.chineseName)；\(reason!.chineseName)"
                                    + (place.map { "；羁押于\($0)" } ?? "") + (note.map { "。\($0)" } ?? ""),
                                 // The suspect has no number of their own here; the officer's is kept on the case, never as the applicant's.
                                 name: name, mobile: nil, id: id, priorityGroups: groups, regionCode: regionCode,
                                 externalReference: letter, accept: false, answer: nil)
        let contactCipher = try mobile.map { try app.personalData.encrypt($0.digits) }
        let contactMasked = mobile?.masked
        let created: Intake.Created
        do {
          created = try await Intake.create(valid, by: p, idempotencyKey: nil, app: app, on: app.db) { r, w in
            // Checked again inside the write: the same letter sent twice at once is still one case.
            if try await w.db.query(LegalAidCase.self).filter(\.$organName == organName).filter(\.$letterNumber == letter).first() != nil {
                throw DuplicateNotice()
            }
            let c = try await LegalAidCases.newCase(for: r, kind: .criminal, app: app, on: w.db)
            c.contactCipher = contactCipher
            c.contactMasked = contactMasked
            c.notifyingOrgan = organ!.rawValue
            c.organName = organName
            c.letterNumber = letter
            c.charge = charge
            c.detentionPlace = place
            c.noticeReason = reason!.rawValue
            c.stage = stage!.rawValue
            c.meansTest = MeansTest.notRequired.rawValue
            c.eligibleAtIntake = true
            c.decision = "granted"
            c.decidedOn = today.description
            let rules = try await LegalAidSettings.rules(on: w.db as! any SQLDatabase)
            c.designationDue = rules[.notifiedDesignation]!.due(from: today, on: app.workingCalendar).description
            try await c.create(on: w.db)
            try await RequestActions.apply(.accept, to: r, input: .init(note: "收到\(organ!.chineseName)通知辩护，无需审查经济状况（\(reason!.article)），应于 \(c.designationDue!) 前指派律师（法律援助法第三十六条）"
                                               + (reason!.requiresSeniorLawyer ? "；须指派具有三年以上相关执业经历的律师（第二十六条）" : "")),
                                           by: p, writer: w, app: app, now: app.clock.now)
          }
        } catch is DuplicateNotice {
            guard let replay = try await existingNotice(organName: organName, letter: letter, scope: p.scope, app: app) else {
                throw AppError.conflict("duplicate_notice", "该通知书已登记")
            }
            return (replay, true)
        }
        return (created.request, false)
    }

    private struct DuplicateNotice: Error {}

    /// The case a letter was already recorded as; another county's is a conflict, not something to show.
    static func existingNotice(organName: String, letter: String, scope: DataScope, app: Application) async throws -> ServiceRequest? {
        guard let c = try await LegalAidCase.query(on: app.db).filter(\.$organName == organName).filter(\.$letterNumber == letter).first(),
              let r = try await ServiceRequest.find(c.id, on: app.db) else { return nil }
        guard RequestViews.visible(r, in: scope) else {
            throw AppError.conflict("duplicate_notice", "该通知书（\(letter)）已由其他县（区）登记为 \(r.number)")
        }
        return r
    }

    // MARK: Duty lawyers

    struct Station: Content { var id: UUID; var name: String; var kind: String; var kindName: String; var regionCode: String; var active: Bool }
    struct StationInput: Content { var name: String?; var kind: String?; var regionCode: String? }

    static let stationColumns = ScopeColumns(region: "region_code", institution: nil, owner: nil)

    /// Who may see the stations and the people waiting there: the legal aid centres and bureaus of the
    /// region, and the duty lawyers themselves (criminal roster lawyers may stand duty anywhere). The region
    /// prefix they see, or 403.
    static func dutyPrefix(_ p: Principal, on db: any SQLDatabase) async throws -> String {
        switch p.scope {
        case .everything: return ""
        case .region(let code): return code.scopePrefix
        case .own: throw AppError.forbidden
        case .institution:
            guard p.role == .practitioner, let id = p.practitionerID, try await db.raw("""
                SELECT COUNT(*) AS n FROM legal_aid_roster WHERE practitioner_id = \(bind: id) AND active = \(bind: true) AND criminal = \(bind: true)
                """).first(decodingColumn: "n", as: Int.self) == 1 else {
                throw AppError(.forbidden, "forbidden", "只有法律援助机构和值班律师可以查看值班律师工作站")
            }
            return ""
        }
    }

    /// A duty lawyer sees the stations they are on the rota of, not every station of the city.
    static func dutyLawyer(_ p: Principal) -> UUID? { p.role == .practitioner ? p.practitionerID : nil }

    static func stations(prefix: String, lawyer: UUID? = nil, on db: any SQLDatabase) async throws -> [Station] {
        struct R: Decodable { var id: UUID; var name: String; var kind: String; var regionCode: String; var active: Bool }
        var filter: SQLQueryString = "WHERE region_code LIKE \(bind: prefix + "%")"
        if let lawyer { filter = filter + " AND id IN (SELECT station_id FROM duty_shifts WHERE practitioner_id = \(bind: lawyer))" }
        return try await db.raw("SELECT id, name, kind, region_code, active FROM duty_stations " + filter + " ORDER BY region_code, name")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase).map {
            Station(id: $0.id, name: $0.name, kind: $0.kind, kindName: DutyStationKind(rawValue: $0.kind)?.chineseName ?? $0.kind,
                    regionCode: $0.regionCode, active: $0.active)
        }
    }

    static func station(_ id: UUID, prefix: String, lawyer: UUID? = nil, on db: any SQLDatabase) async throws -> Station {
        guard let s = try await stations(prefix: prefix, lawyer: lawyer, on: db).first(where: { $0.id == id }) else { throw AppError.notFound("值班站点") }
        return s
    }

    static func createStation(_ input: StationInput, by p: Principal, on db: any SQLDatabase) async throws -> Station {
        try p.require(p.role == .cityAdmin || p.role == .countyAdmin)
        var errors = FieldErrors()
        let name = errors.required(input.name, "name", "站点名称", maxLength: 60)
        let kind = errors.choice(input.kind, "kind", "派驻场所", as: DutyStationKind.self)
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        if try await RegionController.find(code, on: db) == nil { errors.add("regionCode", "区划不存在") }
        else if case .region(let scope) = p.scope, !scope.contains(DivisionCode(code)!) { errors.add("regionCode", "该区划不在您的管辖范围内") }
        try errors.throwIfAny()
        let id = UUID()
        let centre = try await db.select().column("id").from(Institution.schema).where("type", .equal, SQLBind(InstitutionType.legalAidCentre.rawValue))
            .where("region_code", .equal, SQLBind(LegalAidSettings.countyCode(of: code) ?? code)).first(decodingColumn: "id", as: UUID.self)
        try await db.insert(into: "duty_stations").columns("id", "name", "kind", "region_code", "centre_id", "active")
            .values(SQLBind(id), SQLBind(name), SQLBind(kind!.rawValue), SQLBind(code), SQLBind(centre), SQLBind(true)).run()
        return Station(id: id, name: name, kind: kind!.rawValue, kindName: kind!.chineseName, regionCode: code, active: true)
    }

    struct Shift: Content {
        struct Lawyer: Content { var id: UUID; var name: String }
        var day: String
        var lawyers: [Lawyer]
    }
    struct ShiftInput: Content { var practitionerIds: [UUID]? }

    static func shifts(station: UUID, from: CivilDate, to: CivilDate, on db: any SQLDatabase) async throws -> [Shift] {
        struct R: Decodable { var day: String; var practitionerId: UUID; var name: String }
        let rows = try await db.raw("""
            SELECT s.day, s.practitioner_id, p.name FROM duty_shifts s JOIN practitioners p ON p.id = s.practitioner_id
            WHERE s.station_id = \(bind: station) AND s.day >= \(bind: from.description) AND s.day <= \(bind: to.description) ORDER BY s.day, p.name
            """).all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        var days: [Shift] = []
        var d = from
        while d <= to {
            let key = d.description
            days.append(Shift(day: key, lawyers: rows.filter { $0.day == key }.map { .init(id: $0.practitionerId, name: $0.name) }))
            d = d.adding(days: 1)
        }
        return days
    }

    /// Replaces one day's duty lawyers at a station; only lawyers on the legal aid roster stand duty.
    static func setShift(station: UUID, day: CivilDate, _ input: ShiftInput, by p: Principal, today: CivilDate, on db: any Database) async throws {
        try p.require([.cityAdmin, .countyAdmin, .windowClerk].contains(p.role))
        let sql = db as! any SQLDatabase
        _ = try await CriminalLegalAid.station(station, prefix: try await dutyPrefix(p, on: sql), on: sql)
        // An empty list clears the day on purpose; a body without the list is a mistake, not a wish to clear the rota.
        guard let chosen = input.practitionerIds else { throw AppError.validation(["practitionerIds": "请给出当天值班律师（清空请提交空列表）"]) }
        let ids = Array(Set(chosen))
        if day < today.adding(days: -31) { throw AppError.validation(["day": "只能安排近一个月以来的值班"]) }
        if !ids.isEmpty {
            let ok = try await sql.raw("""
                SELECT COUNT(*) AS n FROM practitioners p JOIN legal_aid_roster l ON l.practitioner_id = p.id
                WHERE p.type = \(bind: PractitionerType.lawyer.rawValue) AND l.active = \(bind: true) AND p.id IN (\(binds: ids))
                """).first(decodingColumn: "n", as: Int.self) ?? 0
            if ok != ids.count { throw AppError.validation(["practitionerIds": "值班律师须为法律援助人员库中的律师"]) }
        }
        try await db.atomic { tx in
            let t = tx as! any SQLDatabase
            try await t.delete(from: "duty_shifts").where("station_id", .equal, SQLBind(station)).where("day", .equal, SQLBind(day.description)).run()
            for id in ids {
                // Two clerks saving the same day at once end with one row each, not a failure.
                try await t.raw("""
                    INSERT INTO duty_shifts (station_id, day, practitioner_id) VALUES (\(bind: station), \(bind: day.description), \(bind: id))
                    ON CONFLICT (station_id, day, practitioner_id) DO NOTHING
                    """).run()
            }
        }
    }

    struct PersonInput: Content { var stationId: UUID?; var name: String?; var caseReference: String?; var stage: String?; var registeredOn: String? }
    struct Person: Content {
        var id: UUID; var stationId: UUID; var stationName: String; var name: String; var caseReference: String?; var stage: String
        var stageName: String; var registeredOn: String; var assistances: Int
    }

    /// A suspect or defendant without counsel, reported at a station: the need duty lawyers must meet.
    static func registerPerson(_ input: PersonInput, by p: Principal, today: CivilDate, now: Date, protector: PersonalDataProtector,
                               on db: any SQLDatabase) async throws -> Person {
        try p.require(p.role.isStaff && !p.role.isReadOnly)
        var errors = FieldErrors()
        if input.stationId == nil { errors.add("stationId", "请选择值班站点") }
        let name = errors.required(input.name, "name", "犯罪嫌疑人、被告人姓名", maxLength: 40)
        let reference = errors.optional(input.caseReference, "caseReference", "案号", maxLength: 60)
        let stage = errors.choice(input.stage, "stage", "诉讼阶段", as: AidStage.self)
        if let stage, !AidCaseKind.criminal.stages.contains(stage) { errors.add("stage", "请选择刑事诉讼阶段") }
        var day = today
        if let raw = input.registeredOn?.nilIfEmpty {
            if let d = CivilDate(raw), d <= today { day = d } else { errors.add("registeredOn", "登记日期应为今天或以前（YYYY-MM-DD）") }
        }
        try errors.throwIfAny()
        let station = try await CriminalLegalAid.station(input.stationId!, prefix: try await dutyPrefix(p, on: db), lawyer: dutyLawyer(p), on: db)
        let id = UUID()
        try await db.insert(into: "duty_persons").columns("id", "station_id", "region_code", "name", "case_reference", "stage", "registered_on", "created_at")
            .values(SQLBind(id), SQLBind(station.id), SQLBind(station.regionCode), SQLBind(try protector.seal(name)), SQLBind(reference), SQLBind(stage!.rawValue),
                    SQLBind(day.description), SQLBind(now)).run()
        return Person(id: id, stationId: station.id, stationName: station.name, name: name, caseReference: reference, stage: stage!.rawValue,
                      stageName: stage!.chineseName, registeredOn: day.description, assistances: 0)
    }

    static func persons(prefix: String, lawyer: UUID? = nil, station: UUID?, unassistedOnly: Bool, page: PageRequest, protector: PersonalDataProtector,
                        on db: any SQLDatabase) async throws -> Paged<Person> {
        struct R: Decodable {
            var id: UUID; var stationId: UUID; var stationName: String; var name: String; var caseReference: String?; var stage: String
            var registeredOn: String; var assistances: Int
        }
        var filter: SQLQueryString = "WHERE d.region_code LIKE \(bind: prefix + "%")"
        if let station { filter = filter + " AND d.station_id = \(bind: station)" }
        if let lawyer { filter = filter + " AND d.station_id IN (SELECT station_id FROM duty_shifts WHERE practitioner_id = \(bind: lawyer))" }
        if unassistedOnly { filter = filter + " AND NOT EXISTS (SELECT 1 FROM duty_assistances a WHERE a.person_id = d.id)" }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM duty_persons d " + filter).first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await db.raw("""
            SELECT d.id, d.station_id, s.name AS station_name, d.name, d.case_reference, d.stage, d.registered_on,
                   (SELECT COUNT(*) FROM duty_assistances a WHERE a.person_id = d.id) AS assistances
            FROM duty_persons d JOIN duty_stations s ON s.id = d.station_id
            """ + " " + filter + " ORDER BY d.registered_on DESC, d.created_at DESC LIMIT \(unsafeRaw: String(page.per)) OFFSET \(unsafeRaw: String(page.offset))")
            .all(decoding: R.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: try rows.map {
            Person(id: $0.id, stationId: $0.stationId, stationName: $0.stationName, name: try protector.open($0.name), caseReference: $0.caseReference, stage: $0.stage,
                   stageName: AidStage(rawValue: $0.stage)?.chineseName ?? $0.stage, registeredOn: $0.registeredOn, assistances: $0.assistances)
        }, total: total, page: page.page, per: page.per)
    }

    struct AssistanceInput: Content {
        var personId: UUID?
        /// A walk-in: the person is registered and assisted in one step.
        var person: PersonInput?
        var practitionerId: UUID?
        var day: String?
        var kinds: [String]?
        var notes: String?
    }

    struct Assistance: Content { var id: UUID; var personId: UUID; var practitionerId: UUID; var day: String; var kinds: [String]; var kindNames: [String]; var notes: String? }

    static func recordAssistance(_ input: AssistanceInput, by p: Principal, today: CivilDate, now: Date, app: Application) async throws -> Assistance {
        try p.require(p.role.isStaff && !p.role.isReadOnly && p.role != .hotlineOperator)
        let db = app.db as! any SQLDatabase
        var errors = FieldErrors()
        let practitioner = p.role == .practitioner ? p.practitionerID : input.practitionerId
        if practitioner == nil { errors.add("practitionerId", "请选择值班律师") }
        var kinds: [DutyAssistanceKind] = []
        for k in input.kinds ?? [] where !k.isEmpty {
            if let v = DutyAssistanceKind(rawValue: k) { kinds.append(v) } else { errors.add("kinds", "帮助内容“\(k)”无效") }
        }
        if kinds.isEmpty { errors.add("kinds", "请选择至少一项法律帮助内容") }
        var day = today
        if let raw = input.day?.nilIfEmpty {
            if let d = CivilDate(raw), d <= today { day = d } else { errors.add("day", "日期应为今天或以前（YYYY-MM-DD）") }
        }
        let notes = errors.optional(input.notes, "notes", "帮助情况", maxLength: 2000)
        if input.personId == nil && input.person == nil { errors.add("personId", "请选择或登记受帮助的犯罪嫌疑人、被告人") }
        try errors.throwIfAny()
        if let practitioner, try await db.raw("""
            SELECT COUNT(*) AS n FROM practitioners p JOIN legal_aid_roster l ON l.practitioner_id = p.id
            WHERE p.id = \(bind: practitioner) AND p.type = \(bind: PractitionerType.lawyer.rawValue) AND l.active = \(bind: true)
            """).first(decodingColumn: "n", as: Int.self) != 1 {
            throw AppError.validation(["practitionerId": "值班律师须为法律援助人员库中的律师"])
        }
        let prefix = try await dutyPrefix(p, on: db)
        let id = UUID()
        let (onDay, chosen) = (day, kinds)
        return try await app.db.atomic { tx in
            let t = tx as! any SQLDatabase
            let personID: UUID
            let stationID: UUID
            if let pid = input.personId {
                struct R: Decodable { var stationId: UUID; var regionCode: String }
                guard let row = try await t.select().columns("station_id", "region_code").from("duty_persons").where("id", .equal, SQLBind(pid))
                    .first(decoding: R.self, keyDecodingStrategy: .snakeCase), row.regionCode.hasPrefix(prefix) else {
                    throw AppError.notFound("受帮助人")
                }
                if let lawyer = dutyLawyer(p), try await station(row.stationId, prefix: prefix, lawyer: lawyer, on: t).id != row.stationId {
                    throw AppError.notFound("受帮助人")
                }
                personID = pid
                stationID = row.stationId
            } else {
                var person = input.person!
                person.registeredOn = onDay.description
                let created = try await registerPerson(person, by: p, today: today, now: now, protector: app.personalData, on: t)
                personID = created.id
                stationID = created.stationId
            }
            try await t.insert(into: "duty_assistances").columns("id", "person_id", "station_id", "practitioner_id", "day", "kinds", "notes", "created_at")
                .values(SQLBind(id), SQLBind(personID), SQLBind(stationID), SQLBind(practitioner!), SQLBind(onDay.description),
                        SQLBind(DelimitedList.encode(chosen.map(\.rawValue))), SQLBind(notes), SQLBind(now)).run()
            return Assistance(id: id, personId: personID, practitionerId: practitioner!, day: onDay.description, kinds: chosen.map(\.rawValue),
                              kindNames: chosen.map(\.chineseName), notes: notes)
        }
    }
}
