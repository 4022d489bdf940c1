import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The shared state in PostgreSQL (`MCP_PUSH_DATABASE_URL`), for gateways running side by side: the same
/// operations as ``SQLiteStore``, with the same meaning. What SQLite gets from its one write lock (a
/// rate-limit slot, an outbox claim, an answer decided once), PostgreSQL gets from a transaction that first
/// takes one advisory lock: writers that decide take turns across every replica.
package final class PostgresStore: StateStore {
    let client: PostgresClient
    let logger: Logger
    /// The most one operation may take: a database that does not answer must not hold a call.
    let timeout: Duration
    private let running: Task<Void, Never>
    package let location: String

    package var problem: String? { nil }
    package var isPersistent: Bool { true }
    package var directoryPath: String? { nil }

    /// The advisory lock `exclusive` takes: the same number for every mcp-push replica.
    static let writeLock: Int64 = 0x6D63_7075_7368  // "mcpush"
    static let migrationLock: Int64 = 0x6D63_7075_7368_01
    static let schemaVersion = 5

    private init(client: PostgresClient, running: Task<Void, Never>, location: String, timeout: Duration, logger: Logger) {
        self.client = client
        self.timeout = timeout
        self.running = running
        self.location = location
        self.logger = logger
    }

    deinit { running.cancel() }

    /// Connects (the pool connects as needed) and brings the schema up to date, whichever replica
    /// gets there first.
    package static func connect(_ settings: DatabaseSettings, logger: Logger) async throws -> PostgresStore {
        // The pool's own chatter (a lease asked for before `run` got going) is not the user's business;
        // what fails reaches us as the query's error.
        var quiet = logger
        quiet.logLevel = .error
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: quiet)
        let running = Task { await client.run() }
        let store = PostgresStore(client: client, running: running, location: settings.redactedURL, timeout: settings.timeout, logger: logger)
        do {
            try await store.migrate()
        } catch {
            running.cancel()
            // The pool retries quietly: one connection made by hand says why it cannot connect.
            throw Unavailable(reason: error is TimeoutError ? await probe(settings, logger: quiet) : describe(error))
        }
        return store
    }

    /// The database cannot be used, and why.
    package struct Unavailable: Error, CustomStringConvertible {
        package let reason: String
        package var description: String { reason }
    }

    private static func probe(_ settings: DatabaseSettings, logger: Logger) async -> String {
        do {
            let connection = try await withTimeout(settings.timeout) {
                try await PostgresConnection.connect(configuration: try settings.connectionConfiguration(), id: 1, logger: logger)
            }
            try? await connection.close()
            return "no answer within \(settings.timeout.secondsText) (MCP_PUSH_DATABASE_TIMEOUT)"
        } catch {
            return describe(error)
        }
    }

    /// A PostgreSQL error in words: the server's message, or what failed on the way to it (PSQLError's
    /// own description says nothing, lest an application show it to its users).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] {
            return "the server said: \(message)" + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if let underlying = error.underlying { return String(describing: underlying) }
        if error.code == .sslUnsupported {
            return "the server offers no TLS (sslmode=require or verify-full in MCP_PUSH_DATABASE_URL; disable or prefer on a trusted network)"
        }
        return "\(error.code)"
    }

    // MARK: Running statements

    /// The rows of one statement: in a transaction on its connection, or on its own within `timeout`.
    func rows(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [PostgresRandomAccessRow] {
        if let connection { return try await Self.collect(try await connection.query(query, logger: logger)) }
        return try await withTimeout(timeout) { [client, logger] in try await Self.collect(try await client.query(query, logger: logger)) }
    }

    private static func collect(_ sequence: PostgresRowSequence) async throws -> [PostgresRandomAccessRow] {
        var result: [PostgresRandomAccessRow] = []
        for try await row in sequence { result.append(row.makeRandomAccess()) }
        return result
    }

    func execute(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws {
        _ = try await rows(query, on: connection)
    }

    /// A transaction in which this replica alone decides (see the type's comment).
    func exclusive<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction { connection in
            try await self.execute("SELECT pg_advisory_xact_lock(\(Self.writeLock))", on: connection)
            return try await body(connection)
        }
    }

    /// Runs `body` in a transaction to its end whatever becomes of the caller: a transaction cut off
    /// halfway (a cancelled call, a timeout) would keep its locks, the writers' lock among them, on a
    /// connection the pool hands out again, and every replica would wait behind it. The caller stops
    /// waiting after `timeout`; the database's own statement and lock timeouts end the transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let limit = String(Int(timeout.seconds * 1000))
        let work = Task.detached { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT set_config('statement_timeout', \(limit), true), set_config('lock_timeout', \(limit), true)", logger: logger)
                return try await body(connection)
            }
        }
        return try await waitAtMost(timeout, for: work)
    }

    // MARK: Schema

    package func sharedKey(_ name: String) async throws -> [UInt8]? {
        let fresh = Store.hex((0..<32).map { _ in UInt8.random(in: .min ... .max) })
        let key = "key:" + name
        try await execute("INSERT INTO meta(key, value) VALUES (\(key), \(fresh)) ON CONFLICT(key) DO NOTHING")
        guard let hex = try await rows("SELECT value FROM meta WHERE key = \(key)").first?["value"].decode(String.self), hex.count == 64 else {
            return nil
        }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    package func schemaVersion() async throws -> Int {
        try await rows("SELECT version FROM mcp_push_schema").first?["version"].decode(Int.self) ?? 0
    }

    /// Creates or upgrades the schema under a lock, so replicas starting together do it once.
    private func migrate() async throws {
        try await transaction { connection in
            try await self.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", on: connection)
            try await self.execute("CREATE TABLE IF NOT EXISTS mcp_push_schema (version BIGINT NOT NULL)", on: connection)
            let version = try await self.rows("SELECT version FROM mcp_push_schema", on: connection).first?["version"].decode(Int.self)
            guard (version ?? 0) < Self.schemaVersion else { return }
            for statement in Self.schema { try await self.execute(PostgresQuery(unsafeSQL: statement), on: connection) }
            if version == nil {
                try await self.execute("INSERT INTO mcp_push_schema(version) VALUES (\(Self.schemaVersion))", on: connection)
            } else {
                try await self.execute("UPDATE mcp_push_schema SET version = \(Self.schemaVersion)", on: connection)
            }
        }
    }

    /// Schema 5, as the SQLite store's migrations v1 to v5 leave it (times are seconds since 1970).
    static let schema = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
        """
        CREATE TABLE IF NOT EXISTS notification (
            id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, title TEXT NOT NULL, run_id TEXT,
            status TEXT NOT NULL, message TEXT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS notification_at ON notification(at)",
        "CREATE INDEX IF NOT EXISTS notification_run ON notification(run_id)",
        """
        CREATE TABLE IF NOT EXISTS delivery (
            id BIGSERIAL PRIMARY KEY, notification_id BIGINT, channel TEXT NOT NULL, ok BOOLEAN NOT NULL,
            queued BOOLEAN NOT NULL DEFAULT FALSE, status_code BIGINT, error TEXT, attempts BIGINT NOT NULL,
            duration_ms BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL, source TEXT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS delivery_at ON delivery(at)",
        "CREATE INDEX IF NOT EXISTS delivery_channel ON delivery(channel, at)",
        """
        CREATE TABLE IF NOT EXISTS run (
            run_id TEXT PRIMARY KEY, first_event TEXT NOT NULL, last_event TEXT NOT NULL,
            started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION, outcome TEXT, last_progress DOUBLE PRECISION,
            last_message TEXT, updated_at DOUBLE PRECISION NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS run_updated ON run(updated_at)",
        """
        CREATE TABLE IF NOT EXISTS event (
            id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
            data TEXT, at DOUBLE PRECISION NOT NULL, notification_id BIGINT)
        """,
        "CREATE INDEX IF NOT EXISTS event_run ON event(run_id, at)",
        """
        CREATE TABLE IF NOT EXISTS outbox (
            id BIGSERIAL PRIMARY KEY, channel TEXT NOT NULL, target TEXT, title TEXT NOT NULL, body TEXT NOT NULL,
            url TEXT, level TEXT, silent BOOLEAN, format TEXT, notification_id BIGINT, reason TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, next_attempt_at DOUBLE PRECISION NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0, last_error TEXT, claimed_by TEXT, claimed_until DOUBLE PRECISION,
            expires_at DOUBLE PRECISION, expired_at DOUBLE PRECISION)
        """,
        "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_attempt_at)",
        "CREATE INDEX IF NOT EXISTS outbox_channel ON outbox(channel, id)",
        "CREATE INDEX IF NOT EXISTS outbox_target ON outbox(target, id)",
        "CREATE TABLE IF NOT EXISTS rate_slot (channel TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rate_slot_channel ON rate_slot(channel, at)",
        "CREATE TABLE IF NOT EXISTS recent_message (digest TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS approval (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, agent TEXT, title TEXT NOT NULL, detail TEXT NOT NULL,
            options TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
            state TEXT NOT NULL, answer BIGINT, answered_by TEXT, answered_via TEXT, answered_at DOUBLE PRECISION,
            waiter_pid BIGINT, waiter_host TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS approval_created ON approval(created_at)",
        "CREATE TABLE IF NOT EXISTS approval_token (digest TEXT PRIMARY KEY, approval_id TEXT NOT NULL, choice BIGINT)",
        "CREATE INDEX IF NOT EXISTS approval_token_request ON approval_token(approval_id)",
        "CREATE TABLE IF NOT EXISTS lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until DOUBLE PRECISION NOT NULL, value TEXT)",
        """
        CREATE TABLE IF NOT EXISTS run_message (
            run_id TEXT NOT NULL, target TEXT NOT NULL, message_id TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, target))
        """,
    ]
}
