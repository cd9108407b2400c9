import Vapor

/// Maps every error to the JSON body `{"error":{"code","message","fields"}}` for the API,
/// or to a Chinese error page for browsers. Internal details are logged, never shown.
struct AppErrorMiddleware: AsyncMiddleware {
    struct Body: Content {
        struct Detail: Content { var code: String; var message: String; var fields: [String: String] }
        var error: Detail
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let appError = Self.appError(from: error, request: request)
            if let e = error as? DecodingError {
                // Only where it failed: the message of a DecodingError can quote the stored value (a person's data).
                request.logger.error("a stored value did not decode (\(Self.decodingKind(e))) at \(Self.decodingPath(e))")
            } else if appError.status.code >= 500 {
                request.logger.report(error: error)
            }
            if request.wantsJSON {
                let response = Response(status: appError.status)
                try response.content.encode(Body(error: .init(code: appError.code, message: appError.message, fields: appError.fields)))
                if let wait = appError.retryAfter { response.headers.replaceOrAdd(name: .retryAfter, value: String(wait)) }
                return response
            }
            if appError.status == .unauthorized {
                // Back where they were after signing in, with what the address carried (the pre-check's figures);
                // a citizen's page leads to the citizen's sign-in, any other to the staff's.
                let next = request.url.path + (request.url.query.map { "?" + $0 } ?? "")
                let login = HomePages.isCitizenPage(request.url.path) ? "/login/citizen" : "/login"
                return request.redirect(to: login + "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
            }
            let context = ErrorPage(page: request.pageMeta(title: "出错了"), status: Int(appError.status.code), message: appError.message)
            let response = try await request.view.render("error", context).encodeResponse(for: request)
            response.status = appError.status
            if let wait = appError.retryAfter { response.headers.replaceOrAdd(name: .retryAfter, value: String(wait)) }
            return response
        }
    }

    struct ErrorPage: Encodable { var page: PageMeta; var status: Int; var message: String }

    static func appError(from error: any Error, request: Request) -> AppError {
        switch error {
        case let e as AppError:
            return e
        case is DecodingError:
            // The caller's body is decoded at the edge, where a failure is already a 422 (`ControlCharacterCheckingDecoder`,
            // `CheckedMultipartDecoder`): one that arrives here is a row the server could not read, never a "必填" for the user.
            return AppError(.internalServerError, "server_error", "服务暂时不可用，请稍后再试")
        case let e as any AbortError:
            switch e.status {
            case .notFound: return AppError(.notFound, "not_found", "页面或接口不存在")
            case .methodNotAllowed: return AppError(.methodNotAllowed, "method_not_allowed", "不支持该请求方式")
            case .unsupportedMediaType: return AppError(.unsupportedMediaType, "unsupported_media_type", "不支持的内容类型，请使用 JSON 或表单提交")
            case .payloadTooLarge: return AppError(.payloadTooLarge, "payload_too_large", "提交的内容过大")
            case .unauthorized: return .unauthenticated
            case .forbidden: return .forbidden
            default:
                if e.status.code < 500 { return AppError(e.status, "bad_request", "请求有误：" + e.reason) }
                return AppError(e.status, "server_error", "服务暂时不可用，请稍后再试")
            }
        default:
            return unavailable(error) ?? AppError(.internalServerError, "server_error", "服务暂时不可用，请稍后再试")
        }
    }

    /// The database out of reach (PostgreSQL restarting, the pool out of connections) or out of space: 503 with
    /// `Retry-After`, so that clients and the load balancer wait and try again; the pool reconnects by itself.
    /// Recognised by type name and message, so that the error middleware needs no driver imported.
    static func unavailable(_ error: any Error) -> AppError? {
        let type = String(reflecting: Swift.type(of: error))
        // PostgresNIO's description is deliberately vague; its debug description names the code.
        let text = String(describing: error) + " " + String(reflecting: error)
        if text.contains("database or disk is full") || text.contains("No space left on device") || text.contains("SQLITE_FULL") {
            var e = AppError(.serviceUnavailable, "storage_full", "服务器存储空间不足，已保存的数据不受影响；请联系管理员，稍后再试")
            e.retryAfter = 60
            return e
        }
        let connectionTypes = ["PSQLError", "NIOConnectionError", "ConnectionPoolTimeoutError", "ConnectionPoolError", "ChannelError", "IOError",
                               "PostgresError"]
        let connectionWords = ["connectionClosed", "serverClosedConnection", "connectionError", "connectionRequestTimeout", "Connection refused",
                               "connection reset", "ioOnClosedChannel", "the database system is starting up", "the database system is shutting down",
                               "terminating connection", "uncleanShutdown", "connectTimeout", "poolShutdown", "tooManyConnections"]
        if connectionTypes.contains(where: { type.hasSuffix($0) }), connectionWords.contains(where: { text.contains($0) || type.contains($0) }) || type.hasSuffix("ConnectionPoolTimeoutError") {
            var e = AppError(.serviceUnavailable, "database_unavailable", "数据库暂时不可用，请稍后再试")
            e.retryAfter = 5
            return e
        }
        return nil
    }

    static func decodingKind(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "key not found"
        case .valueNotFound: "value not found"
        case .typeMismatch(let type, _): "type mismatch, expected \(type)"
        case .dataCorrupted: "data corrupted"
        @unknown default: "unknown"
        }
    }

    static func decodingPath(_ error: DecodingError) -> String {
        let context: DecodingError.Context?
        switch error {
        case .keyNotFound(let key, let c): return (c.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        case .valueNotFound(_, let c), .typeMismatch(_, let c), .dataCorrupted(let c): context = c
        @unknown default: context = nil
        }
        return context.map { $0.codingPath.map(\.stringValue).joined(separator: ".") } ?? ""
    }

    /// The caller's body did not decode: 422 naming the field.
    static func decodingError(_ error: DecodingError) -> AppError {
        func path(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            (codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return .validation([path(ctx.codingPath, key): "必填"])
        case .valueNotFound(_, let ctx):
            return .validation([path(ctx.codingPath): "必填"])
        case .typeMismatch(_, let ctx):
            return .validation([path(ctx.codingPath): "格式不正确"])
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return AppError(.badRequest, "invalid_body", "请求内容不是有效的 JSON") }
            return .validation([path(ctx.codingPath): "格式不正确"])
        @unknown default:
            return AppError(.badRequest, "invalid_body", "请求内容无法解析")
        }
    }
}

extension Request {
    /// API paths and clients that ask for JSON get JSON errors; browsers get pages.
    var wantsJSON: Bool {
        let path = url.path
        if path.hasPrefix("/api/") || path == "/openapi.json" || path == "/readyz" || path == "/healthz" { return true }
        return headers.accept.mediaTypes.contains(.json) && !headers.accept.mediaTypes.contains(.html)
    }
}
