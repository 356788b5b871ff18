import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import RealtimeCore
import ServiceLifecycle
import SQLiteNIO

/// Diagnostics reports, kept durably in SQLite (`reports.sqlite` under the data
/// directory, WAL, `synchronous=FULL`: a report is on disk before its code is answered).
/// One row per report: its code, when it arrived, its JSON. At most `maxReports` are
/// kept (the oldest go first), so hostile senders cannot fill the disk. Every SQLite
/// call runs on sqlite-nio's thread pool, never on the cooperative pool.
final class ReportStore: Sendable {
    struct Stored: Sendable, Equatable {
        var code: String
        var receivedAt: Date
        var body: String
    }

    struct Summary: Sendable, Equatable {
        var code: String
        var receivedAt: Date
        var bytes: Int
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let fileName = "reports.sqlite"

    let path: String
    let maxReports: Int
    private let connection: SQLiteConnection
    private let closed = NIOLockedValueBox(false)

    private init(path: String, connection: SQLiteConnection, maxReports: Int) {
        self.path = path
        self.connection = connection
        self.maxReports = maxReports
    }

    /// Opens (creating the folder, the file and the table if needed) the store in `directory`.
    static func open(directory: URL, maxReports: Int = 10_000, logger: Logger) async throws -> ReportStore {
        let path = directory.appendingPathComponent(fileName).path
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            do {
                _ = try await connection.query("PRAGMA journal_mode=WAL")
                _ = try await connection.query("PRAGMA synchronous=FULL")
                _ = try await connection.query("""
                    CREATE TABLE IF NOT EXISTS reports (
                        code TEXT PRIMARY KEY NOT NULL,
                        received_at INTEGER NOT NULL,
                        body TEXT NOT NULL
                    )
                    """)
                // Reports are private: only the server's user may read the file.
                try await NIOThreadPool.singleton.runIfActive {
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
                }
            } catch {
                try? await connection.close()
                throw error
            }
            return ReportStore(path: path, connection: connection, maxReports: max(1, maxReports))
        } catch {
            throw Unavailable(description: "cannot open the reports database \(path): \(error) (check --data-dir)")
        }
    }

    /// Stores a report under a new unique code (a collision draws another) and returns the code.
    func insert(_ report: JSONText, receivedAt: Date) async throws -> String {
        try checkOpen()
        let ms = Int64((receivedAt.timeIntervalSince1970 * 1000).rounded())
        for _ in 0..<16 {
            let code = ReportCode.make()
            let rows = try await connection.query(
                "INSERT INTO reports (code, received_at, body) VALUES (?1, ?2, ?3) ON CONFLICT(code) DO NOTHING RETURNING code",
                [.text(code), .integer(SQLiteInt64(ms)), .text(report.text)])
            guard !rows.isEmpty else { continue }
            _ = try await connection.query(
                "DELETE FROM reports WHERE rowid IN (SELECT rowid FROM reports ORDER BY rowid DESC LIMIT -1 OFFSET ?1)",
                [.integer(SQLiteInt64(maxReports))])
            return code
        }
        throw Unavailable(description: "no free report code found")
    }

    func get(_ code: String) async throws -> Stored? {
        try checkOpen()
        let rows = try await connection.query("SELECT code, received_at, body FROM reports WHERE code = ?1", [.text(code)])
        return rows.first.flatMap { row in
            guard let code = row.column("code")?.string, let ms = row.column("received_at")?.integer,
                  let body = row.column("body")?.string else { return nil }
            return Stored(code: code, receivedAt: Date(timeIntervalSince1970: Double(ms) / 1000), body: body)
        }
    }

    /// The newest reports first.
    func list(limit: Int) async throws -> [Summary] {
        try checkOpen()
        let rows = try await connection.query(
            "SELECT code, received_at, length(CAST(body AS BLOB)) AS bytes FROM reports ORDER BY rowid DESC LIMIT ?1",
            [.integer(SQLiteInt64(limit))])
        return rows.compactMap { row in
            guard let code = row.column("code")?.string, let ms = row.column("received_at")?.integer,
                  let bytes = row.column("bytes")?.integer else { return nil }
            return Summary(code: code, receivedAt: Date(timeIntervalSince1970: Double(ms) / 1000), bytes: Int(bytes))
        }
    }

    func count() async throws -> Int {
        try checkOpen()
        let rows = try await connection.query("SELECT count(*) AS n FROM reports")
        return rows.first?.column("n")?.integer.map { Int($0) } ?? 0
    }

    /// Closes the database (checkpointing the WAL); later calls fail with `Unavailable`.
    func close() async {
        let first = closed.withLockedValue { c -> Bool in
            defer { c = true }
            return !c
        }
        if first {
            // The future-based close ignores cancellation: a store cancelled during a failed start still closes.
            try? await connection.close().get()
        }
    }

    private func checkOpen() throws {
        if closed.withLockedValue({ $0 }) { throw Unavailable(description: "the reports database is closed (shutting down)") }
    }
}

/// Keeps the report store open while the server runs and closes it on shutdown,
/// after the HTTP server has stopped taking requests.
struct ReportStoreService: Service {
    let store: ReportStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
