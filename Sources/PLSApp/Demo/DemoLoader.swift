import Vapor
import Fluent
import SQLKit
import PLSDomain

/// The demo city's size (`ConfigureOptions.demoScale`): the full city to look at, a small one for the tests.
public typealias DemoScale = DemoCity.Scale

/// Loads 示范市 into an empty database in one transaction, with batched inserts so it takes seconds.
enum DemoLoader {
    /// On a first start with the demo on: the demo city, a year of its history for the full city (tests use the small
    /// one, empty), the planner's statistics, and the logins printed.
    static func loadIfEmpty(app: Application, options: ConfigureOptions) async throws {
        guard try await isEmpty(app.db) else { return }
        try await load(DemoCity(scale: options.demoScale), app: app, on: app.db)
        // Only for `serve`: a command run on a fresh directory (regions import, accounts create) has no use for it.
        if options.demoScale == .full, app.environment.arguments.dropFirst().first == "serve" {
            // The demo's telephone exchange, for `pls demo calls`.
            do { try await PlatformsDemo.registerDemoExchange(app: app) } catch { app.logger.warning("demo exchange not registered: \(String(describing: error))") }
        }
        if options.demoScale == .full, app.settings.demoHistory > 0, app.environment.arguments.dropFirst().first == "serve" {
            _ = try await DemoRequests.generate(count: app.settings.demoHistory, app: app, on: app.db)
            do {
                try await EvaluationDemo.seed(app: app)
            } catch {
                // The history's extras make the demo richer; without them it still serves.
                app.logger.warning("demo rectifications not added: \(String(describing: error))")
            }
            do {
                try await PlatformsDemo.seed(app: app)
            } catch {
                app.logger.warning("demo calls and tickets not added: \(String(describing: error))")
            }
        }
        if options.demoScale == .full, app.environment.arguments.dropFirst().first == "serve" {
            do {
                try await LeadersDemo.seed(app: app)
            } catch {
                app.logger.warning("demo series and reports not added: \(String(describing: error))")
            }
        }
        // Planner statistics for the tables just filled: without them PostgreSQL chose plans that made the city's
        // indicators take 7-10 s instead of 0.2 s (SQLite's `PRAGMA optimize` does this for the embedded database).
        if !app.settings.usesEmbeddedDatabase, let sql = app.db as? any SQLDatabase { try await sql.raw("ANALYZE").run() }
        if !options.quiet { print(loginsBanner()) }
    }

    /// Whether the database holds no regions yet.
    static func isEmpty(_ db: any Database) async throws -> Bool {
        try await Region.query(on: db).count() == 0
    }

    /// Whether the demo city was loaded here (its accounts share one published password).
    static func holdsDemoCity(_ db: any Database) async throws -> Bool {
        try await Region.query(on: db).filter(\.$id == DemoCity.cityCode.rawValue).count() > 0
    }

    static func load(_ city: DemoCity, app: Application, on database: any Database) async throws {
        let passwordHash = try Bcrypt.hash(DemoCity.password, cost: AuthController.passwordCost)
        let now = app.clock.now
        try await database.atomic { tx in
            let db = tx as! any SQLDatabase
            try await insertRows(db, Region.schema, ["code", "name", "level", "kind", "parent_code", "population", "active"],
                                 city.regions.map { r in
                [SQLBind(r.code.rawValue), SQLBind(r.name), SQLBind(r.level.rawValue), SQLBind(r.kind?.rawValue),
                 SQLBind(r.code.parent?.rawValue), SQLBind(r.population), SQLBind(true)]
            })
            try await insertRows(db, Institution.schema, ["id", "type", "name", "region_code", "address", "phone", "opening_hours",
                                                          "latitude", "longitude", "committee_kind", "industry_field", "body_kind",
                                                          "enforcement_heavy", "adviser_expected", "school_kind", "active",
                                                          "created_at", "updated_at"],
                                 city.institutions.map { i in
                [SQLBind(i.id), SQLBind(i.type.rawValue), SQLBind(i.name), SQLBind(i.region.rawValue), SQLBind(i.address),
                 SQLBind(i.phone), SQLBind(i.openingHours), SQLBind(i.latitude), SQLBind(i.longitude),
                 SQLBind(i.committeeKind?.rawValue), SQLBind(i.industryField?.rawValue), SQLBind(i.bodyKind?.rawValue),
                 SQLBind(i.bodyKind == nil ? nil : i.enforcementHeavy),
                 SQLBind(i.bodyKind.map { GovernmentBodies.expectsAdviser(kind: $0, level: i.region.level ?? .village, enforcementHeavy: i.enforcementHeavy) }),
                 SQLBind(i.type == .school ? Schools.suggestedKind(name: i.name, level: i.region.level).rawValue : nil),
                 SQLBind(true), SQLBind(now), SQLBind(now)]
            })
            try await insertRows(db, Practitioner.schema, ["id", "type", "name", "gender", "licence_number", "institution_id",
                                                           "region_code", "specialities", "regions_served", "status",
                                                           "created_at", "updated_at"],
                                 city.practitioners.map { p in
                [SQLBind(p.id), SQLBind(p.type.rawValue), SQLBind(p.name), SQLBind(p.gender.rawValue), SQLBind(p.licenceNumber),
                 SQLBind(p.institutionID), SQLBind(p.region.rawValue), SQLBind(DelimitedList.encode(p.specialities.map(\.rawValue))),
                 SQLBind(DelimitedList.encode(p.regionsServed.map(\.rawValue))), SQLBind(PractitionerStatus.practising.rawValue),
                 SQLBind(now), SQLBind(now)]
            })
            try await LegalAidDemo.seed(city, today: app.today, protector: app.personalData, on: db)
            try await MediationDemo.seed(city, today: app.today, on: db)
            try await GrassrootsDemo.seed(city, today: app.today, on: db)
            try await RostersDemo.seed(city, today: app.today, on: db)
            for a in city.accounts {
                let account = Account()
                account.username = a.username
                if let mobile = a.mobile.flatMap(MobileNumber.init) {
                    account.mobileHash = app.personalData.lookupHash(mobile.digits)
                    account.mobileCipher = try app.personalData.encrypt(mobile.digits)
                    account.mobileMasked = mobile.masked
                }
                account.displayName = a.displayName
                account.role = a.role.rawValue
                account.regionCode = a.region.rawValue
                account.institutionID = a.institutionID
                account.practitionerID = a.practitionerID
                account.passwordHash = passwordHash
                account.failedLogins = 0
                account.active = true
                try await account.create(on: tx)
            }
        }
    }

    /// Multi-row INSERTs of a few hundred rows each: well under both databases' bind limits.
    static func insertRows(_ db: any SQLDatabase, _ table: String, _ columns: [String], _ rows: [[any SQLExpression]]) async throws {
        let perStatement = max(1, 8_000 / columns.count)
        var start = 0
        while start < rows.count {
            let end = min(start + perStatement, rows.count)
            var insert = db.insert(into: table).columns(columns)
            for row in rows[start..<end] { insert = insert.values(row) }
            try await insert.run()
            start = end
        }
    }

    /// What a newcomer reads on first start.
    static func loginsBanner() -> String {
        """

        ┌──────────────────────────────────────────────────────────────┐
          示范市公共法律服务平台（演示数据已载入）
          演示账号（密码均为 \(DemoCity.password)）：
            admin 市级管理员   county-admin 城关区管理员   leader 领导
            operator 12348 坐席   clerk 窗口   aid 法律援助中心   auditor 审计员
            lawyer 律师   mediator 调解员   adviser 基层法律服务工作者
          群众：手机号 \(DemoCity.citizenMobile)，验证码见 /demo/outbox，或用密码登录
        └──────────────────────────────────────────────────────────────┘

        """
    }
}
