import Fluent
import SQLKit

/// Seals the names and free text written before they were sealed (requests' applicant names and descriptions,
/// mediation parties and session records, duty lawyers' persons helped, SMS texts), so that an upgraded database holds none in clear.
/// Rows already sealed are left alone, so the migration can run on any database, in chunks.
struct M023SealPersonalText: AsyncMigration {
    let protector: PersonalDataProtector

    static let columns: [(table: String, column: String)] = [
        ("service_requests", "applicant_name"), ("service_requests", "description"),
        ("mediation_parties", "name"), ("mediation_sessions", "attendees"), ("mediation_sessions", "record"), ("duty_persons", "name"),
        ("sms_messages", "text"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        struct Row: Decodable { var id: UUID; var value: String }
        for (table, column) in Self.columns {
            // Page by id, so that no chunk reads again the rows sealed before it.
            var after = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            while true {
                let rows = try await sql.raw("""
                    SELECT id, \(ident: column) AS value FROM \(ident: table)
                    WHERE \(ident: column) NOT LIKE 'pd1:%' AND id > \(bind: after) ORDER BY id LIMIT 500
                    """).all(decoding: Row.self)
                guard let last = rows.last else { break }
                after = last.id
                try await database.atomic { tx in
                    let t = tx as! any SQLDatabase
                    for row in rows {
                        try await t.raw("UPDATE \(ident: table) SET \(ident: column) = \(bind: try protector.seal(row.value)) WHERE id = \(bind: row.id)").run()
                    }
                }
            }
        }
    }

    /// Opened again, for a rollback to a version that reads text in clear.
    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        struct Row: Decodable { var id: UUID; var value: String }
        for (table, column) in Self.columns {
            while true {
                let rows = try await sql.raw("""
                    SELECT id, \(ident: column) AS value FROM \(ident: table) WHERE \(ident: column) LIKE 'pd1:%' ORDER BY id LIMIT 500
                    """).all(decoding: Row.self)
                if rows.isEmpty { break }
                for row in rows {
                    try await sql.raw("UPDATE \(ident: table) SET \(ident: column) = \(bind: try protector.open(row.value)) WHERE id = \(bind: row.id)").run()
                }
            }
        }
    }
}
