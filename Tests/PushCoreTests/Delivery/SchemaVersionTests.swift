import Foundation
import GRDB
import Logging
import Synchronization
@testable import PushCore
import Testing

/// The schema's version in `user_version`: set by the first open, and a later open skips the migrator.
@Suite struct SchemaVersionTests {
    func userVersion(_ directory: String) throws -> Int {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: "\(directory)/mcp-push.sqlite", configuration: configuration).read { db in
            try Int.fetchOne(db, sql: "PRAGMA user_version") ?? -1
        }
    }

    @Test func aNewStoreRecordsItsSchemaVersion() throws {
        let directory = try OutboxTests.temporaryDirectory()
        _ = SQLiteStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(try userVersion(directory) == SQLiteStore.schemaVersion)
        let applied = try DatabaseQueue(path: "\(directory)/mcp-push.sqlite").read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        }
        #expect(applied == (1...SQLiteStore.schemaVersion).map { "v\($0)" })
    }

    @Test func aStoreFromBeforeTheVersionIsStillMigratedAndKeepsItsData() throws {
        let directory = try OutboxTests.temporaryDirectory()
        let first = SQLiteStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(first.problem == nil)
        // As the release before user_version left it: migrations applied, version 0.
        try DatabaseQueue(path: "\(directory)/mcp-push.sqlite").write { db in
            try db.execute(sql: "PRAGMA user_version = 0")
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES('kept', 1)")
        }
        let again = SQLiteStore.open(directory: directory, logger: Logger(label: "test"))
        #expect(again.problem == nil)
        #expect(try userVersion(directory) == SQLiteStore.schemaVersion)
        let kept = try DatabaseQueue(path: "\(directory)/mcp-push.sqlite").read { db in try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'kept'") }
        #expect(kept == 1)
    }

    /// Processes that start together on a new file race through the migrations: GRDB's migrator reads what is
    /// applied before each migration's transaction, so two can run the same one ("duplicate column name"), and
    /// the loser kept its state in memory only (a queued message then stayed with that process). Every opener
    /// must end up with the file. Threads with a connection each race the way processes do.
    @Test func storesOpeningANewFileTogetherAllKeepIt() async throws {
        for _ in 0..<10 {
            let directory = try OutboxTests.temporaryDirectory()
            let problems = Mutex<[String]>([])
            let start = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            for _ in 0..<8 {
                done.enter()
                Thread.detachNewThread {
                    start.wait()
                    let store = SQLiteStore.open(directory: directory, logger: Logger(label: "test"), patience: .seconds(20))
                    if let problem = store.problem { problems.withLock { $0.append(problem) } }
                    done.leave()
                }
            }
            for _ in 0..<8 { start.signal() }
            // Awaited, not waited for: a blocked thread of the shared pool stalls every other test's timers.
            await withCheckedContinuation { finished in done.notify(queue: .global()) { finished.resume() } }
            #expect(problems.withLock { $0 } == [])
            #expect(try userVersion(directory) == SQLiteStore.schemaVersion)
        }
    }
}
