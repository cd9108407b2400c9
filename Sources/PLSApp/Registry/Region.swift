import Fluent
import Vapor
import PLSDomain

/// 行政区划: keyed by its statistical division code.
final class Region: Model, @unchecked Sendable {
    static let schema = "regions"

    @ID(custom: "code", generatedBy: .user) var id: String?
    @Field(key: "name") var name: String
    @Field(key: "level") var level: String
    @OptionalField(key: "kind") var kind: String?
    @OptionalField(key: "parent_code") var parentCode: String?
    @Field(key: "population") var population: Int
    @Field(key: "active") var active: Bool
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    init(code: String, name: String, level: RegionLevel, kind: VillageKind?, parentCode: String?, population: Int) {
        self.id = code
        self.name = name
        self.level = level.rawValue
        self.kind = kind?.rawValue
        self.parentCode = parentCode
        self.population = population
        self.active = true
    }
}

final class Institution: Model, @unchecked Sendable {
    static let schema = "institutions"

    @ID(key: .id) var id: UUID?
    @Field(key: "type") var type: String
    @Field(key: "name") var name: String
    @Field(key: "region_code") var regionCode: String
    @Field(key: "address") var address: String
    @Field(key: "phone") var phone: String
    @Field(key: "opening_hours") var openingHours: String
    @OptionalField(key: "latitude") var latitude: Double?
    @OptionalField(key: "longitude") var longitude: Double?
    @OptionalField(key: "committee_kind") var committeeKind: String?
    @OptionalField(key: "industry_field") var industryField: String?
    @OptionalField(key: "body_kind") var bodyKind: String?
    @OptionalField(key: "enforcement_heavy") var enforcementHeavy: Bool?
    /// Derived from the kind, level and duties by `GovernmentBodies.expectsAdviser` whenever the body is saved.
    @OptionalField(key: "adviser_expected") var adviserExpected: Bool?
    /// Schools only: central, city-level or other (二(四) counts the first two).
    @OptionalField(key: "school_kind") var schoolKind: String?
    @OptionalField(key: "document_prefix") var documentPrefix: String?
    @Field(key: "active") var active: Bool
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}
}

final class Practitioner: Model, @unchecked Sendable {
    static let schema = "practitioners"

    @ID(key: .id) var id: UUID?
    @Field(key: "type") var type: String
    @Field(key: "name") var name: String
    @OptionalField(key: "gender") var gender: String?
    @Field(key: "licence_number") var licenceNumber: String
    @Field(key: "institution_id") var institutionID: UUID
    /// Where the practitioner works: their institution's region, kept here so a scope is one index range.
    @Field(key: "region_code") var regionCode: String
    /// Delimited `,labor,traffic,` so that one LIKE finds a speciality on SQLite and PostgreSQL alike.
    @Field(key: "specialities") var specialitiesText: String
    @Field(key: "regions_served") var regionsServedText: String
    @Field(key: "status") var status: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var specialities: [String] {
        get { DelimitedList.decode(specialitiesText) }
        set { specialitiesText = DelimitedList.encode(newValue) }
    }
    var regionsServed: [String] {
        get { DelimitedList.decode(regionsServedText) }
        set { regionsServedText = DelimitedList.encode(newValue) }
    }
}

enum DelimitedList {
    static func encode(_ items: [String]) -> String { items.isEmpty ? "" : "," + items.joined(separator: ",") + "," }
    static func decode(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }
    /// The LIKE pattern that finds `item` in an encoded list.
    static func pattern(_ item: String) -> String { "%," + item + ",%" }
}
