import Vapor

/// Uploading and downloading a request's materials from the portal and the work pages.
enum AttachmentPages {
    static func upload(_ req: Request, id: String, back: String) async throws -> Response {
        let p = try req.principal()
        do {
            guard let file = try await req.receivedFile(limit: Attachments.uploadLimit) else {
                throw AppError.validation(["file": "请选择要上传的文件"], message: "请选择要上传的文件")
            }
            let row = try await Attachments.store(file, to: id, by: p, app: req.application)
            return req.redirect(to: back, flash: "已上传“\(row.filename)”")
        } catch let e as AppError where [.unprocessableEntity, .payloadTooLarge, .badRequest].contains(e.status) {
            return req.redirect(to: back, flash: "上传失败：" + (e.fields["file"] ?? e.message))
        }
    }

    static func uploadFromPortal(_ req: Request) async throws -> Response {
        let number = req.parameters.get("number") ?? ""
        return try await upload(req, id: number, back: "/my/\(number)")
    }

    static func uploadFromWork(_ req: Request) async throws -> Response {
        _ = try req.staff()
        let id = req.parameters.get("id") ?? ""
        return try await upload(req, id: id, back: "/work/\(id)")
    }

    static func downloadFromPortal(_ req: Request) async throws -> Response {
        try await Attachments.download(req, requestID: req.parameters.get("number") ?? "", attachment: try req.uuid("attachment"))
    }

    static func downloadFromWork(_ req: Request) async throws -> Response {
        _ = try req.staff()
        return try await Attachments.download(req, requestID: req.parameters.get("id") ?? "", attachment: try req.uuid("attachment"))
    }
}

/// An attachment as a page lists it.
struct AttachmentView: Encodable {
    var name: String
    var href: String
    var size: String

    static func list(_ rows: [Attachments.Row], base: String) -> [AttachmentView] {
        rows.map { r in
            AttachmentView(name: r.filename, href: "\(base)/attachments/\(r.id)",
                           size: r.size >= 1_048_576 ? String(format: "%.1f MB", Double(r.size) / 1_048_576) : "\(max(1, r.size / 1024)) KB")
        }
    }
}
