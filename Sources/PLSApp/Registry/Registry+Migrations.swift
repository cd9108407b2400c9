import Fluent
import SQLKit

struct M001CreateRegions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Region.schema)
            .field("code", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("level", .string, .required)
            .field("kind", .string)
            .field("parent_code", .string, .references(Region.schema, "code"))
            .field("population", .int, .required)
            .field("active", .bool, .required)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "regions_parent_idx").on(Region.schema).column("parent_code").run()
        try await sql.create(index: "regions_level_code_idx").on(Region.schema).column("level").column("code").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Region.schema).delete()
    }
}

struct M002CreateInstitutions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Institution.schema)
            .id()
            .field("type", .string, .required)
            .field("name", .string, .required)
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("address", .string, .required)
            .field("phone", .string, .required)
            .field("opening_hours", .string, .required)
            .field("latitude", .double)
            .field("longitude", .double)
            .field("committee_kind", .string)
            .field("industry_field", .string)
            .field("active", .bool, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        // Coverage indicators look up "an active institution of this type in this region".
        try await sql.create(index: "institutions_region_type_idx").on(Institution.schema).column("region_code").column("type").run()
        try await sql.create(index: "institutions_type_region_idx").on(Institution.schema).column("type").column("region_code").run()
        try await sql.create(index: "institutions_name_idx").on(Institution.schema).column("name").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Institution.schema).delete()
    }
}

struct M003CreatePractitioners: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Practitioner.schema)
            .id()
            .field("type", .string, .required)
            .field("name", .string, .required)
            .field("gender", .string)
            .field("licence_number", .string, .required)
            .field("institution_id", .uuid, .required, .references(Institution.schema, "id"))
            .field("region_code", .string, .required, .references(Region.schema, "code"))
            .field("specialities", .string, .required)
            .field("regions_served", .string, .required)
            .field("status", .string, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "licence_number")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "practitioners_institution_idx").on(Practitioner.schema).column("institution_id").run()
        try await sql.create(index: "practitioners_region_idx").on(Practitioner.schema).column("region_code").column("type").run()
        try await sql.create(index: "practitioners_name_idx").on(Practitioner.schema).column("name").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Practitioner.schema).delete()
    }
}
