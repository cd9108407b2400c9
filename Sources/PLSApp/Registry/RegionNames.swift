import Vapor
import SQLKit
import PLSDomain

/// Places as people name them: the path from the county down ("西山县 · 城关镇 · 凤埠社区"), never a bare code on
/// screen. A form's place box offers these paths and sends one back; `code(for:)` turns it (or a unique name, or a
/// code from a department system) into the code, so two villages of the same name are told apart by their town.
enum RegionNames {
    static let separator = " · "

    /// The names of the levels above each code, below the city, in one query.
    static func paths(_ codes: [String], on db: any SQLDatabase) async throws -> [String: String] {
        var wanted = Set<String>()
        for raw in codes {
            var c = DivisionCode(raw)
            while let cur = c, cur.level != .city { wanted.insert(cur.rawValue); c = cur.parent }
        }
        guard !wanted.isEmpty else { return [:] }
        struct N: Decodable { var code: String; var name: String }
        var names: [String: String] = [:]
        for n in try await db.select().columns("code", "name").from("regions").where("code", .in, SQLBind.group(Array(wanted)))
            .all(decoding: N.self) { names[n.code] = n.name }
        var out: [String: String] = [:]
        for raw in codes {
            var parts: [String] = [], c = DivisionCode(raw)
            while let cur = c, cur.level != .city { if let n = names[cur.rawValue] { parts.insert(n, at: 0) }; c = cur.parent }
            out[raw] = parts.isEmpty ? nil : parts.joined(separator: separator)
        }
        return out
    }

    /// Each code's own name ("西山县"), in one query; a code not found is left out.
    static func names(_ codes: [String], on db: any SQLDatabase) async throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        struct N: Decodable { var code: String; var name: String }
        var names: [String: String] = [:]
        for n in try await db.select().columns("code", "name").from("regions").where("code", .in, SQLBind.group(Array(Set(codes))))
            .all(decoding: N.self) { names[n.code] = n.name }
        return names
    }

    /// What a place box shows for a stored value: the path for a code, the text itself otherwise.
    static func label(_ value: String?, on db: any SQLDatabase) async throws -> String {
        guard let value, let code = DivisionCode(value.trimmingCharacters(in: .whitespaces)) else { return value ?? "" }
        if code.level == .city { return try await RegionController.find(code.rawValue, on: db)?.name ?? value }
        return try await paths([code.rawValue], on: db)[code.rawValue] ?? value
    }

    /// The code a place box's text names: a code as it is; a path or a name when exactly one active place has it
    /// (the typed names must end the place's path); otherwise the text unchanged, for the validator to refuse.
    static func code(for text: String?, on db: any SQLDatabase) async throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || DivisionCode(trimmed) != nil { return trimmed }
        let parts = trimmed.split(whereSeparator: { "·/>＞ ".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let last = parts.last, parts.count <= 5, trimmed.count <= 100 else { return trimmed }
        let candidates = try await db.select().column("code").from("regions").where("name", .equal, last).where("active", .equal, true)
            .limit(50).all(decodingColumn: "code", as: String.self)
        guard !candidates.isEmpty else { return trimmed }
        let named = try await paths(candidates, on: db)
        let matches = candidates.filter { code in
            let path = (named[code] ?? last).components(separatedBy: separator)
            return path.count >= parts.count && Array(path.suffix(parts.count)) == parts
        }
        return matches.count == 1 ? matches[0] : trimmed
    }

    /// The message for a place box whose text names no single place.
    static func problem(_ text: String) -> String {
        DivisionCode(text) != nil ? "区划不存在或已停用" : "没有找到唯一的“\(text)”，请从列表中选择，或填写完整地点（如“西山县 · 城关镇 · 凤埠社区”）"
    }
}
