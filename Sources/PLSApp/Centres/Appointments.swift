import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 预约办理 (issue #23, item 1): a slot at a walk-in centre booked from the portal, on a 12348 call (legal aid, mediation
/// and the other matters a window serves) or at the window; the visitor gets a code by SMS and checks in with it at
/// the kiosk, which gives them a ticket called before walk-ins (after the groups served first).
enum Appointments {
    static let schema = "appointments"

    enum Status: String { case booked, checkedIn = "checked_in", cancelled }
    enum Via: String { case portal, hotline, window }

    struct Slot: Content { var start: String; var end: String; var capacity: Int; var booked: Int; var available: Int }

    /// Minutes after midnight in Beijing.
    static func minuteOfDay(_ now: Date) -> Int { max(0, Int(now.timeIntervalSince(CivilDate(now).startInChina) / 60)) }

    /// A day a slot may be booked on: a working day from today to two weeks ahead.
    static func bookableDay(_ raw: String?, app: Application) throws -> CivilDate {
        guard let raw, let day = CivilDate(String(raw.prefix(10))) else { throw AppError.validation(["day": "日期格式为 YYYY-MM-DD"]) }
        let today = app.today
        guard day >= today, day <= today.adding(days: AppointmentRules.bookableDays) else {
            throw AppError.validation(["day": "可预约今天起 \(AppointmentRules.bookableDays) 天内的工作日"])
        }
        guard app.workingCalendar.isWorkingDay(day) else { throw AppError.validation(["day": "\(day) 不是工作日，中心不办公"]) }
        return day
    }

    /// The day's slots with what is left of each; a slot already begun today is not offered.
    static func slots(at centre: UUID, day raw: String?, app: Application) async throws -> [Slot] {
        let db = app.db as! any SQLDatabase
        _ = try await CentreQueue.centre(centre, on: db)
        let day = try bookableDay(raw, app: app)
        let hours = try await CentreSetup.hours(of: centre, on: db)
        struct B: Decodable { var slotStart: Int; var n: Int }
        let booked = try await db.raw("""
            SELECT slot_start, COUNT(*) AS n FROM appointments WHERE centre_id = \(bind: centre) AND day = \(bind: day.description)
              AND status <> \(bind: Status.cancelled.rawValue) GROUP BY slot_start
            """).all(decoding: B.self, keyDecodingStrategy: .snakeCase)
        let taken = Dictionary(booked.map { ($0.slotStart, $0.n) }, uniquingKeysWith: +)
        let now = day == app.today ? minuteOfDay(app.clock.now) : -1
        return hours.slots.filter { $0.lowerBound > now }.map { s in
            let n = taken[s.lowerBound] ?? 0
            return Slot(start: CentreHours.text(s.lowerBound), end: CentreHours.text(s.upperBound), capacity: hours.slotCapacity, booked: n,
                        available: max(0, hours.slotCapacity - n))
        }
    }

    struct BookInput: Content {
        var matterType: String?
        var day: String?
        /// The slot's start, "09:00".
        var slot: String?
        var name: String?
        var mobile: String?
        /// The call it was booked on (the operator's console sends it).
        var callId: UUID?
    }

    struct Appointment: Content {
        var id: UUID
        var centreId: UUID
        var centreName: String
        var centreAddress: String?
        var matterType: String
        var matterTypeName: String
        var day: String
        var slot: String
        var slotEnd: String
        var code: String
        var name: String
        var mobileMasked: String
        var status: String
        var statusName: String
        var via: String
        var ticketNumber: String?
    }

    static func statusName(_ s: String, day: String, slotEnd: Int, app: Application) -> String {
        switch Status(rawValue: s) {
        case .checkedIn?: return "已签到"
        case .cancelled?: return "已取消"
        case .booked?:
            let today = app.today.description
            return day < today || (day == today && minuteOfDay(app.clock.now) > slotEnd) ? "未到" : "已预约"
        case nil: return s
        }
    }

    /// Who books: a citizen for themselves (the portal), a 12348 operator for a caller, the centre's clerks at the window.
    static func via(_ p: Principal, centre: UUID) -> Via? {
        guard p.client == nil else { return nil }
        switch p.role {
        case .citizen: return .portal
        case .hotlineOperator: return .hotline
        case .windowClerk, .institutionAdmin: return p.institutionID == centre ? .window : nil
        default: return nil
        }
    }

    static func book(at centre: UUID, _ input: BookInput, by p: Principal, app: Application) async throws -> Appointment {
        let db = app.db as! any SQLDatabase
        let c = try await CentreQueue.centre(centre, on: db)
        guard let via = via(p, centre: centre) else { throw AppError(.forbidden, "forbidden", "由群众本人、12348 坐席或本中心窗口预约") }
        var errors = FieldErrors()
        let matter = errors.choice(input.matterType, "matterType", "办理事项", as: MatterType.self)
        if let matter, !CentreSetup.windowMatters.contains(matter) { errors.add("matterType", "中心窗口不办理“\(matter.chineseName)”") }
        let name = errors.required(input.name, "name", "姓名", maxLength: 30)
        let mobile = MobileNumber(input.mobile ?? "")
        if mobile == nil { errors.add("mobile", "请填写 11 位手机号，预约码将以短信发送") }
        var day: CivilDate?
        do { day = try bookableDay(input.day, app: app) } catch let e as AppError { for (k, v) in e.fields { errors.add(k, v) } }
        let hours = try await CentreSetup.hours(of: centre, on: db)
        let start = input.slot.flatMap { CentreHours.minutes(String($0.prefix(5))) }
        if start == nil || !hours.isSlot(start!) { errors.add("slot", "请选择中心办公时间内的预约时段") }
        else if day == app.today, start! <= minuteOfDay(app.clock.now) { errors.add("slot", "该时段已开始，请选择之后的时段") }
        try errors.throwIfAny()
        let protector = app.personalData
        let hash = protector.lookupHash(mobile!.digits)
        let dayText = day!.description
        // One booking a day at a centre for a person: a second would hold a slot someone else needs.
        let already = try await db.raw("""
            SELECT id FROM appointments WHERE centre_id = \(bind: centre) AND day = \(bind: dayText) AND mobile_hash = \(bind: hash)
              AND status = \(bind: Status.booked.rawValue)
            """).first()
        if already != nil { throw AppError.conflict("already_booked", "该手机号当天已在本中心预约，如需改约请先取消") }
        var onCall: UUID?
        if let call = input.callId, via == .hotline, try await Calls.isOperator(p, of: call, on: db) { onCall = call }
        let callID = onCall
        let id = UUID(), now = app.clock.now
        let sealedName = try protector.seal(name), cipher = try protector.encrypt(mobile!.digits)
        for _ in 0..<(hours.slotCapacity + 5) {
            struct S: Decodable { var seat: Int }
            let seats = Set(try await db.raw("""
                SELECT seat FROM appointments WHERE centre_id = \(bind: centre) AND day = \(bind: dayText) AND slot_start = \(bind: start!)
                """).all(decoding: S.self).map(\.seat))
            // A cancelled booking keeps its seat number (the row stays for the record); seats go up to capacity plus those.
            let live = try await db.raw("""
                SELECT COUNT(*) AS n FROM appointments WHERE centre_id = \(bind: centre) AND day = \(bind: dayText) AND slot_start = \(bind: start!)
                  AND status <> \(bind: Status.cancelled.rawValue)
                """).first(decodingColumn: "n", as: Int.self) ?? 0
            guard live < hours.slotCapacity else { throw AppError.conflict("slot_full", "该时段已约满，请选择其他时段") }
            let seat = (1...(seats.count + 1)).first { !seats.contains($0) } ?? seats.count + 1
            let code = String(format: "%06d", Int.random(in: 0...999_999)), phone = mobile!, kind = matter!, from = start!
            let text = "您已预约\(c.name) \(dayText) \(CentreHours.text(from)) 办理\(kind.chineseName)，预约码 \(code)。"
                + "请于时段开始前 30 分钟内到中心取号机输入预约码签到。"
            do {
                // The booking and its SMS are one write: no code is sent for a place not taken, none taken without its code.
                try await app.db.atomic { tx in
                    try await (tx as! any SQLDatabase).raw("""
                        INSERT INTO appointments (id, centre_id, matter_type, day, slot_start, seat, code, name, mobile_hash, mobile_cipher, mobile_masked,
                                                  citizen_account_id, booked_via, booked_by, call_id, status, created_at)
                        VALUES (\(bind: id), \(bind: centre), \(bind: kind.rawValue), \(bind: dayText), \(bind: from), \(bind: seat), \(bind: code),
                                \(bind: sealedName), \(bind: hash), \(bind: cipher), \(bind: phone.masked), \(bind: p.role == .citizen ? p.accountID : nil),
                                \(bind: via.rawValue), \(bind: p.accountID), \(bind: callID), \(bind: Status.booked.rawValue), \(bind: now))
                        """).run()
                    try await app.sendSMS(to: phone, text, on: tx, at: now)
                }
            } catch let e as any DatabaseError where e.isConstraintFailure {
                continue
            }
            return try await find(id, app: app, on: db)
        }
        throw AppError.conflict("slot_busy", "预约繁忙，请重试")
    }

    static func find(_ id: UUID, app: Application, on db: any SQLDatabase) async throws -> Appointment {
        guard let a = try await list(where: "a.id = \(bind: id)", app: app, on: db, limit: 1).first else { throw AppError.notFound("预约") }
        return a
    }

    private struct Stored: Decodable {
        var id: UUID; var centreId: UUID; var centreName: String; var address: String?; var matterType: String; var day: String; var slotStart: Int
        var code: String; var name: String; var mobileMasked: String; var status: String; var bookedVia: String; var ticketNumber: String?
        var citizenAccountId: UUID?
    }

    static func list(where condition: SQLQueryString, app: Application, on db: any SQLDatabase, limit: Int = 100) async throws -> [Appointment] {
        let hours = try await db.raw("SELECT centre_id, slot_minutes FROM centre_hours").all(decoding: HoursRow.self, keyDecodingStrategy: .snakeCase)
        let slotMinutes = Dictionary(hours.map { ($0.centreId, $0.slotMinutes) }, uniquingKeysWith: { a, _ in a })
        let rows = try await db.raw("""
            SELECT a.id, a.centre_id, i.name AS centre_name, i.address, a.matter_type, a.day, a.slot_start, a.code, a.name, a.mobile_masked, a.status,
                   a.booked_via, t.number AS ticket_number, a.citizen_account_id
            FROM appointments a JOIN institutions i ON i.id = a.centre_id LEFT JOIN queue_tickets t ON t.id = a.ticket_id
            WHERE
            """ + " " + condition + " ORDER BY a.day DESC, a.slot_start LIMIT \(unsafeRaw: String(limit))")
            .all(decoding: Stored.self, keyDecodingStrategy: .snakeCase)
        return try rows.map { s in
            let end = s.slotStart + (slotMinutes[s.centreId] ?? CentreHours.standard.slotMinutes)
            return Appointment(id: s.id, centreId: s.centreId, centreName: s.centreName, centreAddress: s.address, matterType: s.matterType,
                               matterTypeName: MatterType(rawValue: s.matterType)?.chineseName ?? s.matterType, day: s.day,
                               slot: CentreHours.text(s.slotStart), slotEnd: CentreHours.text(end), code: s.code, name: try app.personalData.open(s.name),
                               mobileMasked: s.mobileMasked, status: s.status, statusName: statusName(s.status, day: s.day, slotEnd: end, app: app),
                               via: s.bookedVia, ticketNumber: s.ticketNumber)
        }
    }
    private struct HoursRow: Decodable { var centreId: UUID; var slotMinutes: Int }

    /// A citizen's own bookings; a centre's of a day for its staff.
    static func mine(_ p: Principal, app: Application, on db: any SQLDatabase) async throws -> [Appointment] {
        try await list(where: "a.citizen_account_id = \(bind: p.accountID)", app: app, on: db, limit: 50)
    }

    static func ofCentre(_ centre: UUID, day: CivilDate, app: Application, on db: any SQLDatabase) async throws -> [Appointment] {
        try await list(where: "a.centre_id = \(bind: centre) AND a.day = \(bind: day.description)", app: app, on: db, limit: 500)
    }

    /// Cancelled by the one who booked it for themselves, or by the centre's staff or the hotline.
    static func cancel(_ id: UUID, by p: Principal, app: Application) async throws -> Appointment {
        let db = app.db as! any SQLDatabase
        struct R: Decodable { var centreId: UUID; var citizenAccountId: UUID?; var status: String }
        guard let r = try await db.raw("SELECT centre_id, citizen_account_id, status FROM appointments WHERE id = \(bind: id)")
            .first(decoding: R.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("预约") }
        let own = p.role == .citizen && r.citizenAccountId == p.accountID
        guard own || (p.role != .citizen && via(p, centre: r.centreId) != nil) else { throw AppError.notFound("预约") }
        let done = try await db.raw("""
            UPDATE appointments SET status = \(bind: Status.cancelled.rawValue) WHERE id = \(bind: id) AND status = \(bind: Status.booked.rawValue) RETURNING id
            """).all()
        guard !done.isEmpty else { throw AppError.conflict("not_booked", "该预约已签到或已取消") }
        return try await find(id, app: app, on: db)
    }

    /// 预约签到 at the kiosk: the code gives a ticket called before walk-ins, from half an hour before the slot to its end.
    static func checkIn(at centre: UUID, code raw: String?, app: Application) async throws -> CentreQueue.Ticket {
        let db = app.db as! any SQLDatabase
        _ = try await CentreQueue.centre(centre, on: db)
        let code = (raw ?? "").trimmingCharacters(in: .whitespaces)
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw AppError.validation(["code": "请输入短信中的 6 位预约码"]) }
        struct R: Decodable { var id: UUID; var matterType: String; var slotStart: Int; var status: String }
        guard let a = try await db.raw("""
            SELECT id, matter_type, slot_start, status FROM appointments WHERE centre_id = \(bind: centre) AND day = \(bind: app.today.description)
              AND code = \(bind: code)
            """).first(decoding: R.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError.validation(["code": "未找到今天在本中心的该预约，请核对预约码或现场取号"])
        }
        guard a.status == Status.booked.rawValue else {
            throw AppError.conflict("not_booked", a.status == Status.checkedIn.rawValue ? "该预约已签到，请留意叫号" : "该预约已取消，请现场取号")
        }
        let hours = try await CentreSetup.hours(of: centre, on: db)
        switch AppointmentRules.checkIn(at: minuteOfDay(app.clock.now), slot: a.slotStart...(a.slotStart + hours.slotMinutes)) {
        case .tooEarly: throw AppError.conflict("too_early", "预约时段 \(CentreHours.text(a.slotStart)) 开始前 30 分钟起可签到，请稍候")
        case .tooLate: throw AppError.conflict("too_late", "预约时段已过，请现场取号")
        case .allowed: break
        }
        // The ticket and the appointment's check-in are one write: a second check-in finds it taken.
        let appointment = a.id
        return try await CentreQueue.issue(at: centre, .init(matterType: a.matterType, priority: nil), appointment: appointment, app: app) { sql, ticket in
            let done = try await sql.raw("""
                UPDATE appointments SET status = \(bind: Status.checkedIn.rawValue), ticket_id = \(bind: ticket)
                WHERE id = \(bind: appointment) AND status = \(bind: Status.booked.rawValue) RETURNING id
                """).all()
            guard !done.isEmpty else { throw AppError.conflict("not_booked", "该预约已签到，请留意叫号") }
        }
    }
}
