import Vapor
import Fluent
import PLSDomain

/// What a capability's steps on a case share: the request found in the principal's scope, read again inside
/// one ledger write with the capability's detail, the who-and-when checks, then the step itself.
enum CaseSteps {
    static func run<Detail: Sendable>(on idOrNumber: String, by p: Principal, app: Application,
                                      load: @escaping @Sendable (ServiceRequest, any Database) async throws -> Detail,
                                      check: @escaping @Sendable (ServiceRequest, Detail) throws -> Void,
                                      take: @escaping @Sendable (ServiceRequest, Detail, Ledger.Writer, Date) async throws -> Void) async throws -> ServiceRequest {
        _ = try await RequestViews.find(idOrNumber, scope: p.scope, on: app.db)
        let now = app.clock.now
        return try await app.ledger.write(on: app.db) { w in
            // Read again inside the write: someone may have acted a moment ago.
            let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: w.db)
            let detail = try await load(r, w.db)
            try check(r, detail)
            try await take(r, detail, w, now)
            return r
        }
    }

    /// A timeline event that leaves the status as it is (a notice sent, a visit made).
    static func note(_ r: ServiceRequest, _ action: String, _ note: String, by p: Principal, now: Date, writer w: Ledger.Writer) {
        w.append(LedgerEvent(requestID: r.id!, atMillis: now.millis, actorID: p.accountID, actorName: p.displayName,
                                   action: action, fromStatus: r.status, toStatus: r.status, note: note))
    }
}
