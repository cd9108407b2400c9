import Vapor
import Fluent
import SQLKit
import Crypto
import PLSDomain

/// 附件: materials for a request (an ID card scan, a contract, a pay slip). Files live under the data
/// directory, named by id, never by what the uploader called them; only PDF, JPEG and PNG, checked by
/// their first bytes rather than by what the browser claims.
enum Attachments {
    static let maxBytes = 10 * 1024 * 1024
    static let maxPerRequest = 10
    /// The most an upload form may carry: one file and its form's framing.
    static let uploadLimit = 11 * 1024 * 1024

    struct Row: Content {
        var id: UUID
        var filename: String
        var contentType: String
        var size: Int
        var sha256: String
        var createdAt: Date
    }

    struct M010CreateAttachments: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema("request_attachments")
                .id()
                .field("request_id", .uuid, .required, .references(ServiceRequest.schema, "id"))
                .field("filename", .string, .required)
                .field("content_type", .string, .required)
                .field("size", .int, .required)
                .field("sha256", .string, .required)
                .field("stored_name", .string, .required)
                .field("uploaded_by", .uuid, .required)
                .field("created_at", .datetime, .required)
                .create()
            try await (database as! any SQLDatabase).create(index: "attachments_request_idx").on("request_attachments").column("request_id").run()
        }

        func revert(on database: any Database) async throws {
            try await database.schema("request_attachments").delete()
        }
    }

    /// The type a file's first bytes say it is.
    static func sniff(_ data: [UInt8]) -> String? {
        if data.starts(with: [0x25, 0x50, 0x44, 0x46, 0x2D]) { return "application/pdf" }   // %PDF-
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        return nil
    }

    /// Keeps a display name: no path, no control characters, at most 100 characters.
    static func cleanName(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "\"" }.map(Character.init))
        return clean.isEmpty ? "附件" : String(clean.prefix(100))
    }

    static func directory(_ app: Application) -> String { app.settings.dataDirectory + "/attachments" }

    /// Writes an upload under the data directory, named by a new id; returns that stored name. Written before any
    /// row points at it, so a row never points at a missing file.
    static func write(_ bytes: [UInt8], app: Application, directory dir: String? = nil) async throws -> String {
        let dir = dir ?? directory(app)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name = UUID().uuidString.lowercased()
        try await app.threadPool.runIfActive { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name), options: .atomic) }
        return name
    }

    static func remove(_ storedName: String, app: Application, directory dir: String? = nil) {
        try? FileManager.default.removeItem(atPath: (dir ?? directory(app)) + "/" + storedName)
    }

    static func list(_ requestID: UUID, on db: any SQLDatabase) async throws -> [Row] {
        try await db.select().columns("id", "filename", "content_type", "size", "sha256", "created_at").from("request_attachments")
            .where("request_id", .equal, SQLBind(requestID)).orderBy("created_at")
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
    }

    /// Who may add materials: the applicant, and staff who can see the request, while it is open.
    static func mayUpload(_ r: ServiceRequest, _ p: Principal) -> Bool {
        guard r.requestStatus.isOpen, RequestViews.visible(r, in: p.scope) else { return false }
        return p.role == .citizen || (p.role.isStaff && !p.role.isReadOnly)
    }

    static func store(_ file: File, to idOrNumber: String, by p: Principal, app: Application) async throws -> Row {
        let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: app.db)
        guard mayUpload(r, p) else { throw AppError(.forbidden, "forbidden", "该事项已结束或您无权上传材料") }
        var errors = FieldErrors()
        let bytes = Array(file.data.readableBytesView)
        if bytes.isEmpty { errors.add("file", "请选择要上传的文件") }
        if bytes.count > maxBytes { errors.add("file", "文件不能超过 10 MB") }
        let type = sniff(bytes)
        if !bytes.isEmpty && type == nil { errors.add("file", "只能上传 PDF、JPG 或 PNG 文件") }
        let existing = try await list(r.id!, on: app.db as! any SQLDatabase)
        if existing.count >= maxPerRequest { errors.add("file", "每个事项最多上传 \(maxPerRequest) 个附件") }
        try errors.throwIfAny()

        let id = UUID()
        let stored = try await write(bytes, app: app)
        let row = Row(id: id, filename: cleanName(file.filename), contentType: type!, size: bytes.count,
                      sha256: Hex.encode(SHA256.hash(data: bytes)), createdAt: app.clock.now)
        do {
            try await (app.db as! any SQLDatabase).insert(into: "request_attachments")
                .columns("id", "request_id", "filename", "content_type", "size", "sha256", "stored_name", "uploaded_by", "created_at")
                .values(SQLBind(id), SQLBind(r.id!), SQLBind(row.filename), SQLBind(row.contentType), SQLBind(row.size), SQLBind(row.sha256),
                        SQLBind(stored), SQLBind(p.accountID), SQLBind(row.createdAt)).run()
        } catch {
            remove(stored, app: app)
            throw error
        }
        return row
    }

    static func download(_ req: Request, requestID idOrNumber: String, attachment: UUID) async throws -> Response {
        let p = try req.principal()
        let r = try await RequestViews.find(idOrNumber, scope: p.scope, on: req.db)
        struct Stored: Decodable { var filename: String; var contentType: String; var storedName: String }
        guard let a = try await req.sql.select().columns("filename", "content_type", "stored_name").from("request_attachments")
            .where("id", .equal, SQLBind(attachment)).where("request_id", .equal, SQLBind(r.id!))
            .first(decoding: Stored.self, keyDecodingStrategy: .snakeCase) else { throw AppError.notFound("附件") }
        let response = try await req.fileio.asyncStreamFile(at: directory(req.application) + "/" + a.storedName)
        response.headers.contentType = HTTPMediaType(type: String(a.contentType.split(separator: "/")[0]), subType: String(a.contentType.split(separator: "/")[1]))
        let encoded = a.filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "attachment"
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename*=UTF-8''\(encoded)")
        return response
    }

    static func apiUpload(_ req: Request) async throws -> Response {
        let p = try req.principal()
        guard let file = try await req.receivedFile(limit: uploadLimit) else { throw AppError.validation(["file": "请选择要上传的文件"]) }
        let row = try await store(file, to: req.parameters.get("id") ?? "", by: p, app: req.application)
        return try Response(status: .created).encodeJSON(row)
    }

    static func apiList(_ req: Request) async throws -> [Row] {
        let p = try req.principal()
        let r = try await RequestViews.find(req.parameters.get("id") ?? "", scope: p.scope, on: req.db)
        return try await list(r.id!, on: req.sql)
    }

    static func apiDownload(_ req: Request) async throws -> Response {
        try await download(req, requestID: req.parameters.get("id") ?? "", attachment: try req.uuid("attachment"))
    }
}
