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

    /// The cells of `columns`, as `BulkRows` hands them to SQLite (no SQL builder, no Codable encoding).
    private var cells: [BulkCell] {
        [BulkCell(number), BulkCell(matterType), BulkCell(itemCode), BulkCell(category), BulkCell(channel), BulkCell(description),
         BulkCell(applicantName), BulkCell(applicantMobileHash), BulkCell(applicantMobileCipher), BulkCell(applicantMobileMasked),
         BulkCell(applicantIDHash), BulkCell(applicantIDCipher), BulkCell(applicantIDMasked), BulkCell(applicantBirthDate),
         BulkCell(applicantSex), BulkCell(priorityGroupsText), BulkCell(regionCode), BulkCell(citizenAccountID), BulkCell(enteredBy),
         BulkCell(institutionID), BulkCell(practitionerID), BulkCell(status), BulkCell(acceptDue), BulkCell(concludeDue),
         BulkCell(suspendedOn), BulkCell(transferTarget), BulkCell(transferReference), BulkCell(externalReference),
         BulkCell(rejectReason), BulkCell(outcome), BulkCell(summary), BulkCell(concludedOn), BulkCell(concludedOnTime),
         BulkCell(rating), BulkCell(ratingComment), BulkCell(ratedAt), BulkCell(overdueLevel), BulkCell(createdAt), BulkCell(updatedAt)]
    }

    static let insertColumns = ["id"] + columns

    /// The cells of a new row, in the order of `insertColumns`.
    var insertCells: [BulkCell] { [BulkCell(id!)] + cells }

    /// Inserts the new request (its id set by the caller).
    func insertRow(on db: any SQLDatabase) async throws {
        try await Self.insertRows(CollectionOfOne(self), on: db)
    }

    /// Inserts several new requests in one statement: a batch of intakes is one insert.
    static func insertRows(_ rows: some Collection<ServiceRequest>, on db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        try await BulkRows.insert(schema, insertColumns, rows.map(\.insertCells)[...], on: db)
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
        for (column, cell) in zip(Self.columns, cells) where column != "number" && column != "created_at" {
            query.appendLiteral(first ? "" : ", ")
            first = false
            query.appendInterpolation(unsafeRaw: column)
            query.appendLiteral(" = ")
            query.appendInterpolation(bind: cell.bind)
        }
        query.appendLiteral(" WHERE id = ")
        query.appendInterpolation(bind: id!)
        try await db.raw(query).run()
    }

    /// A request read column by column (`ColumnReader`); saveable with Fluent as one it had read itself.
    static func read(_ row: any ColumnReader) throws -> ServiceRequest {
        let r = ServiceRequest()
        r.id = try row.uuid("id")
        r.number = try row.text("number")
        r.matterType = try row.text("matter_type")
        r.itemCode = try row.optionalText("item_code")
        r.category = try row.text("category")
        r.channel = try row.text("channel")
        r.description = try row.text("description")
        r.applicantName = try row.text("applicant_name")
        r.applicantMobileHash = try row.text("applicant_mobile_hash")
        r.applicantMobileCipher = try row.text("applicant_mobile_cipher")
        r.applicantMobileMasked = try row.text("applicant_mobile_masked")
        r.applicantIDHash = try row.optionalText("applicant_id_hash")
        r.applicantIDCipher = try row.optionalText("applicant_id_cipher")
        r.applicantIDMasked = try row.optionalText("applicant_id_masked")
        r.applicantBirthDate = try row.optionalText("applicant_birth_date")
        r.applicantSex = try row.optionalText("applicant_sex")
        r.priorityGroupsText = try row.text("priority_groups")
        r.regionCode = try row.text("region_code")
        r.citizenAccountID = try row.optionalUUID("citizen_account_id")
        r.enteredBy = try row.optionalUUID("entered_by")
        r.institutionID = try row.optionalUUID("institution_id")
        r.practitionerID = try row.optionalUUID("practitioner_id")
        r.status = try row.text("status")
        r.acceptDue = try row.optionalText("accept_due")
        r.concludeDue = try row.optionalText("conclude_due")
        r.suspendedOn = try row.optionalText("suspended_on")
        r.transferTarget = try row.optionalText("transfer_target")
        r.transferReference = try row.optionalText("transfer_reference")
        r.externalReference = try row.optionalText("external_reference")
        r.rejectReason = try row.optionalText("reject_reason")
        r.outcome = try row.optionalText("outcome")
        r.summary = try row.optionalText("summary")
        r.concludedOn = try row.optionalText("concluded_on")
        r.concludedOnTime = try row.optionalBool("concluded_on_time")
        r.rating = try row.optionalInt("rating")
        r.ratingComment = try row.optionalText("rating_comment")
        r.ratedAt = try row.optionalDate("rated_at")
        r.overdueLevel = try row.int("overdue_level")
        r.createdAt = try row.date("created_at")
        r.updatedAt = try row.date("updated_at")
        r.$id.exists = true
        return r
    }
}
