import XCTVapor
import Fluent
import SQLKit
import PLSDomain
import NIOConcurrencyHelpers
@testable import PLSApp

/// Each test gets a fresh database holding the small demo city: a new SQLite file, or, when
/// `DATABASE_URL` is set (scripts/test does), an emptied PostgreSQL schema.
class AppTestCase: XCTestCase {
    var app: Application!
    var dataDir: String!
    /// The city each test starts with: the small demo city, or another (`SecondCityTests`).
    var city: DemoCity { Self.smallDemoCity }
    /// Whether `city` is the demo city, loaded as the demo is; another city is loaded as data, with the demo off.
    var usesDemoCity: Bool { true }
    static let smallDemoCity = DemoCity(scale: .small)
    /// The date the demo city is loaded on (duty rotas and practice years hang on it); nil: the wall clock.
    var loadedOn: Date? { nil }

    override func setUp() async throws {
        dataDir = NSTemporaryDirectory() + "pls-test-" + UUID().uuidString
        app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        if let loadedOn { app.clock.set(loadedOn) }
        try await configure(app, options: ConfigureOptions(dataDirectory: dataDir, demo: usesDemoCity, demoScale: .small,
                                                           quiet: true, resetDatabase: true))
        if !usesDemoCity {
            try await DemoLoader.load(city, app: app, on: app.db)
            try await app.cityStore.reload(from: app.db as! any SQLDatabase)
        }
        if let log = ProcessInfo.processInfo.environment["PLS_RESPONSES_LOG"] { app.middleware.use(ResponseRecorder(path: log), at: .beginning) }
    }

    override func tearDown() async throws {
        try await app.asyncShutdown()
        app = nil
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    var usesPostgres: Bool { !app.settings.usesEmbeddedDatabase }

    // MARK: Requests

    func send(_ method: HTTPMethod, _ path: String, token: String? = nil, json: (any Encodable)? = nil,
              headers: HTTPHeaders = [:], body: String? = nil, file: StaticString = #filePath, line: UInt = #line) async throws -> XCTHTTPResponse {
        try await app.testable().sendRequest(method, path, headers: headers, file: file, line: line) { req async throws in
            if let token { req.headers.bearerAuthorization = BearerAuthorization(token: token) }
            if let body { req.body = ByteBuffer(string: body) }
            if let json { try req.content.encode(AnyEncodable(json), as: .json) }
        }
    }

    /// A POST of raw bytes (a workbook, a file in a foreign encoding) with its content type.
    func upload(_ bytes: some Sequence<UInt8>, as contentType: String, to path: String, token: String,
                file: StaticString = #filePath, line: UInt = #line) async throws -> XCTHTTPResponse {
        try await app.testable().sendRequest(.POST, path, headers: ["Content-Type": contentType], body: ByteBuffer(bytes: bytes),
                                             file: file, line: line) { req async throws in
            req.headers.bearerAuthorization = BearerAuthorization(token: token)
        }
    }

    func token(_ username: String, password: String = DemoCity.password) async throws -> String {
        let res = try await send(.POST, "/api/v1/auth/login", json: ["username": username, "password": password])
        XCTAssertEqual(res.status, .ok, res.body.string)
        return try res.content.decode(AuthController.TokenResponse.self).token
    }

    func errorBody(_ res: XCTHTTPResponse) throws -> AppErrorMiddleware.Body.Detail {
        try res.content.decode(AppErrorMiddleware.Body.self).error
    }

    var sql: any SQLDatabase { app.db as! any SQLDatabase }

    /// The running figures the triggers kept equal a recount from the case rows (`RunningFigure.refill`).
    func assertRunningFiguresMatchRecount(file: StaticString = #filePath, line: UInt = #line) async throws {
        struct Figure: Decodable, Hashable { var figure: String; var regionCode: String; var year: Int; var num: Int; var den: Int }
        func figures() async throws -> Set<Figure> {
            Set(try await sql.raw("SELECT figure, region_code, year, num, den FROM indicator_figures WHERE den <> 0 OR num <> 0")
                .all(decoding: Figure.self, keyDecodingStrategy: .snakeCase))
        }
        let kept = try await figures()
        try await RunningFigure.refill(on: sql)
        let recounted = try await figures()
        XCTAssertEqual(kept, recounted, "running figures drifted from the rows", file: file, line: line)
        XCTAssertFalse(kept.isEmpty, file: file, line: line)
    }

    func county(_ index: Int) -> DemoCity.Region { city.regions.filter { $0.level == .county }[index] }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// A browser-like session for page tests: keeps cookies and the CSRF token.
struct BrowserSession {
    let test: AppTestCase
    var cookies: [String: String] = [:]

    init(_ test: AppTestCase) { self.test = test }

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func remember(_ res: XCTHTTPResponse) {
        for header in res.headers[.setCookie] {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { cookies[parts[0]] = parts[1] }
        }
    }

    mutating func get(_ path: String) async throws -> XCTHTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: .accept, value: "text/html")
        if !cookies.isEmpty { headers.add(name: .cookie, value: cookieHeader) }
        let res = try await test.app.testable().sendRequest(.GET, path, headers: headers) { _ async throws in }
        remember(res)
        return res
    }

    /// Posts a form with the CSRF token from the cookie, as the page's hidden field would.
    mutating func post(_ path: String, _ form: [(String, String)], csrf: Bool = true) async throws -> XCTHTTPResponse {
        if cookies[CSRFMiddleware.cookieName] == nil { _ = try await get("/") }
        var fields = form
        if csrf { fields.append((CSRFMiddleware.fieldName, cookies[CSRFMiddleware.cookieName] ?? "")) }
        let body = fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            .joined(separator: "&")
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        headers.add(name: .accept, value: "text/html")
        headers.add(name: .cookie, value: cookieHeader)
        let res = try await test.app.testable().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body)) { _ async throws in }
        remember(res)
        return res
    }

    /// Posts a multipart form (a page's form with a file input), the CSRF token in its address as the page sends it.
    mutating func postMultipart(_ path: String, _ form: [(String, String)], files: [(name: String, filename: String, bytes: [UInt8])]) async throws -> XCTHTTPResponse {
        if cookies[CSRFMiddleware.cookieName] == nil { _ = try await get("/") }
        let boundary = "plsbrowserboundary"
        var body = ByteBuffer()
        for (k, v) in form { body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n") }
        for f in files {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(f.name)\"; filename=\"\(f.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            body.writeBytes(f.bytes)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        headers.add(name: .accept, value: "text/html")
        headers.add(name: .cookie, value: cookieHeader)
        let token = cookies[CSRFMiddleware.cookieName] ?? ""
        let res = try await test.app.testable().sendRequest(.POST, path + (path.contains("?") ? "&" : "?") + "_csrf=" + token, headers: headers, body: body) { _ async throws in }
        remember(res)
        return res
    }

    mutating func signIn(_ username: String) async throws {
        _ = try await get("/login")
        let res = try await post("/login", [("username", username), ("password", DemoCity.password)])
        XCTAssertEqual(res.status, .seeOther, res.body.string)
    }
}

/// Writes every JSON answer of the API, with its method, path and status, one JSON line each, for scripts/test to check
/// against `openapi.json` (Tests/openapi/check_responses.py): the document cannot drift from what the code answers.
struct ResponseRecorder: AsyncMiddleware {
    let path: String
    private static let lock = NIOLock()

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        guard request.url.path.hasPrefix("/api/"), response.headers.contentType?.subType == "json",
              let body = response.body.data ?? response.body.buffer.map({ Data($0.readableBytesView) }) else { return response }
        let line: [String: Any] = ["method": request.method.rawValue, "path": request.url.path, "status": Int(response.status.code),
                                   "body": String(decoding: body, as: UTF8.self)]
        let data = try JSONSerialization.data(withJSONObject: line) + Data("\n".utf8)
        Self.lock.withLock {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            if let handle = FileHandle(forWritingAtPath: path) { handle.seekToEndOfFile(); handle.write(data); handle.closeFile() }
        }
        return response
    }
}
