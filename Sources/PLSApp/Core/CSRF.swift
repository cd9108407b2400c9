import Vapor

/// Double-submit CSRF protection for forms: a random cookie, repeated in a hidden field.
/// Stateless, so anonymous visitors cost no session row; SameSite=Strict keeps other sites from sending it.
struct CSRFMiddleware: AsyncMiddleware {
    static let cookieName = "pls-csrf"
    static let fieldName = "_csrf"
    static let largestForm = 32 * 1024 * 1024

    struct TokenKey: StorageKey { typealias Value = String }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = request.cookies[Self.cookieName]?.string
        let token = existing ?? Tokens.random(bytes: 24)
        request.storage[TokenKey.self] = token
        if ![.GET, .HEAD, .OPTIONS].contains(request.method) {
            // A form with a file (an uploaded spreadsheet) arrives streamed: read it before looking for the field.
            // The cap is the largest any upload route takes; the route's own limit applies to API uploads.
            if request.body.data == nil, request.headers.contentType == .formData {
                _ = try await request.body.collect(max: Self.largestForm).get()
            }
            let submitted = (try? request.content.get(String.self, at: Self.fieldName)) ?? request.headers.first(name: "X-CSRF-Token")
            guard let existing, let submitted, submitted == existing else {
                throw AppError(.forbidden, "csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交")
            }
        }
        let response = try await next.respond(to: request)
        if existing == nil {
            response.cookies[Self.cookieName] = HTTPCookies.Value(string: token, maxAge: 60 * 60 * 12, path: "/",
                                                                   isSecure: false, isHTTPOnly: true, sameSite: .strict)
        }
        return response
    }
}

extension Request {
    var csrfToken: String { storage[CSRFMiddleware.TokenKey.self] ?? "" }
}
