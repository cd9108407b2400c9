import Vapor

/// Double-submit CSRF protection for forms: a random cookie, repeated in a hidden field.
/// Stateless, so anonymous visitors cost no session row; SameSite=Strict keeps other sites from sending it.
struct CSRFMiddleware: AsyncMiddleware {
    static let cookieName = "pls-csrf"
    static let fieldName = "_csrf"
    /// The largest URL-encoded form any page posts (a pasted sign-in sheet is the longest): read before anyone is known.
    static let largestForm = 1024 * 1024

    struct TokenKey: StorageKey { typealias Value = String }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = request.cookies[Self.cookieName]?.string
        let token = existing ?? Tokens.random(bytes: 24)
        request.storage[TokenKey.self] = token
        if ![.GET, .HEAD, .OPTIONS].contains(request.method) {
            guard let existing, let submitted = try await Self.submittedToken(request), Tokens.same(submitted, existing) else {
                throw AppError(.forbidden, "csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交")
            }
        }
        let response = try await next.respond(to: request)
        if existing == nil {
            response.cookies[Self.cookieName] = HTTPCookies.Value(string: token, maxAge: 60 * 60 * 12, path: "/",
                                                                   isSecure: request.application.settings.secureTransport, isHTTPOnly: true, sameSite: .strict)
        }
        return response
    }
}

extension CSRFMiddleware {
    /// A file upload (multipart) carries the token in its form's address (`?_csrf=`) or a header, never only in its
    /// body: a multipart body is read only after the route knows who is calling, never here for anyone.
    static func submittedToken(_ request: Request) async throws -> String? {
        if let header = request.headers.first(name: "X-CSRF-Token") { return header }
        if request.headers.contentType == .urlEncodedForm {
            if request.body.data == nil { _ = try await request.body.collect(max: largestForm).get() }
            // Read from the raw form, not through the content decoder: a bad character in another field is that
            // field's 422 for the handler to name, not a failed token here.
            if let body = request.body.data, let field = formField(fieldName, in: body) { return field }
        }
        return request.queryValue(fieldName)
    }

    static func formField(_ name: String, in body: ByteBuffer) -> String? {
        FormEncoding.pairs(Substring(body.getString(at: body.readerIndex, length: body.readableBytes) ?? "")).first { $0.name == name }?.value
    }

}

extension Request {
    var csrfToken: String { storage[CSRFMiddleware.TokenKey.self] ?? "" }
}
