import Vapor
import SQLKit
import PLSDomain

/// The demo's evaluation loop, taken through the real steps (so timelines, notices and figures are what a city would
/// see): the history's most recent bad ratings, a rectification in each state; complaints in each state; last month's
/// case-file review sample, half of it scored; the demo lawyer's credit record and public-interest service.
enum EvaluationDemo {
    static func seed(app: Application) async throws {
        struct Row: Decodable { var id: UUID; var rating: Int; var ratedAt: Date }
        let sql = app.db as! any SQLDatabase
        // In the first county administrator's county first, so that signing in as one shows them; the appeals need a
        // handling institution.
        let county = try await sql.raw("SELECT region_code FROM accounts WHERE role = \(bind: Role.countyAdmin.rawValue) ORDER BY username LIMIT 1")
            .first(decodingColumn: "region_code", as: String.self).map(Notifications.countyPrefix) ?? ""
        func rows(withInstitution: Bool, limit: Int) async throws -> [Row] {
            try await sql.raw("""
                SELECT r.id, r.rating, r.rated_at FROM service_requests r
                WHERE r.rating <= 2 AND r.rated_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rectifications x WHERE x.request_id = r.id)
                """ + (withInstitution ? " AND r.institution_id IS NOT NULL" : "")
                + " ORDER BY CASE WHEN r.region_code LIKE \(bind: county + "%") THEN 0 ELSE 1 END, r.rated_at DESC LIMIT \(unsafeRaw: String(limit))")
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
        let appeals = try await rows(withInstitution: true, limit: 2)
        let plain = try await rows(withInstitution: false, limit: 8).filter { r in !appeals.contains { $0.id == r.id } }.prefix(6)
        let targets: [RectificationStatus] = [.awaitingCallback, .rectifying, .rectified, .replied, .closed, .awaitingCallback]
        // Steps are recorded as the city administrator's (the events name an account).
        guard let admin = try await sql.raw("SELECT id FROM accounts WHERE role = \(bind: Role.cityAdmin.rawValue) ORDER BY username LIMIT 1")
            .first(decodingColumn: "id", as: UUID.self) else { return }
        let system = Principal(accountID: admin, displayName: "示范数据", role: .cityAdmin, region: app.city.code, institutionID: nil, practitionerID: nil)
        // A published commendation and an unpublished sanction for the demo lawyer, for the credit lookup.
        if let lawyer = try await sql.raw("SELECT practitioner_id FROM accounts WHERE username = 'lawyer'").first(decodingColumn: "practitioner_id", as: UUID?.self) ?? nil {
            let today = app.today
            try await CreditRecords.add(subject: .practitioner, id: lawyer, kind: .commendation, title: "年度优秀法律援助律师", documentNumber: "示司〔\(today.year)〕12号",
                                        decidedOn: today.adding(days: -90), publicUntil: today.adding(days: 275), source: nil, by: system, on: sql, at: app.clock.now)
            try await CreditRecords.add(subject: .practitioner, id: lawyer, kind: .qualityReview, title: "案卷评查：良好", documentNumber: nil,
                                        decidedOn: today.adding(days: -30), publicUntil: nil, source: nil, by: system, on: sql, at: app.clock.now)
            // And some public-interest service this year (as the lawyer logged it).
            for (kind, days, hours, text) in [(PublicInterestKind.petitionReception, 40, 3.5, "区信访接待中心律师值班"),
                                              (.campaign, 20, 2.0, "根治欠薪专项行动现场咨询"), (.legalEducation, 6, 1.5, "社区普法讲座")]
                where today.adding(days: -days).year == today.year {
                try await sql.insert(into: "public_interest_services")
                    .columns("id", "practitioner_id", "region_code", "kind", "served_on", "hours", "description", "entered_by", "created_at")
                    .values(SQLBind(UUID()), SQLBind(lawyer),
                            SQLBind(try await sql.raw("SELECT region_code FROM practitioners WHERE id = \(bind: lawyer)").first(decodingColumn: "region_code", as: String.self) ?? ""),
                            SQLBind(kind.rawValue), SQLBind(today.adding(days: -days).description), SQLBind(hours),
                            SQLBind(try app.personalData.seal(text)), SQLBind(admin), SQLBind(app.clock.now))
                    .run()
            }
        }
        for (row, target) in Array(zip(plain, targets)) + zip(appeals, [RectificationStatus.appealed, .withdrawn]) {
            guard let rating = Rating(rawValue: row.rating) else { continue }
            try await app.ledger.write(on: app.db) { w in
                let r = try await RequestViews.find(row.id.uuidString, scope: .everything, on: w.db)
                try await Rectifications.open(for: r, rating: rating, writer: w, app: app, at: app.clock.now, ratedOn: CivilDate(row.ratedAt))
            }
            guard let x = try await Rectifications.find(request: row.id, on: sql) else { continue }
            let institutionAdmin = Principal(accountID: system.accountID, displayName: "示范数据", role: .institutionAdmin,
                                             region: DivisionCode(x.regionCode), institutionID: x.institutionId, practitionerID: nil)
            let county = Principal(accountID: system.accountID, displayName: "示范数据", role: .countyAdmin,
                                   region: DivisionCode(Notifications.countyPrefix(x.regionCode).padding(toLength: 12, withPad: "0", startingAt: 0)),
                                   institutionID: nil, practitionerID: nil)
            typealias Input = Rectifications.StepInput
            var steps: [(RectificationStep, Input, Principal)] = []
            let callback = Input(reached: true, attempts: 1, note: "已电话联系当事人，了解不满意的原因")
            let rectify = Input(verification: "经核实，办理过程中解释不够清楚", measures: "对承办人员进行服务规范培训，并重新向当事人解释")
            let reply = Input(reply: "经核实，已对相关人员进行培训并重新解答您的问题，感谢监督")
            switch target {
            case .awaitingCallback: break
            case .rectifying: steps = [(.callback, callback, system)]
            case .rectified: steps = [(.callback, callback, system), (.rectify, rectify, system)]
            case .replied: steps = [(.callback, callback, system), (.rectify, rectify, system), (.reply, reply, system)]
            case .closed:
                steps = [(.callback, callback, system), (.rectify, rectify, system), (.reply, reply, system)]
            case .appealed, .withdrawn:
                guard x.institutionId != nil else { continue }
                steps = [(.appeal, Input(kind: "mistaken", reason: "当事人来电称误选评价"), institutionAdmin)]
                if target == .withdrawn { steps.append((.appealDecision, Input(reason: "经核实为误评", upheld: true), county)) }
            }
            for (step, input, by) in steps { _ = try await Rectifications.take(step, on: x.id, input, by: by, app: app) }
            if target == .closed {
                // The person's own rating of the rectification, recorded on a follow-up call.
                // Its region the city's (the city's settings may not be read yet on a first start).
                let op = Principal(accountID: system.accountID, displayName: "12348 热线坐席", role: .hotlineOperator,
                                   region: DivisionCode(x.regionCode)?.ancestor(at: .city),
                                   institutionID: nil, practitionerID: nil)
                _ = try await Rectifications.take(.evaluation, on: x.id, Input(rating: 4, comment: "整改及时"), by: op, app: app)
            }
        }
        try await seedComplaints(app: app, by: system)
        try await seedReviews(app: app, by: system)
    }

    /// A complaint in each state against the demo lawyer, registered by the hotline, handled by the lawyer's county.
    private static func seedComplaints(app: Application, by system: Principal) async throws {
        let sql = app.db as! any SQLDatabase
        struct P: Decodable { var practitionerId: UUID?; var regionCode: String }
        guard let lawyer = try await sql.raw("SELECT practitioner_id, region_code FROM accounts WHERE username = 'lawyer'")
            .first(decoding: P.self, keyDecodingStrategy: .snakeCase), let id = lawyer.practitionerId,
              let region = try await sql.raw("SELECT region_code FROM practitioners WHERE id = \(bind: id)").first(decodingColumn: "region_code", as: String.self)
        else { return }
        let hotline = Principal(accountID: system.accountID, displayName: "12348 热线坐席", role: .hotlineOperator,
                                region: DivisionCode(region)?.ancestor(at: .city), institutionID: nil, practitionerID: nil)
        let county = Principal(accountID: system.accountID, displayName: "示范数据", role: .countyAdmin,
                               region: DivisionCode(Notifications.countyPrefix(region).padding(toLength: 12, withPad: "0", startingAt: 0)),
                               institutionID: nil, practitionerID: nil)
        typealias S = Complaints.StepInput
        let cases: [(String, [(ComplaintStep, S)])] = [
            ("律师收取代理费后长时间未联系，电话不接", []),
            ("律师未经同意将案件转交他人办理", [(.requestMaterial, S(note: "委托代理合同和付款凭证"))]),
            ("约定的开庭律师未到庭", [(.accept, S()), (.statement, S(party: "respondent", text: "因法院临时改期，已提前告知当事人"))]),
            ("律师收费未开具发票", [(.accept, S()), (.decide, S(upheld: true, finding: "经查，收费未开具发票属实，责令补开发票并予以批评教育"))]),
            ("对律师的代理意见不满意", [(.refuse, S(reason: "属于对代理意见的专业分歧，不属于投诉受理范围，可与律师协商或另行委托"))]),
        ]
        for (n, (content, steps)) in cases.enumerated() {
            let c = try await Complaints.register(.init(kind: n == 3 ? "fees" : "conduct", practitionerId: id, name: "赵\(["明", "芳", "强", "丽", "军"][n])",
                                                        mobile: "1390000100\(n)", content: content), by: hotline, app: app)
            for (step, input) in steps { _ = try await Complaints.take(step, on: c.id, input, by: county, app: app) }
        }
        try await seedReplacement(app: app, hotline: hotline, by: system)
    }

    /// A legal aid recipient's complaint, upheld: the demo centre's clerk (`aid`) has a designee to replace (art. 56).
    /// The case is made through the real steps (application at the centre's window, decision, designation).
    private static func seedReplacement(app: Application, hotline: Principal, by system: Principal) async throws {
        let sql = app.db as! any SQLDatabase
        struct A: Decodable { var id: UUID; var displayName: String; var regionCode: String; var institutionId: UUID? }
        guard let a = try await sql.raw("SELECT id, display_name, region_code, institution_id FROM accounts WHERE username = 'aid'")
            .first(decoding: A.self, keyDecodingStrategy: .snakeCase), let county = DivisionCode(a.regionCode),
              let village = try await sql.raw("SELECT code FROM regions WHERE level = 'village' AND code LIKE \(bind: county.scopePrefix + "%") ORDER BY code LIMIT 1")
                .first(decodingColumn: "code", as: String.self) else { return }
        let clerk = Principal(accountID: a.id, displayName: a.displayName, role: .windowClerk, region: county, institutionID: a.institutionId, practitionerID: nil)
        let r = try await LegalAidCases.apply(.init(matter: "labor_relationship_or_pay", kind: nil, category: nil,
                                                    description: "（演示）装修公司拖欠工资五个月，共计三万二千元",
                                                    applicant: .init(name: "孙桂兰", mobile: "13900001010", idNumber: "340102196503150021"), regionCode: village,
                                                    householdSize: 3, householdMonthlyIncome: 2_400, statuses: [], claim: nil, pledge: true,
                                                    priorityGroups: nil, channel: RequestChannel.window.rawValue),
                                              by: clerk, idempotencyKey: nil, app: app)
        _ = try await LegalAidCases.perform(.decision, on: r.number, input: .init(grant: true, reason: "家庭人均收入低于经济困难标准"), by: clerk, app: app)
        let candidates = try await Dispatch.candidates(for: r, limit: 2, today: app.today, on: sql)
        guard let first = candidates.first?.practitionerId else { return }
        _ = try await LegalAidCases.perform(.designation, on: r.number, input: .init(practitionerId: first), by: clerk, app: app)
        typealias S = Complaints.StepInput
        let c = try await Complaints.register(.init(kind: ComplaintKind.legalAidReplacement.rawValue, practitionerId: first, requestId: r.id,
                                                    name: "孙桂兰", mobile: "13900001010", content: "承办律师一个多月未与我联系，要求更换承办律师"),
                                              by: hotline, app: app)
        let bureau = Principal(accountID: system.accountID, displayName: "示范数据", role: .countyAdmin, region: county, institutionID: nil, practitionerID: nil)
        _ = try await Complaints.take(.accept, on: c.id, S(), by: bureau, app: app)
        _ = try await Complaints.take(.decide, on: c.id, S(upheld: true, finding: "经核实，承办律师未及时与受援人联系，不依法履行职责，责令更换"),
                                      by: bureau, app: app)
    }

    /// Last month's sample in every state: the second case below 良好 and rectified, the third below 良好 and being
    /// rectified, every other one after them left for the reviewer (the last always), the rest scored.
    private static func seedReviews(app: Application, by system: Principal) async throws {
        let period = app.today.previousMonthStart.monthKey
        _ = try await QualityReviews.draw(.init(period: period, share: 0.02), by: system, app: app)
        let rows = try await QualityReviews.list(period: period, status: "pending", scope: .everything, page: PageRequest(page: 1, per: 100),
                                                 on: app.db as! any SQLDatabase).items
        for (i, r) in rows.enumerated() where i < rows.count - 1 && (i < 3 || i % 2 == 0) {
            let items = try await QualityReviews.checklist(MatterType(rawValue: r.matterType) ?? .consultation, on: app.db as! any SQLDatabase)
            let weak = i == 1 || i == 2
            _ = try await QualityReviews.score(r.id, .init(scores: items.map { weak ? $0.points * 2 / 3 : $0.points - (i % 3) * 2 },
                                                           comment: i % 3 == 0 ? nil : "文书个别要素缺失，请补正",
                                                           rectification: weak ? "补正案卷文书，办结前由负责人复核" : nil),
                                               by: system, app: app)
            if i == 1 {
                // Reported as the institution's staff would on the review page (the demo has no account at every institution).
                let staff = Principal(accountID: system.accountID, displayName: r.institutionName, role: .institutionAdmin, region: nil,
                                      institutionID: r.institutionId, practitionerID: nil)
                _ = try await QualityReviews.rectify(r.id, .init(report: "已补正文书，建立办结前负责人复核制度"), by: staff, app: app)
            }
        }
    }
}
