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

        // The law's defaults as they stood when this migration was released (written out: the code's defaults may
        // change, a released migration may not); administrators edit them afterwards.
        let matters: [(String, String, String, Bool)] = [
            ("state_compensation", "依法请求国家赔偿", "法律援助法第三十一条第（一）项", false),
            ("social_insurance_or_assistance", "请求给予社会保险待遇或者社会救助", "法律援助法第三十一条第（二）项", false),
            ("survivor_pension", "请求发给抚恤金", "法律援助法第三十一条第（三）项", false),
            ("support_payment", "请求给付赡养费、抚养费、扶养费", "法律援助法第三十一条第（四）项", false),
            ("labor_relationship_or_pay", "请求确认劳动关系或者支付劳动报酬", "法律援助法第三十一条第（五）项", true),
            ("legal_capacity", "请求认定公民无民事行为能力或者限制民事行为能力", "法律援助法第三十一条第（六）项", false),
            ("personal_injury", "请求工伤事故、交通事故、食品药品安全事故、医疗事故人身损害赔偿", "法律援助法第三十一条第（七）项", true),
            ("environmental_damage", "请求环境污染、生态破坏损害赔偿", "法律援助法第三十一条第（八）项", false),
            ("labor_social_security", "劳动保障", "实施方案：扩大民生领域法律援助事项范围", true),
            ("marriage_family", "婚姻家庭", "实施方案：扩大民生领域法律援助事项范围", false),
            ("food_drug", "食品药品", "实施方案：扩大民生领域法律援助事项范围", false),
            ("education_medical", "教育医疗", "实施方案：扩大民生领域法律援助事项范围", false),
            ("environmental_pollution", "环境污染", "实施方案：扩大民生领域法律援助事项范围", false),
        ]
        for (i, m) in matters.enumerated() {
            try await sql.insert(into: "legal_aid_matters").columns("id", "name", "basis", "migrant_worker_claim", "active", "sort")
                .values(SQLBind(m.0), SQLBind(m.1), SQLBind(m.2), SQLBind(m.3), SQLBind(true), SQLBind(i)).run()
        }
        for (key, days) in [("decision", 7), ("designation", 3), ("notified_designation", 3), ("objection_review", 5)] {
            try await sql.insert(into: "legal_aid_rules").columns("key", "days", "unit")
                .values(SQLBind(key), SQLBind(days), SQLBind("calendar_days")).run()
        }
        let yuan: [(String, String, Int)] = [
            ("civil", "non_litigation", 800), ("civil", "arbitration", 1500), ("civil", "first_instance", 2000),
            ("civil", "second_instance", 1500), ("civil", "retrial", 1500),
            ("administrative", "non_litigation", 800), ("administrative", "first_instance", 2200),
            ("administrative", "second_instance", 1600), ("administrative", "retrial", 1600),
            ("criminal", "investigation", 1000), ("criminal", "prosecution", 1000), ("criminal", "first_instance", 2000),
            ("criminal", "second_instance", 1500), ("criminal", "death_penalty_review", 3000), ("criminal", "retrial", 1500),
        ]
        for r in yuan {
            try await sql.insert(into: "legal_aid_subsidy_rates").columns("kind", "stage", "amount")
                .values(SQLBind(r.0), SQLBind(r.1), SQLBind(r.2 * 100)).run()
        }
    }

    func revert(on database: any Database) async throws {
        for s in ["duty_assistances", "duty_persons", "duty_shifts", "duty_stations", LegalAidCase.schema, "legal_aid_roster",
                  "legal_aid_subsidy_rates", "legal_aid_rules", "legal_aid_thresholds", "legal_aid_matters"] {
            try await database.schema(s).delete()
        }
    }
}

/// Art. 42 (3) follows the claim, not the matter: each matter lists the migrant workers' claims it can carry
/// (`labor_pay`, `work_injury`), filled from the old yes/no as the law reads it; a case records the claim it was
/// applied for with.
struct M025AddMigrantWorkerClaims: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE legal_aid_matters ADD COLUMN migrant_worker_claims TEXT NOT NULL DEFAULT ''").run()
        try await sql.raw("ALTER TABLE legal_aid_cases ADD COLUMN migrant_worker_claim TEXT").run()
        // Confirming a labour relationship is means-tested, paying wages is not; traffic, food and drug and medical
        // accidents are means-tested, a work injury is not. A matter the city added with the old flag keeps both.
        try await sql.raw("""
            UPDATE legal_aid_matters SET migrant_worker_claims = CASE id
              WHEN 'labor_relationship_or_pay' THEN ',labor_pay,' WHEN 'personal_injury' THEN ',work_injury,'
              ELSE ',labor_pay,work_injury,' END
            WHERE migrant_worker_claim = \(bind: true)
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE legal_aid_cases DROP COLUMN migrant_worker_claim").run()
        try await sql.raw("ALTER TABLE legal_aid_matters DROP COLUMN migrant_worker_claims").run()
    }
}

/// Criminal legal aid is applied for online too: a suspect's or defendant's relatives apply on their behalf
/// (法律援助法 art. 39), and the application page takes criminal cases. The catalog first said in person only.
struct M028ApplyForCriminalLegalAidOnline: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).update("matter_items").set("online", to: true)
            .where("code", .equal, "legal_aid.criminal").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).update("matter_items").set("online", to: false)
            .where("code", .equal, "legal_aid.criminal").run()
    }
}

/// The step indicators (`LegalAidIndicators.stepOnTime`) pick the year's cases by the day received, the designation's
/// due day and the objection review's due day: without these they read every case at every indicator request.
struct M033IndexLegalAidSteps: AsyncMigration {
    static let indexes = [("lac_received_idx", "received_on"), ("lac_designation_due_idx", "designation_due"), ("lac_review_due_idx", "review_due")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (name, column) in Self.indexes { try await sql.create(index: name).on(LegalAidCase.schema).column(column).run() }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for (name, _) in Self.indexes { try await sql.drop(index: name).run() }
    }
}

/// The replacement of a designee ordered on an upheld complaint (法律援助法第五十六条), watched until it is made.
struct M042AddLegalAidReplacement: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(LegalAidCase.schema).field("replacement_due", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LegalAidCase.schema).deleteField("replacement_due").update()
    }
}
