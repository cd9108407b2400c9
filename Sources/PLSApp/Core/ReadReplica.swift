import Vapor
import Fluent
import SQLKit
import PostgresKit
import NIOConcurrencyHelpers

extension DatabaseID {
    /// The streaming replica named by `DATABASE_READ_URL`.
    static let readReplica = DatabaseID(string: "read-replica")
}

/// Reads that may come from a streaming replica: analytics, indicators and exports, never a page that shows what a
/// write just made. The replica is read while it keeps up; while it lags more than the bound or cannot be reached, the
/// primary answers, and a statement the replica fails is run again on the primary, so that no reader sees the switch.
///
/// Lag is measured against the primary's WAL position, not the time of the last replayed transaction (which stands
/// still on an idle primary): every check notes where the primary's WAL ends; a noted position the replica has replayed
/// is dropped; the replica is as far behind as the oldest position still waiting.
final class ReadReplica: Sendable {
    enum State: String, Sendable, Codable {
        case starting, inUse = "in_use", lagging, unavailable
    }

    struct Status: Sendable, Codable {
        var state: State = .starting
        /// Seconds behind the primary at the last check.
        var lagSeconds: Double?
        var readsOnReplica = 0
        var readsOnPrimary = 0
        /// Statements the replica failed and the primary answered.
        var fallbacks = 0
        var lastError: String?
    }

    let maxLag: Duration
    private let status = NIOLockedValueBox(Status())
    private let waiting = NIOLockedValueBox<[(at: ContinuousClock.Instant, lsn: Int64)]>([])

    init(maxLag: Duration) { self.maxLag = maxLag }

    var current: Status { status.withLockedValue { $0 } }

    /// The database a read of analytics goes to for this request.
    func database(for req: Request) -> any SQLDatabase {
        let primary = req.sql
        guard status.withLockedValue({ $0.state == .inUse }), let replica = req.db(.readReplica) as? any SQLDatabase else {
            status.withLockedValue { $0.readsOnPrimary += 1 }
            return primary
        }
        status.withLockedValue { $0.readsOnReplica += 1 }
        return FallbackReads(replica: replica, primary: primary, router: self)
    }

    /// A statement failed on the replica: the primary answers until the next check finds it well.
    func failed(_ error: any Error) {
        status.withLockedValue {
            $0.state = .unavailable
            $0.fallbacks += 1
            $0.lastError = String(describing: error).prefix(200).description
        }
    }

    /// One check: where the primary's WAL ends, what the replica has replayed, and whether it is a replica of this
    /// primary at all (the same system identifier).
    func check(app: Application) async {
        let primary = app.db as! any SQLDatabase
        let replica = app.db(.readReplica) as! any SQLDatabase
        struct Position: Decodable { var system: Int64; var lsn: Int64? }
        let query: SQLQueryString = """
            SELECT (SELECT system_identifier FROM pg_control_system())::bigint AS system,
              pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::bigint AS lsn
            """
        let now = ContinuousClock.now
        let ours: Position
        do {
            guard let p = try await primary.raw(query).first(decoding: Position.self), p.lsn != nil else { return }
            ours = p
        } catch {
            return  // the primary is the server's own problem; the replica's state stays as it was
        }
        waiting.withLockedValue { w in
            w.append((now, ours.lsn ?? 0))
            // Positions older than twice the bound say no more than that it lags: forgotten here, also while the replica
            // cannot be reached (else they would pile up for as long as it is away).
            w.removeAll { now - $0.at > self.maxLag * 2 }
        }
        do {
            guard let theirs = try await replica.raw(query).first(decoding: Position.self) else { throw ReplicaProblem.noAnswer }
            guard theirs.system == ours.system else { throw ReplicaProblem.notOurs }
            let replayed = theirs.lsn ?? 0
            let oldest = waiting.withLockedValue { w -> ContinuousClock.Instant? in
                w.removeAll { $0.lsn <= replayed }
                return w.first?.at
            }
            let lag = oldest.map { now - $0 } ?? .zero
            let seconds = Double(lag.components.seconds) + Double(lag.components.attoseconds) / 1e18
            let state: State = lag > maxLag ? .lagging : .inUse
            let before = status.withLockedValue { s -> State in
                let b = s.state
                s.state = state
                s.lagSeconds = seconds
                if state == .inUse { s.lastError = nil }
                return b
            }
            if before != state { app.logger.notice("read replica: \(state.rawValue) (\(Int(seconds)) s behind)") }
        } catch {
            let before = status.withLockedValue { s -> State in
                let b = s.state
                s.state = .unavailable
                s.lagSeconds = nil
                s.lastError = String(describing: error).prefix(200).description
                return b
            }
            if before != .unavailable { app.logger.warning("read replica unavailable, reading from the primary: \(String(describing: error))") }
        }
    }

    enum ReplicaProblem: Error, CustomStringConvertible {
        case noAnswer, notOurs
        var description: String {
            switch self {
            case .noAnswer: "the replica gave no answer"
            case .notOurs: "DATABASE_READ_URL is not a replica of DATABASE_URL (another system identifier)"
            }
        }
    }

    /// Checks the replica every second while the server is up.
    static let job = RepeatingJob(name: "read-replica", initialDelay: .zero, interval: .seconds(1)) { app in
        await app.readReplica?.check(app: app)
    }
}

/// A replica's statements with the primary behind them: a statement that fails on the replica before it gave a row is
/// run on the primary (a stopped replica, a connection refused, a query cancelled by replay), and the replica is set
/// aside until the next check.
struct FallbackReads: SQLDatabase {
    let replica: any SQLDatabase
    let primary: any SQLDatabase
    let router: ReadReplica

    var logger: Logger { primary.logger }
    var eventLoop: any EventLoop { primary.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { primary.version }
    var dialect: any SQLDialect { primary.dialect }
    var queryLogLevel: Logger.Level? { primary.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let delivered = NIOLockedValueBox(false)
        do {
            try await replica.execute(sql: query) { row in
                delivered.withLockedValue { $0 = true }
                onRow(row)
            }
        } catch where !delivered.withLockedValue({ $0 }) {
            router.failed(error)
            try await primary.execute(sql: query, onRow)
        }
    }
}

extension FallbackReads {
    /// `ColumnRows` on PostgreSQL: rows read cell by cell, from the replica, else (the replica failed the statement)
    /// from the primary. Nil when `run` declines the query or a side is not PostgreSQL (then `execute` is used).
    func postgresRows(_ run: (any SQLDatabase, any PostgresDatabase) async throws -> [PostgresRow]?) async throws -> [PostgresRow]? {
        guard let replicaPG = replica as? any PostgresDatabase, let primaryPG = primary as? any PostgresDatabase else { return nil }
        do {
            return try await run(replica, replicaPG)
        } catch {
            router.failed(error)
            return try await run(primary, primaryPG)
        }
    }
}

extension Application {
    private struct ReadReplicaKey: StorageKey { typealias Value = ReadReplica }
    /// Set when `DATABASE_READ_URL` names a replica.
    var readReplica: ReadReplica? {
        get { storage[ReadReplicaKey.self] }
        set { storage[ReadReplicaKey.self] = newValue }
    }
}

extension Request {
    /// Where analytics, indicators and exports read: the replica while it keeps up, else the primary.
    var readSQL: any SQLDatabase { application.readReplica?.database(for: self) ?? sql }
}
