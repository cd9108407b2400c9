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
    public var demoScale: DemoScale
    public var quiet: Bool
    /// Tests start each case from an empty PostgreSQL schema (SQLite starts from a new file).
    public var resetDatabase: Bool

    public init(databaseURL: String?? = nil, dataDirectory: String? = nil, demo: Bool? = nil,
                demoScale: DemoScale = .full, quiet: Bool = false, resetDatabase: Bool = false) {
        self.resetDatabase = resetDatabase
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.demo = demo
        self.demoScale = demoScale
        self.quiet = quiet
    }
}

/// What to tell whoever started the server when it cannot start (missing resources, a bad setting), in Chinese;
/// nil for an error that has no such message.
public func startupProblem(_ error: any Error) -> String? { (error as? AppError)?.message }

public func configure(_ app: Application, options: ConfigureOptions = .init()) async throws {
    // Templates, public files and the calendar wherever the server is started from (`ResourceRoot`).
    app.directory = try ResourceRoot.locate()
    var settings = try Settings.load(from: app.environment, logger: app.logger)
    if let url = options.databaseURL { settings.databaseURL = url }
    if let dir = options.dataDirectory { settings.dataDirectory = dir }
    if let demo = options.demo { settings.demo = demo }
    app.settings = settings

    // MARK: Database
    // SQL is never logged with its values (names, mobiles, free text), at any level.
    try PrivateFiles.prepare(directory: settings.dataDirectory, files: [settings.sqliteFile, settings.sqliteFile + "-wal", settings.sqliteFile + "-shm"])
    // A server keeps the data directory's lock shared for its life: `pls restore` never swaps the file under it.
    if settings.usesEmbeddedDatabase, app.environment.arguments.dropFirst().first == "serve" {
        try DataDirectoryLock.holdShared(in: settings.dataDirectory)
    }
    // The wall clock, not the app's: file times are the system's, whatever date a test or demo sets.
    ReceivedForm.clearLeftovers(dataDirectory: settings.dataDirectory, now: Date())
    if let url = settings.databaseURL {
        let config = try SQLPostgresConfiguration.pls(url: url)
        // PostgreSQL's driver always logs SQL at some level: at trace, which the entrypoint never enables.
        app.databases.use(.postgres(configuration: config, maxConnectionsPerEventLoop: settings.connectionsPerLoop, sqlLogLevel: .trace), as: .psql)
        // The ledger writes through its own thread and connection (`LedgerLoop`, below); this pool is where a write made
        // while the application stops goes, and opens no connection until one does.
        app.databases.use(.postgres(configuration: config, sqlLogLevel: .trace), as: .ledgerWriter, isDefault: false)
        if let readURL = settings.readDatabaseURL {
            var replica = try SQLPostgresConfiguration.pls(url: readURL)
            // A replica that went away is noticed in seconds, and its reads go to the primary meanwhile.
            replica.coreConfiguration.options.connectTimeout = .seconds(2)
            app.databases.use(.postgres(configuration: replica, maxConnectionsPerEventLoop: settings.connectionsPerLoop,
                                        connectionPoolTimeout: .seconds(2), sqlLogLevel: .trace),
                              as: .readReplica, isDefault: false)
            app.readReplica = ReadReplica(maxLag: .seconds(settings.readMaxLag))
        }
    } else {
        app.databases.use(.sqlite(.file(settings.sqliteFile), sqlLogLevel: nil), as: .sqlite)
        app.databases.use(.sqlite(.file(settings.sqliteFile), sqlLogLevel: nil), as: .ledgerWriter, isDefault: false)
    }

    // MARK: Middleware (outermost first): requests in flight, errors, headers, static files.
    app.middleware = .init()
    let inFlight = InFlightRequests()
    app.middleware.use(inFlight)
    app.middleware.use(MetricsMiddleware(metrics: app.metrics))
    app.middleware.use(RoutePatternLoggingMiddleware())
    app.middleware.use(AppErrorMiddleware())
    app.middleware.use(SecurityHeadersMiddleware(strictTransport: settings.secureTransport))
    app.middleware.use(PublicFilesMiddleware(publicDirectory: app.directory.publicDirectory))
    // The API's query parameters as openapi.json declares them (422 for a value outside its type, range or list).
    if let document = FileManager.default.contents(atPath: app.directory.publicDirectory + "openapi.json") {
        app.middleware.use(try QueryValidationMiddleware(openAPI: document))
    } else {
        app.logger.warning("openapi.json not found in \(app.directory.publicDirectory): API query parameters are not checked")
    }
    try ControlCharacterCheckingDecoder.install()
    try CheckedMultipartDecoder.install()
    app.rateLimiter = RateLimiter(limits: RateLimiter.defaults.mapValues {
        .init(count: $0.count * settings.rateLimitScale, window: $0.window)
    })

    app.sessions.use(.fluent)
    app.sessions.configuration.cookieName = "pls-session"
    let secure = settings.secureTransport
    app.sessions.configuration.cookieFactory = { id in
        HTTPCookies.Value(string: id.string, expires: Date().addingTimeInterval(60 * 60 * 12), maxAge: nil, path: "/",
                          isSecure: secure, isHTTPOnly: true, sameSite: .lax)
    }
    // Forms and JSON are small; the routes that take files or sheets set their own limit and read only after sign-in.
    app.routes.defaultMaxBodySize = "1mb"

    // MARK: Views
    app.views.use(.leaf)
    app.leaf.cache.isEnabled = app.environment.isRelease

    // MARK: Migrations: numbered, each with its revert.
    for migration in migrations(settings) { app.migrations.add(migration) }

    // MARK: Capabilities
    app.indicators = IndicatorRegistry(RegistryIndicators.all + IntakeIndicators.all + LegalAidIndicators.all + MediationIndicators.all + GrassrootsIndicators.all + RosterIndicators.all + EvaluationIndicators.all + CallCentreIndicators.all + [CentreStations.indicator] + CentreWaitIndicators.all)
    app.calendarStore = CalendarStore()
    app.ledger = Ledger(databases: app.databases, sqliteFile: settings.usesEmbeddedDatabase ? settings.sqliteFile : nil,
                        loop: try settings.databaseURL.map { LedgerLoop(postgres: try SQLPostgresConfiguration.pls(url: $0), threadPool: app.threadPool) },
                        protector: settings.personalData)
    app.lifecycle.use(Ledger.Shutdown())
    app.regionDirectory = RegionDirectory()
    app.tokenCache = TokenCache()
    app.databases.middleware.use(RegionDirectory.Invalidation(directory: app.regionDirectory))
    app.databases.middleware.use(TokenCache.Invalidation(cache: app.tokenCache))
    app.rulesCache = Catalog.RulesCache()
    app.smsProvider = try SmsOutbox.provider(from: ProcessInfo.processInfo.environment, app: app)

    // MARK: Commands
    app.asyncCommands.use(RegionsCommand(), as: "regions")
    app.asyncCommands.use(AccountsCommand(), as: "accounts")
    app.asyncCommands.use(CalendarCommand(), as: "calendar")
    app.asyncCommands.use(LedgerCommand(), as: "ledger")
    app.asyncCommands.use(DemoCommand(), as: "demo")
    app.asyncCommands.use(SetupCommand(), as: "setup")
    app.asyncCommands.use(BackupCommand(), as: "backup")
    // The overdue scan belongs to the server, not to one-off commands such as `pls demo generate`.
    let command = app.environment.arguments.dropFirst().first
    if app.environment != .testing, command == nil || command == "serve" {
        app.lifecycle.use(RepeatingJob.overdueScan(every: .minutes(5)))
        app.lifecycle.use(RepeatingJob.smsDelivery)
        app.lifecycle.use(RepeatingJob.workOrderCallbacks)
        app.lifecycle.use(RepeatingJob.callQualityDraw)
        app.lifecycle.use(IndicatorSeries.job)
        if app.readReplica != nil { app.lifecycle.use(ReadReplica.job) }
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
    // A database holding the demo city (its passwords are published) is never served to other machines unless asked.
    if !settings.demo, !Settings.servesOnLoopbackOnly(app.environment.arguments),
       try await DemoLoader.holdsDemoCity(app.db) {
        throw AppError(.internalServerError, "demo_database",
                       "数据目录中是演示数据（演示账号密码公开），不能在其他机器可访问的地址上提供服务：请换用新的数据目录（PLS_DATA_DIR），或明确设置 PLS_DEMO=1")
    }
    if settings.demo { try await DemoLoader.loadIfEmpty(app: app, options: options) }
    try await app.cityStore.reload(from: app.db as! any SQLDatabase)
    if app.city.code == nil, !options.quiet, app.environment.arguments.dropFirst().first == "serve" {
        // A first start without the demo: what to do next, where the administrator is looking.
        print("""
            尚未设置城市：平台在导入行政区划、创建市级管理员之后才能使用。在同一数据目录中运行：
              PLS_DEMO=0 PLS_PASSWORD=初始密码 pls setup --regions 行政区划.csv --admin 管理员用户名 --sms-signature 【X市公共法律服务】
            详见 README 的“Starting for a real city”。
            """)
    }
}

/// Every migration, in the order they run. A deployed database has run a prefix of this list: a migration is never
/// changed or moved once released, and never calls code that may change later (`MigrationTests`).
func migrations(_ settings: Settings) -> [any Migration] {
    [
        M001CreateRegions(),
        M002CreateInstitutions(),
        M003CreatePractitioners(),
        M004CreateAccounts(),
        SessionRecord.migration,
        M005CreateCalendar(),
        M006CreateLedger(),
        M007CreateServiceRequests(),
        M008CreateCatalog(),
        M009AddRequestQueueIndex(),
        Attachments.M010CreateAttachments(),
        M011CreateLegalAid(),
        M012CreateMediation(),
        M013CreateVillageAdvisers(),
        M014CreateRosters(),
        M015CreateTrainingAndAdviserWork(),
        M016MarkGovernmentBodies(),
        M017CreateAdviserServicePhotos(),
        M018CreateStaffTrainingAttendance(),
        M019CreateRequestCounts(),
        M020CreateIndicatorFigures(),
        M021KeepRequestDayCountersByTrigger(),
        M022CreateSignInAttempts(),
        M023SealPersonalText(protector: settings.personalData),
        M024SealCaseText(protector: settings.personalData),
        M025AddMigrantWorkerClaims(),
        M026CreateDeadlineNotices(),
        M027MarkSchoolKinds(),
        M028ApplyForCriminalLegalAidOnline(),
        M029CreateCitySettings(),
        M030AddSmsOutbox(),
        M031CreateAuditLog(),
        M032CreateRatingInvitations(),
        M033IndexLegalAidSteps(),
        M034CreateRectifications(),
        M035CreateComplaintsAndCreditRecords(),
        M036AddStepFigures(),
        M037CreatePublicInterestServices(),
        M038IndexRatedAt(),
        M039CreateQualityReviews(),
        M040KeyDeadlineNoticesBySubject(),
        M041AddReviewRectification(),
        M042AddLegalAidReplacement(),
        M043AddCreditDocuments(),
        M044CreateSystemClients(),
        M045CreateWorkOrderLinks(),
        M046CreateCalls(),
        M047CreateQueueTickets(),
        M048CreateCentreStations(),
        M049CreateOutboundTransfers(),
        M050CreateOperatorStates(),
        M051CreateCallQualityChecks(),
        M052CreateCentreArrangements(),
        M053CreateLeadersView(),
        M054IndexIndicatorReads(),
    ]
}

extension Deadlines {
    /// Every capability whose steps outside a matter case are watched (reminded before, escalated after): one line each.
    static let watchers: [@Sendable (CivilDate, any SQLDatabase) async throws -> [WatchedDeadline]] = [
        { try await Rectifications.deadlines(dueBy: $0, on: $1) },
        { try await Complaints.deadlines(dueBy: $0, on: $1) },
        { try await QualityReviews.deadlines(dueBy: $0, on: $1) },
        { try await Calls.deadlines(dueBy: $0, on: $1) },
        { try await WorkOrders.deadlines(dueBy: $0, on: $1) },
    ]
}

extension RequestActions {
    /// What other capabilities do in the write that changes a request's status: one line each.
    static let statusHooks: [@Sendable (ServiceRequest, RequestAction, RequestStatus, String?, Ledger.Writer, Principal, Application, Date) async throws -> Void] = [
        { try await WorkOrders.statusChanged($0, action: $1, to: $2, note: $3, writer: $4, app: $6, at: $7) },
        { try await OutboundTransfers.statusChanged($0, action: $1, note: $3, writer: $4, by: $5, app: $6, at: $7) },
    ]
}

extension RequestViews {
    /// The names of the events other capabilities write on a request's timeline (a matter case's come with it).
    static let capabilityEventNames: [String: String] = Rectifications.eventNames.merging(Complaints.eventNames) { a, _ in a }
        .merging(OutboundTransfers.eventNames) { a, _ in a }
}

extension MatterCases {
    /// Every capability whose matter carries a case of its own: one line each (`MatterCase`).
    static let registered: [any MatterCase] = [
        LegalAidMatterCase(),
        MediationMatterCase(),
    ]
}
