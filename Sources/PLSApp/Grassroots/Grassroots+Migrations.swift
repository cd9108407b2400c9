import Fluent
import SQLKit
import PLSDomain

/// Village legal advisers: who serves which village or community (with history), and the service log.
struct M013CreateVillageAdvisers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("adviser_assignments")
            .id()
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("start_on", .string, .required)
            .field("end_on", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("adviser_services")
            .id()
            .field("practitioner_id", .uuid, .required, .references(Practitioner.schema, "id"))
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("served_on", .string, .required)
            .field("hours", .double, .required)
            .field("kind", .string, .required)
            .field("items", .int, .required)
            .field("people", .int, .required)
            .field("notes", .string)
            .field("request_id", .uuid, .references(ServiceRequest.schema, "id"))
            .field("entered_by", .uuid)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        for (name, table, columns) in [("aa_region_idx", "adviser_assignments", ["region_code", "end_on"]),
                                       ("aa_practitioner_idx", "adviser_assignments", ["practitioner_id"]),
                                       ("as_region_idx", "adviser_services", ["region_code", "served_on"]),
                                       ("as_practitioner_idx", "adviser_services", ["practitioner_id", "served_on"])] {
            var index = sql.create(index: SQLIdentifier(name)).on(table)
            for c in columns { index = index.column(c) }
            try await index.run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("adviser_services").delete()
        try await database.schema("adviser_assignments").delete()
    }
}

/// Photos of a visit (the plan's log has "notes, photos"): JPEG or PNG, at most three per entry.
struct M017CreateAdviserServicePhotos: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("adviser_service_photos")
            .id()
            .field("service_id", .uuid, .required, .references("adviser_services", "id"))
            .field("content_type", .string, .required)
            .field("size", .int, .required)
            .field("sha256", .string, .required)
            .field("stored_name", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await (database as! any SQLDatabase).create(index: "asp_service_idx").on("adviser_service_photos").column("service_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("adviser_service_photos").delete()
    }
}
