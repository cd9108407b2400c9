import Vapor
import SQLKit
import PLSDomain

/// The hotline's pages beside the console: the callbacks to make, and the supervisor's wallboard.
enum CallCentrePages {
    struct CallbacksContext: Encodable {
        var page: PageMeta; var items: [Line]; var total: Int; var error: String?; var errorID: String?; var typed: String
        struct Line: Encodable {
            var id: UUID; var callerMasked: String; var rangAt: String; var reason: String; var due: String; var overdue: Bool
            var recording: String?; var requestNumber: String?; var requestId: UUID?
        }
    }

    static func callbacks(_ req: Request) async throws -> View { try await callbacks(req, error: nil, on: nil) }

    static func callbacks(_ req: Request, error: AppError?, on failed: UUID?) async throws -> View {
        let p = try req.staff()
        try p.require(p.role == .hotlineOperator || p.role == .cityAdmin)
        let page = try PageRequest(from: req)
        let result = try await Calls.list(caller: nil, callbacksOnly: true, page: page, app: req.application, on: req.sql)
        let today = req.today.description
        let lines = result.items.map { c in
            CallbacksContext.Line(id: c.id, callerMasked: c.callerMasked, rangAt: DateFormatter.chinaTime.string(from: c.rangAt),
                                  reason: c.state == CallState.voicemail.rawValue ? "留言" : "按键评价 \(c.rating ?? 0) 分（不满意）",
                                  due: c.callbackDue ?? "", overdue: (c.callbackDue ?? today) < today, recording: c.recording,
                                  requestNumber: c.requestNumber, requestId: c.requestId)
        }
        return try await req.view.render("call-centre/callbacks", CallbacksContext(
            page: req.pageMeta(title: "来电回拨"), items: lines, total: result.total,
            error: error.map { $0.fields.values.first ?? $0.message }, errorID: failed?.uuidString, typed: error == nil ? "" : req.formValue("note") ?? ""))
    }

    static func callBack(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let id = try req.uuid("id", notFound: "通话")
        do {
            let reached = req.formValue("reached").flatMap { $0 == "1" ? true : $0 == "0" ? false : nil }
            let row = try await Calls.calledBack(id, .init(reached: reached, note: req.formValue("note")), by: p, app: req.application)
            return req.redirect(to: "/hotline/callbacks", flash: "已记录回拨：\(row.callerMasked)")
        } catch let e as AppError where e.status.code < 500 && e.status != .notFound {
            let response = try await callbacks(req, error: e, on: id).encodeResponse(for: req)
            response.status = e.status
            return response
        }
    }

    /// The console's state buttons; back to the console with what it showed.
    static func chooseState(_ req: Request) async throws -> Response {
        let line = try await OperatorStates.choose(.init(state: req.formValue("state")), by: try req.staff(), app: req.application)
        return req.redirect(to: "/hotline", flash: "当前状态：\(line.stateName)")
    }

    struct WallboardContext: Encodable { var page: PageMeta; var w: Wallboard; var serviceLevelSeconds: Int; var updated: String }

    static func wallboard(_ req: Request) async throws -> View {
        let p = try req.staff()
        try p.require(Calls.mayRead(p))
        return try await req.view.render("call-centre/wallboard", WallboardContext(
            page: req.pageMeta(title: "12348 话务大屏"), w: try await Wallboard.now(app: req.application, on: req.sql),
            serviceLevelSeconds: CallFlow.serviceLevelSeconds, updated: DateFormatter.chinaTime.string(from: req.now)))
    }
}

/// The hotline's targets in the provinces that run it (Anhui's 12348: answered ≥ 95%, callers satisfied ≥ 90%, every
/// dissatisfied caller called back). The hotline is the city's: figures for the city, none for a county.
enum CallCentreIndicators {
    private static func cityRate(_ id: String, _ name: String, target: Double, basis: String, counted: String,
                                 _ query: @escaping @Sendable (IndicatorScope) -> SQLQueryString) -> IndicatorDefinition {
        IndicatorDefinition(id: id, name: name, capability: "call_centre", unit: .percent, target: target, comparator: .atLeast, basis: basis,
                            targetSource: .bureau, counted: counted, sampled: true) { s, db in
            guard s.region.level == .city else { return IndicatorOutcome(figure: .ratio(0, of: 0), shortfalls: [], shortfallCount: 0) }
            struct R: Decodable { var num: Int?; var den: Int? }
            let r = try await db.raw(query(s)).first(decoding: R.self)
            return IndicatorOutcome(figure: .ratio(r?.num ?? 0, of: r?.den ?? 0), shortfalls: [], shortfallCount: 0)
        }
    }

    static func year(_ s: IndicatorScope) -> (Date, Date) {
        (CivilDate(year: s.year, month: 1, day: 1)!.startInChina, CivilDate(year: s.year + 1, month: 1, day: 1)!.startInChina)
    }

    static let all: [IndicatorDefinition] = [
        cityRate("hotline_answer_rate", "12348 热线接通率", target: 95, basis: "12348 热线服务规范：接通率不低于 95%（安徽省 12348 平台承诺）",
                 counted: "个来电已接听") { s in
            let (start, end) = year(s)
            return """
                SELECT CAST(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS num,
                       CAST(SUM(CASE WHEN answered_at IS NOT NULL OR state = 'abandoned' THEN 1 ELSE 0 END) AS BIGINT) AS den
                FROM calls WHERE rang_at >= \(bind: start) AND rang_at < \(bind: end)
                """
        },
        cityRate("hotline_satisfaction_rate", "12348 热线满意率", target: 90, basis: "来电按键评价 4–5 分为满意；满意率不低于 90%",
                 counted: "个评价为满意") { s in
            let (start, end) = year(s)
            return """
                SELECT CAST(SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS num, COUNT(*) AS den
                FROM calls WHERE rating IS NOT NULL AND rang_at >= \(bind: start) AND rang_at < \(bind: end)
                """
        },
        cityRate("hotline_qc_rate", "12348 话务质检率", target: 5, basis: "每月按比例抽检坐席接听的来电并评分；质检率不低于 5%（安徽省 12348 平台承诺）",
                 counted: "个接听的来电已质检评分") { s in
            let (start, end) = year(s)
            return """
                SELECT CAST(SUM(CASE WHEN q.total IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS num, COUNT(*) AS den
                FROM calls c LEFT JOIN call_quality_checks q ON q.call_id = c.id
                WHERE c.answered_at IS NOT NULL AND c.rang_at >= \(bind: start) AND c.rang_at < \(bind: end)
                """
        },
        cityRate("dissatisfied_callback_rate", "不满意来电回访率", target: 100, basis: "对不满意的来电人逐一回访（1 个工作日内）",
                 counted: "个不满意来电已按时回访") { s in
            let (start, end) = year(s)
            return """
                SELECT CAST(SUM(CASE WHEN callback_on IS NOT NULL AND callback_on <= callback_due THEN 1 ELSE 0 END) AS BIGINT) AS num,
                       COUNT(*) AS den
                FROM calls WHERE rating IS NOT NULL AND rating <= 2 AND rang_at >= \(bind: start) AND rang_at < \(bind: end)
                  AND (callback_on IS NOT NULL OR callback_due < \(bind: s.today.description))
                """
        },
    ]
}
