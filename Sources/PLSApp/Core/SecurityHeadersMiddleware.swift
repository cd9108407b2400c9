import Vapor

/// Headers every response carries. The content policy allows only our own assets:
/// the platform runs on offline government intranets, and nothing may load from elsewhere.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    /// Served over https (the public address says so): browsers are told to use nothing else.
    var strictTransport = false

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        let h = response.headers
        var headers = h
        headers.replaceOrAdd(name: "Content-Security-Policy",
                             value: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        headers.replaceOrAdd(name: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()")
        if strictTransport { headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains") }
        if request.url.path.hasPrefix("/api/") || response.headers.contentType == .html {
            headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        response.headers = headers
        return response
    }
}
