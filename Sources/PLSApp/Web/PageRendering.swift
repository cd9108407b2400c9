import Vapor
import SQLKit
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

/// Options for a region field, labelled with the path below the city ("城关区 · 三阳街道"), as a datalist
/// a clerk can type a name into. One query; the names of the levels above come from the same rows.
enum RegionChoices {
    static func options(on db: any SQLDatabase, scope: DataScope,
                        levels: [RegionLevel] = [.city, .county, .town]) async throws -> [SelectOption] {
        struct R: Decodable { var code: String; var name: String; var level: String }
        // Ancestors are read too, for the labels, even when they are not offered.
        let wanted = Set(levels)
        let read = RegionLevel.allCases.filter { $0.depth <= (levels.map(\.depth).max() ?? 0) && $0 != .naturalVillage }
        let rows = try await db.select().columns("code", "name", "level").from(Region.schema)
            .where("active", .equal, true).where("level", .in, read.map(\.rawValue)).orderBy("code")
            .all(decoding: R.self)
        var names: [String: String] = [:]
        for r in rows { names[r.code] = r.name }
        return rows.compactMap { r in
            guard let code = DivisionCode(r.code), let level = code.level, wanted.contains(level),
                  scope == .everything || scope.includes(regionCode: r.code) else { return nil }
            var parts: [String] = [], c: DivisionCode? = code
            while let cur = c, cur.level != .city { if let n = names[cur.rawValue] { parts.insert(n, at: 0) }; c = cur.parent }
            return SelectOption(value: r.code, label: parts.isEmpty ? r.name : parts.joined(separator: " · "), selected: false)
        }
    }

    static func options(on req: Request, scope: DataScope) async throws -> [SelectOption] {
        try await options(on: req.sql, scope: scope)
    }
}
