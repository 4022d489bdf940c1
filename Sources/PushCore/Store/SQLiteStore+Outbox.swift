import Foundation
import GRDB
import JSONText

extension SQLiteStore {
    /// Items of one target in queue order: a target whose oldest waiting item is not due
    /// (or is under way) holds back the later ones.
    private static let dueCondition = """
        o.expired_at IS NULL
          AND (o.claimed_until IS NULL OR o.claimed_until < :now)
          AND o.next_attempt_at <= :now
          AND NOT EXISTS (SELECT 1 FROM outbox earlier
                          WHERE earlier.channel = o.channel AND earlier.id < o.id AND earlier.expired_at IS NULL
                            AND COALESCE(earlier.target, '') = COALESCE(o.target, '')
                            AND (earlier.next_attempt_at > :now OR earlier.claimed_until >= :now))
        """

    /// Items this process can send: its targets' fingerprints, and (for items queued before
    /// fingerprints existed) its channels.
    private static let sendableCondition = """
        (o.target IN (SELECT value FROM json_each(:targets))
         OR (o.target IS NULL AND o.channel IN (SELECT value FROM json_each(:channels))))
        """

    private static func sendableArguments(_ targets: [OutboxTarget]) -> [String: (any DatabaseValueConvertible)?] {
        [
            "targets": OrderedJSON.array(targets.map { .string($0.fingerprint) }).text,
            "channels": OrderedJSON.array(targets.map { .string($0.channel) }).text,
        ]
    }

    /// Adds an item; `claimedUntil` marks it as under way in this process (write-ahead).
    static func insertOutboxItem(
        _ db: Database, channel: ChannelID, target: String?, message: Message, notificationID: Int64?, reason: QueueReason,
        notBefore: Date, expiresAt: Date?, claimedBy owner: String?, claimedUntil: Date?, attempts: Int = 0,
        lastError: String? = nil, now: Date
    ) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox(channel, target, title, body, url, level, silent, format, notification_id, reason, created_at,
                                   next_attempt_at, expires_at, attempts, last_error, claimed_by, claimed_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                channel, target, message.title, message.body, message.url, message.level == .info ? nil : message.level.rawValue,
                message.silent ? 1 : nil, message.format == .text ? nil : message.format.rawValue, notificationID, reason.rawValue, now.timeIntervalSince1970,
                notBefore.timeIntervalSince1970, expiresAt?.timeIntervalSince1970, attempts, lastError, owner,
                claimedUntil?.timeIntervalSince1970,
            ])
        return db.lastInsertedRowID
    }

    /// Queues a delivery to be tried at `notBefore` by whichever process can send it.
    @discardableResult
    package func enqueue(
        channel: ChannelID, target: String? = nil, message: Message, reason: QueueReason, notBefore: Date, attempts: Int,
        lastError: String?, notificationID: Int64? = nil, expiresAt: Date? = nil, now: Date = Date()
    ) throws -> Int64 {
        try database.write { db in
            try Self.insertOutboxItem(
                db, channel: channel, target: target, message: message, notificationID: notificationID, reason: reason,
                notBefore: notBefore, expiresAt: expiresAt, claimedBy: nil, claimedUntil: nil, attempts: attempts,
                lastError: lastError, now: now)
        }
    }

    /// Claims due items that one of `targets` can send, for `owner` until `lease` passes, in one
    /// IMMEDIATE transaction, so two processes never take the same item. Items of a target come
    /// in queue order. Items for channels this process lacks are left for a process that has them.
    package func claimDue(
        owner: String, targets: [OutboxTarget], lease: Duration, limit: Int, now: Date = Date()
    ) throws -> [OutboxItem] {
        guard !targets.isEmpty else { return [] }
        var arguments = Self.sendableArguments(targets)
        arguments["now"] = now.timeIntervalSince1970
        arguments["limit"] = limit
        // Most passes find nothing: look before taking the write lock.
        let anyDue = try lookup { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS(SELECT 1 FROM outbox o WHERE \(Self.dueCondition) AND \(Self.sendableCondition))",
                arguments: StatementArguments(arguments)) ?? false
        }
        guard anyDue else { return [] }
        return try exclusive { db in
            let time = now.timeIntervalSince1970
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM outbox o WHERE \(Self.dueCondition) AND \(Self.sendableCondition) ORDER BY o.id LIMIT :limit",
                arguments: StatementArguments(arguments))
            let items = rows.map(OutboxItem.init)
            let until = time + lease.seconds
            for item in items {
                try db.execute(sql: "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?", arguments: [owner, until, item.id])
            }
            return items
        }
    }

    /// Whether anything waits or is under way in the outbox (expired items aside).
    package func hasLiveOutboxItems() throws -> Bool {
        try lookup { db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM outbox WHERE expired_at IS NULL)") ?? false }
    }

    /// When the next item one of `targets` can send is due; nil when none waits.
    package func nextDue(targets: [OutboxTarget]) throws -> Date? {
        guard !targets.isEmpty else { return nil }
        return try lookup { db in
            let next = try Double.fetchOne(
                db,
                sql: """
                    SELECT MIN(MAX(o.next_attempt_at, COALESCE(o.claimed_until, 0))) FROM outbox o
                    WHERE o.expired_at IS NULL AND \(Self.sendableCondition)
                    """,
                arguments: StatementArguments(Self.sendableArguments(targets)))
            return next.map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Marks items past their expiry (or, for items without one, older than `maximumAge`) as
    /// expired, whichever process queued them, and records each as a failed delivery in the
    /// history. Items under way are left to their claim. Returns the expired items.
    package func expire(maximumAge: Duration, now: Date = Date()) throws -> [OutboxItem] {
        let condition = """
            expired_at IS NULL AND (claimed_until IS NULL OR claimed_until < :now)
              AND COALESCE(expires_at, created_at + :age) < :now
            """
        let arguments: StatementArguments = ["now": now.timeIntervalSince1970, "age": maximumAge.seconds]
        // Most passes find nothing: look before taking the write lock.
        let anyExpired = try lookup { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM outbox WHERE \(condition))", arguments: arguments) ?? false
        }
        guard anyExpired else { return [] }
        return try exclusive { db in
            let time = now.timeIntervalSince1970
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE \(condition) ORDER BY id", arguments: arguments)
            let items = rows.map(OutboxItem.init)
            for item in items {
                let waited = Duration.seconds(now.timeIntervalSince(item.createdAt)).roundedSecondsText
                let error = "expired: not delivered within \(waited) (MCP_PUSH_OUTBOX_MAX_AGE); last error: \(item.lastError ?? "none")"
                try db.execute(
                    sql: "UPDATE outbox SET expired_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                    arguments: [time, error, item.id])
                try Self.insertDelivery(
                    db, notificationID: item.notificationID, channel: item.channel, ok: false, queued: false, statusCode: nil,
                    error: error, attempts: item.attempts, durationMilliseconds: 0, at: now, source: .outbox)
            }
            return items
        }
    }

    /// Settles outbox items after their attempts: delivered or failed for good leave the
    /// outbox; the rest wait for another try. One transaction for all of them.
    package func settle(_ settlements: [(item: Int64, OutboxSettlement)]) throws {
        guard !settlements.isEmpty else { return }
        try database.write { db in try Self.settle(settlements, in: db) }
    }

    static func settle(_ settlements: [(item: Int64, OutboxSettlement)], in db: Database) throws {
        for (item, settlement) in settlements {
            switch settlement {
            case .remove:
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?").execute(arguments: [item])
            case .reschedule(let at, let attempts, let lastError, let reason):
                try db.cachedStatement(
                    sql: """
                        UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ?, reason = ?,
                            claimed_by = NULL, claimed_until = NULL WHERE id = ?
                        """
                ).execute(arguments: [at.timeIntervalSince1970, attempts, lastError, reason.rawValue, item])
            }
        }
    }

    /// Removes one waiting (or expired) item at the user's request, and says so in the history;
    /// false when there is no such item or it is being sent right now.
    package func removeFromOutbox(_ id: Int64, now: Date = Date()) throws -> Bool {
        try database.write { db in
            guard let item = try Row.fetchOne(
                db, sql: "SELECT * FROM outbox WHERE id = ? AND (claimed_until IS NULL OR claimed_until < ?)",
                arguments: [id, now.timeIntervalSince1970]
            ).map(OutboxItem.init) else { return false }
            try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [id])
            if item.expiredAt == nil {
                try Self.insertDelivery(
                    db, notificationID: item.notificationID, channel: item.channel, ok: false, queued: false, statusCode: nil,
                    error: "dropped from the outbox by the user; last error: \(item.lastError ?? "none")", attempts: item.attempts,
                    durationMilliseconds: 0, at: now, source: .outbox)
            }
            return true
        }
    }

    /// Makes every item waiting for a retry due now (`mcp-push outbox --flush`); rate-limited
    /// items keep their time.
    package func makeOutboxDue(now: Date = Date()) throws -> Int {
        try database.write { db in
            try db.execute(
                sql: "UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at > ? AND reason != ? AND expired_at IS NULL",
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, QueueReason.rateLimit.rawValue])
            return db.changesCount
        }
    }

    package func outbox() throws -> [OutboxItem] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id").map(OutboxItem.init) }
    }
}

extension SQLiteStore {
    /// How many deliveries wait in the outbox (expired ones aside), and when the oldest was queued.
    package func outboxBacklog() throws -> (count: Int, oldest: Date?) {
        try lookup { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE expired_at IS NULL")
            return (row?["n"] ?? 0, (row?["oldest"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }
}

extension OutboxItem {
    init(row: Row) {
        id = row["id"]
        channel = row["channel"]
        target = row["target"]
        message = Message(
            title: row["title"], body: row["body"], url: row["url"], level: (row["level"] as String?).flatMap(Level.init(rawValue:)) ?? .info,
            format: (row["format"] as String?).flatMap(Format.init(rawValue:)) ?? .text)
        message.silent = (row["silent"] as Int?) == 1
        notificationID = row["notification_id"]
        reason = QueueReason(rawValue: row["reason"]) ?? .retry
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        nextAttemptAt = Date(timeIntervalSince1970: row["next_attempt_at"])
        expiresAt = (row["expires_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        expiredAt = (row["expired_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        claimedUntil = (row["claimed_until"] as Double?).map(Date.init(timeIntervalSince1970:))
        attempts = row["attempts"]
        lastError = row["last_error"]
    }
}
