import Foundation
import GRDB
import Logging
@testable import PushCore
import Testing

/// The schema's version in `user_version`: set by the first open, and a later open skips the migrator.
@Suite struct SchemaVersionTests {
    func userVersion(_ directory: String) throws -> Int {
        try DatabaseQueue(path: "\(directory)/mcp-push.sqlite").read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? -1 }
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
}
