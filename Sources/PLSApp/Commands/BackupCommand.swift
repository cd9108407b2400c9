import Vapor
import Fluent
import SQLKit
#if canImport(Glibc)
import Glibc
#endif

/// `pls backup FILE`: a consistent copy of the embedded database while the server keeps taking writes (SQLite's
/// `VACUUM INTO` reads one snapshot). `pls restore FILE` (`DataRestore`, run before the database is opened) puts one
/// back, refusing while a server holds the data directory. PostgreSQL is backed up with its own tools (README).
struct BackupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "file", help: "Where to write the copy (must not exist)")
        var file: String
    }

    var help: String { "Copy the embedded database consistently while the server runs" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        guard app.settings.usesEmbeddedDatabase else {
            context.console.error("使用 PostgreSQL 时请用 pg_dump 备份（见 README“备份与恢复”）")
            throw ExitCode(1)
        }
        let target = URL(fileURLWithPath: signature.file).standardizedFileURL.path
        guard !FileManager.default.fileExists(atPath: target) else {
            context.console.error("\(target) 已存在：备份不覆盖已有文件")
            throw ExitCode(1)
        }
        let started = Date()
        try await (app.db as! any SQLDatabase).raw("VACUUM INTO \(bind: target)").run()
        let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
        context.console.success("已备份到 \(target)（\(size / 1024) KB，用时 \(String(format: "%.1f", Date().timeIntervalSince(started))) 秒）")
        context.console.print("个人信息以密钥加密：密钥（\(app.settings.dataDirectory)/secret.key 或 PLS_SECRET_KEY）不在备份中，请另行妥善保存；恢复时须用同一密钥。")
    }
}

/// The data directory's lock: every `serve` holds it shared; a restore takes it exclusively, so that it never
/// replaces the database under a running server.
public enum DataDirectoryLock {
    /// Holds a shared lock on `dir/pls.lock` for the life of the process (the descriptor is never closed).
    static func holdShared(in dir: String) throws {
        let fd = try open(dir)
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else {
            throw AppError(.internalServerError, "data_locked", "数据目录 \(dir) 正在恢复备份，请稍后再启动")
        }
    }

    static func open(_ dir: String) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = Glibc.open(dir + "/pls.lock", O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw AppError(.internalServerError, "lock_failed", "无法打开 \(dir)/pls.lock") }
        return fd
    }
}

/// `pls restore FILE`, handled before the database is opened (the entrypoint calls it): checks the copy is an
/// intact database, refuses while a server holds the data directory, then puts it in place of the current one.
public enum DataRestore {
    /// Whether the command line asks for a restore; if so, runs it and returns its exit status.
    public static func runIfAsked(_ arguments: [String]) -> Int32? {
        guard arguments.dropFirst().first == "restore" else { return nil }
        guard let file = arguments.dropFirst(2).first else {
            print("用法：pls restore FILE（与 serve 相同的 PLS_DATA_DIR）")
            return 1
        }
        do {
            let dir = ProcessInfo.processInfo.environment["PLS_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "data"
            guard (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty else {
                print("使用 PostgreSQL 时请用 pg_restore 恢复（见 README“备份与恢复”）")
                return 1
            }
            try restore(file, into: dir)
            print("已从 \(file) 恢复到 \(dir)/pls.sqlite；启动 serve 前可运行 pls ledger verify 核对台账")
            return 0
        } catch let e as AppError {
            print(e.message)
            return 1
        } catch {
            print("恢复失败：\(error)")
            return 1
        }
    }

    static func restore(_ file: String, into dir: String) throws {
        let fm = FileManager.default
        guard let handle = FileHandle(forReadingAtPath: file) else { throw AppError.validation(["file": "无法读取 \(file)"], message: "无法读取备份文件 \(file)") }
        let header = handle.readData(ofLength: 16)
        try? handle.close()
        guard header == Data("SQLite format 3\0".utf8) else {
            throw AppError.validation(["file": "不是 SQLite 数据库"], message: "\(file) 不是 pls backup 生成的备份（不是 SQLite 数据库）")
        }
        let fd = try DataDirectoryLock.open(dir)
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw AppError(.conflict, "server_running", "数据目录 \(dir) 正由运行中的服务使用：请先停止 pls serve 再恢复")
        }
        let database = dir + "/pls.sqlite"
        let incoming = database + ".restoring"
        try? fm.removeItem(atPath: incoming)
        try fm.copyItem(atPath: file, toPath: incoming)
        // The old database's write-ahead log belongs to it, not to the copy.
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: database + suffix) }
        if rename(incoming, database) != 0 { throw AppError(.internalServerError, "restore_failed", "无法替换 \(database)") }
    }
}
