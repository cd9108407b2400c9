import Vapor
import SQLKit
import PLSDomain

/// 统一培训、统一考核 on pages: the sessions of the area, one session's attendance and scores,
/// and the records of work of a government legal adviser or public-sector lawyer.
enum TrainingPages {
    struct ListContext: Encodable {
        var page: PageMeta
        var table: TableView
        var canOrganise: Bool
        var values: [String: String]
        var error: String?
        var errors: [String: String]
        var regions: [SelectOption]
    }

    static func list(_ req: Request) async throws -> Response { try await renderList(req) }

    static func renderList(_ req: Request, values: [String: String] = [:], error: AppError? = nil) async throws -> Response {
        let p = try req.staff()
        let page = try PageRequest(from: req)
        let result = try await Training.sessions(prefix: p.areaPrefix, page: page, on: req.sql)
        let table = TableView(columns: ["日期", "培训", "对象", "学时", "参训 / 登记", "考核合格", "平均成绩"], rows: result.items.map { s in
            [Cell(text: s.heldOn), Cell(text: s.title, href: "/trainings/\(s.id)"), Cell(text: s.audience), Cell(text: s.hours.shortText),
             Cell(text: "\(s.attended) / \(s.invited)"), Cell(text: "\(s.passed)"), Cell(text: s.averageScore.map(\.shortText) ?? "—")]
        }, total: result.total, page: page, request: req)
        let canOrganise = Training.organisers.contains(p.role)
        let regions = canOrganise ? try await RegionChoices.options(on: req, scope: p.scope).filter { DivisionCode($0.value).map { [.city, .county, .town].contains($0.level) } ?? false } : []
        var v = values
        if v["heldOn"] == nil { v["heldOn"] = req.today.description }
        if v["regionCode"] == nil { v["regionCode"] = p.region?.rawValue ?? req.city.code?.rawValue ?? "" }
        let response = try await req.view.render("grassroots/trainings", ListContext(
            page: req.pageMeta(title: "培训考核"), table: table, canOrganise: canOrganise, values: v, error: error?.message,
            errors: error?.fields ?? [:], regions: regions.map { var o = $0; o.selected = $0.value == v["regionCode"]; return o })).encodeResponse(for: req)
        if error != nil { response.status = .unprocessableEntity }
        return response
    }

    static func create(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let keys = ["title", "heldOn", "regionCode", "hours", "audience"]
        var v: [String: String] = [:]
        for k in keys { v[k] = req.formValue(k) ?? "" }
        do {
            let s = try await Training.create(.init(title: v["title"], heldOn: v["heldOn"], regionCode: v["regionCode"], hours: Double(v["hours"] ?? ""),
                                                    audience: v["audience"]), by: p, today: req.today, now: req.now, on: req.sql)
            return req.redirect(to: "/trainings/\(s.id)", flash: "已登记培训，请录入参训人员和成绩")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await renderList(req, values: v, error: e)
        }
    }

    struct SessionContext: Encodable {
        var page: PageMeta
        var session: Training.Session
        var hours: String
        var average: String
        var table: TableView
        var canOrganise: Bool
        var lines: String
        var error: String?
        var lineErrors: [String]
    }

    static func session(_ req: Request) async throws -> Response { try await renderSession(req) }

    static func renderSession(_ req: Request, lines: String = "", error: String? = nil, lineErrors: [String] = []) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id")
        guard let s = try await Training.session(id, prefix: p.areaPrefix, on: req.sql) else { throw AppError.notFound("培训") }
        let people = try await Training.attendance(id, on: req.sql)
        let table = TableView(columns: ["姓名", "执业证号或账号", "单位", "出勤", "考核成绩"], rows: people.map { a in
            [Cell(text: a.name), Cell(text: a.code), Cell(text: a.unit),
             Cell(text: a.attended ? "参训" : "缺席", badge: a.attended ? "ok" : "warn"),
             Cell(text: a.score.map(\.shortText) ?? "—", badge: a.score.map { $0 >= Training.passingScore ? "ok" : "warn" })]
        }, request: req)
        let response = try await req.view.render("grassroots/training", SessionContext(
            page: req.pageMeta(title: s.title), session: s, hours: s.hours.shortText, average: s.averageScore.map(\.shortText) ?? "—", table: table,
            canOrganise: Training.organisers.contains(p.role), lines: lines, error: error, lineErrors: lineErrors)).encodeResponse(for: req)
        if error != nil { response.status = .unprocessableEntity }
        return response
    }

    /// One line per person, "执业证号 成绩" (or a member of staff's username): a clerk pastes the sign-in sheet.
    /// "缺席" marks an absentee; no score means attended but not assessed.
    static func attendance(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id")
        let text = req.formValue("lines") ?? ""
        var problems: [String] = []
        var parsed: [(line: Int, licence: String, attended: Bool, score: Double?)] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let parts = raw.split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " || $0 == "\t" || $0 == "　" }).map(String.init)
            guard let licence = parts.first else { continue }
            let mark = parts.count > 1 ? parts[1] : ""
            if mark == "缺席" { parsed.append((i + 1, licence, false, nil)); continue }
            if !mark.isEmpty, Double(mark) == nil { problems.append("第 \(i + 1) 行：成绩“\(mark)”不是数字（缺席请填“缺席”）"); continue }
            parsed.append((i + 1, licence, true, Double(mark)))
        }
        struct P: Decodable { var id: UUID; var licenceNumber: String }
        struct S: Decodable { var id: UUID; var username: String }
        var byLicence: [String: UUID] = [:], byUsername: [String: UUID] = [:]
        if !parsed.isEmpty {
            let codes = SQLBind.group(parsed.map(\.licence))
            for r in try await req.sql.select().columns("id", "licence_number").from(Practitioner.schema)
                .where("licence_number", .in, codes).all(decoding: P.self, keyDecodingStrategy: .snakeCase) {
                byLicence[r.licenceNumber] = r.id
            }
            // Staff of the three platforms sign in with their account's username.
            for r in try await req.sql.select().columns("id", "username").from(Account.schema).where("username", .in, codes)
                .where("role", .in, SQLBind.group(Training.staffRoles.map(\.rawValue)))
                .all(decoding: S.self) {
                byUsername[r.username] = r.id
            }
        }
        var attendees: [Training.Attendee] = []
        for row in parsed {
            if let pid = byLicence[row.licence] {
                attendees.append(.init(practitionerId: pid, attended: row.attended, score: row.score))
            } else if let aid = byUsername[row.licence] {
                attendees.append(.init(practitionerId: nil, accountId: aid, attended: row.attended, score: row.score))
            } else {
                problems.append("第 \(row.line) 行：执业证号或账号“\(row.licence)”不存在")
            }
        }
        if parsed.isEmpty, problems.isEmpty { problems.append("请至少填写一行：执业证号（工作人员填账号） 成绩") }
        if !problems.isEmpty { return try await renderSession(req, lines: text, error: "有 \(problems.count) 行不符合要求，未保存", lineErrors: problems) }
        do {
            _ = try await Training.recordAttendance(id, .init(attendees: attendees), by: p, app: req.application)
            return req.redirect(to: "/trainings/\(id)", flash: "已保存 \(attendees.count) 人的出勤和成绩")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await renderSession(req, lines: text, error: e.message, lineErrors: e.fields.sorted { $0.key < $1.key }.map(\.value))
        }
    }

    // MARK: Records of work

    struct WorkContext: Encodable {
        var page: PageMeta
        var entry: Rosters.Entry
        var kind: String
        var kindName: String
        var table: TableView
        var canEdit: Bool
        var kinds: [SelectOption]
        var values: [String: String]
        var error: String?
        var errors: [String: String]
    }

    static func work(_ req: Request) async throws -> Response { try await renderWork(req) }

    static func renderWork(_ req: Request, values: [String: String] = [:], error: AppError? = nil) async throws -> Response {
        let p = try req.staff()
        let kind = try Rosters.kind(req)
        guard [.governmentAdviser, .publicLawyer].contains(kind) else { throw AppError.notFound("法律顾问或公职律师") }
        let entry = try await Rosters.entry(try req.uuid("id"), kind: kind, prefix: p.areaPrefix, on: req.sql)
        let records = try await AdviserWork.list(roster: entry.id, by: p, on: req.sql)
        let table = TableView(columns: ["日期", "工作类型", "事项", "说明"], rows: records.map {
            [Cell(text: $0.doneOn), Cell(text: $0.kindName), Cell(text: $0.subject), Cell(text: $0.note ?? "—")]
        }, request: req)
        var v = values
        if v["doneOn"] == nil { v["doneOn"] = req.today.description }
        let response = try await req.view.render("grassroots/work", WorkContext(
            page: req.pageMeta(title: "\(entry.name) · 工作记录"), entry: entry, kind: kind.rawValue, kindName: kind.chineseName, table: table,
            canEdit: Rosters.editors.contains(p.role),
            kinds: AdviserWork.Kind.allCases.map { SelectOption(value: $0.rawValue, label: $0.chineseName, selected: $0.rawValue == v["kind"]) },
            values: v, error: error?.message, errors: error?.fields ?? [:])).encodeResponse(for: req)
        if error != nil { response.status = .unprocessableEntity }
        return response
    }

    static func addWork(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let kind = try Rosters.kind(req)
        let id = try req.uuid("id")
        var v: [String: String] = [:]
        for k in ["kind", "doneOn", "subject", "note"] { v[k] = req.formValue(k) ?? "" }
        do {
            _ = try await AdviserWork.add(roster: id, .init(kind: v["kind"], doneOn: v["doneOn"], subject: v["subject"], note: v["note"]),
                                          by: p, today: req.today, now: req.now, on: req.sql)
            return req.redirect(to: "/rosters/\(kind.rawValue)/\(id)/work", flash: "已记录")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await renderWork(req, values: v, error: e)
        }
    }
}
