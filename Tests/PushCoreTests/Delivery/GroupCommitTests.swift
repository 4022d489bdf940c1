import Foundation
import GRDB
@testable import PushCore
import Synchronization
import Testing

/// Concurrent writes share commits, yet each caller is answered only once its own write is
/// committed, and one that fails takes nobody else's with it.
@Suite struct GroupCommitTests {
    /// Counts the commits on a connection.
    final class CommitCounter: TransactionObserver, @unchecked Sendable {
        let commits = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    struct Refused: Error, Equatable {}

    @Test func concurrentWritesShareCommitsAndEachIsDurableWhenAnswered() async throws {
        let path = try OutboxTests.temporaryDirectory() + "/group.sqlite"
        // As the store opens its file: WAL, and waiting for another connection's lock rather than failing.
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE item (n INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        }
        let counter = CommitCounter()
        queue.add(transactionObserver: counter, extent: .databaseLifetime)
        let commit = GroupCommit(queue)
        // Another process's view of the file: what a caller was told is written must be there.
        let elsewhere = try DatabaseQueue(path: path, configuration: configuration)

        let writes = 200
        // The first write holds its transaction open until every other write waits behind it: which
        // writes share a commit no longer depends on how the threads happen to be scheduled.
        let gate = Gate()
        let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>, Bool).self) { group in
            group.addTask { await Self.write(0, through: commit, gate: gate, checkedBy: elsewhere) }
            while !gate.firstInside.load(ordering: .sequentiallyConsistent) { try? await Task.sleep(for: .milliseconds(1)) }
            for n in 1..<writes { group.addTask { await Self.write(n, through: commit, gate: gate, checkedBy: elsewhere) } }
            let clock = ContinuousClock()
            let giveUp = clock.now + .seconds(20)
            while commit.waitingCount < writes - 1 && clock.now < giveUp { try? await Task.sleep(for: .milliseconds(1)) }
            gate.othersWaiting.store(true, ordering: .sequentiallyConsistent)
            var all: [(Int, Result<Int, any Error>, Bool)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }

        #expect(outcomes.count == writes)
        for (n, result, visible) in outcomes {
            switch result {
            case .success(let value):
                #expect(n % 17 != 3 && value == n * 2 && visible, "write \(n): got \(value), visible elsewhere: \(visible)")
            case .failure(let error):
                #expect(n % 17 == 3 && error is Refused, "write \(n) failed: \(error)")
            }
        }
        let kept = try await elsewhere.read { db in try Int.fetchAll(db, sql: "SELECT n FROM item ORDER BY n") }
        #expect(kept == (0..<writes).filter { $0 % 17 != 3 })
        let commits = counter.commits.withLock { $0 }
        // The first write's commit, then one for all that waited behind it (failures roll back, alone).
        #expect(commits == 2, "\(commits) commits for \(kept.count) writes kept")
    }

    final class Gate: Sendable {
        let firstInside = Atomic(false)
        let othersWaiting = Atomic(false)
    }

    /// Write `n` (the first one holds its transaction until `gate` says the others wait), then
    /// whether another connection sees it.
    static func write(_ n: Int, through commit: GroupCommit, gate: Gate, checkedBy elsewhere: DatabaseQueue) async -> (Int, Result<Int, any Error>, Bool) {
        do {
            let written = try await commit.write { db -> Int in
                try db.execute(sql: "INSERT INTO item(n, note) VALUES (?, 'kept')", arguments: [n])
                if n == 0 {
                    gate.firstInside.store(true, ordering: .sequentiallyConsistent)
                    while !gate.othersWaiting.load(ordering: .sequentiallyConsistent) { usleep(1000) }
                }
                // A write that fails after changing something: its change must go, alone.
                if n % 17 == 3 { throw Refused() }
                return n * 2
            }
            let visible = try await elsewhere.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM item WHERE n = ?)", arguments: [n]) ?? false }
            return (n, .success(written), visible)
        } catch {
            return (n, .failure(error), false)
        }
    }

    @Test func aLoneWriteCommitsAtOnceAndItsFailureRollsItBack() async throws {
        let queue = try DatabaseQueue()
        try await queue.write { db in try db.execute(sql: "CREATE TABLE item (n INTEGER PRIMARY KEY)") }
        let commit = GroupCommit(queue)
        #expect(try await commit.write { db in try db.execute(sql: "INSERT INTO item VALUES (1)"); return "one" } == "one")
        await #expect(throws: Refused.self) {
            try await commit.write { db in
                try db.execute(sql: "INSERT INTO item VALUES (2)")
                throw Refused()
            }
        }
        // A constraint failure is the database's own error, reported to its caller.
        await #expect(throws: DatabaseError.self) { try await commit.write { db in try db.execute(sql: "INSERT INTO item VALUES (1)") } }
        #expect(try await queue.read { db in try Int.fetchAll(db, sql: "SELECT n FROM item") } == [1])
    }
}
