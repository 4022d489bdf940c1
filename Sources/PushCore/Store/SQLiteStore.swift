import Foundation
import GRDB
import Logging
import Synchronization

/// The embedded ``StateStore``: one SQLite file shared by every mcp-push process of the user
/// (each agent session starts its own server), through GRDB. Its operations are synchronous
/// (SQLite answers from this machine); through ``StateStore`` they are awaited like any backend's.
///
/// The store is never why a notification fails: when the file cannot be opened (missing
/// directory we cannot create, read-only, locked, corrupt), the store runs in memory for
/// this process and ``problem`` says why, so results can say that history was not kept.
public final class SQLiteStore: StateStore {
    let database: any DatabaseWriter
    /// The per-call writes, committed together when calls run concurrently.
    let groupCommit: GroupCommit
    /// Why the store is in memory although a file was wanted (nil when all is well).
    public let problem: String?
    /// The shared file; nil for a store in memory.
    public let path: String?

    /// Set when another process takes over right after this one (``handOverToNextProcess()``).
    private let closesAtExit = Atomic(true)

    private init(database: any DatabaseWriter, path: String?, problem: String?) {
        self.database = database
        self.groupCommit = GroupCommit(database)
        self.path = path
        self.problem = problem
    }

    deinit {
        // The connection is closed here (the last one to close folds the WAL into the file, so the next
        // process does not replay it), and GRDB's queue object is then kept: its own deinit removes
        // notification observers Linux never registers, a run-time cast that cost every command 1.3 M
        // instructions as it exited (docs/PERFORMANCE.md). A closed queue is a few hundred bytes.
        if closesAtExit.load(ordering: .relaxed) { try? database.close() }
        _ = Unmanaged.passRetained(database as AnyObject)
    }

    /// A process that exits right after starting the one that continues its work (a hook handing its
    /// message to the background sender) leaves its connection for the exit to drop instead of closing
    /// it. Closing as the last connection folds the write-ahead log into the file with three fsyncs,
    /// which cost the hook 2 to 4 ms; the next process reads what this one committed from the log
    /// instead (SQLite's recovery, as after any exit), and folds it when it closes.
    package func handOverToNextProcess() {
        closesAtExit.store(false, ordering: .relaxed)
    }

    /// The directory holding the shared file (and what goes with it: the approvals' key); nil in memory.
    package var directoryPath: String? { path.map { ($0 as NSString).deletingLastPathComponent } }

    /// Whether what is written outlives this process (and is seen by other mcp-push processes).
    public var isPersistent: Bool { path != nil }

    package var location: String { path ?? "memory (this process only)" }

    package func sharedKey(_ name: String) -> [UInt8]? { nil }

    package func schemaVersion() throws -> Int {
        try lookup { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
    }

    /// Opens (creating and migrating as needed) the shared store, or an in-memory one
    /// with ``problem`` set when the file is unusable. A file another process keeps locked is
    /// waited for at most `patience` (a call's deadline): past it, this process keeps its state in
    /// memory and sends at once, rather than miss its deadline with nothing sent and nothing kept.
    package static func open(directory: String, logger: Logger, patience: Duration = .seconds(120)) -> SQLiteStore {
        let path = "\(directory)/mcp-push.sqlite"
        let clock = ContinuousClock()
        let giveUp = clock.now + patience
        // Processes that start together on a new file race to set it up (WAL, the migrations); SQLite
        // can answer "busy" at once there instead of waiting, and a migration can lose to another
        // process's: a start that lost a race is tried again (ten at once once needed more than two tries).
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try openFile(path, directory: directory)
            } catch let error as DatabaseError
                where attempt < 40 && (lostAMigrationRace(error) || (isBusy(error) && clock.now + busyTimeout < giveUp))
            {
                usleep(50_000 + UInt32.random(in: 0..<50_000))
            } catch {
                let reason = describe(error, path: path)
                logger.warning("history store unavailable, keeping it in memory for this process: \(reason)")
                return inMemory(problem: reason)
            }
        }
    }

    /// How long one statement waits for another process's lock before SQLite answers "busy".
    static let busyTimeout: Duration = .seconds(2)

    private static func openFile(_ path: String, directory: String) throws -> SQLiteStore {
        try makeDirectory(directory)
        var configuration = GRDB.Configuration()
        // Other mcp-push processes write too: wait for them briefly rather than fail.
        configuration.busyMode = .timeout(busyTimeout.seconds)
        // One connection: nearly everything is a write, and reads are rare and small. A pool's
        // WAL set-up costs every start a file-attribute lookup (user and group names) and, when
        // the last process closed the database, a throwaway schema change; WAL is set here instead.
        // A long-running server's memory must not follow the history's size: a small page cache.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -512")
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try migrate(queue)
        try queue.write { db in
            // Fail now, not on the first notification, if the file is read-only.
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES('opened_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [Date().timeIntervalSince1970])
        }
        chmod(path, 0o600)
        return SQLiteStore(database: queue, path: path, problem: nil)
    }

    /// `mkdir -p` with mode 0700 for what it creates. By hand: FileManager's attribute dictionaries cost
    /// every start a runtime conformance scan (about 0.5 ms).
    static func makeDirectory(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/\(component)"
            if mkdir(built, 0o700) != 0 && errno != EEXIST {
                throw DirectoryError(path: built, reason: String(cString: strerror(errno)))
            }
        }
    }

    struct DirectoryError: LocalizedError {
        let path: String
        let reason: String
        var errorDescription: String? { "cannot create the directory \(path): \(reason)" }
    }

    /// A private store for this process only; `problem` says why, when it stands in for the file.
    package static func inMemory(problem: String? = nil) -> SQLiteStore {
        // An in-memory database cannot fail to open or migrate; if it ever did, nothing could be kept anyway.
        let queue = try! DatabaseQueue()
        try! migrate(queue)
        return SQLiteStore(database: queue, path: nil, problem: problem)
    }

    static func describe(_ error: any Error, path: String) -> String {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_READONLY: return "\(path) is read-only"
            case .SQLITE_BUSY, .SQLITE_LOCKED: return "\(path) is locked by another process"
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "\(path) is corrupt (move it away; mcp-push creates a new one)"
            case .SQLITE_CANTOPEN: return "cannot open \(path)"
            case .SQLITE_FULL: return "the disk holding \(path) is full"
            default: return "\(path): \(error.message ?? "\(error.resultCode)")"
            }
        }
        return "\(path): \(error.localizedDescription)"
    }

    /// The schema's version, kept in SQLite's `user_version` once the migrator has run: a start
    /// that finds it current skips the migrator, whose bookkeeping was a third of every start's
    /// instructions (docs/PERFORMANCE.md).
    static let schemaVersion = 5

    static func migrate(_ writer: any DatabaseWriter) throws {
        let version = try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
        guard version < schemaVersion else { return }
        try runMigrator(writer)
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(schemaVersion)") }
    }

    private static func runMigrator(_ writer: any DatabaseWriter) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
                CREATE TABLE IF NOT EXISTS notification (
                    id INTEGER PRIMARY KEY, at REAL NOT NULL, title TEXT NOT NULL, run_id TEXT,
                    status TEXT NOT NULL, message TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS notification_at ON notification(at);
                CREATE TABLE IF NOT EXISTS delivery (
                    id INTEGER PRIMARY KEY, notification_id INTEGER, channel TEXT NOT NULL, ok INTEGER NOT NULL,
                    queued INTEGER NOT NULL DEFAULT 0, status_code INTEGER, error TEXT, attempts INTEGER NOT NULL,
                    duration_ms INTEGER NOT NULL, at REAL NOT NULL, source TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS delivery_at ON delivery(at);
                CREATE INDEX IF NOT EXISTS delivery_channel ON delivery(channel, at);
                CREATE TABLE IF NOT EXISTS run (
                    run_id TEXT PRIMARY KEY, first_event TEXT NOT NULL, last_event TEXT NOT NULL,
                    started_at REAL, finished_at REAL, outcome TEXT, last_progress REAL, last_message TEXT,
                    updated_at REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS run_updated ON run(updated_at);
                CREATE TABLE IF NOT EXISTS event (
                    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
                    data TEXT, at REAL NOT NULL, notification_id INTEGER);
                CREATE INDEX IF NOT EXISTS event_run ON event(run_id, at);
                CREATE TABLE IF NOT EXISTS outbox (
                    id INTEGER PRIMARY KEY, channel TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
                    notification_id INTEGER, reason TEXT NOT NULL, created_at REAL NOT NULL,
                    next_attempt_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                    claimed_by TEXT, claimed_until REAL);
                CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_attempt_at);
                CREATE INDEX IF NOT EXISTS outbox_channel ON outbox(channel, id);
                CREATE TABLE IF NOT EXISTS rate_slot (channel TEXT NOT NULL, at REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS rate_slot_channel ON rate_slot(channel, at);
                CREATE TABLE IF NOT EXISTS recent_message (digest TEXT PRIMARY KEY, at REAL NOT NULL);
                """)
        }
        // A new migration raises `schemaVersion`.
        // Outbox items name the configured target they are for (a process without it leaves them),
        // know when they expire, and stay listed once expired.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN target TEXT;
                ALTER TABLE outbox ADD COLUMN expires_at REAL;
                ALTER TABLE outbox ADD COLUMN expired_at REAL;
                CREATE INDEX IF NOT EXISTS outbox_target ON outbox(target, id);
                """)
        }
        // Questions waiting for the person's answer, their tokens' digests (never the tokens), and
        // leases for duties one process does for all (the Telegram poller).
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS approval (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, agent TEXT, title TEXT NOT NULL, detail TEXT NOT NULL,
                    options TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, state TEXT NOT NULL,
                    answer INTEGER, answered_by TEXT, answered_via TEXT, answered_at REAL);
                CREATE INDEX IF NOT EXISTS approval_created ON approval(created_at);
                CREATE TABLE IF NOT EXISTS approval_token (digest TEXT PRIMARY KEY, approval_id TEXT NOT NULL, choice INTEGER);
                CREATE INDEX IF NOT EXISTS approval_token_request ON approval_token(approval_id);
                CREATE TABLE IF NOT EXISTS lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL, value TEXT);
                """)
        }
        // A queued message keeps its link and level (a channel with fields for them uses them on a retry too);
        // a question knows which process waits for its answer.
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN url TEXT")
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN level TEXT")
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN silent INTEGER")
            try db.execute(sql: "ALTER TABLE approval ADD COLUMN waiter_pid INTEGER")
        }
        // A queued Markdown message stays Markdown; a run's message on each target, to edit as the run goes on.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN format TEXT")
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS run_message (
                    run_id TEXT NOT NULL, target TEXT NOT NULL, message_id TEXT NOT NULL, at REAL NOT NULL,
                    PRIMARY KEY (run_id, target))
                """)
        }
        try migrator.migrate(writer)
    }

    /// Whether `error` is another process's lock, which the next try waits for (up to ``busyTimeout``).
    private static func isBusy(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// Whether `error` is a migration another process applied first: the migrator reads what is applied
    /// outside each migration's transaction, so two can run the same one; the second's rolls back, nothing
    /// half done, and the next try finds it applied.
    private static func lostAMigrationRace(_ error: DatabaseError) -> Bool {
        let message = error.message ?? ""
        return error.resultCode == .SQLITE_CONSTRAINT
            || (error.resultCode == .SQLITE_ERROR && (message.contains("duplicate column name") || message.contains("already exists")))
    }

    /// A small read outside any transaction (the checks every process makes: due outbox items,
    /// expiry, duplicates, pruning).
    func lookup<T>(_ value: (Database) throws -> T) throws -> T {
        try database.writeWithoutTransaction(value)
    }

    /// A write in an IMMEDIATE transaction: takes the write lock up front, so a
    /// read-then-write decision (a rate-limit slot, an outbox claim) is atomic across processes.
    func exclusive<T>(_ updates: (Database) throws -> T) throws -> T {
        try database.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try updates(db)
                return .commit
            }
            return result!
        }
    }

    /// Deletes history older than `days` (`MCP_PUSH_RETENTION_DAYS`) and expired bookkeeping, at
    /// most once per `interval` across processes (every hook and CLI command opens the store).
    package func prune(retentionDays: Int, now: Date = Date(), interval: TimeInterval = 0) throws {
        let cutoff = now.timeIntervalSince1970 - Double(retentionDays) * 86_400
        if interval > 0 {
            let last = try lookup { db in try Double.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'pruned_at'") }
            if let last, now.timeIntervalSince1970 - last < interval { return }
        }
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES('pruned_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [now.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM delivery WHERE at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM notification WHERE at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM event WHERE at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM run WHERE updated_at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM run_message WHERE at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM outbox WHERE expired_at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM rate_slot WHERE at < ?", arguments: [now.timeIntervalSince1970 - 86_400])
            try db.execute(sql: "DELETE FROM recent_message WHERE at < ?", arguments: [now.timeIntervalSince1970 - 86_400])
            try db.execute(sql: "DELETE FROM approval_token WHERE approval_id IN (SELECT id FROM approval WHERE expires_at < ?)", arguments: [now.timeIntervalSince1970 - 86_400])
            try db.execute(sql: "DELETE FROM approval WHERE created_at < ?", arguments: [cutoff])
        }
    }
}
