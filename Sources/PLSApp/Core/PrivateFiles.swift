import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The data directory holds the database, its key and the uploaded materials: readable by the server's user only.
enum PrivateFiles {
    /// Creates the directory (0700), narrows files already there to 0600, and makes every file this process
    /// creates from now on private (the database's journal files, uploads), whatever the shell's umask was.
    static func prepare(directory: String, files: [String]) throws {
        umask(0o077)
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        for file in files where fm.fileExists(atPath: file) {
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }
}
