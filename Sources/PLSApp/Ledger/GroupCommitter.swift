import Vapor
import Fluent
import SQLKit
import NIOConcurrencyHelpers
import PLSDomain

/// Group commit: writes that arrive while a transaction is committing wait and then share the next
/// one, so a burst of writes costs one durable commit instead of one each. A batch runs first as it is;
/// only if one of its writes fails is it run again with each write in its own savepoint, so that the
/// failing write does not undo the others (failures are rare: input is checked before a write is queued).
///
/// Not an actor: the batch is a chain of awaits that every write waits for, and each hop between actors
/// queues behind the HTTP work of the event loops (measured: each step of a batch took 0.5–1 ms to come
/// back). One drain task runs the batches; the queue is a lock.
///
/// On SQLite a batch starts without a transaction: its writes run on the ledger's own thread, holding the rows they
/// make. A batch whose writes did nothing else (plain intakes) is written by the ledger's own connection in one step
/// (`runAdaptive`, `DirectSQLiteWriter`); the first statement of a write that writes through the database, or reads a
/// table the batch holds rows for, opens the batch's transaction there (`Ledger.Batch`). What a write does decides it,
/// statement by statement; no caller predicts it. Measured at a million requests: a batch of about fifteen intakes
/// went from 5 ms to about 2 ms in one step, and intake from 2,650–3,470/s to 4,000–4,400/s.
final class GroupCommitter: Sendable {
    struct Job: Sendable {
        /// The day this write numbers a request on: its counter is read with the ledger's head.
        let numbersOn: String?
        let run: @Sendable (Ledger.Writer) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct Queue {
        var pending: [Job] = []
        var batchesTaken = 0
        var writesTaken = 0
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

    /// How the SQLite batches went: written in one step by the ledger's own connection, or in a transaction opened by
    /// one of their writes; a batch run again from the start is correct but slow, and tests check that intakes are
    /// written in one step (a mistake there would only show as lost speed).
    struct Counts: Sendable, Equatable {
        var oneStepBatches = 0
        var transactionBatches = 0
        var batchesRunAgain = 0
    }
    let counts = NIOLockedValueBox(Counts())

    /// Seals the events' notes as they are written (the hash covers the note as written by the user).
    private let protector: PersonalDataProtector?

    /// PostgreSQL: the thread the batches run on, with the ledger's connection (`LedgerLoop`).
    private let loop: LedgerLoop?

    init(rowsWriter: DirectSQLiteWriter? = nil, loop: LedgerLoop? = nil, protector: PersonalDataProtector? = nil) {
        self.rowsWriter = rowsWriter
        self.loop = loop
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
            if batch.isEmpty { q.draining = false } else { q.batchesTaken += 1; q.writesTaken += batch.count }
            return batch
        }
    }

    /// For `/metrics`: writes waiting, and the batches and writes taken so far (their ratio is the mean batch size).
    var load: (waiting: Int, batches: Int, writes: Int) {
        queue.withLockedValue { ($0.pending.count, $0.batchesTaken, $0.writesTaken) }
    }

    /// Runs the batches until none is waiting. On SQLite all on one connection: taking it from the pool for each
    /// batch was a hop to an event loop and back, a sixth of a batch's time. (PostgreSQL's driver does not keep a
    /// transaction on a connection held this way; its batches take their connection each time.)
    private func drain(on database: any Database) async {
        guard (database as? any SQLDatabase)?.dialect.name == "sqlite" else {
            return await withTaskExecutorPreference(loop) { await runBatches(on: database) }
        }
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
            let head = known.withLockedValue { $0 }
            known.withLockedValue { $0 = nil }  // set again only by a commit
            if let rowsWriter {
                do {
                    let (after, oneStep) = try await Self.runAdaptive(batch, from: head, on: database, writing: rowsWriter, protector: protector)
                    counts.withLockedValue { if oneStep { $0.oneStepBatches += 1 } else { $0.transactionBatches += 1 } }
                    known.withLockedValue { $0 = after }
                    for job in batch { job.finish(nil) }
                    continue
                } catch {
                    // Nothing was written. A write refused its input, another process moved the chain, or a key was taken
                    // meanwhile: the batch runs again in a transaction from the stored head, where a failing write is run
                    // on its own and each has its answer.
                    database.logger.debug("a ledger batch runs again in a transaction: \(String(reflecting: error))")
                    counts.withLockedValue { $0.batchesRunAgain += 1 }
                }
                // The drain runs on the ledger's own thread; a batch in a transaction awaits SQLiteNIO a statement at a
                // time, whose answers come on the event loops: it runs there.
                await withTaskExecutorPreference(globalConcurrentExecutor) {
                    await self.runInTransaction(batch, from: nil, on: database)
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
                after = try await Self.run(batch, isolated: false, from: head, on: database, executor: loop, protector: protector).head
            } catch where head != nil && !(error is AppError) {
                // Another process wrote the chain or numbered requests since (the check or a key failed):
                // run again from the stored head. (A write's own refusal is an AppError, and is not retried here.)
                database.logger.notice("ledger batch of \(batch.count) runs again from the stored head: \(String(reflecting: error))")
                after = try await Self.run(batch, isolated: false, from: nil, on: database, executor: loop, protector: protector).head
            }
            known.withLockedValue { $0 = after }
            for job in batch { job.finish(nil) }
        } catch {
            // Nothing of the batch was kept. A single write has its answer; several are run again, each alone.
            if batch.count == 1 { batch[0].finish(error); return }
            do {
                let (errors, after) = try await Self.run(batch, isolated: true, from: nil, on: database, executor: loop, protector: protector)
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
    /// `executor`: where the batch's work runs (`LedgerLoop` on PostgreSQL).
    private static func run(_ batch: [Job], isolated: Bool, from known: Head?, on database: any Database, executor: (any TaskExecutor)?,
                            protector: PersonalDataProtector?) async throws -> (errors: [(any Error)?], head: Head?) {
        let outcomes = Outcomes()
        @Sendable func inTransaction(_ tx: any Database) async throws -> Head? {
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
            let state = Ledger.Batch(mode: .transaction)
            let writer = Ledger.Writer(db: Ledger.BatchDatabase(tx, batch: state), base: tx, seq: start.seq, hash: start.hash,
                                       day: start.day.map { ($0, start.dayLast) }, countersKeptByTrigger: sqlite, protector: protector)
            state.writer = writer
            // In savepoints, each write's rows are written at once (a rolled-back write must take its rows with it).
            writer.deferring = !isolated
            outcomes.errors = []
            for job in batch {
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
            let (seq, hash) = writer.head
            if fromKnown {
                try await writer.flush()
                // The head this batch started from must still be the stored one: else another process wrote the chain.
                if seq != start.seq, try await sql.raw("""
                    UPDATE ledger_head SET last_seq = \(bind: seq), last_hash = \(bind: hash)
                    WHERE id = 1 AND last_seq = \(bind: start.seq) AND last_hash = \(bind: start.hash) RETURNING id
                    """).first() == nil {
                    throw HeadMoved()
                }
            } else {
                // The head's update goes with the rows (on PostgreSQL in the same statement: `Writer.flush`).
                try await writer.flush(newHead: seq == start.seq ? nil : (seq, hash))
            }
            return sqlite ? Head(seq: seq, hash: hash, day: start.day, dayLast: dayLast) : nil
        }
        // `atomic` runs its body in a task of its own, which inherits no executor preference: set again here.
        let after = try await database.atomic { tx in try await withTaskExecutorPreference(executor) { try await inTransaction(tx) } }
        return (isolated ? outcomes.errors : batch.map { _ in nil }, after)
    }

    /// A batch on SQLite, started without a transaction from the head the last commit left (or read without a lock).
    /// Its writes hold the rows they make. If none of them does anything else, the ledger's own connection writes the
    /// rows in one transaction, one step on its thread, after checking under the write lock that the chain's head is
    /// still the one the batch started from; returns `oneStep` true. The first statement that writes or reads held rows
    /// opens the transaction on the batch's connection instead (`Ledger.Batch`), with the same check, and the batch ends
    /// there. The day's counter is not checked: a number another process gave out meanwhile fails the unique key, and
    /// the batch runs again in a transaction.
    private static func runAdaptive(_ batch: [Job], from known: Head?, on database: any Database,
                                    writing connection: DirectSQLiteWriter, protector: PersonalDataProtector?) async throws -> (Head, oneStep: Bool) {
        let day = batch.lazy.compactMap(\.numbersOn).first
        let sql = database as! any SQLDatabase
        let start: Head
        if let known, day == nil || day == known.day {
            start = known
        } else {
            start = try await storedHead(day: day, locking: false, on: sql)
        }
        let startSeq = start.seq, startHash = start.hash
        // Opened by hand, midway: what `atomic` cannot express. The batch holds this connection alone (`drain`).
        let state = Ledger.Batch(mode: .holding) {
            try await sql.raw("BEGIN IMMEDIATE").run()
            let stored = try await sql.raw("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
                .first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase)
            guard stored?.lastSeq == startSeq, stored?.lastHash == startHash else {
                try await sql.raw("ROLLBACK").run()
                throw HeadMoved()
            }
        }
        let writer = Ledger.Writer(db: Ledger.BatchDatabase(database, batch: state), base: database, seq: start.seq, hash: start.hash,
                                   day: start.day.map { ($0, start.dayLast) }, countersKeptByTrigger: true, protector: protector)
        state.writer = writer
        do {
            for job in batch { try await job.run(writer) }
        } catch {
            if state.isOpen { try? await sql.raw("ROLLBACK").run() }
            throw error
        }
        let dayLast = start.day.flatMap { writer.lastNumber(on: $0) } ?? start.dayLast
        let (seq, hash) = writer.head
        guard !state.isOpen else {
            do {
                try await writer.flush()
                if seq != startSeq {
                    try await sql.raw("UPDATE ledger_head SET last_seq = \(bind: seq), last_hash = \(bind: hash) WHERE id = 1").run()
                }
                try await sql.raw("COMMIT").run()
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
            return (Head(seq: seq, hash: hash, day: start.day, dayLast: dayLast), false)
        }
        let held = try writer.held
        try await connection.transaction { tx in
            guard let stored = try tx.first("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1"),
                  stored.count == 2, stored[0].integer == Int(startSeq), stored[1].string == startHash else {
                throw HeadMoved()
            }
            for row in held.requests { try tx.run(Ledger.Held.requestInsert, row) }
            for row in held.keys { try tx.run(Ledger.Held.keyInsert, row) }
            for row in held.rows { try tx.run(row.insert, row.cells) }
            for row in held.events { try tx.run(Ledger.Held.eventInsert, row) }
            if seq != startSeq {
                try tx.run("UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1", [BulkCell(seq), BulkCell(hash)])
            }
        }
        return (Head(seq: seq, hash: hash, day: start.day, dayLast: dayLast), true)
    }

    /// The chain's head as stored, with the last request number of `day`, in one round trip. `locking`: written to
    /// as it is read, so that the transaction holds the write lock from its first statement (SQLite cannot upgrade
    /// a read that another connection's commit has overtaken) and, on PostgreSQL, the head row until the commit.
    private static func storedHead(day: String?, locking: Bool, on sql: any SQLDatabase) async throws -> Head {
        if locking, StatementPipeline.applies(to: sql) {
            // On PostgreSQL a statement that waited for the head's row lock sees that row as the other process committed
            // it, but a plain read in the same statement (a subquery) still sees the snapshot from before the wait (two
            // processes gave out the same numbers). The day's counter is therefore locked too, after the head (it reads
            // the head's answer), which reads it as last committed. A counter row the statement's snapshot did not have
            // (the day's first numbers, perhaps given out by the process whose lock it waited for) is read by a statement
            // of its own, which sees what was committed before it.
            let query: SQLQueryString = """
                WITH head AS (UPDATE ledger_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash),
                     counter AS (UPDATE request_day_counters SET last = last WHERE day = \(bind: day ?? "") AND EXISTS (SELECT 1 FROM head)
                                 RETURNING last)
                SELECT last_seq, last_hash, (SELECT last FROM counter) AS day_last FROM head
                """
            // Prepared: the same text every batch (its parsing and planning were 0.4 ms of each batch).
            guard let (head, counted) = try await ColumnRows.all(query, on: sql, prepared: true, {
                (Head(seq: try $0.int64("last_seq"), hash: try $0.text("last_hash"), day: day, dayLast: 0), try $0.optionalInt("day_last"))
            }).first else {
                throw AppError(.internalServerError, "ledger_missing", "账本未初始化")
            }
            var result = head
            if let counted {
                result.dayLast = counted
            } else if let day {
                result.dayLast = try await sql.raw("SELECT last FROM request_day_counters WHERE day = \(bind: day)")
                    .first(decodingColumn: "last", as: Int.self) ?? 0
            }
            return result
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
