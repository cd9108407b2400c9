import Fluent
import SQLKit
import PLSDomain

/// People's mediation: committee members, mediators, listening points, and the detail of a `mediation`
/// service request (parties, sessions, the settlement agreement, its obligations and follow-up visits,
/// judicial confirmation). Also the targets administrators set for any indicator.
struct M012CreateMediation: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("committee_members")
            .id()
            .field("institution_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("name", .string, .required)
            .field("gender", .string, .required)
            .field("role", .string, .required)
            .field("term_start", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("mediators")
            .field("practitioner_id", .uuid, .identifier(auto: false), .references(Practitioner.schema, "id"))
            .field("full_time", .bool, .required)
            .create()
        try await database.schema("listening_points")
            .id()
            .field("name", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("committee_id", .uuid, .references(Institution.schema, "id"))
            .field("hours", .string, .required)
            .field("active", .bool, .required)
            .create()
        try await database.schema(MediationCase.schema)
            .field("request_id", .uuid, .identifier(auto: false), .references(ServiceRequest.schema, "id"))
            .field("committee_id", .uuid, .references(Institution.schema, "id"))
            .field("source", .string, .required)
            .field("listening_point_id", .uuid, .references("listening_points", "id"))
            .field("amount", .int64)
            .field("people_involved", .int, .required)
            .field("mass", .bool, .required)
            .field("consent", .string, .required)
            .field("advice", .string)
            .field("outcome", .string)
            .field("closed_on", .string)
            .field("agreement_form", .string)
            .field("agreement_facts", .string)
            .field("agreement_terms", .string)
            .field("agreement_effective_on", .string)
            .field("confirmation_due", .string)
            .field("confirmation_applied_on", .string)
            .field("court_name", .string)
            .field("court_decision", .string)
            .field("court_decided_on", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("mediation_parties")
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("side", .string, .required)
            .field("kind", .string, .required)
            .field("name", .string, .required)
            .field("mobile_masked", .string)
            .field("sort", .int, .required)
            .create()
        try await database.schema("mediation_sessions")
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("held_on", .string, .required)
            .field("mediator_name", .string, .required)
            .field("attendees", .string, .required)
            .field("record", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("mediation_obligations")
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("description", .string, .required)
            .field("due_on", .string, .required)
            .field("status", .string, .required)
            .field("reminded", .bool, .required)
            .field("sort", .int, .required)
            .create()
        try await database.schema("mediation_visits")
            .id()
            .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
            .field("visited_on", .string, .required)
            .field("status", .string, .required)
            .field("note", .string)
            .field("by_name", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("mediation_alerts")
            .id()
            .field("region_code", .string, .required)
            .field("category", .string, .required)
            .field("recent", .int, .required)
            .field("earlier", .int, .required)
            .field("raised_on", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("mediation_settings")
            .field("key", .string, .identifier(auto: false))
            .field("value", .double, .required)
            .create()
        try await database.schema("indicator_targets")
            .field("id", .string, .identifier(auto: false))
            .field("target", .double, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        for (name, table, columns) in [("cm_institution_idx", "committee_members", ["institution_id"]),
                                       ("lp_region_idx", "listening_points", ["region_code"]),
                                       ("mc_committee_idx", MediationCase.schema, ["committee_id"]),
                                       ("mp_request_idx", "mediation_parties", ["request_id"]),
                                       ("ms_request_idx", "mediation_sessions", ["request_id"]),
                                       ("mo_request_idx", "mediation_obligations", ["request_id"]),
                                       ("mo_due_idx", "mediation_obligations", ["reminded", "due_on"]),
                                       ("mv_request_idx", "mediation_visits", ["request_id"]),
                                       ("ma_region_idx", "mediation_alerts", ["region_code", "category", "raised_on"])] {
            var index = sql.create(index: SQLIdentifier(name)).on(table)
            for c in columns { index = index.column(c) }
            try await index.run()
        }
        for (key, value) in MediationSettings.defaults {
            try await sql.insert(into: "mediation_settings").columns("key", "value").values(SQLBind(key), SQLBind(value)).run()
        }
    }

    func revert(on database: any Database) async throws {
        for s in ["indicator_targets", "mediation_settings", "mediation_alerts", "mediation_visits", "mediation_obligations",
                  "mediation_sessions", "mediation_parties", MediationCase.schema, "listening_points", "mediators", "committee_members"] {
            try await database.schema(s).delete()
        }
    }
}
