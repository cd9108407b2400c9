import XCTVapor
import PLSDomain
@testable import PLSApp

final class AttachmentTests: AppTestCase {
    static let pdf = Array("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)

    func multipart(_ bytes: [UInt8], filename: String, extra: [(String, String)] = []) -> (HTTPHeaders, ByteBuffer) {
        let boundary = "plsboundary7MA4YWxkTrZu0gW"
        var body = ByteBuffer()
        for (k, v) in extra {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n")
        }
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        body.writeBytes(bytes)
        body.writeString("\r\n--\(boundary)--\r\n")
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        return (headers, body)
    }

    func citizenRequest() async throws -> (String, UUID) {
        let login = try await send(.POST, "/api/v1/auth/citizen-login", json: ["mobile": DemoCity.citizenMobile, "password": DemoCity.password])
        let token = try login.content.decode(AuthController.TokenResponse.self).token
        let village = city.regions.first { $0.level == .village }!.code.rawValue
        let res = try await send(.POST, "/api/v1/requests", token: token, json: Intake.Input(
            matterType: "notarization", itemCode: "notarization.birth", category: "other", description: "办理出生公证",
            applicant: .init(name: "王秀英", mobile: DemoCity.citizenMobile), regionCode: village))
        return (token, try res.content.decode(RequestViews.Detail.self).id)
    }

    func testUploadListAndDownload() async throws {
        let (token, id) = try await citizenRequest()
        var (headers, body) = multipart(Self.pdf, filename: "../../出生医学证明.pdf")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        var res = try await app.testable().sendRequest(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { _ async throws in }
        XCTAssertEqual(res.status, .created, res.body.string)
        let row = try res.content.decode(Attachments.Row.self)
        XCTAssertEqual(row.filename, "出生医学证明.pdf", "no path survives")
        XCTAssertEqual(row.contentType, "application/pdf")

        res = try await send(.GET, "/api/v1/requests/\(id)/attachments", token: token)
        XCTAssertEqual(try res.content.decode([Attachments.Row].self).count, 1)
        res = try await send(.GET, "/api/v1/requests/\(id)/attachments/\(row.id)", token: token)
        XCTAssertEqual(res.status, .ok)
        XCTAssertEqual(Array(res.body.readableBytesView), Self.pdf)
        XCTAssertTrue(res.headers.first(name: .contentDisposition)?.hasPrefix("attachment;") ?? false)

        // Someone else's request: not found, file and list alike.
        let lawyer = try await self.token("lawyer")
        res = try await send(.GET, "/api/v1/requests/\(id)/attachments/\(row.id)", token: lawyer)
        XCTAssertEqual(res.status, .notFound)
        res = try await send(.GET, "/api/v1/requests/\(id)/attachments", token: lawyer)
        XCTAssertEqual(res.status, .notFound)
    }

    func testOnlyPdfJpegPngAndNothingLeftBehind() async throws {
        let (token, id) = try await citizenRequest()
        var (headers, body) = multipart(Array("<script>alert(1)</script>".utf8), filename: "x.pdf")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        let res = try await app.testable().sendRequest(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { _ async throws in }
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["file"], "只能上传 PDF、JPG 或 PNG 文件")
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: dataDir + "/attachments")) ?? []
        XCTAssertTrue(stored.isEmpty)
    }

    func testTooLargeIsRefused() async throws {
        let (token, id) = try await citizenRequest()
        var (headers, body) = multipart(Self.pdf + [UInt8](repeating: 0x20, count: 10 * 1024 * 1024 + 10), filename: "big.pdf")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        let res = try await app.testable().sendRequest(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { _ async throws in }
        XCTAssertEqual(res.status, .unprocessableEntity)
        XCTAssertEqual(try errorBody(res).fields["file"], "文件不能超过 10 MB")
    }

    /// Over a real connection the body arrives in pieces: it goes to disk as it comes, the parts are read from there,
    /// and nothing is left in the work directory afterwards, whether the upload was stored or refused.
    func testAnUploadOverTheNetworkIsReceivedToDiskAndCleanedUp() async throws {
        let (token, id) = try await citizenRequest()
        // A part body larger than the parser's slices, with the boundary's first bytes inside it.
        let content = Self.pdf + (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7) } + Array("\r\n--plsbound".utf8) + Self.pdf
        var (headers, body) = multipart(content, filename: "判决书.pdf", extra: [("note", "第一页")])
        headers.bearerAuthorization = BearerAuthorization(token: token)
        let server = try app.testable(method: .running(hostname: "127.0.0.1", port: Int.random(in: 20_000...40_000)))
        var row: Attachments.Row?
        try await server.test(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { res async in
            XCTAssertEqual(res.status, .created, res.body.string)
            row = try? res.content.decode(Attachments.Row.self)
        }
        XCTAssertEqual(row?.size, content.count)
        XCTAssertEqual(row?.sha256, Hex.encode(SHA256.hash(data: content)))

        // More than the route takes: 413, nothing stored, nothing left.
        (headers, body) = multipart(Self.pdf + [UInt8](repeating: 0x20, count: 12 << 20), filename: "big.pdf")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        try await server.test(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { res async in
            XCTAssertEqual(res.status, .payloadTooLarge)
            XCTAssertEqual((try? self.errorBody(res))?.code, "upload_too_large")
        }
        // Malformed: 400, and the server goes on.
        (headers, body) = multipart(Self.pdf, filename: "x.pdf")
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=other")
        headers.bearerAuthorization = BearerAuthorization(token: token)
        try await server.test(.POST, "/api/v1/requests/\(id)/attachments", headers: headers, body: body) { res async in
            XCTAssertEqual(res.status, .badRequest)
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: ReceivedForm.workDirectory(app))) ?? []
        XCTAssertEqual(left, [])
        let stored = try await send(.GET, "/api/v1/requests/\(id)/attachments", token: token).content.decode([Attachments.Row].self)
        XCTAssertEqual(stored.count, 1)
    }

    func testUploadFromThePortalPage() async throws {
        let (_, id) = try await citizenRequest()
        let number = try await ServiceRequest.find(id, on: app.db)!.number
        var browser = BrowserSession(self)
        _ = try await browser.get("/login/citizen")
        _ = try await browser.post("/login/citizen", [("mobile", DemoCity.citizenMobile), ("password", DemoCity.password), ("action", "login")])
        // As the page's form sends it: the token in the form's address, since a multipart body is read only after sign-in.
        var (headers, body) = multipart(Self.pdf, filename: "户口簿.pdf")
        headers.add(name: .cookie, value: browser.cookieHeader)
        let token = browser.cookies[CSRFMiddleware.cookieName] ?? ""
        var res = try await app.testable().sendRequest(.POST, "/my/\(number)/attachments", headers: headers, body: body) { _ async throws in }
        XCTAssertEqual(res.status, .forbidden, "without the token")
        res = try await app.testable().sendRequest(.POST, "/my/\(number)/attachments?_csrf=\(token)", headers: headers, body: body) { _ async throws in }
        XCTAssertEqual(res.status, .seeOther)
        XCTAssertFalse((res.headers.first(name: .location) ?? "").removingPercentEncoding?.contains("失败") ?? true, res.headers.first(name: .location) ?? "")
        let page = try await browser.get("/my/\(number)")
        XCTAssertTrue(page.body.string.contains("户口簿.pdf"))
    }
}
