import Foundation
import Vapor
import NIOCore
import NIOPosix

/// A file upload (multipart form) received to disk. The route takes its body as a stream (`body: .stream`) behind
/// `SignedInFirst`: the body goes to a private temporary file as it arrives, counted against the route's limit, and is
/// parsed from there on the thread pool, each file part into a file of its own. No upload is ever held whole in memory
/// by the server; a handler reads one file when it stores it (an attachment is at most 10 MB).
struct ReceivedForm: Sendable {
    struct FilePart: Sendable {
        var filename: String
        var path: String
        var size: Int

        /// The part's bytes, as Vapor's `File` (what the stores take).
        func file() throws -> File {
            File(data: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: path))), filename: filename)
        }
    }

    private(set) var texts: [String: [String]] = [:]
    private(set) var files: [String: [FilePart]] = [:]
    let directory: String

    /// A text field's value (the last, if sent more than once).
    func text(_ name: String) -> String? { texts[name]?.last }
    /// Every value of a field sent as `name` or `name[]`.
    func texts(_ name: String) -> [String] { texts[name] ?? [] }
    /// The file parts of a field (`name` or `name[]`), empty ones (a phone's form without a photo) left out.
    func files(_ name: String) -> [FilePart] { (files[name] ?? []).filter { $0.size > 0 } }

    /// The bytes of each file of a field, read on the thread pool (photos: a few, each small).
    func bytes(of name: String, app: Application) async throws -> [[UInt8]] {
        let parts = files(name)
        return try await app.threadPool.runIfActive { try parts.map { Array(try Data(contentsOf: URL(fileURLWithPath: $0.path))) } }
    }

    /// Removes the temporary files; every handler calls it when done (`defer`).
    func discard() { try? FileManager.default.removeItem(atPath: directory) }

    static let maxTextBytes = 64 * 1024
    /// A part that could not be written (the disk full): as the database's own out-of-space answer.
    static let notStored: AppError = {
        var e = AppError(.serviceUnavailable, "storage_full", "服务器存储空间不足，上传未保存；请联系管理员，稍后再试")
        e.retryAfter = 60
        return e
    }()
    static func tooLarge(_ limit: Int) -> AppError {
        AppError(.payloadTooLarge, "upload_too_large", "上传的内容过大，一次最多 \(limit / 1_048_576) MB")
    }

    /// Where uploads wait while they are read.
    static func workDirectory(_ app: Application) -> String { workDirectory(dataDirectory: app.settings.dataDirectory) }
    static func workDirectory(dataDirectory: String) -> String { dataDirectory + "/uploads-in-progress" }

    /// At start: a killed process leaves its half-read uploads behind. Only those over an hour old go, since another
    /// `pls serve` may share the data directory and be reading one now.
    static func clearLeftovers(dataDirectory: String, now: Date) {
        let fm = FileManager.default
        let root = workDirectory(dataDirectory: dataDirectory)
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            let path = root + "/" + name
            let modified = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
            if let modified, now.timeIntervalSince(modified) > 3600 { try? fm.removeItem(atPath: path) }
        }
    }

    fileprivate mutating func add(text: String, to name: String) { texts[Self.field(name), default: []].append(text) }
    fileprivate mutating func add(file: FilePart, to name: String) { files[Self.field(name), default: []].append(file) }
    private static func field(_ name: String) -> String { name.hasSuffix("[]") ? String(name.dropLast(2)) : name }
}

extension Request {
    /// Receives a multipart form to disk, at most `limit` bytes in all. A form posted without files (url-encoded,
    /// small) is read as its fields, so a page's form works with or without a file chosen.
    func receiveForm(limit: Int) async throws -> ReceivedForm {
        let app = application
        let directory = ReceivedForm.workDirectory(app) + "/" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var form = ReceivedForm(directory: directory)
        do {
            if headers.contentType == .urlEncodedForm {
                let body = try await self.body.collect(max: ReceivedForm.maxTextBytes).get()
                for pair in FormEncoding.pairs(Substring(body.flatMap { $0.getString(at: $0.readerIndex, length: $0.readableBytes) } ?? "")) {
                    guard !pair.value.containsControlCharacters else { throw AppError.validation([pair.name: ControlCharacters.message]) }
                    form.add(text: pair.value, to: pair.name)
                }
                return form
            }
            let boundary = try MultipartGuard.boundary(of: headers)
            let bodyPath = directory + "/body"
            try await receiveBody(to: bodyPath, limit: limit)
            let parsed = try await app.threadPool.runIfActive { [form] in
                try ReceivedForm.parse(bodyPath, boundary: boundary, into: form)
            }
            try? FileManager.default.removeItem(atPath: bodyPath)
            return parsed
        } catch {
            form.discard()
            throw error
        }
    }

    /// Writes the body to `path` as it arrives; more than `limit` bytes is a 413 (the file is removed by the caller).
    private func receiveBody(to path: String, limit: Int) async throws {
        let io = NonBlockingFileIO(threadPool: application.threadPool)
        let handle = try await io.openFile(_deprecatedPath: path, mode: .write, flags: .allowFileCreation(posixMode: 0o600), eventLoop: eventLoop).get()
        defer { try? handle.close() }
        var received = 0
        if let whole = body.data {
            // Already collected (the in-memory test client): the same limit, the same file.
            guard whole.readableBytes <= limit else { throw ReceivedForm.tooLarge(limit) }
            try await io.write(fileHandle: handle, buffer: whole, eventLoop: eventLoop).get()
            return
        }
        for try await chunk in body {
            received += chunk.readableBytes
            guard received <= limit else { throw ReceivedForm.tooLarge(limit) }
            try await io.write(fileHandle: handle, buffer: chunk, eventLoop: eventLoop).get()
        }
    }
}

extension Request {
    /// The one file of an upload form (`file`), received to disk and then read (on the thread pool); nil when none
    /// was chosen. For the stores that take the bytes whole: an attachment (≤ 10 MB), a spreadsheet (≤ 5 MB).
    func receivedFile(_ field: String = "file", limit: Int) async throws -> File? {
        let form = try await receiveForm(limit: limit)
        defer { form.discard() }
        guard let part = form.files(field).first else { return nil }
        return try await application.threadPool.runIfActive { try part.file() }
    }
}

extension ReceivedForm {
    /// Parses the received body from its file (mapped, not read into memory), checked first as `MultipartGuard` checks
    /// every multipart body; file parts go to files of their own, text parts are kept (small).
    fileprivate static func parse(_ bodyPath: String, boundary: [UInt8], into start: ReceivedForm) throws -> ReceivedForm {
        let mapped = try Data(contentsOf: URL(fileURLWithPath: bodyPath), options: .alwaysMapped)
        try MultipartGuard.check(mapped, boundary: boundary)

        final class Part {
            var headers = HTTPHeaders()
            var handle: FileHandle?
            var path: String?
            var size = 0
            var text: [UInt8] = []
        }
        var form = start
        var part = Part()
        var failure: (any Error)?
        var textBytes = 0
        var count = 0
        let parser = MultipartParser(boundary: String(decoding: boundary, as: UTF8.self))
        // Each file part gets a private file of its own, opened at its first byte (or at its end, when it has none).
        func openFile() {
            count += 1
            let path = form.directory + "/part-\(count)"
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: path) else { failure = notStored; return }
            part.path = path
            part.handle = handle
        }
        parser.onHeader = { name, value in part.headers.add(name: name, value: value) }
        parser.onBody = { chunk in
            guard failure == nil else { return }
            if part.path == nil, part.headers.contentDisposition?.filename != nil { openFile() }
            if let handle = part.handle {
                // The throwing write: the old `write(_:)` ends the process when the disk is full.
                do { try handle.write(contentsOf: chunk.readableBytesView) } catch { failure = notStored; return }
                part.size += chunk.readableBytes
            } else if part.path == nil {
                textBytes += chunk.readableBytes
                if textBytes > maxTextBytes { failure = MultipartGuard.malformed; return }
                part.text += chunk.readableBytesView
            }
        }
        parser.onPartComplete = {
            defer { part = Part() }
            guard failure == nil, let disposition = part.headers.contentDisposition, let name = disposition.name else { return }
            if let filename = disposition.filename {
                if part.path == nil { openFile() }
                try? part.handle?.close()
                guard let path = part.path else { return }
                form.add(file: FilePart(filename: filename, path: path, size: part.size), to: name)
            } else {
                guard let text = String(validating: part.text, as: UTF8.self) else { failure = MultipartGuard.malformed; return }
                if text.containsControlCharacters { failure = AppError.validation([name: ControlCharacters.message]); return }
                form.add(text: text, to: name)
            }
        }
        // Fed in slices: the parser's copies stay small whatever the body's size.
        let slice = 64 * 1024
        var offset = 0
        do {
            while offset < mapped.count, failure == nil {
                let end = min(offset + slice, mapped.count)
                try parser.execute(ByteBuffer(data: mapped[offset..<end]))
                offset = end
            }
        } catch {
            throw MultipartGuard.malformed
        }
        try? part.handle?.close()
        if let failure { throw failure }
        return form
    }
}
