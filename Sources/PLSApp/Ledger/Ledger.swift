import Vapor
import Fluent
import SQLKit
import Crypto

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
actor GroupCommitter {
    struct Job: Sendable {
        let run: @Sendable (Ledger.Writer) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private var pending: [Job] = []
    private var draining = false
    /// A burst larger than this is split, so that one transaction never holds the lock for long.
    private let maxBatch = 256

    func submit(_ job: Job, on database: any Database) {
        pending.append(job)
        if !draining {
            draining = true
            Task { await self.drain(on: database) }
        }
    }

    private func take() -> [Job] {
        let batch = Array(pending.prefix(maxBatch))
        pending.removeFirst(batch.count)
        if batch.isEmpty { draining = false }
        return batch
    }

    private final class Outcomes: @unchecked Sendable {
        var errors: [(any Error)?] = []
    }

    private func drain(on database: any Database) async {
        while true {
            let batch = take()
            if batch.isEmpty { return }
            do {
                _ = try await Self.run(batch, isolated: false, on: database)
                for job in batch { job.finish(nil) }
            } catch {
                // Nothing of the batch was kept. A single write has its answer; several are run again, each alone.
                if batch.count == 1 { batch[0].finish(error); continue }
                do {
                    let errors = try await Self.run(batch, isolated: true, on: database)
                    for (job, error) in zip(batch, errors) { job.finish(error) }
                } catch {
                    // The commit itself failed.
                    for job in batch { job.finish(error) }
                }
            }
        }
    }

    /// One transaction for the batch. Not isolated: the first failing write undoes the batch (thrown).
    /// Isolated: each write in a savepoint; returns each write's error.
    private static func run(_ batch: [Job], isolated: Bool, on database: any Database) async throws -> [(any Error)?] {
        let outcomes = Outcomes()
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            // Write first, read after: the transaction holds the write lock from its first statement
            // (SQLite cannot upgrade a read that another connection's commit has overtaken), and on
            // PostgreSQL the head row is locked against other processes until the commit.
            try await sql.raw("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1").run()
            guard let head = try await sql.raw("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
                .first(decoding: LedgerHeadRow.self, keyDecodingStrategy: .snakeCase) else {
                throw AppError(.internalServerError, "ledger_missing", "账本未初始化")
            }
            let writer = Ledger.Writer(db: tx, seq: head.lastSeq, hash: head.lastHash)
            outcomes.errors = []
            for job in batch {
                guard isolated else {
                    try await job.run(writer)
                    continue
                }
                let before = await writer.mark
                try await sql.raw("SAVEPOINT pls_write").run()
                do {
                    try await job.run(writer)
                    try await sql.raw("RELEASE SAVEPOINT pls_write").run()
                    outcomes.errors.append(nil)
                } catch {
                    try await sql.raw("ROLLBACK TO SAVEPOINT pls_write").run()
                    try await sql.raw("RELEASE SAVEPOINT pls_write").run()
                    await writer.reset(to: before)
                    outcomes.errors.append(error)
                }
            }
            try await writer.flush()
            let (seq, hash) = await writer.head
            if seq != head.lastSeq {
                try await sql.raw("UPDATE ledger_head SET last_seq = \(bind: seq), last_hash = \(bind: hash) WHERE id = 1").run()
            }
        }
        return isolated ? outcomes.errors : batch.map { _ in nil }
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

private struct LedgerHeadRow: Decodable { var lastSeq: Int64; var lastHash: String }

extension DatabaseID {
    /// The ledger's own connections to the same database: the transaction that commits a batch of writes
    /// holds one connection for its whole length, and reads (there is one pool connection per event loop)
    /// must not queue behind it.
    static let ledgerWriter = DatabaseID(string: "ledger-writer")
}

final class Ledger: Sendable {
    static let genesis = String(repeating: "0", count: 64)
    private let committer = GroupCommitter()
    private let databases: Databases?

    /// `databases` with `.ledgerWriter` configured: batches are written through it; without: through the caller's database.
    init(databases: Databases? = nil) {
        self.databases = databases
    }

    /// What is hashed: every field that a reader of the timeline relies on, in a fixed order.
    static func canonical(seq: Int64, prev: String, _ e: LedgerEvent) -> String {
        [String(seq), prev, e.requestID.uuidString.lowercased(), String(e.atMillis), e.actorID?.uuidString.lowercased() ?? "",
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
    /// (returns) only once that transaction has committed. `body` may run twice (its batch is run again
    /// when another write in it fails): it reads and builds what it writes inside itself, and its effects
    /// stay in the database (an SMS is a queued row, rolled back with the rest).
    func write<T: Sendable>(on database: any Database, _ body: @escaping @Sendable (Writer) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = GroupCommitter.Job(
                run: { writer in box.value = try await body(writer) },
                finish: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: box.value!) }
                })
            let writer = databases?.database(.ledgerWriter, logger: database.logger, on: database.eventLoop) ?? database
            Task { await self.committer.submit(job, on: writer) }
        }
    }

    /// Appends events inside a `write`. Events are held until the shared transaction is about to
    /// commit and then written in one statement: a batch of writes costs one insert, not one each.
    actor Writer {
        nonisolated let db: any Database
        private var seq: Int64
        private var hash: String
        private var pending: [[any Encodable & Sendable]] = []
        /// Request numbers handed out in this transaction, by day: each day's counter is read once and
        /// written back once, at the flush, instead of an upsert per request.
        private var dayCounters: [String: (stored: Int, last: Int)] = [:]

        init(db: any Database, seq: Int64, hash: String) {
            self.db = db
            self.seq = seq
            self.hash = hash
        }

        struct Mark: Sendable { var seq: Int64; var hash: String; var pending: Int; var dayCounters: [String: (stored: Int, last: Int)] }

        var head: (Int64, String) { (seq, hash) }
        var mark: Mark { Mark(seq: seq, hash: hash, pending: pending.count, dayCounters: dayCounters) }

        /// After a write's savepoint was rolled back, the chain and the counters continue from where they were before it.
        func reset(to mark: Mark) {
            seq = mark.seq
            hash = mark.hash
            pending.removeLast(pending.count - mark.pending)
            dayCounters = mark.dayCounters
        }

        func append(_ e: LedgerEvent) {
            let next = seq + 1
            let h = Ledger.hash(Ledger.canonical(seq: next, prev: hash, e))
            pending.append([next, e.requestID, e.atMillis, e.actorID, e.actorName, e.action, e.fromStatus, e.toStatus, e.note, hash, h])
            seq = next
            hash = h
        }

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

        /// Writes the held events and the day counters; called once, just before the commit.
        func flush() async throws {
            let sql = db as! any SQLDatabase
            for start in stride(from: 0, to: pending.count, by: 500) {
                var insert = SQLQueryString("INSERT INTO request_events (seq, request_id, at_ms, actor_account_id, actor_name, action, "
                                            + "from_status, to_status, note, prev_hash, hash) VALUES ")
                for (i, row) in pending[start..<min(start + 500, pending.count)].enumerated() {
                    insert = insert + (i == 0 ? "(" : ", (") + "\(binds: row))"
                }
                try await sql.raw(insert).run()
            }
            pending.removeAll()
            for (day, counter) in dayCounters where counter.last != counter.stored {
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
    static func verify(on db: any SQLDatabase, pageSize: Int = 5_000) async throws -> Verification {
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
                                        action: r.action, fromStatus: r.fromStatus, toStatus: r.toStatus, note: r.note)
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
