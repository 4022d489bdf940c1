import GRDB
import Synchronization

/// Concurrent calls' writes committed together. While one transaction is under way, the writes
/// that arrive wait, suspended rather than holding a thread; when it commits, the first of them
/// commits all of them in one transaction, each in a savepoint of its own (one that fails is rolled
/// back alone and its caller gets the error; the others' are kept).
///
/// Why: a commit writes every page it changed to the write-ahead log, and calls change the same
/// few pages (the last leaf of each table and index), so a commit per batch instead of per call
/// writes a fraction of the pages. A lone write starts at once, in a transaction of its own. Every
/// batch runs on the database's queue, its caller suspended; a caller is answered only once its
/// batch has committed.
final class GroupCommit: Sendable {
    private final class Job: @unchecked Sendable {
        // Written by the batch's leader, read by the job's caller after it is resumed.
        let perform: (Database) throws -> Void
        var failure: (any Error)?
        var waiter: CheckedContinuation<Bool, Never>?

        init(_ perform: @escaping (Database) throws -> Void) { self.perform = perform }
    }

    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }

    private struct State {
        var committing = false
        var waiting: [Job] = []
    }

    private let database: any DatabaseWriter
    private let state = Mutex(State())

    init(_ database: any DatabaseWriter) { self.database = database }

    /// How many writes wait for the commit under way (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `updates` in an IMMEDIATE transaction (shared with the writes waiting alongside it) and
    /// returns once it has committed.
    func write<T>(_ updates: @escaping (Database) throws -> T) async throws -> T {
        let box = Box<T>()
        let job = Job { db in box.value = try updates(db) }
        // True at once when nothing is being committed; otherwise true once the batch before has
        // committed and this job leads the next one, false once another leader committed it.
        let leads = await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                guard state.committing else {
                    state.committing = true
                    return true
                }
                job.waiter = continuation
                state.waiting.append(job)
                return false
            }
            if now { continuation.resume(returning: true) }
        }
        if leads { await commit(leadingWith: job) }
        if let failure = job.failure { throw failure }
        return box.value!
    }

    private func commit(leadingWith first: Job) async {
        let batch = [first] + state.withLock { state in
            defer { state.waiting = [] }
            return state.waiting
        }
        // On the database's own queue, the leader suspended meanwhile: a lock another process holds
        // (SQLite waits up to 2 s for it) stalls that queue, not one of the few threads all tasks share.
        await withCheckedContinuation { (committed: CheckedContinuation<Void, Never>) in
            database.asyncWriteWithoutTransaction { db in
                Self.run(batch, in: db)
                committed.resume()
            }
        }
        let next = state.withLock { state -> Job? in
            guard !state.waiting.isEmpty else {
                state.committing = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        for job in batch.dropFirst() { job.waiter?.resume(returning: false) }
        next?.waiter?.resume(returning: true)
    }

    /// The batch in one IMMEDIATE transaction, a savepoint per job (none for a lone one); each job's
    /// failure is left on it.
    private static func run(_ batch: [Job], in db: Database) {
        let first = batch[0]
        do {
            try db.inTransaction(.immediate) {
                if batch.count == 1 {
                    try first.perform(db)
                    return .commit
                }
                for job in batch {
                    do {
                        try db.inSavepoint {
                            try job.perform(db)
                            return .commit
                        }
                    } catch {
                        job.failure = error
                        // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction back:
                        // the rest must not run outside it, as if committed on their own.
                        if !db.isInsideTransaction {
                            for later in batch where later.failure == nil { later.failure = error }
                            return .commit
                        }
                    }
                }
                return .commit
            }
        } catch {
            // Not committed (the lock not had in time, the disk full): nothing of the batch was kept.
            for job in batch where job.failure == nil { job.failure = error }
        }
    }
}
