import Vapor
import Fluent
import SQLKit
import PLSDomain
import Spreadsheets

/// A city's institutions and practitioners from a spreadsheet (CSV in UTF-8 or Excel), as `pls setup` takes them:
/// each row checked as the forms check it, all or nothing in one transaction, the faulty rows named by line.
enum RegistryImport {
    static let institutionColumns = ["type", "name", "region_code", "address", "phone", "opening_hours"]
    static let practitionerColumns = ["type", "name", "gender", "licence_number", "institution", "specialities", "regions_served"]

    /// Runs `row` for each record inside one transaction; any fault rolls the whole file back and names its lines.
    private static func each(_ data: ByteBuffer, columns: [String], on db: any Database,
                             _ row: @escaping @Sendable ([String], any Database) async throws -> Void) async throws -> Int {
        let (rows, firstLine) = try SheetFile.records(data, columns: columns)
        return try await db.atomic { tx in
            var faults: [String: String] = [:], count = 0
            for (offset, cells) in rows.enumerated() where !CSVTable.isBlank(cells) {
                let line = firstLine + offset
                do {
                    try await row(cells.map { $0.trimmingCharacters(in: .whitespaces) } + Array(repeating: "", count: max(0, columns.count - cells.count)), tx)
                    count += 1
                } catch let e as AppError {
                    let detail = e.fields.isEmpty ? e.message : e.fields.sorted { $0.key < $1.key }.map(\.value).joined(separator: "；")
                    if faults.count < 50 { faults["第 \(line) 行"] = detail }
                }
            }
            if !faults.isEmpty {
                throw AppError(.unprocessableEntity, "import_rejected", "有 \(faults.count) 行不符合要求，未导入任何数据", fields: faults)
            }
            return count
        }
    }

    static func institutions(_ data: ByteBuffer, by p: Principal, on db: any Database) async throws -> Int {
        try await each(data, columns: institutionColumns, on: db) { c, tx in
            _ = try await InstitutionController.create(.init(type: c[0], name: c[1], regionCode: c[2], address: c[3], phone: c[4], openingHours: c[5]),
                                                       by: p, on: tx)
        }
    }

    static func practitioners(_ data: ByteBuffer, by p: Principal, on db: any Database) async throws -> Int {
        try await each(data, columns: practitionerColumns, on: db) { c, tx in
            // The institution by its exact name (names are what a bureau's list holds), or by its id.
            let sql = tx as! any SQLDatabase
            var institution = UUID(uuidString: c[4])
            if institution == nil {
                let ids = try await sql.select().column("id").from(Institution.schema).where("name", .equal, c[4]).where("active", .equal, true)
                    .limit(2).all(decodingColumn: "id", as: UUID.self)
                guard ids.count == 1 else {
                    throw AppError.validation(["institution": ids.isEmpty ? "没有名为“\(c[4])”的机构" : "名为“\(c[4])”的机构不止一个，请改填机构编号"])
                }
                institution = ids[0]
            }
            func list(_ s: String) -> [String] { s.split(whereSeparator: { "；;，, ".contains($0) }).map(String.init) }
            _ = try await PractitionerController.create(.init(type: c[0], name: c[1], gender: c[2], licenceNumber: c[3], institutionId: institution,
                                                              specialities: list(c[5]), regionsServed: list(c[6]), status: nil), by: p, on: tx)
        }
    }
}
