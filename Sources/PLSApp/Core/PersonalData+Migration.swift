import Foundation
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
        for (table, column) in Self.columns {
            try await SealedColumns.seal(table, column, pagedBy: "id", from: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                                         protector: protector, on: database)
        }
    }

    /// Opened again, for a rollback to a version that reads text in clear.
    func revert(on database: any Database) async throws {
        for (table, column) in Self.columns {
            try await SealedColumns.open(table, column, pagedBy: "id", protector: protector, on: database)
        }
    }
}

/// Seals the free text about a person's matter that M023 left in clear: timeline notes (the hash chain covers them as
/// written; `Ledger.verify` opens them), conclusion summaries, refusal reasons and rating comments, legal aid decisions,
/// objections, reviews and closing reports, mediation agreements, the obligations they set and the visits about them.
struct M024SealCaseText: AsyncMigration {
    let protector: PersonalDataProtector

    static let byRequest: [(table: String, column: String)] = [
        ("legal_aid_cases", "decision_reason"), ("legal_aid_cases", "objection_text"), ("legal_aid_cases", "review_reason"),
        ("legal_aid_cases", "closing_report"), ("mediation_cases", "agreement_facts"), ("mediation_cases", "agreement_terms"),
    ]
    static let byID: [(table: String, column: String)] = [
        ("service_requests", "summary"), ("service_requests", "reject_reason"), ("service_requests", "rating_comment"),
        ("mediation_obligations", "description"), ("mediation_visits", "note"),
    ]
    static let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    func prepare(on database: any Database) async throws {
        try await SealedColumns.seal("request_events", "note", pagedBy: "seq", from: Int64(0), protector: protector, on: database)
        for (table, column) in Self.byRequest {
            try await SealedColumns.seal(table, column, pagedBy: "request_id", from: Self.zero, protector: protector, on: database)
        }
        for (table, column) in Self.byID {
            try await SealedColumns.seal(table, column, pagedBy: "id", from: Self.zero, protector: protector, on: database)
        }
    }

    func revert(on database: any Database) async throws {
        try await SealedColumns.open("request_events", "note", pagedBy: "seq", protector: protector, on: database)
        for (table, column) in Self.byRequest { try await SealedColumns.open(table, column, pagedBy: "request_id", protector: protector, on: database) }
        for (table, column) in Self.byID { try await SealedColumns.open(table, column, pagedBy: "id", protector: protector, on: database) }
    }
}

/// Sealing and opening a column in place, in chunks of 500 rows, each chunk one transaction.
enum SealedColumns {
    private struct Row<Key: Decodable & Sendable>: Decodable, Sendable { var key: Key; var value: String }

    /// Rows already sealed are left alone, so it can run on any database. Paged by `key`, so that no chunk reads again
    /// the rows sealed before it (a table of millions of events is read once).
    static func seal<Key: Codable & Sendable>(_ table: String, _ column: String, pagedBy key: String, from start: Key,
                                              protector: PersonalDataProtector, on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        var after = start
        while true {
            let rows = try await sql.raw("""
                SELECT \(ident: key) AS key, \(ident: column) AS value FROM \(ident: table)
                WHERE \(ident: column) NOT LIKE 'pd1:%' AND \(ident: key) > \(bind: after) ORDER BY \(ident: key) LIMIT 500
                """).all(decoding: Row<Key>.self)
            guard let last = rows.last else { break }
            after = last.key
            try await database.atomic { tx in
                let t = tx as! any SQLDatabase
                for row in rows {
                    try await t.raw("""
                        UPDATE \(ident: table) SET \(ident: column) = \(bind: try protector.seal(row.value)) WHERE \(ident: key) = \(bind: row.key)
                        """).run()
                }
            }
        }
    }

    /// Opened again, for a rollback to a version that reads text in clear.
    static func open(_ table: String, _ column: String, pagedBy key: String, protector: PersonalDataProtector,
                     on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        while true {
            let rows = try await sql.raw("""
                SELECT \(ident: key) AS key, \(ident: column) AS value FROM \(ident: table) WHERE \(ident: column) LIKE 'pd1:%' ORDER BY \(ident: key) LIMIT 500
                """).all(decoding: Row<UUIDOrInt>.self)
            if rows.isEmpty { break }
            for row in rows {
                try await sql.raw("""
                    UPDATE \(ident: table) SET \(ident: column) = \(bind: try protector.open(row.value)) WHERE \(ident: key) = \(bind: row.key)
                    """).run()
            }
        }
    }

    /// A key read back for the rollback: a request's or row's id, or an event's sequence number.
    private enum UUIDOrInt: Codable, Sendable {
        case uuid(UUID), int(Int64)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int64.self) { self = .int(n) } else { self = .uuid(try c.decode(UUID.self)) }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self { case .uuid(let u): try c.encode(u); case .int(let n): try c.encode(n) }
        }
    }
}
