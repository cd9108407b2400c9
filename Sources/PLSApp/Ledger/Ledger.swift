import Vapor
import Fluent
import SQLKit
import NIOConcurrencyHelpers
import PLSDomain

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

struct LedgerHeadRow: Decodable { var lastSeq: Int64; var lastHash: String; var dayLast: Int? }

extension DatabaseID {
    /// The ledger's own connections to the same database: the transaction that commits a batch of writes
    /// holds one connection for its whole length, and reads (there is one pool connection per event loop)
    /// must not queue behind it.
    static let ledgerWriter = DatabaseID(string: "ledger-writer")
}

/// The platform's tamper-evident record (区块链+): every timeline event carries the hash of the event before it,
/// across the whole platform (`HashChain`), and the head row holds the last one, so that an altered or removed event
/// breaks the chain where it happened.
///
/// Writes that append events go through `Ledger.write`: one transaction at a time in this process (which is also
/// SQLite's one-writer rule), committed in groups (`GroupCommitter`), and on PostgreSQL under a row lock on the head,
/// so several `pls serve` processes keep one chain. The unit of work is `Ledger.Writer`.
final class Ledger: Sendable {
    static let eventColumns = ["seq", "request_id", "at_ms", "actor_account_id", "actor_name", "action", "from_status", "to_status",
                               "note", "prev_hash", "hash"]
    private let committer: GroupCommitter
    private let databases: Databases?
    private let loop: LedgerLoop?

    /// `databases` with `.ledgerWriter` configured: batches are written through it; without: through the caller's database.
    /// `sqliteFile`: the embedded database's file, which the ledger's own connection opens for batches of rows-only writes.
    /// `loop`: PostgreSQL's counterpart, the ledger's connection and its batches on a thread of their own.
    /// `protector`: seals the events' notes (free text about a person's matter) as they are stored.
    init(databases: Databases? = nil, sqliteFile: String? = nil, loop: LedgerLoop? = nil, protector: PersonalDataProtector? = nil) {
        self.databases = databases
        self.loop = loop
        committer = GroupCommitter(rowsWriter: sqliteFile.map(DirectSQLiteWriter.init(path:)), loop: loop, protector: protector)
    }

    /// How the batches went (`GroupCommitter.Counts`).
    var counts: GroupCommitter.Counts { committer.counts.withLockedValue { $0 } }
    /// Writes waiting and batches taken (`GroupCommitter.load`).
    var load: (waiting: Int, batches: Int, writes: Int) { committer.load }

    /// Closes the ledger's own connection once the batches under way are written; the application's shutdown calls it.
    func shutdown() async {
        await committer.shutdown()
        await loop?.shutdown()
    }

    /// Runs `body` inside a transaction, after every write submitted before it; acknowledged
    /// (returns) only once that transaction has committed. `body` may run more than once (its batch is run
    /// again when another write in it fails, or when another process moved the chain): it reads and builds
    /// what it writes inside itself, and its effects stay in the database (an SMS is a queued row, rolled
    /// back with the rest).
    /// What the body does through `Writer.db` decides how its batch is written (`Ledger.Batch`).
    /// `numbersOn`: the day the body numbers a request on, so that the batch reads its counter up front.
    func write<T: Sendable>(on database: any Database, numbersOn: String? = nil,
                            _ body: @escaping @Sendable (Writer) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = GroupCommitter.Job(
                numbersOn: numbersOn,
                run: { writer in box.value = try await body(writer) },
                finish: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: box.value!) }
                })
            let writer = loop?.database(logger: database.logger)
                ?? databases?.database(.ledgerWriter, logger: database.logger, on: database.eventLoop) ?? database
            committer.submit(job, on: writer)
        }
    }

    struct Verification: Sendable, Equatable {
        var checked: Int
        /// The first problem, in Chinese, naming the event; nil when the chain is whole.
        var problem: String?
    }

    /// Walks the whole chain in order, a page at a time.
    /// `protector` opens the notes, which are hashed as they were written (a note altered where it is stored no longer
    /// opens, and its event fails the hash).
    static func verify(on db: any SQLDatabase, protector: PersonalDataProtector, pageSize: Int = 5_000) async throws -> Verification {
        struct Row: Decodable {
            var seq: Int64; var requestId: UUID; var atMs: Int64; var actorAccountId: UUID?; var actorName: String
            var action: String; var fromStatus: String?; var toStatus: String; var note: String?; var prevHash: String; var hash: String
            var number: String?
        }
        var verifier = HashChain.Verifier()
        while true {
            let rows = try await db.select()
                .columns(SQLColumn("seq", table: "e"), SQLColumn("request_id", table: "e"), SQLColumn("at_ms", table: "e"),
                         SQLColumn("actor_account_id", table: "e"), SQLColumn("actor_name", table: "e"), SQLColumn("action", table: "e"),
                         SQLColumn("from_status", table: "e"), SQLColumn("to_status", table: "e"), SQLColumn("note", table: "e"),
                         SQLColumn("prev_hash", table: "e"), SQLColumn("hash", table: "e"), SQLColumn("number", table: "r"))
                .from(SQLAlias(SQLIdentifier("request_events"), as: SQLIdentifier("e")))
                .join(SQLAlias(SQLIdentifier("service_requests"), as: SQLIdentifier("r")), method: SQLJoinMethod.left,
                      on: SQLColumn("request_id", table: "e"), .equal, SQLColumn("id", table: "r"))
                .where(SQLColumn("seq", table: "e"), .greaterThanOrEqual, SQLBind(verifier.expectedSeq))
                .orderBy(SQLColumn("seq", table: "e")).limit(pageSize)
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            for r in rows {
                let event = LedgerEvent(requestID: r.requestId, atMillis: r.atMs, actorID: r.actorAccountId, actorName: r.actorName,
                                        action: r.action, fromStatus: r.fromStatus, toStatus: r.toStatus,
                                        note: r.note.map { (try? protector.open($0)) ?? $0 })
                if let problem = verifier.check(seq: r.seq, prevHash: r.prevHash, hash: r.hash, event: event,
                                                label: "第 \(r.seq) 条事件（事项 \(r.number ?? r.requestId.uuidString)）") {
                    return Verification(checked: verifier.checked, problem: problem)
                }
            }
            if rows.count < pageSize { break }
        }
        if let head = try await db.raw("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
            .first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase),
           let problem = verifier.checkHead(lastSeq: head.lastSeq, lastHash: head.lastHash) {
            return Verification(checked: verifier.checked, problem: problem)
        }
        return Verification(checked: verifier.checked, problem: nil)
    }
}

extension Ledger {
    /// Closes the ledger's own connection when the application shuts down, before the databases do.
    struct Shutdown: LifecycleHandler {
        func shutdownAsync(_ app: Application) async { await app.ledger.shutdown() }
    }
}

extension Application {
    private struct LedgerKey: StorageKey { typealias Value = Ledger }
    var ledger: Ledger {
        get {
            guard let l = storage[LedgerKey.self] else { fatalError("configure(_:) sets the ledger") }
            return l
        }
        set { storage[LedgerKey.self] = newValue }
    }
}
