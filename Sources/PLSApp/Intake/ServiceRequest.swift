import Vapor
import Fluent
import SQLKit
import PLSDomain

/// 法律服务事项: one row per matter, from whichever channel it came. Capabilities add detail tables
/// linked one-to-one; the lifecycle is this one. Personal data is stored encrypted and found by keyed hash.
final class ServiceRequest: Model, @unchecked Sendable {
    static let schema = "service_requests"

    @ID(key: .id) var id: UUID?
    @Field(key: "number") var number: String
    @Field(key: "matter_type") var matterType: String
    @OptionalField(key: "item_code") var itemCode: String?
    @Field(key: "category") var category: String
    @Field(key: "channel") var channel: String
    @Field(key: "description") var description: String
    @Field(key: "applicant_name") var applicantName: String
    @Field(key: "applicant_mobile_hash") var applicantMobileHash: String
    @Field(key: "applicant_mobile_cipher") var applicantMobileCipher: String
    @Field(key: "applicant_mobile_masked") var applicantMobileMasked: String
    @OptionalField(key: "applicant_id_hash") var applicantIDHash: String?
    @OptionalField(key: "applicant_id_cipher") var applicantIDCipher: String?
    @OptionalField(key: "applicant_id_masked") var applicantIDMasked: String?
    @OptionalField(key: "applicant_birth_date") var applicantBirthDate: String?
    @OptionalField(key: "applicant_sex") var applicantSex: String?
    @Field(key: "priority_groups") var priorityGroupsText: String
    @Field(key: "region_code") var regionCode: String
    @OptionalField(key: "citizen_account_id") var citizenAccountID: UUID?
    @OptionalField(key: "entered_by") var enteredBy: UUID?
    @OptionalField(key: "institution_id") var institutionID: UUID?
    @OptionalField(key: "practitioner_id") var practitionerID: UUID?
    @Field(key: "status") var status: String
    @OptionalField(key: "accept_due") var acceptDue: String?
    @OptionalField(key: "conclude_due") var concludeDue: String?
    @OptionalField(key: "suspended_on") var suspendedOn: String?
    @OptionalField(key: "transfer_target") var transferTarget: String?
    @OptionalField(key: "transfer_reference") var transferReference: String?
    @OptionalField(key: "external_reference") var externalReference: String?
    @OptionalField(key: "reject_reason") var rejectReason: String?
    @OptionalField(key: "outcome") var outcome: String?
    @OptionalField(key: "summary") var summary: String?
    @OptionalField(key: "concluded_on") var concludedOn: String?
    @OptionalField(key: "concluded_on_time") var concludedOnTime: Bool?
    @OptionalField(key: "rating") var rating: Int?
    @OptionalField(key: "rating_comment") var ratingComment: String?
    @OptionalField(key: "rated_at") var ratedAt: Date?
    @Field(key: "overdue_level") var overdueLevel: Int
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    /// The assignees' names when read with the row (`RequestViews.find`), for the ids read then: a page
    /// that shows the request skips a round trip. Not a column.
    var assigneeNames: AssigneeNames?

    struct AssigneeNames {
        var institutionID: UUID?
        var practitionerID: UUID?
        var institution: String?
        var practitioner: String?
    }

    init() {}

    var requestStatus: RequestStatus { RequestStatus(rawValue: status) ?? .submitted }
}

struct M007CreateServiceRequests: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ServiceRequest.schema)
            .id()
            .field("number", .string, .required)
            .field("matter_type", .string, .required)
            .field("item_code", .string)
            .field("category", .string, .required)
            .field("channel", .string, .required)
            .field("description", .string, .required)
            .field("applicant_name", .string, .required)
            .field("applicant_mobile_hash", .string, .required)
            .field("applicant_mobile_cipher", .string, .required)
            .field("applicant_mobile_masked", .string, .required)
            .field("applicant_id_hash", .string)
            .field("applicant_id_cipher", .string)
            .field("applicant_id_masked", .string)
            .field("applicant_birth_date", .string)
            .field("applicant_sex", .string)
            .field("priority_groups", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("citizen_account_id", .uuid, .references(Account.schema, "id"))
            .field("entered_by", .uuid, .references(Account.schema, "id"))
            .field("institution_id", .uuid, .references(Institution.schema, "id"))
            .field("practitioner_id", .uuid, .references(Practitioner.schema, "id"))
            .field("status", .string, .required)
            .field("accept_due", .string)
            .field("conclude_due", .string)
            .field("suspended_on", .string)
            .field("transfer_target", .string)
            .field("transfer_reference", .string)
            .field("external_reference", .string)
            .field("reject_reason", .string)
            .field("outcome", .string)
            .field("summary", .string)
            .field("concluded_on", .string)
            .field("concluded_on_time", .bool)
            .field("rating", .int)
            .field("rating_comment", .string)
            .field("rated_at", .datetime)
            .field("overdue_level", .int, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "number")
            .create()
        try await database.schema("request_events")
            .field("seq", .int64, .identifier(auto: false))
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("at_ms", .int64, .required)
            .field("actor_account_id", .uuid)
            .field("actor_name", .string, .required)
            .field("action", .string, .required)
            .field("from_status", .string)
            .field("to_status", .string, .required)
            .field("note", .string)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        try await database.schema("request_day_counters")
            .field("day", .string, .identifier(auto: false))
            .field("last", .int, .required)
            .create()
        try await database.schema("idempotency_keys")
            .field("scoped_key", .string, .identifier(auto: false))
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("notifications")
            .id()
            .field("account_id", .uuid, .required, .references(Account.schema, "id"))
            .field("request_id", .uuid, .references(ServiceRequest.schema, "id"))
            .field("text", .string, .required)
            .field("created_at", .datetime, .required)
            .field("read_at", .datetime)
            .create()
        // Indicator figures kept up to date as requests conclude and are rated, not recounted.
        try await database.schema("request_stats")
            .field("region_code", .string, .required)
            .field("year", .int, .required)
            .field("concluded", .int, .required)
            .field("on_time", .int, .required)
            .field("rated", .int, .required)
            .field("satisfied", .int, .required)
            .unique(on: "region_code", "year")
            .create()
        let sql = database as! any SQLDatabase
        let t = ServiceRequest.schema
        // One index per list filter, led by what narrows most; created_at orders every list.
        for (name, columns) in [("sr_created_idx", ["created_at"]), ("sr_status_idx", ["status", "created_at"]),
                                ("sr_region_idx", ["region_code", "created_at"]), ("sr_institution_idx", ["institution_id", "status"]),
                                ("sr_practitioner_idx", ["practitioner_id", "status"]), ("sr_mobile_idx", ["applicant_mobile_hash", "created_at"]),
                                ("sr_citizen_idx", ["citizen_account_id", "created_at"]), ("sr_due_idx", ["status", "conclude_due"]),
                                ("sr_matter_idx", ["matter_type", "created_at"]), ("sr_channel_idx", ["channel", "created_at"])] {
            var index = sql.create(index: SQLIdentifier(name)).on(t)
            for c in columns { index = index.column(c) }
            try await index.run()
        }
        try await sql.create(index: "events_request_idx").on("request_events").column("request_id").column("seq").run()
        try await sql.create(index: "notifications_account_idx").on("notifications").column("account_id").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        for s in ["request_stats", "notifications", "idempotency_keys", "request_day_counters", "request_events", ServiceRequest.schema] {
            try await database.schema(s).delete()
        }
    }
}

/// SQLite: each new request moves its day's counter (`request_day_counters`) itself, from the number's date and
/// sequence (`FWyyyyMMdd` + sequence), so that a batch of intakes does not spend a statement on it
/// (`Ledger.Writer.flush`). PostgreSQL keeps writing the counter with the batch, under the head's row lock.
struct M021KeepRequestDayCountersByTrigger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "sqlite" else { return }
        try await sql.raw("""
            CREATE TRIGGER request_day_counters_insert AFTER INSERT ON service_requests
            WHEN NEW.number GLOB 'FW[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*' BEGIN
              INSERT INTO request_day_counters (day, last)
              VALUES (SUBSTR(NEW.number, 3, 4) || '-' || SUBSTR(NEW.number, 7, 2) || '-' || SUBSTR(NEW.number, 9, 2),
                      CAST(SUBSTR(NEW.number, 11) AS INTEGER))
              ON CONFLICT (day) DO UPDATE SET last = MAX(last, excluded.last);
            END
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "sqlite" else { return }
        try await sql.raw("DROP TRIGGER IF EXISTS request_day_counters_insert").run()
    }
}

struct M008CreateCatalog: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("matter_items")
            .field("code", .string, .identifier(auto: false))
            .field("matter_type", .string, .required)
            .field("name", .string, .required)
            .field("conditions", .string, .required)
            .field("materials", .string, .required)
            .field("steps", .string, .required)
            .field("fee", .string, .required)
            .field("time_limit", .string, .required)
            .field("location", .string, .required)
            .field("online", .bool, .required)
            .field("active", .bool, .required)
            .field("sort", .int, .required)
            .create()
        try await database.schema("deadline_rules")
            .field("matter_type", .string, .identifier(auto: false))
            .field("accept_days", .int, .required)
            .field("accept_unit", .string, .required)
            .field("conclude_days", .int, .required)
            .field("conclude_unit", .string, .required)
            .field("auto_assign", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("deadline_rules").delete()
        try await database.schema("matter_items").delete()
    }
}

/// The queue's most common filter, status and matter type together, answered from the index alone
/// (counts included) rather than by reading every row of one matter type.
struct M009AddRequestQueueIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(index: "sr_status_matter_idx").on(ServiceRequest.schema)
            .column("status").column("matter_type").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "sr_status_matter_idx").run()
    }
}
