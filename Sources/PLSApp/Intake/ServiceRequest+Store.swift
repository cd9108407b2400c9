import Vapor
import Fluent
import SQLKit

/// Reading and writing the request row with plain SQL. Fluent enumerates a model's properties by reflection
/// on every create, save and decode: for this 40-column row that was over a quarter of the time of an intake
/// and most of the time of showing one request. A request read here can still be saved with Fluent.
extension ServiceRequest {
    /// Every column but the id, in the order of `values`: the one list that `insertRow` and `updateRow` write.
    private static let columns = [
        "number", "matter_type", "item_code", "category", "channel", "description", "applicant_name", "applicant_mobile_hash",
        "applicant_mobile_cipher", "applicant_mobile_masked", "applicant_id_hash", "applicant_id_cipher", "applicant_id_masked",
        "applicant_birth_date", "applicant_sex", "priority_groups", "region_code", "citizen_account_id", "entered_by", "institution_id",
        "practitioner_id", "status", "accept_due", "conclude_due", "suspended_on", "transfer_target", "transfer_reference",
        "external_reference", "reject_reason", "outcome", "summary", "concluded_on", "concluded_on_time", "rating", "rating_comment",
        "rated_at", "overdue_level", "created_at", "updated_at",
    ]

    private var values: [any Encodable & Sendable] {
        [number, matterType, itemCode, category, channel, description, applicantName, applicantMobileHash, applicantMobileCipher,
         applicantMobileMasked, applicantIDHash, applicantIDCipher, applicantIDMasked, applicantBirthDate, applicantSex, priorityGroupsText,
         regionCode, citizenAccountID, enteredBy, institutionID, practitionerID, status, acceptDue, concludeDue, suspendedOn, transferTarget,
         transferReference, externalReference, rejectReason, outcome, summary, concludedOn, concludedOnTime, rating, ratingComment,
         ratedAt, overdueLevel, createdAt, updatedAt]
    }

    private static let insertPrefix = "INSERT INTO service_requests (id, " + columns.joined(separator: ", ") + ") VALUES ("

    /// Inserts the new request (its id set by the caller).
    func insertRow(on db: any SQLDatabase) async throws {
        var query = SQLQueryString(Self.insertPrefix)
        query.appendInterpolation(binds: [id!] + values)
        query.appendLiteral(")")
        try await db.raw(query).run()
        $id.exists = true
    }

    /// Inserts several new requests in one statement: a batch of intakes is one insert.
    static func insertRows(_ rows: some Collection<ServiceRequest>, on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        var query = SQLQueryString(String(insertPrefix.dropLast()))
        for (i, r) in rows.enumerated() {
            query.appendLiteral(i == 0 ? "(" : ", (")
            query.appendInterpolation(binds: [r.id!] + r.values)
            query.appendLiteral(")")
        }
        try await db.raw(query).run()
        for r in rows { r.$id.exists = true }
    }

    /// Inserts a request not written yet (an intake accepted at once is written by its acceptance), else updates it.
    func saveRow(on db: any SQLDatabase) async throws {
        if $id.exists { try await updateRow(on: db) } else { try await insertRow(on: db) }
    }

    /// Writes every column of the request back: what an action changed, in one statement.
    func updateRow(on db: any SQLDatabase) async throws {
        var query = SQLQueryString("UPDATE service_requests SET ")
        var first = true
        // The number and the time of intake never change.
        for (column, value) in zip(Self.columns, values) where column != "number" && column != "created_at" {
            query.appendLiteral(first ? "" : ", ")
            first = false
            query.appendInterpolation(unsafeRaw: column)
            query.appendLiteral(" = ")
            query.appendInterpolation(bind: value)
        }
        query.appendLiteral(" WHERE id = ")
        query.appendInterpolation(bind: id!)
        try await db.raw(query).run()
    }

    /// A request read with SQLKit, column by column; saveable with Fluent as one it had read itself.
    static func read(_ row: any SQLRow) throws -> ServiceRequest {
        let r = ServiceRequest()
        r.id = try row.decode(column: "id", as: UUID.self)
        r.number = try row.decode(column: "number", as: String.self)
        r.matterType = try row.decode(column: "matter_type", as: String.self)
        r.itemCode = try row.decode(column: "item_code", as: String?.self)
        r.category = try row.decode(column: "category", as: String.self)
        r.channel = try row.decode(column: "channel", as: String.self)
        r.description = try row.decode(column: "description", as: String.self)
        r.applicantName = try row.decode(column: "applicant_name", as: String.self)
        r.applicantMobileHash = try row.decode(column: "applicant_mobile_hash", as: String.self)
        r.applicantMobileCipher = try row.decode(column: "applicant_mobile_cipher", as: String.self)
        r.applicantMobileMasked = try row.decode(column: "applicant_mobile_masked", as: String.self)
        r.applicantIDHash = try row.decode(column: "applicant_id_hash", as: String?.self)
        r.applicantIDCipher = try row.decode(column: "applicant_id_cipher", as: String?.self)
        r.applicantIDMasked = try row.decode(column: "applicant_id_masked", as: String?.self)
        r.applicantBirthDate = try row.decode(column: "applicant_birth_date", as: String?.self)
        r.applicantSex = try row.decode(column: "applicant_sex", as: String?.self)
        r.priorityGroupsText = try row.decode(column: "priority_groups", as: String.self)
        r.regionCode = try row.decode(column: "region_code", as: String.self)
        r.citizenAccountID = try row.decode(column: "citizen_account_id", as: UUID?.self)
        r.enteredBy = try row.decode(column: "entered_by", as: UUID?.self)
        r.institutionID = try row.decode(column: "institution_id", as: UUID?.self)
        r.practitionerID = try row.decode(column: "practitioner_id", as: UUID?.self)
        r.status = try row.decode(column: "status", as: String.self)
        r.acceptDue = try row.decode(column: "accept_due", as: String?.self)
        r.concludeDue = try row.decode(column: "conclude_due", as: String?.self)
        r.suspendedOn = try row.decode(column: "suspended_on", as: String?.self)
        r.transferTarget = try row.decode(column: "transfer_target", as: String?.self)
        r.transferReference = try row.decode(column: "transfer_reference", as: String?.self)
        r.externalReference = try row.decode(column: "external_reference", as: String?.self)
        r.rejectReason = try row.decode(column: "reject_reason", as: String?.self)
        r.outcome = try row.decode(column: "outcome", as: String?.self)
        r.summary = try row.decode(column: "summary", as: String?.self)
        r.concludedOn = try row.decode(column: "concluded_on", as: String?.self)
        r.concludedOnTime = try row.decode(column: "concluded_on_time", as: Bool?.self)
        r.rating = try row.decode(column: "rating", as: Int?.self)
        r.ratingComment = try row.decode(column: "rating_comment", as: String?.self)
        r.ratedAt = try row.decode(column: "rated_at", as: Date?.self)
        r.overdueLevel = try row.decode(column: "overdue_level", as: Int.self)
        r.createdAt = try row.decode(column: "created_at", as: Date.self)
        r.updatedAt = try row.decode(column: "updated_at", as: Date.self)
        r.$id.exists = true
        return r
    }
}
