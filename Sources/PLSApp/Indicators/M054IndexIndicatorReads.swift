import Fluent
import SQLKit

/// Indexes for reads that `QueryPlanTests` found reading a growing table whole: the indicators select a year of
/// rectifications, complaints, adviser services and queue tickets by date within a region prefix, which SQLite's LIKE
/// cannot take from the region indexes; the late requests behind a shortfall are read by conclusion date; the open
/// callbacks are counted by what is still undone.
struct M054IndexIndicatorReads: AsyncMigration {
    static let indexes: [(name: String, table: String, columns: [String])] = [
        ("rect_rated_idx", "rectifications", ["rated_on"]),
        ("complaints_registered_idx", "complaints", ["registered_on"]),
        ("as_served_idx", "adviser_services", ["served_on"]),
        ("queue_tickets_day_idx", "queue_tickets", ["day"]),
        ("sr_late_idx", "service_requests", ["concluded_on_time", "concluded_on"]),
        ("calls_callback_open_idx", "calls", ["callback_done_at", "callback_due"]),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for i in Self.indexes {
            var create = sql.create(index: i.name).on(i.table)
            for c in i.columns { create = create.column(c) }
            try await create.run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for i in Self.indexes { try await sql.drop(index: i.name).run() }
    }
}
