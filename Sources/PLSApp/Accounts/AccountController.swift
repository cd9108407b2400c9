import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 账号: staff accounts bound to a region and, where it fits, an institution and a practitioner record.
struct AccountController {
    struct Row: Content {
        var id: UUID
        var username: String?
        var mobile: String?
        var displayName: String
        var role: String
        var roleName: String
        var regionCode: String
        var regionName: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var active: Bool
        var locked: Bool
    }

    private struct StoredRow: Decodable {
        var id: UUID
        var username: String?
        var mobileMasked: String?
        var displayName: String
        var role: String
        var regionCode: String
        var regionName: String
        var institutionId: UUID?
        var institutionName: String?
        var practitionerId: UUID?
        var active: Bool
        var lockedUntil: Date?
    }

    struct Filter {
        var role: Role?
        var region: DivisionCode?
        var q: String?
        init() {}
        init(from req: Request) {
            role = (try? req.query.get(String.self, at: "role")).flatMap(Role.init(rawValue:))
            region = (try? req.query.get(String.self, at: "region")).flatMap(DivisionCode.init)
            q = (try? req.query.get(String.self, at: "q")).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
    }

    static let columns = ScopeColumns(region: "a.region_code", institution: "a.institution_id", owner: "a.id")

    private static func select(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select()
            .column(SQLColumn("id", table: "a")).column(SQLColumn("username", table: "a")).column(SQLColumn("mobile_masked", table: "a"))
            .column(SQLColumn("display_name", table: "a")).column(SQLColumn("role", table: "a"))
            .column(SQLColumn("region_code", table: "a")).column(SQLColumn("name", table: "r"), as: "region_name")
            .column(SQLColumn("institution_id", table: "a")).column(SQLColumn("name", table: "i"), as: "institution_name")
            .column(SQLColumn("practitioner_id", table: "a")).column(SQLColumn("active", table: "a"))
            // Locked from some address now (sign_in_attempts, M022); the account's own column is no longer written.
            .column(SQLRaw("(SELECT MAX(s.locked_until) FROM sign_in_attempts s WHERE s.account_id = a.id)"), as: "locked_until")
            .from(SQLAlias(SQLIdentifier(Account.schema), as: SQLIdentifier("a")))
            .join(SQLAlias(SQLIdentifier(Region.schema), as: SQLIdentifier("r")), method: SQLJoinMethod.inner,
                  on: SQLColumn("region_code", table: "a"), .equal, SQLColumn("code", table: "r"))
            .join(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")), method: SQLJoinMethod.left,
                  on: SQLColumn("institution_id", table: "a"), .equal, SQLColumn("id", table: "i"))
    }

    private static func row(_ r: StoredRow, now: Date) -> Row {
        Row(id: r.id, username: r.username, mobile: r.mobileMasked, displayName: r.displayName, role: r.role,
            roleName: Role(rawValue: r.role)?.chineseName ?? r.role, regionCode: r.regionCode, regionName: r.regionName,
            institutionId: r.institutionId, institutionName: r.institutionName, practitionerId: r.practitionerId,
            active: r.active, locked: r.lockedUntil.map { $0 > now } ?? false)
    }

    static func list(_ filter: Filter, scope: DataScope, page: PageRequest, now: Date, on db: any SQLDatabase) async throws -> Paged<Row> {
        func filtered(_ s: SQLSelectBuilder) -> SQLSelectBuilder {
            // A department system's service account is managed with its system (/admin/system-clients), not here.
            var s = s.scoped(scope, columns).where { $0.where(SQLColumn("username", table: "a"), .is, SQLLiteral.null)
                .orWhere(SQLColumn("username", table: "a"), .notLike, SQLBind("system:%")) }
            if let role = filter.role { s = s.where(SQLColumn("role", table: "a"), .equal, SQLBind(role.rawValue)) }
            if let region = filter.region { s = s.where(SQLColumn("region_code", table: "a"), .like, SQLBind(region.scopePrefix + "%")) }
            if let q = filter.q {
                s = s.where { $0.where(SQLLike.contains(SQLColumn("display_name", table: "a"), q))
                    .orWhere(SQLLike.contains(SQLColumn("username", table: "a"), q.lowercased())) }
            }
            return s
        }
        let total = try await filtered(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(SQLIdentifier(Account.schema), as: SQLIdentifier("a"))))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let items = try await filtered(select(db))
            .orderBy(SQLColumn("role", table: "a")).orderBy(SQLColumn("username", table: "a"))
            .limit(page.per).offset(page.offset)
            .all(decoding: StoredRow.self, keyDecodingStrategy: .snakeCase)
        return Paged(items: items.map { row($0, now: now) }, total: total, page: page.page, per: page.per)
    }

    static func find(_ id: UUID, scope: DataScope, now: Date, on db: any SQLDatabase) async throws -> Row {
        guard let r = try await select(db).where(SQLColumn("id", table: "a"), .equal, SQLBind(id)).scoped(scope, columns)
            .first(decoding: StoredRow.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("账号") }
        return row(r, now: now)
    }

    // MARK: Input

    struct Input: Content {
        var username: String?
        var displayName: String?
        var role: String?
        var regionCode: String?
        var institutionId: UUID?
        var practitionerId: UUID?
        /// Required on create; on edit, a new password resets it.
        var password: String?
    }

    static func validatePassword(_ password: String, _ errors: inout FieldErrors, field: String = "password") {
        let hasLetter = password.contains { $0.isLetter }, hasDigit = password.contains { $0.isNumber }
        if password.count < 8 || !hasLetter || !hasDigit { errors.add(field, "密码至少 8 位，且须同时包含字母和数字") }
    }

    /// What the audit log keeps of an account (never its password or number).
    struct Audited: Encodable {
        var username: String?; var displayName: String; var role: String; var regionCode: String
        var institutionId: UUID?; var practitionerId: UUID?; var active: Bool; var passwordSet: Bool?
        init(_ a: Account, passwordSet: Bool? = nil) {
            username = a.username; displayName = a.displayName; role = a.role; regionCode = a.regionCode
            institutionId = a.institutionID; practitionerId = a.practitionerID; active = a.active; self.passwordSet = passwordSet
        }
    }

    static func save(_ input: Input, existing: Account?, by principal: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector,
                     now: Date, on db: any Database) async throws -> Account {
        try principal.require(RegistryPermission.canManageAccounts(principal.role))
        let sql = db as! any SQLDatabase
        var errors = FieldErrors()
        let username = errors.required(input.username, "username", "用户名", maxLength: 32).lowercased()
        if !username.isEmpty, !username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) || username.count < 3 {
            errors.add("username", "用户名为 3–32 位字母、数字或 - _ .")
        } else if !username.isEmpty {
            var dup = Account.query(on: db).filter(\.$username == username)
            if let id = existing?.id { dup = dup.filter(\.$id != id) }
            if try await dup.first() != nil { errors.add("username", "用户名 \(username) 已被使用") }
        }
        let displayName = errors.required(input.displayName, "displayName", "姓名或名称", maxLength: 40)
        let role = errors.choice(input.role, "role", "角色", as: Role.self)
        if let role {
            if role == .citizen { errors.add("role", "群众账号由本人用手机号注册，不能由管理员创建") }
            else if !RegistryPermission.canGrant(role, by: principal.role) { errors.add("role", "您不能创建该角色的账号") }
        }
        let regionCode = (input.regionCode ?? "").trimmingCharacters(in: .whitespaces)
        if regionCode.isEmpty { errors.add("regionCode", "请选择所属区划") }
        else if try await RegionController.find(regionCode, on: sql) == nil { errors.add("regionCode", "区划代码 \(regionCode) 不存在") }
        else if !principal.scope.includes(regionCode: regionCode), principal.scope != .everything {
            errors.add("regionCode", "该区划不在您的管辖范围内")
        }
        if let id = input.institutionId {
            if (try? await InstitutionController.find(id, scope: principal.scope, on: sql)) == nil {
                errors.add("institutionId", "所属机构不存在或不在您的管辖范围内")
            }
        } else if role?.needsInstitution == true || role == .windowClerk {
            errors.add("institutionId", "该角色须绑定所属机构")
        }
        if let id = input.practitionerId {
            if let p = try? await PractitionerController.find(id, scope: principal.scope, on: sql) {
                if let inst = input.institutionId, p.institutionId != inst { errors.add("practitionerId", "该人员不属于所选机构") }
            } else {
                errors.add("practitionerId", "人员档案不存在或不在您的管辖范围内")
            }
        } else if role == .practitioner {
            errors.add("practitionerId", "法律服务人员账号须绑定人员档案")
        }
        let password = input.password ?? ""
        if existing == nil || !password.isEmpty { validatePassword(password, &errors) }
        try errors.throwIfAny()

        let before = existing.map { Audited($0) }
        let account = existing ?? Account()
        account.username = username
        account.displayName = displayName
        account.role = role!.rawValue
        account.regionCode = regionCode
        account.institutionID = input.institutionId
        account.practitionerID = input.practitionerId
        if !password.isEmpty {
            account.passwordHash = try Bcrypt.hash(password, cost: AuthController.passwordCost)
            // A password set by an administrator ends the account's sessions and tokens.
            if existing != nil { account.credentialsChangedAt = now }
        }
        if existing == nil {
            account.failedLogins = 0
            account.active = true
        }
        try await db.atomic { tx in
            try await account.save(on: tx)
            if let id = account.id, existing != nil, !password.isEmpty {
                try await ApiToken.query(on: tx).filter(\.$accountID == id).delete()
                try await SignInAttempts.clear(account: id, on: tx as! any SQLDatabase)
            }
            try await AuditLog.record(existing == nil ? "account.create" : "account.update", target: "账号 \(username)（\(displayName)）",
                                      before: before, after: Audited(account, passwordSet: password.isEmpty ? nil : true),
                                      by: actor, protector: protector, on: tx as! any SQLDatabase, at: now)
        }
        return account
    }

    static func setActive(_ id: UUID, _ active: Bool, by principal: Principal, actor: AuditLog.Actor, protector: PersonalDataProtector,
                          on db: any Database, now: Date) async throws {
        try principal.require(RegistryPermission.canManageAccounts(principal.role))
        _ = try await find(id, scope: principal.scope, now: now, on: db as! any SQLDatabase)
        guard id != principal.accountID else { throw AppError.conflict("cannot_deactivate_self", "不能停用自己的账号") }
        guard let account = try await Account.find(id, on: db) else { throw AppError.notFound("账号") }
        let before = Audited(account)
        try await db.atomic { tx in
            account.active = active
            try await account.save(on: tx)
            try await AuditLog.record(active ? "account.update" : "account.deactivate", target: "账号 \(account.username ?? "")（\(account.displayName)）",
                                      before: before, after: Audited(account), by: actor, protector: protector, on: tx as! any SQLDatabase, at: now)
            if active { try await SignInAttempts.clear(account: id, on: tx as! any SQLDatabase) }
            if !active { try await ApiToken.query(on: tx).filter(\.$accountID == id).delete() }
        }
    }
}

// MARK: - API

extension AccountController {
    static func apiList(_ req: Request) async throws -> Paged<Row> {
        let p = try req.staff()
        try p.require(RegistryPermission.canManageAccounts(p.role) || p.role == .auditor || p.role == .leader)
        return try await list(Filter(from: req), scope: p.scope, page: try PageRequest(from: req), now: req.now, on: req.sql)
    }

    static func apiGet(_ req: Request) async throws -> Row {
        let p = try req.staff()
        try p.require(RegistryPermission.canManageAccounts(p.role) || p.role == .auditor || p.role == .leader)
        return try await find(try req.uuid("id"), scope: p.scope, now: req.now, on: req.sql)
    }

    static func apiCreate(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let account = try await save(try req.content.decode(Input.self), existing: nil, by: p, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.db)
        return try Response(status: .created, headers: ["Location": "/api/v1/accounts/\(account.id!)"])
            .encodeJSON(try await find(account.id!, scope: p.scope, now: req.now, on: req.sql))
    }

    static func apiUpdate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        let id = try req.uuid("id")
        try p.require(RegistryPermission.canManageAccounts(p.role))
        _ = try await find(id, scope: p.scope, now: req.now, on: req.sql)
        guard let account = try await Account.find(id, on: req.db), account.role != Role.citizen.rawValue else { throw AppError.notFound("账号") }
        _ = try await save(try req.content.decode(Input.self), existing: account, by: p, actor: req.auditActor, protector: req.personalData, now: req.now, on: req.db)
        return try await find(id, scope: p.scope, now: req.now, on: req.sql)
    }

    static func apiDeactivate(_ req: Request) async throws -> Row {
        let p = try req.staff()
        let id = try req.uuid("id")
        try await setActive(id, false, by: p, actor: req.auditActor, protector: req.personalData, on: req.db, now: req.now)
        return try await find(id, scope: p.scope, now: req.now, on: req.sql)
    }
}
