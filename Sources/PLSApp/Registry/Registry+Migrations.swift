import Foundation
import Fluent
import SQLKit
import PLSDomain

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

/// Government bodies marked by kind and by whether the plan expects them to retain a legal adviser (三(六)).
/// Bodies already registered are marked from their names; administrators correct the marks on the form.
struct M016MarkGovernmentBodies: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds columns one at a time.
        try await database.schema(Institution.schema).field("body_kind", .string).update()
        try await database.schema(Institution.schema).field("enforcement_heavy", .bool).update()
        try await database.schema(Institution.schema).field("adviser_expected", .bool).update()
        let sql = database as! any SQLDatabase
        struct Body: Decodable { var id: UUID; var name: String; var regionCode: String }
        let bodies = try await sql.select().columns("id", "name", "region_code").from(Institution.schema)
            .where("type", .equal, InstitutionType.governmentBody.rawValue)
            .all(decoding: Body.self, keyDecodingStrategy: .snakeCase)
        for b in bodies {
            let kind = Self.suggestedKind(name: b.name)
            let heavy = kind == "department" && Self.enforcementDepartments.contains { b.name.contains($0) }
            let expected = DivisionCode(b.regionCode)?.level.map { level in
                kind == "department" ? heavy && [.city, .county].contains(level) : [.city, .county, .town].contains(level)
            } ?? false
            try await sql.update(Institution.schema)
                .set("body_kind", to: kind).set("enforcement_heavy", to: heavy).set("adviser_expected", to: expected)
                .where("id", .equal, b.id).run()
        }
    }

    // The rules as they were when this migration was released (`GovernmentBodies` may change; this may not).
    private static let enforcementDepartments = ["市场监督管理", "城市管理", "税务", "住房", "自然资源和规划", "生态环境", "交通运输"]

    private static func suggestedKind(name: String) -> String {
        if name.hasPrefix("中共") || name.hasSuffix("党委") || name.hasSuffix("党工委") || name.hasSuffix("工作委员会") { return "party_committee" }
        if name.hasSuffix("人民政府") || name.hasSuffix("办事处") || name.hasSuffix("管理委员会") { return "government" }
        return "department"
    }

    func revert(on database: any Database) async throws {
        // Plain SQL: Fluent's SQLite dialect skips dropping columns, which SQLite itself has supported since 3.35.
        let sql = database as! any SQLDatabase
        for column in ["adviser_expected", "enforcement_heavy", "body_kind"] {
            try await sql.raw("ALTER TABLE \(ident: Institution.schema) DROP COLUMN \(ident: column)").run()
        }
    }
}

/// Schools marked by kind (二(四): counsellors at central and city-level schools). Schools already registered are
/// marked from their names and regions; administrators correct the marks on the form.
struct M027MarkSchoolKinds: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Institution.schema).field("school_kind", .string).update()
        let sql = database as! any SQLDatabase
        struct School: Decodable { var id: UUID; var name: String; var regionCode: String }
        let schools = try await sql.select().columns("id", "name", "region_code").from(Institution.schema)
            .where("type", .equal, InstitutionType.school.rawValue)
            .all(decoding: School.self, keyDecodingStrategy: .snakeCase)
        for s in schools {
            // The rule as it was when this migration was released (`Schools` may change; this may not).
            let kind = DivisionCode(s.regionCode)?.level == .city ? "city_level"
                : (["中心学校", "中心校", "中心小学"].contains { s.name.contains($0) } ? "central" : "other")
            try await sql.update(Institution.schema).set("school_kind", to: kind).where("id", .equal, s.id).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE \(ident: Institution.schema) DROP COLUMN \(ident: "school_kind")").run()
    }
}
