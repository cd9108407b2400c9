import Vapor
import Fluent
import SQLKit
import NIOConcurrencyHelpers
import PLSDomain

/// 服务事项目录: each matter type's items with the service guide a citizen reads before applying,
/// and each matter type's time limits. Both are data that administrators edit.
enum Catalog {
    struct Item: Content, Equatable {
        var code: String
        var matterType: String
        var name: String
        var conditions: String
        var materials: String
        var steps: String
        var fee: String
        var timeLimit: String
        var location: String
        var online: Bool
        var active: Bool
        var sort: Int
    }

    static let seed: [Item] = {
        var sort = 0
        func item(_ code: String, _ type: MatterType, _ name: String, conditions: String, materials: String, steps: String,
                  fee: String, timeLimit: String, location: String, online: Bool = true) -> Item {
            sort += 1
            return Item(code: code, matterType: type.rawValue, name: name, conditions: conditions, materials: materials, steps: steps,
                        fee: fee, timeLimit: timeLimit, location: location, online: online, active: true, sort: sort)
        }
        let centres = "市、县（区）公共法律服务中心，镇（街道）公共法律服务工作站，村（社区）公共法律服务工作室"
        return [
            item("consultation.general", .consultation, "法律咨询", conditions: "任何公民、法人和其他组织均可咨询",
                 materials: "无需材料；如有合同、判决书等可一并提供", steps: "拨打 12348、网上留言或到窗口咨询 → 专业人员解答 → 评价",
                 fee: "免费", timeLimit: "热线当场解答；网上留言 5 个工作日内答复", location: centres),
            item("legal_aid.civil", .legalAid, "民事、行政法律援助申请",
                 conditions: "属于法律援助事项范围，且家庭人均收入不高于当地最低生活保障标准的 2 倍，或属于免予核查经济困难状况的情形",
                 materials: "身份证件；经济困难状况说明表；与所申请事项有关的材料", steps: "提交申请 → 审查（7 日内作出决定）→ 指派律师 → 办理 → 结案评价",
                 fee: "免费", timeLimit: "收到申请之日起 7 日内决定是否给予法律援助", location: "市、县（区）法律援助中心及各公共法律服务中心窗口"),
            item("legal_aid.criminal", .legalAid, "刑事法律援助申请", conditions: "犯罪嫌疑人、被告人因经济困难或其他原因没有委托辩护人",
                 materials: "身份证件；案件有关材料", steps: "提交申请 → 审查 → 指派律师 → 办理", fee: "免费",
                 timeLimit: "收到申请之日起 7 日内决定", location: "市、县（区）法律援助中心"),
            item("mediation.people", .mediation, "人民调解申请", conditions: "民间纠纷双方当事人自愿调解",
                 materials: "身份证件；纠纷情况说明及相关证据", steps: "申请 → 征得双方同意 → 调解 → 达成协议 → 回访履行", fee: "免费",
                 timeLimit: "一般 30 日内调解终结", location: "村（社区）、镇（街道）人民调解委员会，行业性专业性人民调解委员会"),
            item("notarization.birth", .notarization, "出生公证", conditions: "当事人为中国公民，需证明出生事实",
                 materials: "申请人身份证、户口簿；出生医学证明；父母身份证", steps: "网上预约 → 提交材料 → 审查 → 出具公证书",
                 fee: "按物价部门核定标准收费；符合法律援助条件的减免", timeLimit: "受理之日起 15 个工作日内出具公证书", location: "市、县（区）公证处"),
            item("notarization.kinship", .notarization, "亲属关系公证", conditions: "需证明当事人之间亲属关系",
                 materials: "当事人身份证、户口簿；能证明亲属关系的档案或证明", steps: "网上预约 → 提交材料 → 核实 → 出具公证书",
                 fee: "按物价部门核定标准收费", timeLimit: "受理之日起 15 个工作日内", location: "市、县（区）公证处"),
            item("notarization.education", .notarization, "学历、学位公证", conditions: "需证明学历、学位证书真实",
                 materials: "身份证；毕业证书、学位证书原件", steps: "网上预约 → 提交材料 → 核实 → 出具公证书", fee: "按物价部门核定标准收费",
                 timeLimit: "受理之日起 15 个工作日内", location: "市、县（区）公证处"),
            item("notarization.foreign", .notarization, "涉外公证（出国留学、定居、探亲）", conditions: "公证书拟在境外使用",
                 materials: "身份证、护照；拟公证事项的证明材料；使用国要求的其他材料", steps: "网上预约 → 提交材料 → 核实 → 出具公证书及译文 → 办理认证",
                 fee: "按物价部门核定标准收费", timeLimit: "受理之日起 15 个工作日内", location: "市公证处（办理涉外公证）"),
            item("appraisal.clinical", .judicialAppraisal, "法医临床鉴定（伤残、损伤程度）", conditions: "司法机关、仲裁机构或当事人委托",
                 materials: "委托书；身份证；病历、影像资料", steps: "委托 → 受理（7 日内）→ 检验 → 出具鉴定意见书",
                 fee: "按收费标准；法律援助受援人可申请减免", timeLimit: "受理之日起 30 个工作日内", location: "司法鉴定机构", online: false),
            item("appraisal.traffic", .judicialAppraisal, "道路交通事故鉴定", conditions: "交通事故处理、诉讼或保险理赔需要",
                 materials: "委托书；事故认定书；车辆及现场资料", steps: "委托 → 受理 → 检验 → 出具鉴定意见书", fee: "按收费标准",
                 timeLimit: "受理之日起 30 个工作日内", location: "道路交通事故司法鉴定机构", online: false),
            item("appraisal.medical", .judicialAppraisal, "医疗损害鉴定", conditions: "医疗纠纷处理或诉讼需要",
                 materials: "委托书；病历资料；医患双方陈述", steps: "委托 → 受理 → 听证 → 出具鉴定意见书", fee: "按收费标准",
                 timeLimit: "受理之日起 30 个工作日内", location: "医疗损害司法鉴定机构", online: false),
            item("arbitration.commercial", .arbitration, "合同纠纷和其他财产权益纠纷仲裁", conditions: "当事人之间有书面仲裁协议",
                 materials: "仲裁申请书；仲裁协议；证据材料；身份证明", steps: "申请 → 立案 → 组庭 → 开庭 → 裁决", fee: "按仲裁委员会收费办法",
                 timeLimit: "组庭后四个月内作出裁决", location: "仲裁委员会"),
            item("arbitration.online", .arbitration, "网上仲裁", conditions: "当事人约定或同意采用网上仲裁",
                 materials: "电子仲裁申请书及证据", steps: "网上申请 → 网上立案 → 在线开庭 → 电子裁决书", fee: "按仲裁委员会收费办法",
                 timeLimit: "组庭后四个月内作出裁决", location: "网上办理"),
            item("village_adviser.service", .villageAdviser, "预约村（居）法律顾问", conditions: "本村（社区）居民和基层组织",
                 materials: "无", steps: "预约 → 法律顾问上门或在工作室接待", fee: "免费", timeLimit: "5 个工作日内安排",
                 location: "村（社区）公共法律服务工作室"),
            item("legal_publicity.request", .legalPublicity, "申请法治宣传（进村、进社区、进校园、进企业）", conditions: "基层组织、学校、企业",
                 materials: "活动时间、地点、对象和主题", steps: "申请 → 安排律师或普法志愿者 → 开展活动", fee: "免费",
                 timeLimit: "5 个工作日内答复", location: centres),
            item("complaint.service", .complaint, "投诉法律服务机构或人员", conditions: "认为法律服务机构或人员违法违规、服务不当",
                 materials: "投诉事实和证据", steps: "提交投诉 → 受理 → 调查核实 → 答复 → 评价", fee: "免费",
                 timeLimit: "受理之日起 15 个工作日内答复", location: "市、县（区）司法局"),
        ]
    }()

    static func seedIfEmpty(on db: any SQLDatabase) async throws {
        let n = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("matter_items")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        guard n == 0 else { return }
        var insert = db.insert(into: "matter_items").columns("code", "matter_type", "name", "conditions", "materials", "steps", "fee",
                                                              "time_limit", "location", "online", "active", "sort")
        for i in seed {
            insert = insert.values(SQLBind(i.code), SQLBind(i.matterType), SQLBind(i.name), SQLBind(i.conditions), SQLBind(i.materials),
                                   SQLBind(i.steps), SQLBind(i.fee), SQLBind(i.timeLimit), SQLBind(i.location), SQLBind(i.online),
                                   SQLBind(i.active), SQLBind(i.sort))
        }
        try await insert.run()
        var rules = db.insert(into: "deadline_rules").columns("matter_type", "accept_days", "accept_unit", "conclude_days", "conclude_unit", "auto_assign")
        for t in MatterType.allCases {
            let r = t.defaultRules
            rules = rules.values(SQLBind(t.rawValue), SQLBind(r.accept.days), SQLBind(r.accept.unit.rawValue), SQLBind(r.conclude.days),
                                 SQLBind(r.conclude.unit.rawValue), SQLBind(AutoAssign.off.rawValue))
        }
        try await rules.run()
    }

    static func items(on db: any SQLDatabase, includeInactive: Bool = false) async throws -> [Item] {
        var q = db.select().columns("code", "matter_type", "name", "conditions", "materials", "steps", "fee", "time_limit", "location",
                                    "online", "active", "sort").from("matter_items")
        if !includeInactive { q = q.where("active", .equal, true) }
        return try await q.orderBy("sort").all(decoding: Item.self, keyDecodingStrategy: .snakeCase)
    }

    static func item(_ code: String, on db: any SQLDatabase) async throws -> Item? {
        try await db.select().columns("code", "matter_type", "name", "conditions", "materials", "steps", "fee", "time_limit", "location",
                                      "online", "active", "sort").from("matter_items").where("code", .equal, code)
            .first(decoding: Item.self, keyDecodingStrategy: .snakeCase)
    }

    /// Automatic assignment per matter type: off, the best-scoring candidate, or rotation among the eligible.
    enum AutoAssign: String, Codable, CaseIterable, Sendable { case off, best, rotation }

    struct Rules: Content, Equatable {
        var matterType: String
        var acceptDays: Int
        var acceptUnit: String
        var concludeDays: Int
        var concludeUnit: String
        var autoAssign: String

        var accept: DeadlineRule { DeadlineRule(days: acceptDays, unit: .init(rawValue: acceptUnit) ?? .workingDays) }
        var conclude: DeadlineRule { DeadlineRule(days: concludeDays, unit: .init(rawValue: concludeUnit) ?? .workingDays) }
    }

    static func rules(_ type: MatterType, on db: any SQLDatabase) async throws -> Rules {
        if let r = try await db.select().columns("matter_type", "accept_days", "accept_unit", "conclude_days", "conclude_unit", "auto_assign")
            .from("deadline_rules").where("matter_type", .equal, type.rawValue)
            .first(decoding: Rules.self, keyDecodingStrategy: .snakeCase) { return r }
        let d = type.defaultRules
        return Rules(matterType: type.rawValue, acceptDays: d.accept.days, acceptUnit: d.accept.unit.rawValue,
                     concludeDays: d.conclude.days, concludeUnit: d.conclude.unit.rawValue, autoAssign: AutoAssign.off.rawValue)
    }

    /// The rules as the write path reads them: from memory, reloaded whenever an administrator saves.
    final class RulesCache: Sendable {
        private let box = NIOLockedValueBox<[String: Rules]>([:])

        func reload(from db: any SQLDatabase) async throws {
            let all = try await Catalog.allRules(on: db)
            box.withLockedValue { $0 = Dictionary(uniqueKeysWithValues: all.map { ($0.matterType, $0) }) }
        }

        func rules(_ type: MatterType) -> Rules {
            if let r = box.withLockedValue({ $0[type.rawValue] }) { return r }
            let d = type.defaultRules
            return Rules(matterType: type.rawValue, acceptDays: d.accept.days, acceptUnit: d.accept.unit.rawValue,
                         concludeDays: d.conclude.days, concludeUnit: d.conclude.unit.rawValue, autoAssign: AutoAssign.off.rawValue)
        }
    }

    static func allRules(on db: any SQLDatabase) async throws -> [Rules] {
        try await db.select().columns("matter_type", "accept_days", "accept_unit", "conclude_days", "conclude_unit", "auto_assign")
            .from("deadline_rules").orderBy("matter_type").all(decoding: Rules.self, keyDecodingStrategy: .snakeCase)
    }
}

// MARK: - API

extension Catalog {
    struct MatterTypeEntry: Content {
        var matterType: String
        var name: String
        var items: [Item]
    }

    /// Public: the catalog as a citizen sees it.
    static func apiList(_ req: Request) async throws -> [MatterTypeEntry] {
        let items = try await items(on: req.sql)
        return MatterType.allCases.compactMap { t in
            let own = items.filter { $0.matterType == t.rawValue }
            return own.isEmpty ? nil : MatterTypeEntry(matterType: t.rawValue, name: t.chineseName, items: own)
        }
    }

    static func apiGet(_ req: Request) async throws -> Item {
        guard let item = try await item(req.parameters.get("code") ?? "", on: req.sql) else { throw AppError.notFound("服务事项") }
        return item
    }

    struct ItemInput: Content {
        var name: String?; var conditions: String?; var materials: String?; var steps: String?; var fee: String?
        var timeLimit: String?; var location: String?; var online: Bool?; var active: Bool?; var sort: Int?
    }

    static func update(_ code: String, _ input: ItemInput, actor: AuditLog.Actor, protector: PersonalDataProtector, now: Date,
                       on db: any SQLDatabase) async throws -> Item {
        guard var item = try await item(code, on: db) else { throw AppError.notFound("服务事项") }
        let before = item
        var errors = FieldErrors()
        item.name = errors.required(input.name, "name", "事项名称", maxLength: 60)
        item.conditions = errors.required(input.conditions, "conditions", "办理条件", maxLength: 1000)
        item.materials = errors.required(input.materials, "materials", "所需材料", maxLength: 1000)
        item.steps = errors.required(input.steps, "steps", "办理流程", maxLength: 1000)
        item.fee = errors.required(input.fee, "fee", "收费标准", maxLength: 200)
        item.timeLimit = errors.required(input.timeLimit, "timeLimit", "办理时限", maxLength: 200)
        item.location = errors.required(input.location, "location", "办理地点", maxLength: 500)
        item.online = input.online ?? item.online
        item.active = input.active ?? item.active
        item.sort = input.sort ?? item.sort
        try errors.throwIfAny()
        let after = item
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update("matter_items")
                .set("name", to: SQLBind(after.name)).set("conditions", to: SQLBind(after.conditions)).set("materials", to: SQLBind(after.materials))
                .set("steps", to: SQLBind(after.steps)).set("fee", to: SQLBind(after.fee)).set("time_limit", to: SQLBind(after.timeLimit))
                .set("location", to: SQLBind(after.location)).set("online", to: SQLBind(after.online)).set("active", to: SQLBind(after.active))
                .set("sort", to: SQLBind(after.sort)).where("code", .equal, code).run()
            try await AuditLog.record("catalog.item", target: "办事指南 \(after.name)（\(code)）", before: before, after: after,
                                      by: actor, protector: protector, on: sql, at: now)
        }
        return item
    }

    static func apiUpdate(_ req: Request) async throws -> Item {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        return try await update(req.parameters.get("code") ?? "", try req.content.decode(ItemInput.self), actor: req.auditActor,
                                protector: req.personalData, now: req.now, on: req.sql)
    }

    static func apiRules(_ req: Request) async throws -> [Rules] {
        _ = try req.staff()
        return try await allRules(on: req.sql)
    }

    struct RulesInput: Content { var acceptDays: Int?; var acceptUnit: String?; var concludeDays: Int?; var concludeUnit: String?; var autoAssign: String? }

    static func updateRules(_ type: MatterType, _ input: RulesInput, actor: AuditLog.Actor, protector: PersonalDataProtector, now: Date,
                            on db: any SQLDatabase) async throws -> Rules {
        var errors = FieldErrors()
        let acceptDays = input.acceptDays ?? -1, concludeDays = input.concludeDays ?? -1
        errors.check((0...365).contains(acceptDays), "acceptDays", "受理时限应为 0–365")
        errors.check((1...730).contains(concludeDays), "concludeDays", "办结时限应为 1–730")
        let acceptUnit = errors.choice(input.acceptUnit, "acceptUnit", "受理时限单位", as: DeadlineRule.Unit.self)
        let concludeUnit = errors.choice(input.concludeUnit, "concludeUnit", "办结时限单位", as: DeadlineRule.Unit.self)
        let auto = errors.choice(input.autoAssign ?? AutoAssign.off.rawValue, "autoAssign", "自动分派", as: AutoAssign.self)
        try errors.throwIfAny()
        let rules = Rules(matterType: type.rawValue, acceptDays: acceptDays, acceptUnit: acceptUnit!.rawValue, concludeDays: concludeDays,
                          concludeUnit: concludeUnit!.rawValue, autoAssign: auto!.rawValue)
        let before = try await db.select().columns("matter_type", "accept_days", "accept_unit", "conclude_days", "conclude_unit", "auto_assign")
            .from("deadline_rules").where("matter_type", .equal, type.rawValue).first(decoding: Rules.self, keyDecodingStrategy: .snakeCase)
        try await (db as! any Database).atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.update("deadline_rules")
                .set("accept_days", to: SQLBind(rules.acceptDays)).set("accept_unit", to: SQLBind(rules.acceptUnit))
                .set("conclude_days", to: SQLBind(rules.concludeDays)).set("conclude_unit", to: SQLBind(rules.concludeUnit))
                .set("auto_assign", to: SQLBind(rules.autoAssign)).where("matter_type", .equal, type.rawValue).run()
            try await AuditLog.record("catalog.rules", target: "\(type.chineseName)办理时限", before: before, after: rules,
                                      by: actor, protector: protector, on: sql, at: now)
        }
        return rules
    }

    static func apiUpdateRules(_ req: Request) async throws -> Rules {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        guard let type = MatterType(rawValue: req.parameters.get("matterType") ?? "") else { throw AppError.notFound("事项类型") }
        let rules = try await updateRules(type, try req.content.decode(RulesInput.self), actor: req.auditActor, protector: req.personalData,
                                          now: req.now, on: req.sql)
        try await req.application.rulesCache.reload(from: req.sql)
        return rules
    }
}

extension Application {
    private struct RulesKey: StorageKey { typealias Value = Catalog.RulesCache }
    var rulesCache: Catalog.RulesCache {
        get {
            guard let c = storage[RulesKey.self] else { fatalError("configure(_:) sets the rules cache") }
            return c
        }
        set { storage[RulesKey.self] = newValue }
    }
}
