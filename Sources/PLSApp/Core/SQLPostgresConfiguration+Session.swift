import PostgresKit

extension SQLPostgresConfiguration {
    /// The configuration every connection of ours opens with (the pools, the ledger's own, the replica's).
    ///
    /// JIT compilation off for our sessions: PostgreSQL compiles a statement whose estimated cost passes
    /// `jit_above_cost`, which a prepared statement's generic plan easily does (its `LIMIT` unknown, or its rows guessed
    /// at a tenth of a million-row table), and the compiling then takes 60–90 ms of a call that runs in 0.3 ms
    /// (measured on the filtered list at a million requests). Our statements are short lookups and indicator
    /// aggregates that measured the same without it. Sent as a startup parameter, so it costs no round trip.
    static func pls(url: String) throws -> SQLPostgresConfiguration {
        var configuration = try SQLPostgresConfiguration(url: url)
        configuration.coreConfiguration.options.additionalStartupParameters.append(("jit", "off"))
        return configuration
    }
}
