import XCTVapor
import NIOConcurrencyHelpers
@testable import PLSApp

final class PlatformTests: AppTestCase {
    func testHealthAndReadiness() async throws {
        var res = try await send(.GET, "/healthz")
        XCTAssertEqual(res.status, .ok)
        res = try await send(.GET, "/readyz")
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(try res.content.decode([String: String].self)["status"], "ready")
    }

    /// Every /api/v1 route is described in /openapi.json, and the document names no route that does not exist.
    func testOpenAPIDescribesEveryRoute() async throws {
        let res = try await send(.GET, "/openapi.json")
        XCTAssertEqual(res.status, .ok)
        let doc = try JSONSerialization.jsonObject(with: Data(res.body.string.utf8)) as! [String: Any]
        XCTAssertEqual(doc["openapi"] as? String, "3.1.0")
        let paths = doc["paths"] as! [String: [String: Any]]
        var documented = Set<String>()
        for (path, ops) in paths {
            for method in ops.keys where method != "parameters" { documented.insert("\(method.uppercased()) \(path)") }
        }
        var routed = Set<String>()
        for route in app.routes.all where route.path.first?.description == "api" {
            let path = "/" + route.path.map { component -> String in
                if case .parameter(let name) = component { return "{\(name)}" }
                return component.description
            }.joined(separator: "/")
            routed.insert("\(route.method.rawValue) \(path)")
        }
        XCTAssertFalse(routed.isEmpty)
        XCTAssertEqual(routed.subtracting(documented).sorted(), [], "routes missing from /openapi.json")
        XCTAssertEqual(documented.subtracting(routed).sorted(), [], "documented routes that do not exist")
    }

    /// A stop waits for the requests still being handled (their clients may have hung up) before anything closes.
    func testShutdownWaitsForRequestsStillBeingHandled() async throws {
        struct Slow: AsyncResponder {
            let finished: NIOLockedValueBox<Bool>
            func respond(to request: Request) async throws -> Response {
                try await Task.sleep(for: .milliseconds(300))
                finished.withLockedValue { $0 = true }
                return Response(status: .ok)
            }
        }
        let inFlight = InFlightRequests(timeout: .seconds(10))
        let finished = NIOLockedValueBox(false)
        let request = Request(application: app, on: app.eventLoopGroup.next())
        let handling = Task { try await inFlight.respond(to: request, chainingTo: Slow(finished: finished)) }
        while inFlight.current == 0 { await Task.yield() }
        await inFlight.shutdownAsync(app)
        XCTAssertTrue(finished.withLockedValue { $0 }, "the shutdown returned before the request was handled")
        XCTAssertEqual(inFlight.current, 0)
        _ = try await handling.value
    }

    /// Query parameters as browsers and department systems send them: escapes, '+' for a space, a name given twice
    /// (the first counts), a name without a value; plain ones skip the decoding.
    func testQueryValuesAreDecodedOnce() throws {
        let request = Request(application: app, url: URI(string: "/x?a=1&b=%E4%B8%AD+%E6%96%87&a=2&c&d=&%65=5&f=a%2Bb"),
                              on: app.eventLoopGroup.next())
        XCTAssertEqual(request.queryValue("a"), "1")
        XCTAssertEqual(request.queryValue("b"), "中 文")
        XCTAssertEqual(request.queryValue("c"), "")
        XCTAssertEqual(request.queryValue("d"), "")
        XCTAssertEqual(request.queryValue("e"), "5")
        XCTAssertEqual(request.queryValue("f"), "a+b")
        XCTAssertNil(request.queryValue("h"))
    }

    func testUnknownAPIRouteGetsJSONError() async throws {
        let res = try await send(.GET, "/api/v1/no-such-thing")
        XCTAssertEqual(res.status, .notFound)
        let error = try errorBody(res)
        XCTAssertEqual(error.code, "not_found")
        XCTAssertFalse(error.message.isEmpty)
    }

    func testMalformedJSONGets400AndMissingFieldIsNamed() async throws {
        var headers = HTTPHeaders()
        headers.contentType = .json
        var res = try await app.testable().sendRequest(.POST, "/api/v1/auth/login", headers: headers, body: ByteBuffer(string: "{not json"))
        XCTAssertEqual(res.status, .badRequest)
        XCTAssertEqual(try errorBody(res).code, "invalid_body")
        res = try await send(.POST, "/api/v1/auth/login", json: ["username": "admin"])
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertNotNil(try errorBody(res).fields["password"])
    }

    func testSecurityHeadersAndNoExternalAssets() async throws {
        let res = try await send(.GET, "/", headers: ["Accept": "text/html"])
        XCTAssertEqual(res.status, .ok)
        let csp = res.headers.first(name: "Content-Security-Policy") ?? ""
        XCTAssertTrue(csp.contains("default-src 'self'"))
        XCTAssertEqual(res.headers.first(name: "X-Content-Type-Options"), "nosniff")
        XCTAssertEqual(res.headers.first(name: "X-Frame-Options"), "DENY")
        let html = res.body.string
        XCTAssertTrue(html.contains("示范市公共法律服务网"))
        // Offline intranets: nothing may be loaded from another host.
        XCTAssertNil(html.range(of: #"(src|href)="(https?:)?//"#, options: .regularExpression))
    }

    func testStaticAssetsAreServed() async throws {
        let css = try await send(.GET, "/css/app.css")
        XCTAssertEqual(css.status, .ok)
        XCTAssertFalse(css.body.string.contains("@import url(http"))
        let js = try await send(.GET, "/js/app.js")
        XCTAssertEqual(js.status, .ok)
    }

    /// Leaf reads `#if(x)` without a colon as a tag with no body and fails the whole page at render time:
    /// every `#if`, `#elseif` and `#for` in our templates carries its colon.
    func testEveryTemplateTagHasItsColon() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/Views")
        var offenders: [String] = []
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }.filter { $0.pathExtension == "leaf" }
        XCTAssertGreaterThan(files.count, 20)
        for file in files {
            let text = Array(try String(contentsOf: file, encoding: .utf8))
            var i = 0
            while i < text.count {
                let rest = String(text[i..<min(i + 8, text.count)])
                guard let tag = ["#elseif(", "#if(", "#for("].first(where: { rest.hasPrefix($0) }) else { i += 1; continue }
                var j = i + tag.count, depth = 1
                while j < text.count && depth > 0 { if text[j] == "(" { depth += 1 } else if text[j] == ")" { depth -= 1 }; j += 1 }
                if j >= text.count || text[j] != ":" { offenders.append("\(file.lastPathComponent): \(String(text[i..<min(j + 3, text.count)]))") }
                i = j
            }
        }
        XCTAssertEqual(offenders, [])
    }
}
