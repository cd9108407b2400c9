import Vapor

/// Serves `Public/` only for paths under its top-level entries (`/css/…`, `/js/…`, `/openapi.json`…), listed
/// once at start. Vapor's FileMiddleware asks the file system about every request's path on a thread of its
/// own; for an API call or a page that was a thread hop spent finding that no such file exists.
struct PublicFilesMiddleware: AsyncMiddleware {
    let files: FileMiddleware
    /// "/css/" for a folder, "/openapi.json" for a file.
    let prefixes: [String]

    init(publicDirectory: String) {
        files = FileMiddleware(publicDirectory: publicDirectory, defaultFile: nil)
        var isDirectory: ObjCBool = false
        prefixes = ((try? FileManager.default.contentsOfDirectory(atPath: publicDirectory)) ?? []).sorted().map { entry in
            let folder = FileManager.default.fileExists(atPath: publicDirectory + entry, isDirectory: &isDirectory) && isDirectory.boolValue
            return "/" + entry + (folder ? "/" : "")
        }
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        if prefixes.contains(where: { $0.hasSuffix("/") ? path.hasPrefix($0) : path == $0 }) {
            return try await files.respond(to: request, chainingTo: next)
        }
        return try await next.respond(to: request)
    }
}
