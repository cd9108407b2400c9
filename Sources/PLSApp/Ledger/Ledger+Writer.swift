import Vapor
import Fluent
import SQLKit
import PLSDomain

extension Ledger {
    /// A batch's new rows as cells, and the one-row statements that insert them (prepared once by the ledger's own connection).
    struct Held: Sendable {
        var requests: [[BulkCell]]
        var keys: [[BulkCell]]
        var events: [[BulkCell]]
        /// Other new rows (a notice, an SMS), each with its one-row insert, in the order they were made.
        var rows: [(insert: String, cells: [BulkCell])] = []

        static let keyColumns = ["scoped_key", "request_id", "created_at"]
        static let requestInsert = insert(ServiceRequest.schema, ServiceRequest.insertColumns)
        static let keyInsert = insert("idempotency_keys", keyColumns)
        static let eventInsert = insert("request_events", Ledger.eventColumns)

        static func insert(_ table: String, _ columns: [String]) -> String {
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(repeatElement("?", count: columns.count).joined(separator: ", ")))"
        }
    }
}

extension Ledger {
    /// Appends events inside a `write`. Events are held until the shared transaction is about to
    /// commit and then written in one statement: a batch of writes costs one insert, not one each.
    /// Confined to the one task that runs a batch, one write after another: a class, not an actor, so that
    /// appending an event is a call rather than a hop between executors.
    final class Writer: @unchecked Sendable {
        /// The database as the write's body sees it (`BatchDatabase`): what the body does there decides how the batch is
        /// written.
        let db: any Database
        /// The batch's connection itself, for the writer's own statements (which know what the batch holds).
        private let base: any Database
        private var seq: Int64
        private var hash: String
        private var pending: [(seq: Int64, prev: String, hash: String, event: LedgerEvent)] = []
        /// Request numbers handed out in this transaction, by day: each day's counter is read once and
        /// written back once, at the flush, instead of an upsert per request.
        private var dayCounters: [String: (stored: Int, last: Int)] = [:]
        /// New requests wait for the batch's one multi-row insert before the events (which refer to them), instead of
        /// an insert each; a statement of a body that would read or refer to them has them written first
        /// (`Ledger.Batch`). Off when each write runs in a savepoint of its own.
        var deferring = true
        private var deferred: [ServiceRequest] = []
        private var deferredIDs: Set<UUID> = []
        /// Idempotency keys of held requests, written after them (they refer to them).
        private var deferredKeys: [(key: String, request: ServiceRequest, at: Date)] = []
        /// Other new rows a write makes (`insert(into:)`), held with the requests: a write that only adds rows (an intake
        /// with the applicant's notice and SMS) stays a one-step write instead of opening the batch's transaction.
        private var deferredRows: [(table: String, columns: [String], cells: [BulkCell])] = []

        /// Whether the database writes the day counters itself (SQLite: a trigger on every new request, M021).
        private let countersKeptByTrigger: Bool
        private let protector: PersonalDataProtector?

        /// `day`: a day whose request counter was read with the head (its last number so far).
        init(db: any Database, base: any Database, seq: Int64, hash: String, day: (String, Int)? = nil, countersKeptByTrigger: Bool = false,
             protector: PersonalDataProtector? = nil) {
            self.db = db
            self.base = base
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
            let h = HashChain.hash(HashChain.canonical(seq: next, prev: hash, e))
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

        /// The request already stored under `key`. Read by the writer, which has looked among the held keys first
        /// (`heldRequest`): the body's own read of the table would have the batch's held rows written first.
        func storedRequestID(forKey key: String) async throws -> UUID? {
            try await (base as! any SQLDatabase).raw("SELECT request_id FROM idempotency_keys WHERE scoped_key = \(bind: key)")
                .first(decodingColumn: "request_id", as: UUID.self)
        }

        /// Inserts one new row that nothing in the batch reads back: held for the batch's insert while deferring.
        func insert(into table: String, columns: [String], _ cells: [BulkCell]) async throws {
            if deferring {
                deferredRows.append((table, columns, cells))
                return
            }
            try await BulkRows.insert(table, columns, [cells][...], on: db as! any SQLDatabase)
        }

        /// Whether new rows wait for the batch's insert.
        var holdsRows: Bool { !deferred.isEmpty || !deferredRows.isEmpty }

        /// Writes the held requests and their keys; before any write that reads, and at the flush.
        func writeDeferred() async throws {
            guard holdsRows else { return }
            let sql = base as! any SQLDatabase
            for insert in heldInserts { try await BulkRows.insert(insert.table, insert.columns, insert.rows, on: sql) }
            forgetHeld()
        }

        /// The held rows as the multi-row inserts that write them, in order: the requests, their keys, then the other rows
        /// (after the requests they may refer to), rows of one table and columns in one statement (up to 200).
        private var heldInserts: [(table: String, columns: [String], rows: ArraySlice<[BulkCell]>)] {
            var inserts: [(table: String, columns: [String], rows: ArraySlice<[BulkCell]>)] = []
            for start in stride(from: 0, to: deferred.count, by: 200) {
                inserts.append((ServiceRequest.schema, ServiceRequest.insertColumns, deferred[start..<min(start + 200, deferred.count)].map(\.insertCells)[...]))
            }
            if !deferredKeys.isEmpty { inserts.append(("idempotency_keys", Held.keyColumns, keyCells[...])) }
            // Grouped by table and columns, in the order each first came: rows held this way (notices, SMS, links) refer to
            // requests, never to each other, and a batch of intakes that each held a notice and an SMS is then two inserts
            // whatever its size (one statement text, prepared once, on PostgreSQL), not two an intake.
            var groups: [(table: String, columns: [String], rows: [[BulkCell]])] = []
            for row in deferredRows {
                if let i = groups.firstIndex(where: { $0.table == row.table && $0.columns == row.columns }) {
                    groups[i].rows.append(row.cells)
                } else {
                    groups.append((row.table, row.columns, [row.cells]))
                }
            }
            for group in groups {
                for start in stride(from: 0, to: group.rows.count, by: 200) {
                    inserts.append((group.table, group.columns, group.rows[start..<min(start + 200, group.rows.count)]))
                }
            }
            return inserts
        }

        /// After the held rows are written (each request was marked as existing when it was held).
        private func forgetHeld() {
            deferred.removeAll()
            deferredIDs.removeAll()
            deferredKeys.removeAll()
            deferredRows.removeAll()
        }

        private var keyCells: [[BulkCell]] { deferredKeys.map { [BulkCell($0.key), BulkCell($0.request.id!), BulkCell($0.at)] } }

        /// The note is sealed as it is stored; the hash covers it as written (`Ledger.verify` opens it).
        private var eventCells: [[BulkCell]] {
            get throws {
                try pending.map { p -> [BulkCell] in
                    let e = p.event
                    let note = e.noteIsFixedWording ? e.note : try protector.map { try $0.seal(ifAny: e.note) } ?? e.note
                    return [BulkCell(p.seq), BulkCell(e.requestID), BulkCell(e.atMillis), BulkCell(e.actorID), BulkCell(e.actorName),
                            BulkCell(e.action), BulkCell(e.fromStatus), BulkCell(e.toStatus), BulkCell(note), BulkCell(p.prev), BulkCell(p.hash)]
                }
            }
        }

        /// Everything held, as cells, for the ledger's own connection to write (a batch of rows-only writes, whose
        /// day counters the database keeps).
        var held: Held {
            get throws {
                Held(requests: deferred.map(\.insertCells), keys: keyCells, events: try eventCells,
                     rows: deferredRows.map { (Held.insert($0.table, $0.columns), $0.cells) })
            }
        }

        /// The next sequence number of `day` for a request number. Safe because every write that numbers
        /// requests runs under the ledger's lock.
        func nextSequence(on day: String) async throws -> Int {
            if dayCounters[day] == nil {
                let stored = try await (base as! any SQLDatabase).raw("SELECT last FROM request_day_counters WHERE day = \(bind: day)")
                    .first(decodingColumn: "last", as: Int.self) ?? 0
                dayCounters[day] = (stored, stored)
            }
            dayCounters[day]!.last += 1
            return dayCounters[day]!.last
        }

        /// Writes the held requests, events and day counters; called once, just before the commit.
        /// `newHead`: the chain's head to store after them (the batch appended events).
        func flush(newHead: (seq: Int64, hash: String)? = nil) async throws {
            let sql = base as! any SQLDatabase
            guard !StatementPipeline.applies(to: sql) else { return try await flushCombined(newHead: newHead, on: sql) }
            try await writeDeferred()
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
            if let newHead {
                try await sql.raw("UPDATE ledger_head SET last_seq = \(bind: newHead.seq), last_hash = \(bind: newHead.hash) WHERE id = 1").run()
            }
        }

        /// `flush` on PostgreSQL: the same rows, the counters and the head written by one statement, prepared once
        /// (`PostgresCombinedWrite`; several, sent together, only past PostgreSQL's 65,535 binds). Measured at a million
        /// requests: a batch's flush was five or six statements, each a round trip the batch waited for while the cores
        /// were busy with HTTP.
        private func flushCombined(newHead: (seq: Int64, hash: String)?, on sql: any SQLDatabase) async throws {
            // Sealed before anything is sent: a failure here then leaves no statement unanswered behind it.
            let events = try eventCells
            var inserts = heldInserts
            for start in stride(from: 0, to: events.count, by: 500) {
                inserts.append(("request_events", Ledger.eventColumns, events[start..<min(start + 500, events.count)]))
            }
            var pipeline = StatementPipeline(on: sql)
            var statement = PostgresCombinedWrite()
            /// Sends the statement so far when `binds` more would not fit in it.
            func makeRoom(for binds: Int) {
                guard !statement.fits(binds) else { return }
                let (query, prepared) = statement.query()
                pipeline.send(query, prepared: prepared)
                statement = PostgresCombinedWrite()
            }
            for insert in inserts {
                makeRoom(for: insert.rows.count * insert.columns.count)
                statement.insert(insert.table, insert.columns, insert.rows)
            }
            if !countersKeptByTrigger {
                for (day, counter) in dayCounters.sorted(by: { $0.key < $1.key }) where counter.last != counter.stored {
                    makeRoom(for: 2)
                    statement.insert("request_day_counters", ["day", "last"], [[BulkCell(day), BulkCell(counter.last)]],
                                     suffix: " ON CONFLICT (day) DO UPDATE SET last = excluded.last")
                }
            }
            if let newHead {
                makeRoom(for: 2)
                let seq = statement.bind(BulkCell(newHead.seq)), hash = statement.bind(BulkCell(newHead.hash))
                let (query, prepared) = statement.query(last: "UPDATE ledger_head SET last_seq = \(seq), last_hash = \(hash) WHERE id = 1")
                pipeline.send(query, prepared: prepared)
            } else if !statement.isEmpty {
                let (query, prepared) = statement.query()
                pipeline.send(query, prepared: prepared)
            }
            try await pipeline.finish()
            forgetHeld()
            pending.removeAll()
            dayCounters = [:]
        }
    }
}
