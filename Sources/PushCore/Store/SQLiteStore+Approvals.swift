import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SQLiteStore {
    /// Stores a new request and the digests (never the tokens) of its answer and page tokens.
    package func createApproval(_ record: ApprovalRecord, tokens: [(digest: String, purpose: TokenPurpose)]) throws {
        let options = String(decoding: try JSONEncoder().encode(record.options), as: UTF8.self)
        try exclusive { db in
            try db.execute(
                sql: """
                    INSERT INTO approval(id, kind, agent, title, detail, options, created_at, expires_at, state, waiter_pid)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [
                    record.id, record.kind, record.agent, record.title, record.detail, options,
                    record.createdAt.timeIntervalSince1970, record.expiresAt.timeIntervalSince1970, record.waiterPID ?? getpid(),
                ])
            for token in tokens {
                let choice: Int? = if case .answer(let index) = token.purpose { index } else { nil }
                try db.execute(
                    sql: "INSERT INTO approval_token(digest, approval_id, choice) VALUES (?, ?, ?)",
                    arguments: [token.digest, record.id, choice])
            }
        }
    }

    package func approval(id: String) throws -> ApprovalRecord? {
        try lookup { db in try Self.fetchApproval(db, id: id) }
    }

    /// The request a token belongs to and what the token is for; nil for an unknown token.
    package func approval(tokenDigest digest: String) throws -> (record: ApprovalRecord, purpose: TokenPurpose)? {
        try lookup { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT approval_id, choice FROM approval_token WHERE digest = ?", arguments: [digest]),
                let record = try Self.fetchApproval(db, id: row["approval_id"])
            else { return nil }
            let choice: Int? = row["choice"]
            return (record, choice.map(TokenPurpose.answer) ?? .page)
        }
    }

    /// Answers with the option an answer token stands for, atomically across processes: the
    /// first answer wins; a later one, or one after expiry, changes nothing. `page`, when given,
    /// must be the digest of the same request's page token (a web answer carries both).
    package func answer(
        tokenDigest digest: String, page: String? = nil, by who: String, via channel: String, now: Date = Date()
    ) throws -> TokenUse {
        try exclusive { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT approval_id, choice FROM approval_token WHERE digest = ?", arguments: [digest]),
                let choice = row["choice"] as Int?, let record = try Self.fetchApproval(db, id: row["approval_id"])
            else { return .unknown }
            if let page {
                let owner = try String.fetchOne(db, sql: "SELECT approval_id FROM approval_token WHERE digest = ? AND choice IS NULL", arguments: [page])
                guard owner == record.id else { return .unknown }
            }
            let (use, changed) = record.answering(choice, by: who, via: channel, at: now, askerGone: record.askerExitedHere)
            if let changed { try Self.close(db, changed) }
            return use
        }
    }

    /// Ends a request still pending as expired or withdrawn; returns it as it now stands
    /// (answered, if an answer came first).
    @discardableResult
    package func closeApproval(id: String, as state: ApprovalRecord.State, now: Date = Date()) throws -> ApprovalRecord? {
        try exclusive { db in
            guard var record = try Self.fetchApproval(db, id: id) else { return nil }
            guard record.state == .pending else { return record }
            record.state = state
            record.answeredAt = now
            try Self.close(db, record)
            return record
        }
    }

    /// The latest requests, newest first (for `mcp-push history`).
    package func recentApprovals(limit: Int) throws -> [ApprovalRecord] {
        try lookup { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approval ORDER BY created_at DESC LIMIT ?", arguments: [limit]).map(Self.approval(from:))
        }
    }

    /// Takes or renews the lease `name` for `holder` until `duration` from now; false while
    /// another holder's lease runs. A holder that dies simply stops renewing.
    package func takeLease(_ name: String, holder: String, for duration: Duration, now: Date = Date()) throws -> Bool {
        try exclusive { db in
            let row = try Row.fetchOne(db, sql: "SELECT holder, until FROM lease WHERE name = ?", arguments: [name])
            if let row, row["holder"] as String != holder, (row["until"] as Double) > now.timeIntervalSince1970 { return false }
            try db.execute(
                sql: """
                    INSERT INTO lease(name, holder, until) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                    """,
                arguments: [name, holder, now.timeIntervalSince1970 + duration.seconds])
            return true
        }
    }

    package func releaseLease(_ name: String, holder: String) throws {
        try exclusive { db in
            try db.execute(sql: "UPDATE lease SET until = 0 WHERE name = ? AND holder = ?", arguments: [name, holder])
        }
    }

    /// A small value kept with a lease (the Telegram poller's update offset), shared by its successive holders.
    package func leaseValue(_ name: String) throws -> String? {
        try lookup { db in try String.fetchOne(db, sql: "SELECT value FROM lease WHERE name = ?", arguments: [name]) }
    }

    package func setLeaseValue(_ name: String, _ value: String) throws {
        try exclusive { db in
            try db.execute(sql: "UPDATE lease SET value = ? WHERE name = ?", arguments: [value, name])
        }
    }

    private static func close(_ db: Database, _ record: ApprovalRecord) throws {
        try db.execute(
            sql: "UPDATE approval SET state = ?, answer = ?, answered_by = ?, answered_via = ?, answered_at = ? WHERE id = ?",
            arguments: [
                record.state.rawValue, record.answer, record.answeredBy, record.answeredVia,
                record.answeredAt?.timeIntervalSince1970, record.id,
            ])
    }

    private static func fetchApproval(_ db: Database, id: String) throws -> ApprovalRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM approval WHERE id = ?", arguments: [id]).map(approval(from:))
    }

    private static func approval(from row: Row) -> ApprovalRecord {
        let options = (try? JSONDecoder().decode([String].self, from: Data((row["options"] as String).utf8))) ?? []
        var record = ApprovalRecord(
            id: row["id"], kind: row["kind"], title: row["title"], detail: row["detail"], options: options,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
            agent: row["agent"])
        record.state = ApprovalRecord.State(rawValue: row["state"]) ?? .pending
        record.answer = row["answer"]
        record.answeredBy = row["answered_by"]
        record.answeredVia = row["answered_via"]
        record.answeredAt = (row["answered_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        record.waiterPID = row["waiter_pid"]
        return record
    }
}

extension SQLiteStore {
    /// Questions still waiting for an answer.
    package func pendingApprovals(now: Date = Date()) throws -> Int {
        try lookup { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM approval WHERE state = ? AND expires_at > ?",
                arguments: [ApprovalRecord.State.pending.rawValue, now.timeIntervalSince1970]) ?? 0
        }
    }
}
