import Vapor
import Fluent
import FluentSQLiteDriver
import FluentPostgresDriver
import Leaf
import SQLKit
import PLSDomain

/// What tests (and only tests) change about the environment-driven setup.
public struct ConfigureOptions: Sendable {
    public var databaseURL: String??
    public var dataDirectory: String?
    public var demo: Bool?
    public var demoScale: DemoCity.Scale
    public var quiet: Bool
    /// Tests start each case from an empty PostgreSQL schema (SQLite starts from a new file).
    public var resetDatabase: Bool

    public init(databaseURL: String?? = nil, dataDirectory: String? = nil, demo: Bool? = nil,
                demoScale: DemoCity.Scale = .full, quiet: Bool = false, resetDatabase: Bool = false) {
        self.resetDatabase = resetDatabase
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.demo = demo
        self.demoScale = demoScale
        self.quiet = quiet
    }
}

public func configure(_ app: Application, options: ConfigureOptions = .init()) async throws {
    var settings = try Settings.load(from: app.environment, logger: app.logger)
    if let url = options.databaseURL { settings.databaseURL = url }
    if let dir = options.dataDirectory { settings.dataDirectory = dir }
    if let demo = options.demo { settings.demo = demo }
    app.settings = settings

    // MARK: Database
    if let url = settings.databaseURL {
        app.databases.use(try .postgres(url: url), as: .psql)
        app.databases.use(try .postgres(url: url), as: .ledgerWriter, isDefault: false)
    } else {
        try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        app.databases.use(.sqlite(.file(settings.sqliteFile)), as: .sqlite)
        app.databases.use(.sqlite(.file(settings.sqliteFile)), as: .ledgerWriter, isDefault: false)
    }

    // MARK: Middleware (outermost first): requests in flight, errors, headers, static files.
    app.middleware = .init()
    let inFlight = InFlightRequests()
    app.middleware.use(inFlight)
    app.middleware.use(RouteLoggingMiddleware(logLevel: .debug))
    app.middleware.use(AppErrorMiddleware())
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(PublicFilesMiddleware(publicDirectory: app.directory.publicDirectory))

    app.sessions.use(.fluent)
    app.sessions.configuration.cookieName = "pls-session"
    app.sessions.configuration.cookieFactory = { id in
        HTTPCookies.Value(string: id.string, expires: Date().addingTimeInterval(60 * 60 * 12), maxAge: nil, path: "/",
                          isSecure: false, isHTTPOnly: true, sameSite: .lax)
    }
    app.routes.defaultMaxBodySize = "2mb"

    // MARK: Views
    app.views.use(.leaf)
    app.leaf.cache.isEnabled = app.environment.isRelease

    // MARK: Migrations: numbered, each with its revert.
    app.migrations.add(M001CreateRegions())
    app.migrations.add(M002CreateInstitutions())
    app.migrations.add(M003CreatePractitioners())
    app.migrations.add(M004CreateAccounts())
    app.migrations.add(SessionRecord.migration)
    app.migrations.add(M005CreateCalendar())
    app.migrations.add(M006CreateLedger())
    app.migrations.add(M007CreateServiceRequests())
    app.migrations.add(M008CreateCatalog())
    app.migrations.add(M009AddRequestQueueIndex())
    app.migrations.add(Attachments.M010CreateAttachments())
    app.migrations.add(M011CreateLegalAid())
    app.migrations.add(M012CreateMediation())
    app.migrations.add(M013CreateVillageAdvisers())
    app.migrations.add(M014CreateRosters())
    app.migrations.add(M015CreateTrainingAndAdviserWork())
    app.migrations.add(M016MarkGovernmentBodies())
    app.migrations.add(M017CreateAdviserServicePhotos())
    app.migrations.add(M018CreateStaffTrainingAttendance())
    app.migrations.add(M019CreateRequestCounts())
    app.migrations.add(M020CreateIndicatorFigures())
    app.migrations.add(M021KeepRequestDayCountersByTrigger())

    // MARK: Capabilities
    app.indicators = IndicatorRegistry(RegistryIndicators.all + IntakeIndicators.all + LegalAidIndicators.all + MediationIndicators.all + GrassrootsIndicators.all + RosterIndicators.all)
    app.calendarStore = CalendarStore()
    app.ledger = Ledger(databases: app.databases, sqliteFile: settings.usesEmbeddedDatabase ? settings.sqliteFile : nil)
    app.lifecycle.use(Ledger.Shutdown())
    app.regionDirectory = RegionDirectory()
    app.tokenCache = TokenCache()
    app.databases.middleware.use(RegionDirectory.Invalidation(directory: app.regionDirectory))
    app.databases.middleware.use(TokenCache.Invalidation(cache: app.tokenCache))
    app.rulesCache = Catalog.RulesCache()
    app.sms = LogOnlySmsGateway(logger: app.logger, personalData: app.personalData)

    // MARK: Commands
    app.asyncCommands.use(RegionsCommand(), as: "regions")
    app.asyncCommands.use(AccountsCommand(), as: "accounts")
    app.asyncCommands.use(CalendarCommand(), as: "calendar")
    app.asyncCommands.use(LedgerCommand(), as: "ledger")
    app.asyncCommands.use(DemoCommand(), as: "demo")
    // The overdue scan belongs to the server, not to one-off commands such as `pls demo generate`.
    let command = app.environment.arguments.dropFirst().first
    if app.environment != .testing, command == nil || command == "serve" {
        app.lifecycle.use(OverdueScanner(interval: .minutes(5)))
    }

    try routes(app)
    // Last, so that at shutdown it runs first: the requests still being handled finish before anything closes.
    app.lifecycle.use(inFlight)

    if settings.usesEmbeddedDatabase, let sql = app.db as? any SQLDatabase {
        // WAL lets readers go on while one writer commits; FULL makes an acknowledged write durable.
        try await sql.raw("PRAGMA journal_mode=WAL").run()
        try await sql.raw("PRAGMA synchronous=FULL").run()
    }
    if options.resetDatabase, !settings.usesEmbeddedDatabase, let sql = app.db as? any SQLDatabase {
        try await sql.raw("DROP SCHEMA public CASCADE").run()
        try await sql.raw("CREATE SCHEMA public").run()
    }
    try await app.autoMigrate()
    if settings.usesEmbeddedDatabase, let sql = app.db as? any SQLDatabase {
        // Keeps the query planner's statistics current, so it picks the narrow index for each filter.
        try await sql.raw("PRAGMA optimize").run()
    }
    try await CalendarStore.seedIfEmpty(app: app)
    try await Catalog.seedIfEmpty(on: app.db as! any SQLDatabase)
    try await app.rulesCache.reload(from: app.db as! any SQLDatabase)
    if settings.demo, try await DemoLoader.isEmpty(app.db) {
        try await DemoLoader.load(DemoCity(scale: options.demoScale), app: app, on: app.db)
        if !options.quiet { print(DemoLoader.loginsBanner()) }
    }
}
