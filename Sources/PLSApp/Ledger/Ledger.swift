import Vapor
import Fluent
import SQLKit
import Crypto
import NIOConcurrencyHelpers
import PLSDomain

/// The platform's tamper-evident record (区块链+): every timeline event carries the hash of the
/// event before it, across the whole platform, and the head row holds the last one, so that an
/// altered or removed event breaks the chain where it happened.
///
/// Writes that append events go through `Ledger.write`: one transaction at a time in this process
/// (which is also SQLite's one-writer rule), committed in groups, and on PostgreSQL under a row lock on
/// the head, so several `pls serve` processes keep one chain.
struct M006CreateLedger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("ledger_head")
            .field("id", .int, .identifier(auto: false))
            .field("last_seq", .int64, .required)
            .field("last_hash", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.insert(into: "ledger_head").columns("id", "last_seq", "last_hash")
            .values(SQLBind(1), SQLBind(Int64(0)), SQLBind(Ledger.genesis)).run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("ledger_head").delete()
    }
}

/// Group commit: writes that arrive while a transaction is committing wait and then share the next
/// one, so a burst of writes costs one durable commit instead of one each. A batch runs first as it is;
/// only if one of its writes fails is it run again with each write in its own savepoint, so that the
/// failing write does not undo the others (failures are rare: input is checked before a write is queued).
///
/// Not an actor: the batch is a chain of awaits that every write waits for, and each hop between actors
/// queues behind the HTTP work of the event loops (measured: each step of a batch took 0.5–1 ms to come
/// back). One drain task runs the batches; the queue is a lock.
///
/// On SQLite a batch made only of rows-only writes (plain intakes, `Ledger.Access.rowsOnly`) takes no transaction
/// through SQLiteNIO: its writes run on the ledger's own thread and its rows are written there by the ledger's own
/// connection, in one step (`runRowsOnly`, `DirectSQLiteWriter`). Measured at a million requests: a batch of about
/// fifteen intakes went from 5 ms to about 2 ms, and intake from 2,650–3,470/s to 4,000–4,400/s.
final class GroupCommitter: Sendable {
    struct Job: Sendable {
        let access: Ledger.Access
        /// The day this write numbers a request on: its counter is read with the ledger's head.
        let numbersOn: String?
        let run: @Sendable (Ledger.Writer) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct Queue {
        var pending: [Job] = []
        var draining = false
    }
    private let queue = NIOLockedValueBox(Queue())
    /// SQLite: the chain's head and the day's last request number as the last commit left them. A batch starts
    /// from them instead of reading them, and checks the head once, as it writes it back (`run`): a plain intake
    /// batch is then five statements, not seven, and each is a step every write of the batch waits for.
    /// Read and set only by the one drain task; a lock because the committer is shared.
    private let known = NIOLockedValueBox<Head?>(nil)

    struct Head: Sendable {
        var seq: Int64
        var hash: String
        /// The day whose counter is known, with its last number.
        var day: String?
        var dayLast: Int
    }

    /// The head moved under a batch that started from the one it knew: another process wrote the chain.
    private struct HeadMoved: Error {}
    /// A burst larger than this is split, so that one transaction never holds the lock for long.
    private let maxBatch = 256
    /// SQLite: the ledger's own connection, which writes a batch of rows-only writes in one step (`runRowsOnly`).
    private let rowsWriter: DirectSQLiteWriter?

    /// How the batches went: a batch of rows-only writes that has to run again in a transaction is correct but slow,
    /// and tests check that intakes do not (a mistake there would only show as lost speed).
    struct Counts: Sendable, Equatable {
        var rowsOnlyBatches = 0
        var rowsOnlyBatchesRunAgain = 0
    }
    let counts = NIOLockedValueBox(Counts())

    /// Seals the events' notes as they are written (the hash covers the note as written by the user).
    private let protector: PersonalDataProtector?

    init(rowsWriter: DirectSQLiteWriter? = nil, protector: PersonalDataProtector? = nil) {
        self.rowsWriter = rowsWriter
        self.protector = protector
    }

    func submit(_ job: Job, on database: any Database) {
        let start = queue.withLockedValue { q in
            q.pending.append(job)
            if q.draining { return false }
            q.draining = true
            return true
        }
        if start { Task { await self.drain(on: database) } }
    }

    /// Returns once no batch is waiting or being written (or after `timeout`): for a shutdown.
    private func waitUntilIdle(timeout: Duration = .seconds(10)) async {
        let deadline = ContinuousClock.now + timeout
        while queue.withLockedValue({ $0.draining }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func take() -> [Job] {
        queue.withLockedValue { q in
            let batch = Array(q.pending.prefix(maxBatch))
            q.pending.removeFirst(batch.count)
            if batch.isEmpty { q.draining = false }
            return batch
        }
    }

    /// Runs the batches until none is waiting. On SQLite all on one connection: taking it from the pool for each
    /// batch was a hop to an event loop and back, a sixth of a batch's time. (PostgreSQL's driver does not keep a
    /// transaction on a connection held this way; its batches take their connection each time.)
    private func drain(on database: any Database) async {
        guard (database as? any SQLDatabase)?.dialect.name == "sqlite" else { return await runBatches(on: database) }
        let started = NIOLockedValueBox(false)
        do {
            try await database.withConnection { connection in
                started.withLockedValue { $0 = true }
                // With the ledger's own connection, the batches run on its thread (`DirectSQLiteWriter` is a task
                // executor). Set here: the body of `withConnection` is a task of its own, which inherits no preference.
                await withTaskExecutorPreference(self.rowsWriter) { await self.runBatches(on: connection) }
            }
        } catch where !started.withLockedValue({ $0 }) {
            // No connection: every waiting write has the error (the last `take` ends the drain).
            while case let batch = take(), !batch.isEmpty { for job in batch { job.finish(error) } }
        } catch {
            // Handing the connection back failed after every batch had its answer.
        }
    }

    private func runBatches(on database: any Database) async {
        while true {
            let batch = take()
            if batch.isEmpty { return }
            var head = known.withLockedValue { $0 }
            known.withLockedValue { $0 = nil }  // set again only by a commit
            if let rowsWriter, batch.allSatisfy({ $0.access == .rowsOnly }) {
                do {
                    let after = try await Self.runRowsOnly(batch, from: head, reading: database, writing: rowsWriter, protector: protector)
                    counts.withLockedValue { $0.rowsOnlyBatches += 1 }
                    known.withLockedValue { $0 = after }
                    for job in batch { job.finish(nil) }
                    continue
                } catch {
                    // Nothing was written. A write refused its input or wrote other than through the writer, another
                    // process moved the chain, or a key was taken meanwhile: the batch runs again as every other batch
                    // does, in a transaction and from the stored head, where each of these has its answer.
                    if error is ReadOnlyDatabase.WriteRefused {
                        database.logger.warning("a rows-only ledger write wrote through the database; its batch runs again in a transaction: \(error)")
                    } else {
                        database.logger.debug("a rows-only ledger batch runs again in a transaction: \(String(reflecting: error))")
                    }
                    counts.withLockedValue { $0.rowsOnlyBatchesRunAgain += 1 }
                    head = nil
                }
            }
            if rowsWriter != nil {
                // The drain runs on the ledger's own thread; a batch in a transaction awaits SQLiteNIO a statement at a
                // time, whose answers come on the event loops: it runs there, as it did before that thread existed.
                await withTaskExecutorPreference(globalConcurrentExecutor) {
                    await self.runInTransaction(batch, from: head, on: database)
                }
            } else {
                await runInTransaction(batch, from: head, on: database)
            }
        }
    }

    /// Runs a batch in one transaction through `database`; if one of its writes fails, each write again on its own.
    private func runInTransaction(_ batch: [Job], from head: Head?, on database: any Database) async {
        do {
            let after: Head?
            do {
                after = try await Self.run(batch, isolated: false, from: head, on: database, protector: protector).head
            } catch where head != nil && !(error is AppError) {
                // Another process wrote the chain or numbered requests since (the check or a key failed):
                // run again from the stored head. (A write's own refusal is an AppError, and is not retried here.)
                database.logger.notice("ledger batch of \(batch.count) runs again from the stored head: \(String(reflecting: error))")
                after = try await Self.run(batch, isolated: false, from: nil, on: database, protector: protector).head
            }
            known.withLockedValue { $0 = after }
            for job in batch { job.finish(nil) }
        } catch {
            // Nothing of the batch was kept. A single write has its answer; several are run again, each alone.
            if batch.count == 1 { batch[0].finish(error); return }
            do {
                let (errors, after) = try await Self.run(batch, isolated: true, from: nil, on: database, protector: protector)
                known.withLockedValue { $0 = after }
                for (job, error) in zip(batch, errors) { job.finish(error) }
            } catch {
                // The commit itself failed.
                for job in batch { job.finish(error) }
            }
        }
    }

    /// One transaction for the batch. Not isolated: the first failing write undoes the batch (thrown).
    /// Isolated: each write in a savepoint, its rows written at once; returns each write's error.
    /// `known`: the head the last commit left (SQLite), used when it knows the batch's day; the head it leaves is returned.
    private static func run(_ batch: [Job], isolated: Bool, from known: Head?, on database: any Database,
                            protector: PersonalDataProtector?) async throws -> (errors: [(any Error)?], head: Head?) {
        let outcomes = Outcomes()
        let after = try await database.atomic { tx -> Head? in
            let sql = tx as! any SQLDatabase
            let sqlite = sql.dialect.name == "sqlite"
            let day = batch.lazy.compactMap(\.numbersOn).first
            let start: Head
            let fromKnown: Bool
            if sqlite, let known, day == nil || day == known.day {
                // On SQLite the first write of the batch takes the lock; the head is checked at the end.
                start = known
                fromKnown = true
            } else {
                fromKnown = false
                // Locked as it is read, with the day's counter in the same round trip: each statement of a batch is
                // a step every write waits for.
                start = try await storedHead(day: day, locking: true, on: sql)
            }
            let writer = Ledger.Writer(db: tx, seq: start.seq, hash: start.hash, day: start.day.map { ($0, start.dayLast) },
                                       countersKeptByTrigger: sqlite, protector: protector)
            outcomes.errors = []
            for job in batch {
                // A write that reads must see every row the batch wrote before it.
                writer.deferring = job.access != .any && !isolated
                if !writer.deferring { try await writer.writeDeferred() }
                guard isolated else {
                    try await job.run(writer)
                    continue
                }
                let before = writer.mark
                try await sql.raw("SAVEPOINT pls_write").run()
                do {
                    try await job.run(writer)
                    try await sql.raw("RELEASE SAVEPOINT pls_write").run()
                    outcomes.errors.append(nil)
                } catch {
                    try await sql.raw("ROLLBACK TO SAVEPOINT pls_write").run()
                    try await sql.raw("RELEASE SAVEPOINT pls_write").run()
                    writer.reset(to: before)
                    outcomes.errors.append(error)
                }
            }
            let dayLast = start.day.flatMap { writer.lastNumber(on: $0) } ?? start.dayLast
            try await writer.flush()
            let (seq, hash) = writer.head
            if fromKnown {
                // The head this batch started from must still be the stored one: else another process wrote the chain.
                if seq != start.seq, try await sql.raw("""
                    UPDATE ledger_head SET last_seq = \(bind: seq), last_hash = \(bind: hash)
                    WHERE id = 1 AND last_seq = \(bind: start.seq) AND last_hash = \(bind: start.hash) RETURNING id
                    """).first() == nil {
                    throw HeadMoved()
                }
            } else if seq != start.seq {
                try await sql.raw("UPDATE ledger_head SET last_seq = \(bind: seq), last_hash = \(bind: hash) WHERE id = 1").run()
            }
            return sqlite ? Head(seq: seq, hash: hash, day: start.day, dayLast: dayLast) : nil
        }
        return (isolated ? outcomes.errors : batch.map { _ in nil }, after)
    }

    /// A batch of rows-only writes on SQLite: each write runs first, reading through a read-only view of the database
    /// and holding what it writes; then the ledger's own connection writes it all in one transaction, one step on its
    /// thread, after checking under the write lock that the chain's head is still the one the batch started from.
    /// The day's counter is not checked: a number another process gave out meanwhile fails the unique key, and the
    /// batch runs again in a transaction.
    private static func runRowsOnly(_ batch: [Job], from known: Head?, reading database: any Database,
                                    writing connection: DirectSQLiteWriter, protector: PersonalDataProtector?) async throws -> Head {
        let day = batch.lazy.compactMap(\.numbersOn).first
        let start: Head
        if let known, day == nil || day == known.day {
            start = known
        } else {
            // Read without a lock: the ledger's connection checks the head under the write lock before it writes.
            start = try await storedHead(day: day, locking: false, on: database as! any SQLDatabase)
        }
        let writer = Ledger.Writer(db: ReadOnlyDatabase(database), seq: start.seq, hash: start.hash,
                                   day: start.day.map { ($0, start.dayLast) }, countersKeptByTrigger: true, protector: protector)
        writer.deferring = true
        for job in batch { try await job.run(writer) }
        let dayLast = start.day.flatMap { writer.lastNumber(on: $0) } ?? start.dayLast
        let held = try writer.held
        let (seq, hash) = writer.head
        let startSeq = start.seq, startHash = start.hash
        try await connection.transaction { tx in
            guard let stored = try tx.first("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1"),
                  stored.count == 2, stored[0].integer == Int(startSeq), stored[1].string == startHash else {
                throw HeadMoved()
            }
            for row in held.requests { try tx.run(Ledger.Held.requestInsert, row) }
            for row in held.keys { try tx.run(Ledger.Held.keyInsert, row) }
            for row in held.events { try tx.run(Ledger.Held.eventInsert, row) }
            if seq != startSeq {
                try tx.run("UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1", [BulkCell(seq), BulkCell(hash)])
            }
        }
        return Head(seq: seq, hash: hash, day: start.day, dayLast: dayLast)
    }

    /// The chain's head as stored, with the last request number of `day`, in one round trip. `locking`: written to
    /// as it is read, so that the transaction holds the write lock from its first statement (SQLite cannot upgrade
    /// a read that another connection's commit has overtaken) and, on PostgreSQL, the head row until the commit.
    private static func storedHead(day: String?, locking: Bool, on sql: any SQLDatabase) async throws -> Head {
        if locking, sql.dialect.name != "sqlite" {
            // On PostgreSQL a statement that waited for the head's row lock sees that row as the other process committed
            // it, but a subquery of the same statement still reads the snapshot from before the wait: the day's counter
            // is read by a statement of its own, after the lock is held (two processes gave out the same numbers).
            guard let head = try await sql.raw("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash")
                .first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase) else {
                throw AppError(.internalServerError, "ledger_missing", "账本未初始化")
            }
            let last = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: day ?? "")")
                .first(decodingColumn: "last", as: Int.self)
            return Head(seq: head.lastSeq, hash: head.lastHash, day: day, dayLast: last ?? 0)
        }
        let counter = SQLQueryString("(SELECT last FROM request_day_counters WHERE day = \(bind: day ?? "")) AS day_last")
        let query: SQLQueryString = locking
            ? "UPDATE ledger_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash, \(counter)"
            : "SELECT last_seq, last_hash, \(counter) FROM ledger_head WHERE id = 1"
        guard let head = try await sql.raw(query).first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase) else {
            throw AppError(.internalServerError, "ledger_missing", "账本未初始化")
        }
        return Head(seq: head.lastSeq, hash: head.lastHash, day: day, dayLast: head.dayLast ?? 0)
    }

    /// Waits for the batches under way, then closes the ledger's own connection.
    func shutdown() async {
        await waitUntilIdle()
        await rowsWriter?.close()
    }

    private final class Outcomes: @unchecked Sendable {
        var errors: [(any Error)?] = []
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

struct LedgerEvent: Sendable {
    var requestID: UUID
    var atMillis: Int64
    var actorID: UUID?
    var actorName: String
    var action: String
    var fromStatus: String?
    var toStatus: String
    var note: String?
}

extension Ledger {
    /// A batch's new rows as cells, and the one-row statements that insert them (prepared once by the ledger's own connection).
    struct Held: Sendable {
        var requests: [[BulkCell]]
        var keys: [[BulkCell]]
        var events: [[BulkCell]]

        static let keyColumns = ["scoped_key", "request_id", "created_at"]
        static let requestInsert = insert(ServiceRequest.schema, ServiceRequest.insertColumns)
        static let keyInsert = insert("idempotency_keys", keyColumns)
        static let eventInsert = insert("request_events", Ledger.eventColumns)

        private static func insert(_ table: String, _ columns: [String]) -> String {
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(repeatElement("?", count: columns.count).joined(separator: ", ")))"
        }
    }
}

private struct LedgerHeadRow: Decodable { var lastSeq: Int64; var lastHash: String; var dayLast: Int? }

extension DatabaseID {
    /// The ledger's own connections to the same database: the transaction that commits a batch of writes
    /// holds one connection for its whole length, and reads (there is one pool connection per event loop)
    /// must not queue behind it.
    static let ledgerWriter = DatabaseID(string: "ledger-writer")
}

final class Ledger: Sendable {
    static let genesis = String(repeating: "0", count: 64)
    static let eventColumns = ["seq", "request_id", "at_ms", "actor_account_id", "actor_name", "action", "from_status", "to_status",
                               "note", "prev_hash", "hash"]
    private let committer: GroupCommitter
    private let databases: Databases?

    /// What a write does with the database, which decides how its batch may be written.
    enum Access: Sendable {
        /// Reads and writes anything, in the batch's transaction.
        case any
        /// Reads nothing that an earlier write of its batch may have left unwritten: the new requests it saves may
        /// wait for the batch's one multi-row insert (`Writer.save`).
        case appendOnly
        /// As `appendOnly`, and writes only through the writer: new requests (`save`), their keys (`saveKey`) and
        /// events (`append`). Its `db` is read-only. On SQLite a batch of such writes is written by the ledger's own
        /// connection in one step (`DirectSQLiteWriter`); a write through `db` is refused and the batch runs as `any`.
        case rowsOnly
    }

    /// `databases` with `.ledgerWriter` configured: batches are written through it; without: through the caller's database.
    /// `sqliteFile`: the embedded database's file, which the ledger's own connection opens for batches of rows-only writes.
    /// `protector`: seals the events' notes (free text about a person's matter) as they are stored.
    init(databases: Databases? = nil, sqliteFile: String? = nil, protector: PersonalDataProtector? = nil) {
        self.databases = databases
        committer = GroupCommitter(rowsWriter: sqliteFile.map(DirectSQLiteWriter.init(path:)), protector: protector)
    }

    /// How the batches went (`GroupCommitter.Counts`).
    var counts: GroupCommitter.Counts { committer.counts.withLockedValue { $0 } }

    /// Closes the ledger's own connection once the batches under way are written; the application's shutdown calls it.
    func shutdown() async {
        await committer.shutdown()
    }

    /// What is hashed: every field that a reader of the timeline relies on, in a fixed order.
    static func canonical(seq: Int64, prev: String, _ e: LedgerEvent) -> String {
        [String(seq), prev, UUIDText.string(e.requestID, uppercase: false), String(e.atMillis),
         e.actorID.map { UUIDText.string($0, uppercase: false) } ?? "",
         e.actorName, e.action, e.fromStatus ?? "", e.toStatus, e.note ?? ""]
            .map(escape).joined(separator: "|")
    }

    /// The separator and the escape character are escaped; most fields have neither, and skip the work.
    private static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\\") }) else { return field }
        return field.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
    }

    static func hash(_ canonical: String) -> String {
        Hex.encode(SHA256.hash(data: Array(canonical.utf8)))
    }

    /// Runs `body` inside a transaction, after every write submitted before it; acknowledged
    /// (returns) only once that transaction has committed. `body` may run more than once (its batch is run
    /// again when another write in it fails, or when another process moved the chain): it reads and builds
    /// what it writes inside itself, and its effects stay in the database (an SMS is a queued row, rolled
    /// back with the rest).
    /// `access`: what the body does with the database (`Access`).
    /// `numbersOn`: the day the body numbers a request on, so that the batch reads its counter up front.
    func write<T: Sendable>(on database: any Database, access: Access = .any, numbersOn: String? = nil,
                            _ body: @escaping @Sendable (Writer) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = GroupCommitter.Job(
                access: access, numbersOn: numbersOn,
                run: { writer in box.value = try await body(writer) },
                finish: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: box.value!) }
                })
            let writer = databases?.database(.ledgerWriter, logger: database.logger, on: database.eventLoop) ?? database
            committer.submit(job, on: writer)
        }
    }

    /// Appends events inside a `write`. Events are held until the shared transaction is about to
    /// commit and then written in one statement: a batch of writes costs one insert, not one each.
    /// Confined to the one task that runs a batch, one write after another: a class, not an actor, so that
    /// appending an event is a call rather than a hop between executors.
    final class Writer: @unchecked Sendable {
        let db: any Database
        private var seq: Int64
        private var hash: String
        private var pending: [(seq: Int64, prev: String, hash: String, event: LedgerEvent)] = []
        /// Request numbers handed out in this transaction, by day: each day's counter is read once and
        /// written back once, at the flush, instead of an upsert per request.
        private var dayCounters: [String: (stored: Int, last: Int)] = [:]
        /// Set by the committer for a write that reads nothing of the batch: its new requests wait for one
        /// multi-row insert before the events (which refer to them), instead of an insert each.
        var deferring = false
        private var deferred: [ServiceRequest] = []
        private var deferredIDs: Set<UUID> = []
        /// Idempotency keys of held requests, written after them (they refer to them).
        private var deferredKeys: [(key: String, request: ServiceRequest, at: Date)] = []

        /// Whether the database writes the day counters itself (SQLite: a trigger on every new request, M021).
        private let countersKeptByTrigger: Bool
        private let protector: PersonalDataProtector?

        /// `day`: a day whose request counter was read with the head (its last number so far).
        init(db: any Database, seq: Int64, hash: String, day: (String, Int)? = nil, countersKeptByTrigger: Bool = false,
             protector: PersonalDataProtector? = nil) {
            self.db = db
            self.seq = seq
            self.hash = hash
            self.countersKeptByTrigger = countersKeptByTrigger
            self.protector = protector
            if let (d, last) = day { dayCounters[d] = (last, last) }
        }

        /// The last request number handed out on `day` so far, when this transaction knows it.
        func lastNumber(on day: String) -> Int? { dayCounters[day]?.last }

        struct Mark: Sendable { var seq: Int64; var hash: String; var pending: Int; var dayCounters: [String: (stored: Int, last: Int)] }

        var head: (Int64, String) { (seq, hash) }
        var mark: Mark { Mark(seq: seq, hash: hash, pending: pending.count, dayCounters: dayCounters) }

        /// After a write's savepoint was rolled back, the chain and the counters continue from where they were before it.
        /// (Isolated writes never defer, so there is nothing deferred to take back.)
        func reset(to mark: Mark) {
            seq = mark.seq
            hash = mark.hash
            pending.removeLast(pending.count - mark.pending)
            dayCounters = mark.dayCounters
        }

        func append(_ e: LedgerEvent) {
            let next = seq + 1
            let h = Ledger.hash(Ledger.canonical(seq: next, prev: hash, e))
            pending.append((next, hash, h, e))
            seq = next
            hash = h
        }

        /// The events appended since `mark`, with their sequence numbers: what a write's answer shows as its timeline.
        func events(since mark: Mark) -> [(seq: Int64, event: LedgerEvent)] {
            pending[mark.pending...].map { ($0.seq, $0.event) }
        }

        /// Saves a request: a new one is held for the batch's insert while deferring, else written now.
        func save(_ r: ServiceRequest) async throws {
            if let id = r.id, deferredIDs.contains(id) { return }  // the held object is written as it is at the flush
            if deferring, !r.$id.exists, let id = r.id {
                deferred.append(r)
                deferredIDs.insert(id)
                r.$id.exists = true
                return
            }
            try await r.saveRow(on: db as! any SQLDatabase)
        }

        /// Records an idempotency key for a request saved in this write: held with it while deferring.
        func saveKey(_ key: String, for r: ServiceRequest, at now: Date) async throws {
            if let id = r.id, deferredIDs.contains(id) {
                deferredKeys.append((key, r, now))
                return
            }
            try await (db as! any SQLDatabase).raw("""
                INSERT INTO idempotency_keys (scoped_key, request_id, created_at) VALUES (\(bind: key), \(bind: r.id!), \(bind: now))
                """).run()
        }

        /// A request held in this batch under `key`: a retry that arrives in the same batch is its replay.
        func heldRequest(forKey key: String) -> ServiceRequest? {
            deferredKeys.first { $0.key == key }?.request
        }

        /// Writes the held requests and their keys; before any write that reads, and at the flush.
        func writeDeferred() async throws {
            guard !deferred.isEmpty else { return }
            let sql = db as! any SQLDatabase
            for start in stride(from: 0, to: deferred.count, by: 200) {
                try await ServiceRequest.insertRows(deferred[start..<min(start + 200, deferred.count)], on: sql)
            }
            if !deferredKeys.isEmpty { try await BulkRows.insert("idempotency_keys", Held.keyColumns, keyCells[...], on: sql) }
            deferred.removeAll()
            deferredIDs.removeAll()
            deferredKeys.removeAll()
        }

        private var keyCells: [[BulkCell]] { deferredKeys.map { [BulkCell($0.key), BulkCell($0.request.id!), BulkCell($0.at)] } }

        /// The note is sealed as it is stored; the hash covers it as written (`Ledger.verify` opens it).
        private var eventCells: [[BulkCell]] {
            get throws {
                try pending.map { p -> [BulkCell] in
                    let e = p.event
                    let note = try e.note.map { try protector?.seal($0) ?? $0 }
                    return [BulkCell(p.seq), BulkCell(e.requestID), BulkCell(e.atMillis), BulkCell(e.actorID), BulkCell(e.actorName),
                            BulkCell(e.action), BulkCell(e.fromStatus), BulkCell(e.toStatus), BulkCell(note), BulkCell(p.prev), BulkCell(p.hash)]
                }
            }
        }

        /// Everything held, as cells, for the ledger's own connection to write (a batch of rows-only writes, whose
        /// day counters the database keeps).
        var held: Held { get throws { Held(requests: deferred.map(\.insertCells), keys: keyCells, events: try eventCells) } }

        /// The next sequence number of `day` for a request number. Safe because every write that numbers
        /// requests runs under the ledger's lock.
        func nextSequence(on day: String) async throws -> Int {
            if dayCounters[day] == nil {
                let stored = try await (db as! any SQLDatabase).raw("SELECT last FROM request_day_counters WHERE day = \(bind: day)")
                    .first(decodingColumn: "last", as: Int.self) ?? 0
                dayCounters[day] = (stored, stored)
            }
            dayCounters[day]!.last += 1
            return dayCounters[day]!.last
        }

        /// Writes the held requests, events and day counters; called once, just before the commit.
        func flush() async throws {
            try await writeDeferred()
            let sql = db as! any SQLDatabase
            // Cells as SQLite takes them (`BulkRows`): the SQL builder and Codable encoding cost more than the insert.
            let rows = try eventCells
            for start in stride(from: 0, to: rows.count, by: 500) {
                try await BulkRows.insert("request_events", Ledger.eventColumns, rows[start..<min(start + 500, rows.count)], on: sql)
            }
            pending.removeAll()
            for (day, counter) in dayCounters where counter.last != counter.stored && !countersKeptByTrigger {
                try await sql.raw("""
                    INSERT INTO request_day_counters (day, last) VALUES (\(bind: day), \(bind: counter.last))
                    ON CONFLICT (day) DO UPDATE SET last = excluded.last
                    """).run()
            }
            dayCounters = [:]
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
        var expectedSeq: Int64 = 1, prev = genesis, checked = 0
        while true {
            let rows = try await db.select()
                .columns(SQLColumn("seq", table: "e"), SQLColumn("request_id", table: "e"), SQLColumn("at_ms", table: "e"),
                         SQLColumn("actor_account_id", table: "e"), SQLColumn("actor_name", table: "e"), SQLColumn("action", table: "e"),
                         SQLColumn("from_status", table: "e"), SQLColumn("to_status", table: "e"), SQLColumn("note", table: "e"),
                         SQLColumn("prev_hash", table: "e"), SQLColumn("hash", table: "e"), SQLColumn("number", table: "r"))
                .from(SQLAlias(SQLIdentifier("request_events"), as: SQLIdentifier("e")))
                .join(SQLAlias(SQLIdentifier("service_requests"), as: SQLIdentifier("r")), method: SQLJoinMethod.left,
                      on: SQLColumn("request_id", table: "e"), .equal, SQLColumn("id", table: "r"))
                .where(SQLColumn("seq", table: "e"), .greaterThanOrEqual, SQLBind(expectedSeq))
                .orderBy(SQLColumn("seq", table: "e")).limit(pageSize)
                .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            for r in rows {
                let label = "第 \(r.seq) 条事件（事项 \(r.number ?? r.requestId.uuidString)）"
                if r.seq != expectedSeq {
                    return Verification(checked: checked, problem: "缺少第 \(expectedSeq) 条事件：已被删除")
                }
                if r.prevHash != prev {
                    return Verification(checked: checked, problem: "\(label)的前序哈希与上一条不符：前面的事件被改动或删除")
                }
                let event = LedgerEvent(requestID: r.requestId, atMillis: r.atMs, actorID: r.actorAccountId, actorName: r.actorName,
                                        action: r.action, fromStatus: r.fromStatus, toStatus: r.toStatus, note: r.note.map { (try? protector.open($0)) ?? $0 })
                if hash(canonical(seq: r.seq, prev: r.prevHash, event)) != r.hash {
                    return Verification(checked: checked, problem: "\(label)已被篡改：内容与哈希不符")
                }
                prev = r.hash
                expectedSeq += 1
                checked += 1
            }
            if rows.count < pageSize { break }
        }
        if let head = try await db.raw("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
            .first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase),
           head.lastSeq != Int64(checked) || head.lastHash != prev {
            return Verification(checked: checked, problem: "账本末尾应为第 \(head.lastSeq) 条事件，实际只有 \(checked) 条：末尾的事件已被删除或改动")
        }
        return Verification(checked: checked, problem: nil)
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

