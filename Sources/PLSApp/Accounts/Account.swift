import Fluent
import Vapor
import SQLKit
import PLSDomain

final class Account: Model, @unchecked Sendable {
    static let schema = "accounts"

    @ID(key: .id) var id: UUID?
    /// Staff sign in by username; citizens by mobile number.
    @OptionalField(key: "username") var username: String?
    @OptionalField(key: "mobile_hash") var mobileHash: String?
    @OptionalField(key: "mobile_cipher") var mobileCipher: String?
    @OptionalField(key: "mobile_masked") var mobileMasked: String?
    @Field(key: "display_name") var displayName: String
    @Field(key: "role") var role: String
    @Field(key: "region_code") var regionCode: String
    @OptionalField(key: "institution_id") var institutionID: UUID?
    @OptionalField(key: "practitioner_id") var practitionerID: UUID?
    @OptionalField(key: "password_hash") var passwordHash: String?
    /// Set to 0 on creation only (the columns are required): failed sign-ins live in `sign_in_attempts` (M022).
    @Field(key: "failed_logins") var failedLogins: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @Field(key: "active") var active: Bool
    /// Sessions signed in before this are ended (a password change or reset, M022).
    @OptionalField(key: "credentials_changed_at") var credentialsChangedAt: Date?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

}

/// A bearer token for the API. Only its digest is stored.
final class ApiToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"

    @ID(key: .id) var id: UUID?
    @Field(key: "account_id") var accountID: UUID
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "expires_at") var expiresAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(accountID: UUID, tokenHash: String, expiresAt: Date) {
        self.accountID = accountID
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
    }
}

/// A one-time sign-in code sent by SMS. Only its digest is stored.
final class OneTimeCode: Model, @unchecked Sendable {
    static let schema = "one_time_codes"

    @ID(key: .id) var id: UUID?
    @Field(key: "mobile_hash") var mobileHash: String
    @Field(key: "code_hash") var codeHash: String
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "attempts") var attempts: Int
    @Field(key: "consumed") var consumed: Bool
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// One SMS in the outbox (`SmsOutbox`): written with the act that causes it, delivered after; in demo mode the
/// outbox page shows it so a visitor can sign in as a citizen.
final class SmsMessage: Model, @unchecked Sendable {
    static let schema = "sms_messages"

    @ID(key: .id) var id: UUID?
    @Field(key: "mobile_masked") var mobileMasked: String
    @Field(key: "mobile_hash") var mobileHash: String
    @Field(key: "text") var text: String
    @Field(key: "created_at") var createdAt: Date
    /// The outbox (`SmsOutbox`): the number to deliver to, and how delivery stands.
    @OptionalField(key: "mobile_cipher") var mobileCipher: String?
    @OptionalField(key: "status") var status: String?
    @OptionalField(key: "attempts") var attempts: Int?
    @OptionalField(key: "next_attempt_at") var nextAttemptAt: Date?
    @OptionalField(key: "sent_at") var sentAt: Date?
    @OptionalField(key: "last_error") var lastError: String?

    init() {}
}

struct M004CreateAccounts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Account.schema)
            .id()
            .field("username", .string)
            .field("mobile_hash", .string)
            .field("mobile_cipher", .string)
            .field("mobile_masked", .string)
            .field("display_name", .string, .required)
            .field("role", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("institution_id", .uuid, .references(Institution.schema, "id"))
            .field("practitioner_id", .uuid, .references(Practitioner.schema, "id"))
            .field("password_hash", .string)
            .field("failed_logins", .int, .required)
            .field("locked_until", .datetime)
            .field("active", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username")
            .unique(on: "mobile_hash")
            .create()
        try await database.schema(ApiToken.schema)
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, "id", onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema(OneTimeCode.schema)
            .id()
            .field("mobile_hash", .string, .required)
            .field("code_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("attempts", .int, .required)
            .field("consumed", .bool, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(SmsMessage.schema)
            .id()
            .field("mobile_masked", .string, .required)
            .field("mobile_hash", .string, .required)
            .field("text", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "accounts_region_idx").on(Account.schema).column("region_code").run()
        try await sql.create(index: "accounts_institution_idx").on(Account.schema).column("institution_id").run()
        try await sql.create(index: "one_time_codes_mobile_idx").on(OneTimeCode.schema).column("mobile_hash").column("created_at").run()
        try await sql.create(index: "sms_messages_created_idx").on(SmsMessage.schema).column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        for schema in [SmsMessage.schema, OneTimeCode.schema, ApiToken.schema, Account.schema] {
            try await database.schema(schema).delete()
        }
    }
}
