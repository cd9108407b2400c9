import Vapor
import Fluent
import SQLKit
import NIOConcurrencyHelpers
import PLSDomain

/// The city the platform serves: the root of the region registry (its one city-level region) and the settings that
/// speak for it (the SMS sender signature, the platform's title). Read from the database at start and after any
/// change; nothing in the code names a city.
struct CityIdentity: Sendable, Equatable, Content {
    /// Nil until the regions are imported (`pls setup`).
    var code: DivisionCode?
    var name: String
    /// The sender signature every SMS begins with (【…】).
    var smsSignature: String
    /// The platform's title in the header, page titles and documents.
    var title: String
    /// Working days to call back a bad rating, and to rectify and reply (`RectificationRules`; 15 by the national
    /// rule, some provinces 5).
    var callbackDays = RectificationRules.standard.callbackDays
    var rectificationDays = RectificationRules.standard.rectifyDays
    /// The annual hours of public-interest service asked of each lawyer and grassroots legal service worker.
    var publicInterestHours = PublicInterestRules.defaultAnnualHours
    /// The share of each operator's answered calls checked each month (话务质检), in percent.
    var hotlineQcSharePercent = CallQuality.defaultSharePercent

    static let unconfigured = CityIdentity(code: nil, name: "", smsSignature: "【公共法律服务】", title: "公共法律服务网")

    enum CodingKeys: String, CodingKey { case code, name, smsSignature, title, callbackDays, rectificationDays, publicInterestHours, hotlineQcSharePercent }
    init(code: DivisionCode?, name: String, smsSignature: String, title: String) {
        self.code = code; self.name = name; self.smsSignature = smsSignature; self.title = title
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decodeIfPresent(String.self, forKey: .code).flatMap(DivisionCode.init)
        name = try c.decode(String.self, forKey: .name)
        smsSignature = try c.decode(String.self, forKey: .smsSignature)
        title = try c.decode(String.self, forKey: .title)
        callbackDays = try c.decodeIfPresent(Int.self, forKey: .callbackDays) ?? RectificationRules.standard.callbackDays
        rectificationDays = try c.decodeIfPresent(Int.self, forKey: .rectificationDays) ?? RectificationRules.standard.rectifyDays
        publicInterestHours = try c.decodeIfPresent(Int.self, forKey: .publicInterestHours) ?? PublicInterestRules.defaultAnnualHours
        hotlineQcSharePercent = try c.decodeIfPresent(Int.self, forKey: .hotlineQcSharePercent) ?? CallQuality.defaultSharePercent
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code?.rawValue, forKey: .code)
        try c.encode(name, forKey: .name)
        try c.encode(smsSignature, forKey: .smsSignature)
        try c.encode(title, forKey: .title)
        try c.encode(callbackDays, forKey: .callbackDays)
        try c.encode(rectificationDays, forKey: .rectificationDays)
        try c.encode(publicInterestHours, forKey: .publicInterestHours)
        try c.encode(hotlineQcSharePercent, forKey: .hotlineQcSharePercent)
    }

    /// The defaults a city's name gives: 【X公共法律服务】 and "X公共法律服务网".
    static func defaults(code: DivisionCode, name: String) -> CityIdentity {
        CityIdentity(code: code, name: name, smsSignature: "【\(name)公共法律服务】", title: "\(name)公共法律服务网")
    }

    /// The city's short name for document numbers ("西江市" → "西江").
    static func shortName(_ name: String) -> String {
        for suffix in ["自治州", "地区", "盟", "市", "州", "县", "区", "旗"] where name.hasSuffix(suffix) && name.count > suffix.count {
            return String(name.dropLast(suffix.count))
        }
        return name
    }
}

/// The city as read from the database, held for every request; reloaded when regions or city settings change.
final class CityStore: Sendable {
    private let current = NIOLockedValueBox(CityIdentity.unconfigured)

    var city: CityIdentity { current.withLockedValue { $0 } }

    /// The one active city-level region and the settings kept in `city_settings`.
    @discardableResult
    func reload(from db: any SQLDatabase) async throws -> CityIdentity {
        struct Root: Decodable { var code: String; var name: String }
        let roots = try await db.select().columns("code", "name").from(Region.schema).where("level", .equal, SQLBind(RegionLevel.city.rawValue))
            .where("active", .equal, SQLBind(true)).orderBy("code").limit(1).all(decoding: Root.self)
        guard let root = roots.first, let code = DivisionCode(root.code) else {
            current.withLockedValue { $0 = .unconfigured }
            return .unconfigured
        }
        struct Setting: Decodable { var key: String; var value: String }
        let settings = try await db.select().columns("key", "value").from("city_settings").all(decoding: Setting.self)
        var city = CityIdentity.defaults(code: code, name: root.name)
        for s in settings where !s.value.isEmpty {
            switch s.key {
            case "sms_signature": city.smsSignature = s.value
            case "title": city.title = s.value
            case "callback_days": city.callbackDays = Int(s.value).map { min(max($0, RectificationRules.callbackRange.lowerBound), RectificationRules.callbackRange.upperBound) } ?? city.callbackDays
            case "public_interest_hours": city.publicInterestHours = Int(s.value).map { min(max($0, PublicInterestRules.annualHoursRange.lowerBound), PublicInterestRules.annualHoursRange.upperBound) } ?? city.publicInterestHours
            case "hotline_qc_share": city.hotlineQcSharePercent = Int(s.value).map { min(max($0, CallQuality.shareRange.lowerBound), CallQuality.shareRange.upperBound) } ?? city.hotlineQcSharePercent
            case "rectification_days": city.rectificationDays = Int(s.value).map { min(max($0, RectificationRules.rectifyRange.lowerBound), RectificationRules.rectifyRange.upperBound) } ?? city.rectificationDays
            default: break
            }
        }
        current.withLockedValue { $0 = city }
        return city
    }

    enum Key: String { case smsSignature = "sms_signature", title, callbackDays = "callback_days", rectificationDays = "rectification_days",
                     publicInterestHours = "public_interest_hours", hotlineQcShare = "hotline_qc_share" }

    /// Sets one setting (nil or empty: back to the default from the city's name).
    static func set(_ key: Key, _ value: String?, on db: any SQLDatabase) async throws {
        try await db.delete(from: "city_settings").where("key", .equal, SQLBind(key.rawValue)).run()
        if let value, !value.isEmpty {
            try await db.insert(into: "city_settings").columns("key", "value").values(SQLBind(key.rawValue), SQLBind(value)).run()
        }
    }

    /// The checks on a setting as typed: a signature is 【2–16 characters】, as SMS providers require.
    static func validate(smsSignature: String?, title: String?, callbackDays: Int? = nil, rectificationDays: Int? = nil,
                         publicInterestHours: Int? = nil, hotlineQcSharePercent: Int? = nil) -> [String: String] {
        var errors = FieldErrors()
        if let s = smsSignature?.nilIfEmpty {
            let inner = s.hasPrefix("【") && s.hasSuffix("】") ? String(s.dropFirst().dropLast()) : ""
            if inner.count < 2 || inner.count > 16 || inner.contains("【") || inner.contains("】") {
                errors.add("smsSignature", "短信签名应为【】括起的 2–16 个字，如【西江市公共法律服务】")
            }
        }
        _ = errors.optional(title, "title", "平台名称", maxLength: 40)
        if let d = callbackDays { errors.check(RectificationRules.callbackRange.contains(d), "callbackDays", "差评回访期限应为 1–5 个工作日") }
        if let d = rectificationDays { errors.check(RectificationRules.rectifyRange.contains(d), "rectificationDays", "差评整改期限应为 1–30 个工作日") }
        if let h = publicInterestHours { errors.check(PublicInterestRules.annualHoursRange.contains(h), "publicInterestHours", "年度公益法律服务时长应为 0–500 小时") }
        if let s = hotlineQcSharePercent { errors.check(CallQuality.shareRange.contains(s), "hotlineQcSharePercent", "话务质检抽检比例应为 1–100（%）") }
        return errors.fields
    }
}

/// After a change to the regions succeeds (the city's own name among them), the city is read again.
struct ReloadCityAfterChanges: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        if request.method != .GET, response.status.code < 400 {
            try await request.application.cityStore.reload(from: request.sql)
        }
        return response
    }
}

/// `GET /api/v1/city` (anyone: the name and title the platform shows) and `PUT` (the city administrator: the SMS
/// signature and the title).
enum CityController {
    struct Input: Content { var smsSignature: String?; var title: String?; var callbackDays: Int?; var rectificationDays: Int?; var publicInterestHours: Int?
                         var hotlineQcSharePercent: Int? }

    static func apiGet(_ req: Request) async throws -> CityIdentity { req.city }

    static func apiUpdate(_ req: Request) async throws -> CityIdentity {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard req.city.code != nil else { throw CitySetup.notSetUp }
        let input = try req.content.decode(Input.self)
        let problems = CityStore.validate(smsSignature: input.smsSignature, title: input.title, callbackDays: input.callbackDays,
                                          rectificationDays: input.rectificationDays, publicInterestHours: input.publicInterestHours,
                                          hotlineQcSharePercent: input.hotlineQcSharePercent)
        if !problems.isEmpty { throw AppError.validation(problems) }
        let before = req.city
        let actor = req.auditActor, protector = req.personalData, now = req.now
        try await req.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await CityStore.set(.smsSignature, input.smsSignature, on: sql)
            try await CityStore.set(.title, input.title, on: sql)
            // Absent: left as it is (a client that knows only the signature and title keeps the time limits).
            if let d = input.callbackDays { try await CityStore.set(.callbackDays, String(d), on: sql) }
            if let d = input.rectificationDays { try await CityStore.set(.rectificationDays, String(d), on: sql) }
            if let h = input.publicInterestHours { try await CityStore.set(.publicInterestHours, String(h), on: sql) }
            if let s = input.hotlineQcSharePercent { try await CityStore.set(.hotlineQcShare, String(s), on: sql) }
            try await AuditLog.record("city.settings", target: "\(before.name)城市设置",
                                      before: ["smsSignature": before.smsSignature, "title": before.title, "callbackDays": String(before.callbackDays),
                                               "rectificationDays": String(before.rectificationDays), "publicInterestHours": String(before.publicInterestHours),
                                               "hotlineQcSharePercent": String(before.hotlineQcSharePercent)],
                                      after: ["smsSignature": input.smsSignature, "title": input.title, "callbackDays": input.callbackDays.map(String.init),
                                              "rectificationDays": input.rectificationDays.map(String.init),
                                              "publicInterestHours": input.publicInterestHours.map(String.init),
                                              "hotlineQcSharePercent": input.hotlineQcSharePercent.map(String.init)],
                                      by: actor, protector: protector, on: sql, at: now)
        }
        return try await req.application.cityStore.reload(from: req.sql)
    }
}

enum CitySetup {
    /// A page that needs the city before `pls setup` has imported its regions.
    static let notSetUp = AppError(.serviceUnavailable, "not_set_up", "平台尚未完成设置：请先用 pls setup 导入行政区划并创建市级管理员")
}

extension Application {
    private struct CityStoreKey: StorageKey { typealias Value = CityStore }
    var cityStore: CityStore {
        if let s = storage[CityStoreKey.self] { return s }
        let s = CityStore()
        storage[CityStoreKey.self] = s
        return s
    }
    /// The city this platform serves (`CityStore`).
    var city: CityIdentity { cityStore.city }
}

extension Request {
    var city: CityIdentity { application.city }
}

/// The city's settings (signature, title) and each legal aid centre's document prefix (`X援〔2027〕N号`).
struct M029CreateCitySettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("city_settings")
            .field("key", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        try await database.schema(Institution.schema).field("document_prefix", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("city_settings").delete()
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE \(ident: Institution.schema) DROP COLUMN \(ident: "document_prefix")").run()
    }
}
