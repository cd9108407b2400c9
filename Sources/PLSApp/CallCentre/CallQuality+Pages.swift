import Vapor
import SQLKit
import PLSDomain

extension RouteGroups {
    /// 话务质检: the month's sample, scoring, appeals, each operator's scorecard.
    func callQuality() {
        let api = self.api.grouped("call-quality")
        api.get(use: CallQualityController.apiList)
        api.post("draw", use: CallQualityController.apiDraw)
        api.get("scorecard", use: CallQualityController.apiScorecard)
        api.get(":id", use: CallQualityController.apiFind)
        api.post(":id", "score") { try await CallQualityController.apiStep($0, .score) }
        api.post(":id", "appeal") { try await CallQualityController.apiStep($0, .appeal) }
        api.post(":id", "decision") { try await CallQualityController.apiStep($0, .decision) }
        web.get("hotline", "quality", use: CallQualityPages.list)
        web.post("hotline", "quality", "draw", use: CallQualityPages.draw)
        web.post("hotline", "quality", "share", use: CallQualityPages.share)
        web.get("hotline", "quality", ":id", use: CallQualityPages.detail)
        web.post("hotline", "quality", ":id", ":step", use: CallQualityPages.step)
    }
}

enum CallQualityController {
    enum Step: String { case score, appeal, decision }

    static func reader(_ req: Request) throws -> Principal {
        let p = try req.staff()
        try p.require(CallQualityChecks.mayReadAll(p) || p.role == .hotlineOperator)
        return p
    }

    static func apiList(_ req: Request) async throws -> Paged<CallQualityChecks.Check> {
        let p = try reader(req)
        let m = try CallQualityChecks.month(try? req.query.get(String.self, at: "month"), default: req.today)
        let raw = (try? req.query.get(String.self, at: "status")) ?? ""
        var status: CallQualityChecks.Status?
        if !raw.isEmpty {
            guard let s = CallQualityChecks.Status(rawValue: raw) else { throw AppError.validation(["status": "状态取值无效"]) }
            status = s
        }
        // An operator sees only their own calls' checks.
        return try await CallQualityChecks.list(month: m.label, status: status, operator: CallQualityChecks.mayReadAll(p) ? nil : p.accountID,
                                                page: try PageRequest(from: req), app: req.application, on: req.sql)
    }

    struct DrawInput: Content { var month: String? }
    struct DrawAnswer: Content { var month: String; var drawn: Int }

    static func apiDraw(_ req: Request) async throws -> DrawAnswer {
        let p = try req.staff()
        guard CallQualityChecks.mayCheck(p) else { throw AppError(.forbidden, "forbidden", "话务质检由市级管理员抽取") }
        let input = try req.content.decode(DrawInput.self)
        let m = try CallQualityChecks.month(input.month, default: req.today)
        return DrawAnswer(month: m.label, drawn: try await CallQualityChecks.draw(month: m.label, app: req.application))
    }

    static func apiScorecard(_ req: Request) async throws -> [CallQualityChecks.ScorecardLine] {
        let p = try reader(req)
        let lines = try await CallQualityChecks.scorecard(month: try? req.query.get(String.self, at: "month"), app: req.application, on: req.sql)
        return CallQualityChecks.mayReadAll(p) ? lines : lines.filter { $0.operatorId == p.accountID }
    }

    static func found(_ req: Request) async throws -> (Principal, CallQualityChecks.Check) {
        let p = try reader(req)
        let c = try await CallQualityChecks.find(try req.uuid("id", notFound: "质检记录"), app: req.application, on: req.sql)
        guard CallQualityChecks.visible(c, to: p) else { throw AppError.notFound("质检记录") }
        return (p, c)
    }

    static func apiFind(_ req: Request) async throws -> CallQualityChecks.Check { try await found(req).1 }

    static func apiStep(_ req: Request, _ step: Step) async throws -> CallQualityChecks.Check {
        let (p, c) = try await found(req)
        switch step {
        case .score: return try await CallQualityChecks.score(c.id, try req.content.decode(CallQualityChecks.ScoreInput.self), by: p, app: req.application)
        case .appeal: return try await CallQualityChecks.appeal(c.id, try req.content.decode(CallQualityChecks.AppealInput.self), by: p, app: req.application)
        case .decision: return try await CallQualityChecks.decide(c.id, try req.content.decode(CallQualityChecks.DecisionInput.self), by: p, app: req.application)
        }
    }
}

enum CallQualityPages {
    struct ListContext: Encodable {
        var page: PageMeta; var month: String; var checks: [Line]; var total: Int; var scorecard: [CallQualityChecks.ScorecardLine]
        var canCheck: Bool; var share: Int; var error: String?
        struct Line: Encodable {
            var id: UUID; var operatorName: String; var callerMasked: String; var rangAt: String; var statusName: String; var total: Int?
            var passed: Bool?; var appealed: Bool
        }
    }

    static func list(_ req: Request) async throws -> View { try await list(req, error: nil) }

    static func list(_ req: Request, error: String?) async throws -> View {
        let p = try CallQualityController.reader(req)
        let raw = (try? req.query.get(String.self, at: "month")) ?? req.formValue("month")
        let m = try (try? CallQualityChecks.month(raw, default: req.today)) ?? CallQualityChecks.month(nil, default: req.today)
        let all = CallQualityChecks.mayReadAll(p)
        let result = try await CallQualityChecks.list(month: m.label, status: nil, operator: all ? nil : p.accountID, page: try PageRequest(from: req),
                                                      app: req.application, on: req.sql)
        let card = try await CallQualityChecks.scorecard(month: m.label, app: req.application, on: req.sql)
        return try await req.view.render("call-centre/quality", ListContext(
            page: req.pageMeta(title: "话务质检"), month: m.label,
            checks: result.items.map { .init(id: $0.id, operatorName: $0.operatorName, callerMasked: $0.callerMasked,
                                             rangAt: DateFormatter.chinaTime.string(from: $0.rangAt), statusName: $0.statusName, total: $0.total,
                                             passed: $0.passed, appealed: $0.status == CallQualityChecks.Status.appealed.rawValue) },
            total: result.total, scorecard: all ? card : card.filter { $0.operatorId == p.accountID },
            canCheck: CallQualityChecks.mayCheck(p), share: req.city.hotlineQcSharePercent, error: error))
    }

    static func draw(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(CallQualityChecks.mayCheck(p))
        do {
            let m = try CallQualityChecks.month(req.formValue("month"), default: req.today)
            let n = try await CallQualityChecks.draw(month: m.label, app: req.application)
            return req.redirect(to: "/hotline/quality?month=\(m.label)", flash: n == 0 ? "本月样本已足额，无需再抽" : "已抽取 \(n) 个来电待质检")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await list(req, error: e.fields.values.first ?? e.message).encodeResponse(status: e.status, for: req)
        }
    }

    static func share(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try p.require(CallQualityChecks.mayCheck(p))
        let raw = req.formValue("share") ?? ""
        guard let share = Int(raw.prefix(4)), CallQuality.shareRange.contains(share) else {
            return try await list(req, error: "抽检比例应为 1–100 的整数（%）").encodeResponse(status: .unprocessableEntity, for: req)
        }
        let before = req.city.hotlineQcSharePercent
        let actor = req.auditActor, protector = req.personalData, now = req.now
        try await req.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await CityStore.set(.hotlineQcShare, String(share), on: sql)
            try await AuditLog.record("city.settings", target: "话务质检抽检比例", before: ["hotlineQcSharePercent": String(before)],
                                      after: ["hotlineQcSharePercent": String(share)], by: actor, protector: protector, on: sql, at: now)
        }
        try await req.application.cityStore.reload(from: req.sql)
        return req.redirect(to: "/hotline/quality", flash: "抽检比例已设为 \(share)%")
    }

    struct DetailContext: Encodable {
        var page: PageMeta; var c: CallQualityChecks.Check; var items: [Item]; var canScore: Bool; var canAppeal: Bool; var canDecide: Bool
        var rangAt: String; var talkSeconds: Int?; var error: String?; var errors: [String: String]; var kept: [String: String]
        struct Item: Encodable { var key: String; var name: String; var points: Int; var scoreText: String; var typed: String; var error: String? }
    }

    static func detail(_ req: Request) async throws -> View { try await detail(req, error: nil) }

    static func detail(_ req: Request, error: AppError?) async throws -> View {
        let (p, c) = try await CallQualityController.found(req)
        let scores: [CallQuality.Item: Int?] = [.greeting: c.greeting, .accuracy: c.accuracy, .attitude: c.attitude, .closure: c.closure]
        var kept: [String: String] = [:]
        if error != nil { for f in ["reason", "note", "comment"] + CallQuality.Item.allCases.map(\.rawValue) { kept[f] = req.formValue(f) ?? "" } }
        return try await req.view.render("call-centre/quality-check", DetailContext(
            page: req.pageMeta(title: "话务质检 · \(c.callerMasked)"), c: c,
            items: CallQuality.Item.allCases.map {
                .init(key: $0.rawValue, name: $0.chineseName, points: $0.points, scoreText: (scores[$0] ?? nil).map(String.init) ?? "—",
                      typed: kept[$0.rawValue] ?? "", error: error?.fields[$0.rawValue]) },
            canScore: CallQualityChecks.mayCheck(p) && c.status == CallQualityChecks.Status.sampled.rawValue,
            canAppeal: p.accountID == c.operatorId && c.status == CallQualityChecks.Status.scored.rawValue,
            canDecide: CallQualityChecks.mayCheck(p) && c.status == CallQualityChecks.Status.appealed.rawValue,
            rangAt: DateFormatter.chinaTime.string(from: c.rangAt),
            talkSeconds: c.answeredAt.flatMap { a in c.endedAt.map { max(0, Int($0.timeIntervalSince(a))) } },
            error: error.map { $0.fields.isEmpty ? $0.message : "请检查标出的项目" }, errors: error?.fields ?? [:], kept: kept))
    }

    static func step(_ req: Request) async throws -> Response {
        let (p, c) = try await CallQualityController.found(req)
        func int(_ f: String) -> Int? { req.formValue(f).flatMap { Int($0.prefix(4)) } }
        do {
            switch req.parameters.get("step") {
            case "score":
                _ = try await CallQualityChecks.score(c.id, .init(greeting: int("greeting"), accuracy: int("accuracy"), attitude: int("attitude"),
                                                                  closure: int("closure"), comment: req.formValue("comment")), by: p, app: req.application)
            case "appeal":
                _ = try await CallQualityChecks.appeal(c.id, .init(reason: req.formValue("reason")), by: p, app: req.application)
            case "decision":
                let upheld = req.formValue("upheld").flatMap { $0 == "1" ? true : $0 == "0" ? false : nil }
                _ = try await CallQualityChecks.decide(c.id, .init(upheld: upheld, note: req.formValue("note"), greeting: int("greeting"),
                                                                   accuracy: int("accuracy"), attitude: int("attitude"), closure: int("closure")),
                                                       by: p, app: req.application)
            default: throw AppError.notFound("操作")
            }
            return req.redirect(to: "/hotline/quality/\(c.id)", flash: "已保存")
        } catch let e as AppError where [.unprocessableEntity, .conflict, .forbidden].contains(e.status) {
            return try await detail(req, error: e).encodeResponse(status: e.status, for: req)
        }
    }
}
