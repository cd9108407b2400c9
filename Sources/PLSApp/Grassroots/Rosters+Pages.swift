import Vapor
import SQLKit
import PLSDomain

/// The rosters on one page: a tab per kind, the list, adding one entry, CSV import and export.
enum RosterPages {
    struct Context: Encodable {
        var page: PageMeta
        var tabs: [PageMeta.NavItem]
        var kind: String
        var kindName: String
        var nameLabel: String
        var detailLabel: String?
        var byInstitution: Bool
        var pairing: Bool
        var places: [SelectOption]
        var firms: [SelectOption]
        var table: TableView
        var canEdit: Bool
        var error: String?
        var errors: [String: String]
        var importErrors: [VillageAdvisers.ImportFailure]
        var columns: String
    }

    static func render(_ req: Request, kind: RosterKind, error: AppError? = nil, importErrors: [VillageAdvisers.ImportFailure] = []) async throws -> Response {
        let p = try req.staff()
        let prefix = p.areaPrefix
        let page = try PageRequest(from: req)
        let result = try await Rosters.list(kind, prefix: prefix, page: page, on: req.sql)
        var places: [SelectOption] = [], firms: [SelectOption] = []
        if case .institution(let type) = kind.place {
            struct I: Decodable { var id: UUID; var name: String }
            places = try await req.sql.select().columns("id", "name").from(Institution.schema).where("type", .equal, SQLBind(type.rawValue))
                .where("active", .equal, SQLBind(true)).where("region_code", .like, SQLBind(prefix + "%")).orderBy("region_code").limit(1000)
                .all(decoding: I.self).map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: false) }
            if kind == .firmSchoolPairing {
                firms = try await req.sql.select().columns("id", "name").from(Institution.schema).where("type", .equal, SQLBind(InstitutionType.lawFirm.rawValue))
                    .where("active", .equal, SQLBind(true)).orderBy("name").limit(1000)
                    .all(decoding: I.self).map { SelectOption(value: $0.id.uuidString, label: $0.name, selected: false) }
            }
        }
        let table = TableView(columns: ["所在", kind.nameLabel, kind.detailLabel ?? "说明", "起始"], rows: result.items.map { e in
            // Government advisers and public-sector lawyers open onto their records of work.
            [Cell(text: e.institutionName.map { "\(e.regionName) · \($0)" } ?? e.regionName),
             Cell(text: e.name, href: [.governmentAdviser, .publicLawyer].contains(kind) ? "/rosters/\(kind.rawValue)/\(e.id)/work" : nil),
             Cell(text: e.detail ?? "—"), Cell(text: e.startOn)]
        }, total: result.total, page: page, request: req)
        let ctx = Context(
            page: req.pageMeta(title: kind.chineseName),
            tabs: RosterKind.allCases.map { .init(href: "/rosters?kind=\($0.rawValue)", label: $0.chineseName, current: $0 == kind) },
            kind: kind.rawValue, kindName: kind.chineseName, nameLabel: kind.nameLabel, detailLabel: kind.detailLabel,
            byInstitution: kind.place.isInstitution, pairing: kind == .firmSchoolPairing, places: places, firms: firms, table: table,
            canEdit: Rosters.editors.contains(p.role), error: error?.message, errors: error?.fields ?? [:], importErrors: importErrors,
            columns: Rosters.columns.joined(separator: ","))
        let response = try await req.view.render("grassroots/rosters", ctx).encodeResponse(for: req)
        if error != nil { response.status = .unprocessableEntity }
        return response
    }

    static func list(_ req: Request) async throws -> Response {
        let kind = (try? req.query.get(String.self, at: "kind")).flatMap(RosterKind.init) ?? .legalUnderstander
        return try await render(req, kind: kind)
    }

    static func add(_ req: Request) async throws -> Response {
        let p = try req.staff()
        let kind = try Rosters.kind(req)
        do {
            _ = try await Rosters.add(kind, .init(regionCode: req.formValue("regionCode"), institutionId: req.formValue("institutionId").flatMap(UUID.init(uuidString:)),
                                                  partnerId: req.formValue("partnerId").flatMap(UUID.init(uuidString:)), name: req.formValue("name"),
                                                  detail: req.formValue("detail"), startOn: req.formValue("startOn")),
                                      by: p, actor: req.auditActor, protector: req.personalData, today: req.today, now: req.now, on: req.sql)
            return req.redirect(to: "/rosters?kind=\(kind.rawValue)", flash: "已列入\(kind.chineseName)名册")
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await render(req, kind: kind, error: e)
        }
    }

    static func importFile(_ req: Request) async throws -> Response {
        let p = try req.staff()
        try req.limit(.importFile, key: p.accountID.uuidString)
        let kind = try Rosters.kind(req)
        let result: VillageAdvisers.ImportResult
        do {
            result = try await Rosters.importSheet(kind, try await req.receivedFile(limit: SheetFile.uploadLimit)?.data, by: p, actor: req.auditActor, today: req.today, now: req.now, app: req.application)
        } catch let e as AppError where [.unprocessableEntity, .payloadTooLarge, .badRequest].contains(e.status) {
            return try await render(req, kind: kind, error: AppError.validation(e.fields, message: e.fields["file"] ?? e.message))
        }
        if result.errors.isEmpty { return req.redirect(to: "/rosters?kind=\(kind.rawValue)", flash: "已导入 \(result.imported) 条") }
        return try await render(req, kind: kind, error: AppError.validation([:], message: "有 \(result.errors.count) 行不符合要求，未导入任何数据"),
                                importErrors: result.errors)
    }

    static func export(_ req: Request, _ format: SheetFile.Format) async throws -> Response {
        let p = try req.staff()
        let kind = try Rosters.kind(req)
        return try SheetFile.response(try await Rosters.export(kind, prefix: p.areaPrefix, on: req.readSQL), name: kind.rawValue, format: format)
    }
}
