import Vapor
import Fluent
import SQLKit
import PLSDomain

/// Finding who should take a request, spotting duplicates, and the public lookup.
enum Dispatch {
    struct Candidate: Content {
        var practitionerId: UUID
        var name: String
        var type: String
        var typeName: String
        var institutionId: UUID
        var institutionName: String
        var score: Double
        var reasons: [String]
        var openLoad: Int
        var overCapacity: Bool
        var recentAssignments: Int
        /// Why this one stands below an equal score (fewer open matters first, then fewer lately assigned, then by name).
        var tieBreak: String?
    }

    /// How many open requests a practitioner can carry before matching treats them as full.
    static let capacity = 10

    /// `today` lets the duty roster count; legal aid draws only on its roster (法律援助法 arts. 25–26).
    /// `name`: staff looking for a particular person among those eligible (part of the name or the licence number).
    static func candidates(for r: ServiceRequest, limit: Int = 20, today: CivilDate, name: String? = nil,
                           on db: any SQLDatabase) async throws -> [Candidate] {
        let matter = MatterType(rawValue: r.matterType) ?? .consultation
        var types = matter.practitionerTypes.map(\.rawValue)
        guard !types.isEmpty else { return [] }
        // A case may narrow who can take it (legal aid: its roster, 法律援助法 arts. 25–26).
        let rule = try await MatterCases.forMatter(matter)?.candidateRule(for: r, today: today, on: db)
        if let narrower = rule?.practitionerTypes { types = narrower.map(\.rawValue) }
        let county = Notifications.countyPrefix(r.regionCode)
        // The city the place lies in: its city-level institutions serve every county.
        let city = DivisionCode(r.regionCode)?.ancestor(at: .city)?.rawValue ?? ""
        struct P: Decodable {
            var id: UUID; var name: String; var type: String; var institutionId: UUID; var institutionName: String
            var regionCode: String; var specialities: String; var regionsServed: String
        }
        // Those working in the request's county, and the city-level institutions that serve everyone.
        let people = try await db.select()
            .column(SQLColumn("id", table: "p")).column(SQLColumn("name", table: "p")).column(SQLColumn("type", table: "p"))
            .column(SQLColumn("institution_id", table: "p")).column(SQLColumn("name", table: "i"), as: "institution_name")
            .column(SQLColumn("region_code", table: "p")).column(SQLColumn("specialities", table: "p"))
            .column(SQLColumn("regions_served", table: "p"))
            .from(SQLAlias(SQLIdentifier(Practitioner.schema), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier(Institution.schema), as: SQLIdentifier("i")), method: SQLJoinMethod.inner,
                  on: SQLColumn("institution_id", table: "p"), .equal, SQLColumn("id", table: "i"))
            .where(SQLColumn("type", table: "p"), .in, SQLBind.group(types))
            .where(rule?.condition ?? SQLQueryString("1 = 1"))
            .where(SQLColumn("status", table: "p"), .equal, SQLBind(PractitionerStatus.practising.rawValue))
            .where(SQLColumn("active", table: "i"), .equal, SQLBind(true))
            .where(name.map { q in SQLGroupExpression(SQLBinaryExpression(SQLLike.contains(SQLColumn("name", table: "p"), q), .or,
                                                                            SQLLike.startsWith(SQLColumn("licence_number", table: "p"), q))) }
                   ?? SQLQueryString("1 = 1"))
            .where { $0.where(SQLColumn("region_code", table: "p"), .like, SQLBind(county + "%"))
                .orWhere(SQLColumn("region_code", table: "p"), .equal, SQLBind(city)) }
            .limit(500)
            .all(decoding: P.self, keyDecodingStrategy: .snakeCase)
        guard !people.isEmpty else { return [] }
        let ids = people.map(\.id)
        struct Load: Decodable { var practitionerId: UUID; var n: Int }
        let loads = try await db.select().column("practitioner_id").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(ServiceRequest.schema).where("practitioner_id", .in, SQLBind.group(ids))
            .where("status", .in, SQLBind.group(RequestStatus.open.map(\.rawValue))).groupBy("practitioner_id")
            .all(decoding: Load.self, keyDecodingStrategy: .snakeCase)
        struct Rated: Decodable { var practitionerId: UUID; var avg: Double; var n: Int }
        let ratings = try await db.select().column("practitioner_id")
            .column(SQLFunction("AVG", args: SQLRaw("CAST(rating AS DOUBLE PRECISION)")), as: "avg")
            .column(SQLFunction("COUNT", args: [SQLColumn("rating")]), as: "n")
            .from(ServiceRequest.schema).where("practitioner_id", .in, SQLBind.group(ids)).where("rating", .isNot, SQLLiteral.null)
            // A rating withdrawn on appeal (mistaken or malicious) weighs on nobody.
            .where(SQLRaw("NOT EXISTS (SELECT 1 FROM rectifications x WHERE x.request_id = service_requests.id AND x.status = 'withdrawn')"))
            .groupBy("practitioner_id").all(decoding: Rated.self, keyDecodingStrategy: .snakeCase)
        let onDuty = Set(try await db.select().column("practitioner_id").from("duty_shifts").where("day", .equal, SQLBind(today.description))
            .where("practitioner_id", .in, SQLBind.group(ids)).all(decodingColumn: "practitioner_id", as: UUID.self))
        // Taken on in the last 30 days: new matters of theirs, whatever their state now.
        let recent = try await db.select().column("practitioner_id").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(ServiceRequest.schema).where("practitioner_id", .in, SQLBind.group(ids))
            .where("created_at", .greaterThanOrEqual, SQLBind(today.adding(days: -30).startInChina)).groupBy("practitioner_id")
            .all(decoding: Load.self, keyDecodingStrategy: .snakeCase)
        let loadBy = Dictionary(uniqueKeysWithValues: loads.map { ($0.practitionerId, $0.n) })
        let recentBy = Dictionary(uniqueKeysWithValues: recent.map { ($0.practitionerId, $0.n) })
        let ratingBy = Dictionary(uniqueKeysWithValues: ratings.map { ($0.practitionerId, $0) })
        let region = DivisionCode(r.regionCode)
        let scored = people.map { p in
            let served = DelimitedList.decode(p.regionsServed).compactMap(DivisionCode.init)
            let specialities = DelimitedList.decode(p.specialities)
            let facts = Matching.Facts(
                specialityCount: specialities.contains(r.category) ? specialities.count : nil,
                place: place(of: region, served: served, worksIn: p.regionCode, county: county),
                openLoad: loadBy[p.id] ?? 0, capacity: capacity,
                averageRating: ratingBy[p.id]?.avg, ratingCount: ratingBy[p.id]?.n ?? 0,
                recentAssignments: recentBy[p.id] ?? 0, onDutyToday: onDuty.contains(p.id))
            let s = Matching.score(facts)
            return Candidate(practitionerId: p.id, name: p.name, type: p.type, typeName: PractitionerType(rawValue: p.type)?.chineseName ?? p.type,
                             institutionId: p.institutionId, institutionName: p.institutionName, score: s.value, reasons: s.reasons,
                             openLoad: facts.openLoad, overCapacity: s.overCapacity, recentAssignments: facts.recentAssignments)
        }
        let ranked = Matching.rank(scored.map { .init(score: $0.score, openLoad: $0.openLoad, recentAssignments: $0.recentAssignments, name: $0.name) })
        return ranked.prefix(limit).map { var c = scored[$0.index]; c.tieBreak = $0.tieBreak; return c }
    }

    /// The name (or licence number) staff typed to find someone among the eligible: `who` on pages, `q` in the API.
    static func searchedName(_ req: Request, key: String) throws -> String? {
        guard let raw = (try? req.query.get(String.self, at: key))?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard raw.count <= 40 else { throw AppError.validation([key: "姓名或执业证号不超过 40 个字"]) }
        return raw
    }

    /// The nearest of the practitioner's service areas to the request's place.
    static func place(of region: DivisionCode?, served: [DivisionCode], worksIn: String, county: String) -> Matching.Place {
        if let region {
            let covering = served.filter { $0.level != .city && $0.contains(region) }
            if covering.contains(where: { $0.level == .village || $0.level == .naturalVillage }) { return .village }
            if covering.contains(where: { $0.level == .town }) { return .town }
            if !covering.isEmpty { return .county }
        }
        return worksIn.hasPrefix(county) ? .sameCounty : .elsewhere
    }

    /// The duplicate check as every console and the API make it: the caller's number, the category, the last 30 days,
    /// within the principal's scope.
    static func recentDuplicates(_ req: Request, mobile: MobileNumber, category: PLSDomain.Category?, scope: DataScope) async throws -> [RequestViews.Row] {
        try await duplicates(mobileHash: req.personalData.lookupHash(mobile.digits), category: category, since: req.now.addingTimeInterval(-30 * 86_400),
                             scope: scope, today: req.today, protector: req.personalData, on: req.sql)
    }

    /// Possible duplicates: the same person (mobile) with the same category in the last 30 days.
    static func duplicates(mobileHash: String, category: PLSDomain.Category?, since: Date, scope: DataScope, today: CivilDate,
                           protector: PersonalDataProtector, on db: any SQLDatabase) async throws -> [RequestViews.Row] {
        var filter = RequestViews.Filter()
        filter.mobileHash = mobileHash
        filter.category = category
        filter.createdSince = since
        let clause = RequestViews.whereClause(filter, scope: scope, today: today)
        return try await ColumnRows.all(RequestViews.selectFrom(today: today) + clause + " ORDER BY r.created_at DESC LIMIT 10", on: db) {
            try RequestViews.row(try RequestViews.stored($0), today: today, protector: protector)
        }
    }

    /// What anyone may see with a request's number and the applicant's mobile: the progress, not the content.
    struct PublicView: Content {
        struct Step: Content { var at: Date; var actionName: String; var statusName: String }
        var number: String
        var matterTypeName: String
        var status: String
        var statusName: String
        var createdAt: Date
        var concludeDue: String?
        var steps: [Step]
    }

    static func lookup(number: String, mobile: MobileNumber, app: Application) async throws -> PublicView {
        let hash = app.personalData.lookupHash(mobile.digits)
        guard let r = try await ServiceRequest.query(on: app.db).filter(\.$number == number.trimmingCharacters(in: .whitespaces).uppercased())
            .filter(\.$applicantMobileHash == hash).first() else {
            throw AppError(.notFound, "not_found", "未找到该事项：请核对事项编号和申请时填写的手机号码")
        }
        let timeline = try await RequestViews.timeline(r.id!, protector: app.personalData, on: app.db as! any SQLDatabase)
        return PublicView(number: r.number, matterTypeName: MatterType(rawValue: r.matterType)?.chineseName ?? r.matterType, status: r.status,
                          statusName: MatterCases.statusName(r.requestStatus, matter: r.matterType), createdAt: r.createdAt, concludeDue: r.concludeDue,
                          steps: timeline.map { .init(at: $0.at, actionName: $0.actionName, statusName: $0.toStatusName) })
    }
}
