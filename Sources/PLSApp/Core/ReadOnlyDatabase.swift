import Fluent
import SQLKit

/// A database that reads and refuses to write. A ledger write declared rows-only (`Ledger.Access.rowsOnly`) runs
/// before its batch's transaction is open and sees the database through this: a write it makes other than through
/// the ledger's writer would otherwise be committed on its own, outside the batch. Refused, it sends the batch to
/// run again in a transaction, where such a write belongs.
struct ReadOnlyDatabase: Database, SQLDatabase {
    let base: any Database & SQLDatabase

    init(_ base: any Database) {
        self.base = base as! any Database & SQLDatabase
    }

    struct WriteRefused: Error, CustomStringConvertible {
        var what: String
        var description: String { "a read-only view of the database was asked to write: \(what)" }
    }

    private func refuse<T>(_ what: String) -> EventLoopFuture<T> {
        base.eventLoop.makeFailedFuture(WriteRefused(what: what))
    }

    // MARK: Database

    var context: DatabaseContext { base.context }
    var inTransaction: Bool { false }

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> ()) -> EventLoopFuture<Void> {
        switch query.action {
        case .read, .aggregate: base.execute(query: query, onOutput: onOutput)
        default: refuse("\(query.action) \(query.schema)")
        }
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> { refuse("schema \(schema.schema)") }
    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> { refuse("enum \(`enum`.name)") }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        refuse("a transaction")
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        base.withConnection { closure(ReadOnlyDatabase($0)) }
    }

    // MARK: SQLDatabase

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    /// Only a plain `SELECT` passes (a `WITH` may end in a write, and is refused with the rest).
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let text = base.serialize(query).sql
        let statement = text.drop { $0.isWhitespace }
        guard statement.prefix(6).uppercased() == "SELECT", statement.dropFirst(6).first?.isWhitespace == true else {
            return refuse(String(statement.prefix(40)))
        }
        return base.execute(sql: query, onRow)
    }
}
