import Fluent
import SQLKit
import PLSDomain

/// The head of the hash chain: the last event's sequence number and hash (`Ledger`).
struct M006CreateLedger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("ledger_head")
            .field("id", .int, .identifier(auto: false))
            .field("last_seq", .int64, .required)
            .field("last_hash", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.insert(into: "ledger_head").columns("id", "last_seq", "last_hash")
            .values(SQLBind(1), SQLBind(Int64(0)), SQLBind(String(repeating: "0", count: 64))).run()  // the genesis hash, as released
    }

    func revert(on database: any Database) async throws {
        try await database.schema("ledger_head").delete()
    }
}
