import Vapor
import SQLKit
import PLSDomain

/// /api/v1/legal-aid: the pre-check, the city's settings, applications and their steps, notified defence,
/// duty lawyers and the statistics.
enum LegalAidController {
    // MARK: Pre-check (no sign-in)

    struct EligibilityInput: Content {
        var matter: String?
        var regionCode: String?
        var householdSize: Int?
        var householdMonthlyIncome: Double?
        var statuses: [String]?
        /// A migrant worker's claim under art. 42 (3) (`labor_pay`, `work_injury`), narrowing the matter.
        var claim: String?
    }

    struct EligibilityView: Content {
        var eligible: Bool
        var meansTest: String
        var meansTestName: String
        /// Yuan per head a month; nil only when the county has none set and none was needed.
        var threshold: Double?
        var thresholdText: String?
        var reasons: [AidReason]
    }

    static func eligibility(_ input: EligibilityInput, on db: any SQLDatabase) async throws -> EligibilityView {
        var errors = FieldErrors()
        let matterID = errors.required(input.matter, "matter", "申请事项", maxLength: 40)
        let statuses = LegalAidCases.parseStatuses(input.statuses, &errors)
        let scope = try await LegalAidSettings.scope(on: db)
        let matter = scope.first { $0.id == matterID }
        let claim = LegalAidSettings.claim(input.claim, matter: matter, &errors)
        let needed = LegalAidRules.needsMeans(matter: matter, statuses: statuses, claim: claim)
        let (size, income) = LegalAidCases.validMeans(size: input.householdSize, income: input.householdMonthlyIncome, needed: needed, &errors)
        let code = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        var threshold: HardshipThreshold?
        if code.isEmpty {
            errors.add("regionCode", "请选择申请人所在的县（区）")
        } else if let county = LegalAidSettings.countyCode(of: code), try await RegionController.find(code, on: db) != nil {
            threshold = try await LegalAidSettings.threshold(county: county, on: db)
            if threshold == nil, needed { errors.add("regionCode", "所在县（区）尚未设定经济困难标准，请联系当地法律援助中心") }
        } else {
            errors.add("regionCode", "请选择到县（区）或以下的区划")
        }
        try errors.throwIfAny()
        let e = LegalAidRules.eligibility(matterID: matterID, scope: scope, statuses: statuses, claim: claim, threshold: threshold,
                                          householdSize: size, householdIncome: income)
        return EligibilityView(eligible: e.eligible, meansTest: e.meansTest.rawValue, meansTestName: e.meansTest.chineseName,
                               threshold: e.threshold.map(Money.toYuan), thresholdText: e.threshold.map(Money.yuan), reasons: e.reasons)
    }

    static func apiEligibility(_ req: Request) async throws -> EligibilityView {
        try req.limit(.eligibility)
        return try await eligibility(try req.content.decode(EligibilityInput.self), on: req.sql)
    }

    // MARK: Settings

    static func apiMatters(_ req: Request) async throws -> [LegalAidSettings.MatterRow] {
        let all = (try? req.query.get(Bool.self, at: "all")) ?? false
        return try await LegalAidSettings.matters(includeInactive: all, on: req.sql)
    }

    static func apiSaveMatter(_ req: Request) async throws -> LegalAidSettings.MatterRow {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        return try await LegalAidSettings.saveMatter(req.parameters.get("id") ?? "", try req.content.decode(LegalAidSettings.MatterInput.self), on: req.sql)
    }

    static func apiThresholds(_ req: Request) async throws -> [LegalAidSettings.ThresholdView] {
        try await LegalAidSettings.thresholds(on: req.sql)
    }

    static func apiThreshold(_ req: Request) async throws -> LegalAidSettings.ThresholdView {
        let code = req.parameters.get("countyCode") ?? ""
        guard let t = try await LegalAidSettings.thresholds(prefix: DivisionCode(code)?.scopePrefix ?? code, on: req.sql).first(where: { $0.countyCode == code }) else {
            throw AppError.notFound("县（区）")
        }
        return t
    }

    static func apiSaveThreshold(_ req: Request) async throws -> LegalAidSettings.ThresholdView {
        let p = try req.staff()
        return try await LegalAidSettings.saveThreshold(county: req.parameters.get("countyCode") ?? "",
                                                        try req.content.decode(LegalAidSettings.ThresholdInput.self), by: p,
                                                        actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
    }

    static func apiRules(_ req: Request) async throws -> [LegalAidSettings.RuleView] {
        _ = try req.staff()
        return try await LegalAidSettings.ruleViews(on: req.sql)
    }

    static func apiSaveRule(_ req: Request) async throws -> LegalAidSettings.RuleView {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        return try await LegalAidSettings.saveRule(req.parameters.get("key") ?? "", try req.content.decode(LegalAidSettings.RuleInput.self), actor: req.auditActor, protector: req.personalData, now: req.now, on: req.sql)
    }

    static func apiRates(_ req: Request) async throws -> [LegalAidSettings.RateView] {
        _ = try req.staff()
        return try await LegalAidSettings.rateViews(on: req.sql)
    }

    static func apiSaveRate(_ req: Request) async throws -> [LegalAidSettings.RateView] {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        return try await LegalAidSettings.saveRate(try req.content.decode(LegalAidSettings.RateInput.self), on: req.sql)
    }

    static func apiRoster(_ req: Request) async throws -> Paged<LegalAidSettings.RosterEntry> {
        let p = try req.staff()
        if case .own = p.scope { throw AppError.forbidden }
        return try await LegalAidSettings.roster(prefix: regionPrefix(p), page: try PageRequest(from: req), today: req.today, on: req.sql)
    }

    static func apiSaveRosterEntry(_ req: Request) async throws -> LegalAidSettings.RosterEntry {
        let p = try req.staff()
        guard let id = req.parameters.get("practitionerId").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("人员") }
        return try await LegalAidSettings.saveRosterEntry(id, try req.content.decode(LegalAidSettings.RosterInput.self), by: p,
                                                          today: req.today, now: req.now, on: req.sql)
    }

    /// The region prefix a staff member's lists cover.
    static func regionPrefix(_ p: Principal) -> String {
        if case .region(let code) = p.scope { return code.scopePrefix }
        return ""
    }

    // MARK: Applications and steps

    struct CaseDetail: Content {
        var request: RequestViews.Detail
        var legalAid: LegalAidCases.View
    }

    static func detail(_ r: ServiceRequest, for p: Principal, req: Request) async throws -> CaseDetail {
        let d = try await RequestViews.detail(r, for: p, app: req.application, on: req.sql)
        guard let aid = d.legalAid else { throw AppError.notFound("法律援助案件") }
        var request = d
        request.sections.removeAll { $0.value is LegalAidCases.View }
        return CaseDetail(request: request, legalAid: aid)
    }

    static func apiApply(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let key = req.headers.first(name: "Idempotency-Key")?.trimmingCharacters(in: .whitespaces)
        if let key, key.isEmpty || key.count > 100 { throw AppError.badRequest("Idempotency-Key 应为 1–100 个字符") }
        let r = try await LegalAidCases.apply(try req.content.decode(LegalAidCases.ApplicationInput.self), by: p, idempotencyKey: key, app: req.application)
        return try Response(status: .created, headers: ["Location": "/api/v1/legal-aid/cases/\(r.id!)"]).encodeJSON(try await detail(r, for: p, req: req))
    }

    static func apiCase(_ req: Request) async throws -> CaseDetail {
        let p = try req.principal()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        return try await detail(r, for: p, req: req)
    }

    static func step(_ step: LegalAidCases.Step) -> @Sendable (Request) async throws -> CaseDetail {
        { req in
            let p = try req.principal()
            let input = req.body.data == nil ? LegalAidCases.StepInput() : try req.content.decode(LegalAidCases.StepInput.self)
            let r = try await LegalAidCases.perform(step, on: req.parameters.get("id") ?? "", input: input, by: p, app: req.application)
            return try await detail(r, for: p, req: req)
        }
    }

    static func apiCandidates(_ req: Request) async throws -> [Dispatch.Candidate] {
        let p = try req.staff()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        guard r.matterType == MatterType.legalAid.rawValue else { throw AppError.notFound("法律援助案件") }
        return try await Dispatch.candidates(for: r, today: req.today, name: Dispatch.searchedName(req, key: "q"), on: req.sql)
    }

    // MARK: Criminal legal aid

    static func apiNotice(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let (r, replayed) = try await CriminalLegalAid.receive(try req.content.decode(CriminalLegalAid.NoticeInput.self), by: p, app: req.application)
        var headers: HTTPHeaders = ["Location": "/api/v1/legal-aid/cases/\(r.id!)"]
        if replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
        return try Response(status: replayed ? .ok : .created, headers: headers).encodeJSON(try await detail(r, for: p, req: req))
    }

    static func apiStations(_ req: Request) async throws -> [CriminalLegalAid.Station] {
        let p = try req.staff()
        return try await CriminalLegalAid.stations(prefix: try await CriminalLegalAid.dutyPrefix(p, on: req.sql), lawyer: CriminalLegalAid.dutyLawyer(p), on: req.sql)
    }

    static func apiCreateStation(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let s = try await CriminalLegalAid.createStation(try req.content.decode(CriminalLegalAid.StationInput.self), by: p, on: req.sql)
        return try Response(status: .created).encodeJSON(s)
    }

    static func dateRange(_ req: Request) throws -> (CivilDate, CivilDate) {
        let from = (try? req.query.get(String.self, at: "from")).flatMap(CivilDate.init) ?? req.today
        let to = (try? req.query.get(String.self, at: "to")).flatMap(CivilDate.init) ?? from.adding(days: 6)
        guard from <= to, to.dayNumber - from.dayNumber <= 62 else { throw AppError.validation(["to": "日期范围应在 62 天以内"]) }
        return (from, to)
    }

    static func apiShifts(_ req: Request) async throws -> [CriminalLegalAid.Shift] {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("值班站点") }
        _ = try await CriminalLegalAid.station(id, prefix: try await CriminalLegalAid.dutyPrefix(p, on: req.sql), lawyer: CriminalLegalAid.dutyLawyer(p), on: req.sql)
        let (from, to) = try dateRange(req)
        return try await CriminalLegalAid.shifts(station: id, from: from, to: to, on: req.sql)
    }

    static func apiSetShift(_ req: Request) async throws -> [CriminalLegalAid.Shift] {
        let p = try req.staff()
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound("值班站点") }
        guard let day = req.parameters.get("day").flatMap(CivilDate.init) else { throw AppError.validation(["day": "日期格式应为 YYYY-MM-DD"]) }
        try await CriminalLegalAid.setShift(station: id, day: day, try req.content.decode(CriminalLegalAid.ShiftInput.self), by: p, today: req.today, on: req.db)
        return try await CriminalLegalAid.shifts(station: id, from: day, to: day, on: req.sql)
    }

    static func apiPersons(_ req: Request) async throws -> Paged<CriminalLegalAid.Person> {
        let p = try req.staff()
        let station = (try? req.query.get(String.self, at: "stationId")).flatMap(UUID.init(uuidString:))
        let unassisted = (try? req.query.get(String.self, at: "unassisted")).map { ["1", "true"].contains($0) } ?? false
        return try await CriminalLegalAid.persons(prefix: try await CriminalLegalAid.dutyPrefix(p, on: req.sql), lawyer: CriminalLegalAid.dutyLawyer(p), station: station, unassistedOnly: unassisted,
                                                  page: try PageRequest(from: req), protector: req.personalData, on: req.sql)
    }

    static func apiRegisterPerson(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let person = try await CriminalLegalAid.registerPerson(try req.content.decode(CriminalLegalAid.PersonInput.self), by: p,
                                                               today: req.today, now: req.now, protector: req.personalData, on: req.sql)
        return try Response(status: .created).encodeJSON(person)
    }

    static func apiRecordAssistance(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let a = try await CriminalLegalAid.recordAssistance(try req.content.decode(CriminalLegalAid.AssistanceInput.self), by: p,
                                                            today: req.today, now: req.now, app: req.application)
        return try Response(status: .created).encodeJSON(a)
    }

    // MARK: Statistics

    static func apiStatistics(_ req: Request) async throws -> LegalAidIndicators.Statistics {
        let p = try req.staff()
        let (scope, _) = try await IndicatorController.scope(req, p)
        return try await LegalAidIndicators.statistics(region: scope.region, year: scope.year, on: req.sql)
    }
}
