import Vapor

/// The one error type of the platform. Every failure a user can cause is one of these,
/// with a Chinese message fit to show as it is; the middleware maps it to HTTP.
public struct AppError: Error, Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    /// Field path → what is wrong with it, e.g. `["applicant.idNumber": "校验位不正确"]`.
    public var fields: [String: String]
    /// Seconds before trying again, sent as `Retry-After` (429, 503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponseStatus, _ code: String, _ message: String, fields: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    public static func validation(_ fields: [String: String], message: String = "提交的信息有误，请按提示修改") -> AppError {
        AppError(.unprocessableEntity, "validation_failed", message, fields: fields)
    }
    public static let unauthenticated = AppError(.unauthorized, "unauthenticated", "请先登录")
    public static let forbidden = AppError(.forbidden, "forbidden", "您没有权限进行此操作")
    public static func notFound(_ what: String = "记录") -> AppError {
        AppError(.notFound, "not_found", "未找到该\(what)，或您无权查看")
    }
    public static func conflict(_ code: String, _ message: String, fields: [String: String] = [:]) -> AppError {
        AppError(.conflict, code, message, fields: fields)
    }
    public static func badRequest(_ message: String, fields: [String: String] = [:]) -> AppError {
        AppError(.badRequest, "bad_request", message, fields: fields)
    }
}

/// Collects what is wrong with a submission, so that every bad field is named at once.
public struct FieldErrors {
    public private(set) var fields: [String: String] = [:]
    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        if fields[field] == nil { fields[field] = message }
    }

    public mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { add(field, message) }
    }

    /// Trims the value and records "required" when it is empty; returns the trimmed value.
    @discardableResult
    public mutating func required(_ value: String?, _ field: String, _ label: String, maxLength: Int = 200) -> String {
        let v = (value ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if v.isEmpty { add(field, "请填写\(label)") } else if v.count > maxLength { add(field, "\(label)不能超过 \(maxLength) 个字") }
        return v
    }

    public mutating func optional(_ value: String?, _ field: String, _ label: String, maxLength: Int = 200) -> String? {
        let v = (value ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if v.count > maxLength { add(field, "\(label)不能超过 \(maxLength) 个字") }
        return v.isEmpty ? nil : v
    }

    public mutating func choice<E: RawRepresentable>(_ value: String?, _ field: String, _ label: String, as: E.Type) -> E? where E.RawValue == String {
        let v = (value ?? "").trimmingCharacters(in: .whitespaces)
        if v.isEmpty { add(field, "请选择\(label)"); return nil }
        guard let e = E(rawValue: v) else { add(field, "\(label)取值无效"); return nil }
        return e
    }

    public func throwIfAny() throws {
        if !fields.isEmpty { throw AppError.validation(fields) }
    }
}
