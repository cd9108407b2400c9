import Vapor
import PLSDomain

extension Request {
    /// Renders a form page; with an error, the status says so and every entered value stays in its field.
    func renderForm(title: String, action: String, fields: [FormField], submit: String, cancel: String,
                    error: AppError? = nil) async throws -> Response {
        let context = FormPage(page: pageMeta(title: title), heading: title, action: action,
                               fields: fields.withErrors(error?.fields ?? [:]), submitLabel: submit, cancelHref: cancel,
                               error: error?.message)
        let response = try await view.render("admin/form", context).encodeResponse(for: self)
        if let error { response.status = error.status }
        return response
    }

    /// Redirects after a successful write, with a message the next page shows once.
    func redirect(to path: String, flash: String) -> Response {
        redirect(to: path + (path.contains("?") ? "&" : "?") + "flash=" + (flash.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    /// The submitted form as plain strings; list fields (`name[]`) are read separately.
    func formValue(_ name: String) -> String? { try? content.get(String.self, at: name) }
    func formValues(_ name: String) -> [String] { (try? content.get([String].self, at: name)) ?? [] }
}

/// Options for a region field: the city, counties and towns in scope, as a datalist a clerk can type into.
enum RegionChoices {
    static func options(on req: Request, scope: DataScope) async throws -> [SelectOption] {
        let rows = try await req.sql.select().columns("code", "name", "level").from(Region.schema)
            .where("active", .equal, true).where("level", .in, ["city", "county", "town"])
            .orderBy("code").all(decoding: Brief.self)
        return rows.filter { scope == .everything || scope.includes(regionCode: $0.code) }
            .map { SelectOption(value: $0.code, label: $0.name, selected: false) }
    }

    private struct Brief: Decodable { var code: String; var name: String; var level: String }
}
