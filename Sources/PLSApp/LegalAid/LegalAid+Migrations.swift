import Fluent
import SQLKit
import PLSDomain

/// Legal aid: the detail of a `legal_aid` service request, the city's settings (scope, thresholds,
/// deadlines, subsidy rates, roster) and criminal legal aid's duty stations.
struct M011CreateLegalAid: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("legal_aid_matters")
            .field("id", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("basis", .string, .required)
            .field("migrant_worker_claim", .bool, .required)
            .field("active", .bool, .required)
            .field("sort", .int, .required)
            .create()
        try await database.schema("legal_aid_thresholds")
            .field("county_code", .string, .identifier(auto: false), .references(Region.schema, "code"))
            .field("minimum_living_allowance", .int64, .required)
            .field("multiple", .double, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema("legal_aid_rules")
            .field("key", .string, .identifier(auto: false))
            .field("days", .int, .required)
            .field("unit", .string, .required)
            .create()
        try await database.schema("legal_aid_subsidy_rates")
            .field("kind", .string, .required)
            .field("stage", .string, .required)
            .field("amount", .int64, .required)
            .unique(on: "kind", "stage")
            .create()
        try await database.schema("legal_aid_roster")
            .field("practitioner_id", .uuid, .identifier(auto: false), .references(Practitioner.schema, "id"))
            .field("practice_since", .string)
            .field("criminal", .bool, .required)
            .field("active", .bool, .required)
            .field("added_at", .datetime, .required)
            .create()
        try await database.schema(LegalAidCase.schema)
            .field("request_id", .uuid, .identifier(auto: false), .references(ServiceRequest.schema, "id"))
            .field("kind", .string, .required)
            .field("centre_id", .uuid, .references(Institution.schema, "id"))
            .field("aid_matter", .string)
            .field("household_size", .int)
            .field("household_income", .int64)
            .field("statuses", .string, .required)
            .field("means_test", .string)
            .field("threshold", .int64)
            .field("eligible_at_intake", .bool)
            .field("pledge", .bool, .required)
            .field("received_on", .string, .required)
            .field("paused_calendar_days", .int, .required)
            .field("paused_working_days", .int, .required)
            .field("materials_requested_on", .string)
            .field("missing_materials", .string)
            .field("decision", .string)
            .field("decided_on", .string)
            .field("decision_reason", .string)
            .field("provisional_ground", .string)
            .field("designation_due", .string)
            .field("designated_on", .string)
            .field("designee_type", .string)
            .field("objection_on", .string)
            .field("objection_text", .string)
            .field("review_due", .string)
            .field("review_result", .string)
            .field("review_reason", .string)
            .field("reviewed_on", .string)
            .field("termination_ground", .string)
            .field("stage", .string)
            .field("closing_report", .string)
            .field("closed_on", .string)
            .field("subsidy", .int64)
            .field("notifying_organ", .string)
            .field("organ_name", .string)
            .field("letter_number", .string)
            .field("charge", .string)
            .field("detention_place", .string)
            .field("notice_reason", .string)
            .field("contact_cipher", .string)
            .field("contact_masked", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("duty_stations")
            .id()
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("centre_id", .uuid, .references(Institution.schema, "id"))
            .field("active", .bool, .required)
            .create()
        try await database.schema("duty_shifts")
            .field("station_id", .uuid, .required, .references("duty_stations", "id"))
            .field("day", .string, .required)
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .unique(on: "station_id", "day", "practitioner_id")
            .create()
        try await database.schema("duty_persons")
            .id()
            .field("station_id", .uuid, .required, .references("duty_stations", "id"))
            .field("region_code", .string, .required)
            .field("name", .string, .required)
            .field("case_reference", .string)
            .field("stage", .string, .required)
            .field("registered_on", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("duty_assistances")
            .id()
            .field("person_id", .uuid, .required, .references("duty_persons", "id"))
            .field("station_id", .uuid, .required, .references("duty_stations", "id"))
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .field("day", .string, .required)
            .field("kinds", .string, .required)
            .field("notes", .string)
            .field("created_at", .datetime, .required)
            .create()

        let sql = database as! any SQLDatabase
        for (name, table, columns) in [("lac_kind_idx", LegalAidCase.schema, ["kind", "received_on"]),
                                       ("lac_designation_idx", LegalAidCase.schema, ["designated_on"]),
                                       ("duty_shift_day_idx", "duty_shifts", ["day", "practitioner_id"]),
                                       ("duty_person_region_idx", "duty_persons", ["region_code", "registered_on"]),
                                       ("duty_assist_person_idx", "duty_assistances", ["person_id"]),
                                       // Art. 53: a notary finds the applicant's legal aid by ID number as well as by mobile.
                                       ("lac_letter_idx", LegalAidCase.schema, ["organ_name", "letter_number"]),
                                       ("sr_id_hash_idx", ServiceRequest.schema, ["applicant_id_hash"])] {
            var index = sql.create(index: SQLIdentifier(name)).on(table)
            for c in columns { index = index.column(c) }
            try await index.run()
        }

        // The law's defaults; administrators edit them afterwards.
        for (i, m) in AidMatter.defaults.enumerated() {
            try await sql.insert(into: "legal_aid_matters").columns("id", "name", "basis", "migrant_worker_claim", "active", "sort")
                .values(SQLBind(m.id), SQLBind(m.name), SQLBind(m.basis), SQLBind(m.migrantWorkerClaim), SQLBind(true), SQLBind(i)).run()
        }
        for d in AidDeadline.allCases {
            try await sql.insert(into: "legal_aid_rules").columns("key", "days", "unit")
                .values(SQLBind(d.rawValue), SQLBind(d.defaultRule.days), SQLBind(d.defaultRule.unit.rawValue)).run()
        }
        for r in SubsidyRate.defaults {
            try await sql.insert(into: "legal_aid_subsidy_rates").columns("kind", "stage", "amount")
                .values(SQLBind(r.kind.rawValue), SQLBind(r.stage.rawValue), SQLBind(r.amount)).run()
        }
    }

    func revert(on database: any Database) async throws {
        for s in ["duty_assistances", "duty_persons", "duty_shifts", "duty_stations", LegalAidCase.schema, "legal_aid_roster",
                  "legal_aid_subsidy_rates", "legal_aid_rules", "legal_aid_thresholds", "legal_aid_matters"] {
            try await database.schema(s).delete()
        }
    }
}
