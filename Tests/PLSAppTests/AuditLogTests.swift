import XCTVapor
import SQLKit
import PLSDomain
@testable import PLSApp

/// Issue #21, item 6: administrative acts in an append-only, hash-chained audit log, read by the auditor and the
/// city administrator only.
final class AuditLogTests: AppTestCase {
    func entries(_ token: String, query: String = "") async throws -> Paged<AuditLog.Item> {
        let res = try await send(.GET, "/api/v1/audit-log" + query, token: token)
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(Paged<AuditLog.Item>.self)
    }

    func testAdministrativeActsAreRecordedWithBeforeAndAfter() async throws {
        let admin = try await token("admin"), auditor = try await token("auditor")
        let empty = try await entries(auditor)
        XCTAssertEqual(empty.total, 0)
        let county = county(0).code.rawValue
        var res = try await send(.PUT, "/api/v1/legal-aid/thresholds/\(county)", token: admin, json: ["minimumLivingAllowance": 820.0, "multiple": 2.5])
        XCTAssertEqual(res.status, .ok, res.body.string)
        res = try await send(.POST, "/api/v1/accounts", token: admin, json: AccountController.Input(
            username: "clerk-2", displayName: "新窗口", role: "hotline_operator", regionCode: county, institutionId: nil, practitionerId: nil,
            password: "strong-pass-9"))
        XCTAssertEqual(res.status, .created, res.body.string)
        res = try await send(.PUT, "/api/v1/deadline-rules/consultation", token: admin, json: Catalog.RulesInput(
            acceptDays: 1, acceptUnit: "working_days", concludeDays: 7, concludeUnit: "working_days", autoAssign: "off"))
        XCTAssertEqual(res.status, .ok, res.body.string)

        let log = try await entries(auditor)
        XCTAssertEqual(log.items.map(\.action), ["catalog.rules", "account.create", "legal_aid.threshold"], "newest first")
        let account = log.items[1]
        XCTAssertEqual(account.actor, "市司法局管理员")
        XCTAssertNil(account.before)
        XCTAssertTrue(account.after?.contains("\"username\":\"clerk-2\"") == true)
        XCTAssertFalse(account.after?.contains("strong-pass-9") == true, "never a password")
        let threshold = log.items[2]
        XCTAssertTrue(threshold.after?.contains("\"multiple\":2.5") == true, threshold.after ?? "")
        XCTAssertFalse(threshold.address.isEmpty, "the address it came from (in-process tests have none to give)")
        let rules = log.items[0]
        XCTAssertTrue(rules.before?.contains("\"concludeDays\"") == true && rules.after?.contains("\"concludeDays\":7") == true)

        // Filters; the city administrator reads too; nobody else.
        let accountsOnly = try await entries(admin, query: "?action=account.create")
        XCTAssertEqual(accountsOnly.items.count, 1)
        res = try await send(.GET, "/api/v1/audit-log?action=nonsense", token: auditor)
        XCTAssertEqual(res.status, .unprocessableEntity)
        for user in ["county-admin", "operator", "leader"] {
            let refused = try await send(.GET, "/api/v1/audit-log", token: try await token(user))
            XCTAssertEqual(refused.status, .forbidden, user)
        }
        var browser = BrowserSession(self)
        try await browser.signIn("auditor")
        let page = try await browser.get("/admin/audit")
        XCTAssertTrue(page.body.string.contains("新建账号") && page.body.string.contains("修改经济困难标准"))
        let csv = try await browser.get("/admin/audit.csv")
        XCTAssertEqual(csv.headers.contentType?.subType, "csv")
        XCTAssertTrue(csv.body.string.contains("clerk-2"))

        // Append-only in a hash chain: an altered entry is found.
        var check = try await AuditLog.verify(protector: app.personalData, on: sql)
        XCTAssertEqual(check.checked, 3)
        XCTAssertNil(check.problem)
        try await sql.raw("UPDATE audit_log SET target = 'x' WHERE seq = 2").run()
        check = try await AuditLog.verify(protector: app.personalData, on: sql)
        XCTAssertEqual(check.problem, "审计日志第 2 条已被篡改")
        try await sql.raw("DELETE FROM audit_log WHERE seq = 3").run()
        check = try await AuditLog.verify(protector: app.personalData, on: sql)
        XCTAssertNotNil(check.problem)
    }

    func testTheChainHoldsAcrossWritersAndIsSealedAtRest() async throws {
        let actor = AuditLog.Actor(id: nil, name: "测试", address: "10.0.0.1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<8 {
                group.addTask { [app] in
                    try await AuditLog.record("indicator.target", target: "指标 \(n)", before: ["target": 1], after: ["target": n],
                                              by: actor, protector: app!.personalData, on: app!.db as! any SQLDatabase, at: Date())
                }
            }
            try await group.waitForAll()
        }
        let check = try await AuditLog.verify(protector: app.personalData, on: sql)
        XCTAssertEqual(check.checked, 8)
        XCTAssertNil(check.problem)
        let stored = try await sql.raw("SELECT address FROM audit_log LIMIT 1").first(decodingColumn: "address", as: String.self)
        XCTAssertNotEqual(stored, "10.0.0.1", "addresses sealed at rest")
    }
}
