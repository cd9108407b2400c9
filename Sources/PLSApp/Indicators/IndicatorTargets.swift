import Vapor
import SQLKit

/// The target of each registered indicator, set by the city's administrators (`indicator_targets`; the table was
/// created by M012 and stays there: the migration history does not move).
enum IndicatorTargets {
    struct TargetInput: Content { var target: Double? }
    struct TargetView: Content { var id: String; var target: Double }

    /// Administrators set the target of any registered indicator.
    static func apiSetTarget(_ req: Request) async throws -> TargetView {
        let p = try req.staff()
        try p.require(p.role == .cityAdmin)
        let id = req.parameters.get("id") ?? ""
        return try await setTarget(id, try req.content.decode(TargetInput.self).target, actor: req.auditActor, app: req.application, now: req.now)
    }

    static let maxCountTarget: Double = 10_000_000

    static func setTarget(_ id: String, _ target: Double?, actor: AuditLog.Actor, app: Application, now: Date) async throws -> TargetView {
        guard let d = app.indicators.definitions.first(where: { $0.id == id }) else { throw AppError.notFound("指标") }
        // A count or a number of hours far beyond any city (the plan's largest is 17,000 items a year); the bound also
        // keeps the arithmetic of shares (a target times the villages) far from overflow.
        guard let target, target.isFinite, target >= 0, d.unit == .percent ? target <= 100 : target <= maxCountTarget else {
            throw AppError.validation(["target": d.unit == .percent ? "目标应为 0–100 之间的百分数" : "目标应为 0 到 \(Int(maxCountTarget)) 之间的数"])
        }
        let before = try await (app.db as! any SQLDatabase).select().column("target").from("indicator_targets").where("id", .equal, id)
            .first(decodingColumn: "target", as: Double.self)
        try await app.db.atomic { tx in
            let sql = tx as! any SQLDatabase
            try await sql.raw("""
                INSERT INTO indicator_targets (id, target, updated_at) VALUES (\(bind: id), \(bind: target), \(bind: now))
                ON CONFLICT (id) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at
                """).run()
            try await AuditLog.record("indicator.target", target: "指标 \(d.name)", before: before.map { ["target": $0] } ?? ["target": d.target],
                                      after: ["target": target], by: actor, protector: app.personalData, on: sql, at: now)
        }
        return TargetView(id: id, target: target)
    }
}
