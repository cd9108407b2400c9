import Vapor
import Fluent
import SQLKit
import PLSDomain

/// `pls setup`: puts the platform into service for a real city, step by step, each step safe to run again.
///
///     PLS_DEMO=0 PLS_PASSWORD=… pls setup --regions regions.csv --admin city-admin --sms-signature 【西江市公共法律服务】
///
/// Imports the regions (all or nothing; the one city-level region is the root: the city), creates the first city
/// administrator, sets the SMS signature, and ends with a checklist of what is in place and what is still missing.
struct SetupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "regions", help: "CSV of the city's regions: code,name,level,parent_code[,population]; exactly one level=city row")
        var regions: String?
        @Option(name: "admin", help: "Username of the first city administrator (password from PLS_PASSWORD)")
        var admin: String?
        @Option(name: "name", help: "The administrator's display name")
        var name: String?
        @Option(name: "sms-signature", help: "The SMS sender signature, e.g. 【西江市公共法律服务】")
        var smsSignature: String?
        @Option(name: "institutions", help: "CSV or XLSX: type,name,region_code,address,phone,opening_hours")
        var institutions: String?
        @Option(name: "practitioners", help: "CSV or XLSX: type,name,gender,licence_number,institution,specialities,regions_served")
        var practitioners: String?
    }

    var help: String { "Set the platform up for a real city: regions, the first administrator, the SMS signature; then a checklist" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        do {
            try await Self.setUp(app: app, regionsFile: signature.regions, admin: signature.admin, adminName: signature.name,
                                 smsSignature: signature.smsSignature, password: Environment.get("PLS_PASSWORD"),
                                 institutions: signature.institutions, practitioners: signature.practitioners,
                                 say: { context.console.success($0) })
        } catch let e as AppError {
            context.console.error(e.message)
            for (field, message) in e.fields.sorted(by: { $0.key.localizedStandardCompare($1.key) == .orderedAscending }) where !e.message.contains(message) {
                context.console.error("  \(field): \(message)")
            }
            throw ExitCode(1)
        }
        for line in try await Self.checklist(app: app) { context.console.print(line) }
    }

    static func setUp(app: Application, regionsFile: String?, admin: String?, adminName: String?, smsSignature: String?,
                      password: String?, institutions: String? = nil, practitioners: String? = nil, say: (String) -> Void) async throws {
        let sql = app.db as! any SQLDatabase
        if app.settings.demo, try await DemoLoader.holdsDemoCity(app.db) {
            throw AppError.validation(["PLS_DEMO": "数据目录中是演示数据：请在新的数据目录中、以 PLS_DEMO=0 运行 pls setup"])
        }
        if let regionsFile {
            let existing = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Region.schema)
                .first(decodingColumn: "n", as: Int.self) ?? 0
            guard existing == 0 else {
                throw AppError.validation(["regions": "行政区划已导入（\(existing) 个）；增补请用 pls regions import 或“行政区划”页面"])
            }
            guard let data = FileManager.default.contents(atPath: regionsFile) else {
                throw AppError.validation(["regions": "无法读取文件 \(regionsFile)"])
            }
            let count = try await RegionController.importCSV(String(decoding: data, as: UTF8.self), on: app.db) { tx in
                // The city is the root: exactly one city-level region, and every other region inside it.
                let cities = try await tx.select().column("code").from(Region.schema).where("level", .equal, SQLBind(RegionLevel.city.rawValue))
                    .all(decodingColumn: "code", as: String.self)
                guard cities.count == 1, let city = DivisionCode(cities[0]) else {
                    throw AppError.validation(["regions": "文件中须有且只有一个市级区划（level 为 city），作为本平台服务的城市；现有 \(cities.count) 个；未导入任何数据"])
                }
                let outside = try await tx.select().column("code").from(Region.schema).where("code", .notLike, SQLBind(city.scopePrefix + "%"))
                    .limit(3).all(decodingColumn: "code", as: String.self)
                if !outside.isEmpty {
                    throw AppError.validation(["regions": "区划 \(outside.joined(separator: "、")) 不在市级区划 \(city.rawValue) 之内；未导入任何数据"])
                }
            }
            let city = try await app.cityStore.reload(from: sql)
            say("已导入 \(count) 个行政区划，本平台服务的城市：\(city.name)（\(city.code?.rawValue ?? "")）")
        }
        if let smsSignature {
            let problems = CityStore.validate(smsSignature: smsSignature, title: nil)
            if !problems.isEmpty { throw AppError.validation(problems) }
            try await CityStore.set(.smsSignature, smsSignature, on: sql)
            try await app.cityStore.reload(from: sql)
            say("短信签名：\(app.city.smsSignature)")
        }
        if let admin {
            guard let city = app.city.code else { throw AppError.validation(["admin": "请先导入行政区划（--regions），再创建市级管理员"]) }
            guard let password, !password.isEmpty else {
                throw AppError.validation(["PLS_PASSWORD": "请在环境变量 PLS_PASSWORD 中给出管理员的初始密码（不写在命令行上，免得留在历史记录里）"])
            }
            let input = AccountController.Input(username: admin, displayName: adminName ?? "\(app.city.name)司法局管理员", role: Role.cityAdmin.rawValue,
                                                regionCode: city.rawValue, institutionId: nil, practitionerId: nil, password: password)
            let account = try await AccountController.save(input, existing: nil, by: Principal(system: app.city), actor: .commandLine, protector: app.personalData, now: app.clock.now, on: app.db)
            say("已创建市级管理员 \(account.username ?? admin)")
        }
        for (file, kind) in [(institutions, "机构"), (practitioners, "法律服务人员")] {
            guard let file else { continue }
            guard app.city.code != nil else { throw AppError.validation([kind: "请先导入行政区划（--regions）"]) }
            guard let data = FileManager.default.contents(atPath: file) else { throw AppError.validation([kind: "无法读取文件 \(file)"]) }
            let buffer = ByteBuffer(data: data)
            let system = Principal(system: app.city)
            let count = kind == "机构" ? try await RegistryImport.institutions(buffer, by: system, on: app.db)
                : try await RegistryImport.practitioners(buffer, by: system, on: app.db)
            say("已导入 \(count) 个\(kind)")
        }
    }

    /// What is in place and what is still missing, one line each (✓ or ✗ and what to do).
    static func checklist(app: Application) async throws -> [String] {
        let sql = app.db as! any SQLDatabase
        func count(_ table: String, _ condition: SQLQueryString = "1 = 1") async throws -> Int {
            try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table) WHERE " + condition).first(decodingColumn: "n", as: Int.self) ?? 0
        }
        var lines = ["", "设置检查："]
        func line(_ ok: Bool, _ text: String) { lines.append((ok ? "  ✓ " : "  ✗ ") + text) }
        let city = app.city
        line(city.code != nil, city.code.map { "城市：\(city.name)（\($0.rawValue)）" } ?? "行政区划：尚未导入（pls setup --regions FILE.csv）")
        let counties = try await count(Region.schema, "level = 'county' AND active = \(bind: true)")
        let villages = try await count(Region.schema, "level = 'village' AND active = \(bind: true)")
        line(counties > 0 && villages > 0, "县（区）\(counties) 个，村（社区）\(villages) 个")
        let admins = try await count(Account.schema, "role = 'city_admin' AND active = \(bind: true)")
        line(admins > 0, admins > 0 ? "市级管理员 \(admins) 个" : "市级管理员：尚未创建（PLS_PASSWORD=… pls setup --admin 用户名）")
        line(city.code != nil, "短信签名：\(city.smsSignature)")
        let year = app.today.year
        let missing = [year, year + 1].filter { !app.workingCalendar.knownYears.contains($0) }
        line(missing.isEmpty, missing.isEmpty ? "节假日安排：\(year)、\(year + 1) 年已录入"
             : "节假日安排缺少 \(missing.map(String.init).joined(separator: "、")) 年：pls calendar import FILE.json，或在“节假日”页面录入")
        let institutions = try await count(Institution.schema, "active = \(bind: true)")
        line(institutions > 0, institutions > 0 ? "机构 \(institutions) 个" : "机构：尚未登记（“机构”页面或 POST /api/v1/institutions）")
        let centres = try await count(Institution.schema, "type = 'legal_aid_centre' AND active = \(bind: true)")
        line(centres >= counties && counties > 0, "法律援助中心 \(centres) 个（每个县（区）应有一个）")
        let practitioners = try await count(Practitioner.schema)
        line(practitioners > 0, practitioners > 0 ? "法律服务人员 \(practitioners) 名" : "法律服务人员：尚未登记（“人员”页面或 POST /api/v1/practitioners）")
        let countyAdmins = try await count(Account.schema, "role = 'county_admin' AND active = \(bind: true)")
        line(countyAdmins >= counties && counties > 0, "县级管理员 \(countyAdmins) 个（每个县（区）至少一个：pls accounts create --role county_admin --region 县代码）")
        return lines
    }
}
