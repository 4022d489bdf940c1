import Foundation
import JSONText
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ``StateStore``'s operations in PostgreSQL: the statements of ``SQLiteStore``, in PostgreSQL's terms.
extension PostgresStore {
    // MARK: History

    package func record(
        _ result: DispatchResult, title: String, runID: String?, notificationID: Int64?, rememberingDigest digest: String?,
        settling settlements: [(item: Int64, OutboxSettlement)], at: Date
    ) async throws -> Int64 {
        try await transaction { connection in
            if let digest { try await self.remember(digest, at: at, on: connection) }
            let id: Int64
            if let notificationID {
                try await self.execute(
                    "UPDATE notification SET status = \(result.status.rawValue), message = \(result.message) WHERE id = \(notificationID)",
                    on: connection)
                id = notificationID
            } else {
                id = try await self.insertNotification(
                    title: title, runID: runID, status: result.status.rawValue, message: result.message, at: at, on: connection)
            }
            for item in result.results {
                try await self.insertDelivery(item, notificationID: id, at: at, source: .call, on: connection)
            }
            try await self.settle(settlements, on: connection)
            return id
        }
    }

    package func beginCall(
        _ deliveries: [Store.PlannedDelivery], title: String, runID: String?, owner: String, lease: Duration, expiresAt: Date, now: Date
    ) async throws -> (notificationID: Int64, items: [ChannelID: (item: Int64, admission: Admission)]) {
        let planned = try await exclusive { connection -> (Int64, [(ChannelID, Int64, Admission)]) in
            let notificationID = try await self.insertNotification(
                title: title, runID: runID, status: "sending", message: "being sent", at: now, on: connection)
            var items: [(ChannelID, Int64, Admission)] = []
            for delivery in deliveries {
                let target = delivery.target
                let admission = try await self.admission(
                    channel: target.channel, target: target.fingerprint, limits: target.rateLimits, at: now, on: connection)
                let item: Int64
                switch admission {
                case .send:
                    item = try await self.insertOutboxItem(
                        channel: target.channel, target: target.fingerprint, message: delivery.message, notificationID: notificationID,
                        reason: .interrupted, notBefore: now, expiresAt: expiresAt, claimedBy: owner,
                        claimedUntil: now.addingTimeInterval(lease.seconds), attempts: 0, lastError: nil, now: now, on: connection)
                case .queueBehind, .wait:
                    let notBefore: Date
                    if case .wait(let until, _) = admission { notBefore = until } else { notBefore = now }
                    item = try await self.insertOutboxItem(
                        channel: target.channel, target: target.fingerprint, message: delivery.message, notificationID: notificationID,
                        reason: .rateLimit, notBefore: notBefore, expiresAt: expiresAt, claimedBy: nil, claimedUntil: nil, attempts: 0,
                        lastError: nil, now: now, on: connection)
                }
                items.append((target.channel, item, admission))
            }
            return (notificationID, items)
        }
        var items: [ChannelID: (item: Int64, admission: Admission)] = [:]
        for (channel, item, admission) in planned.1 { items[channel] = (item, admission) }
        return (planned.0, items)
    }

    package func recordOutboxDelivery(_ item: OutboxItem, result: ChannelResult, settlement: OutboxSettlement, at: Date) async throws {
        try await transaction { connection in
            if settlement == .remove {
                try await self.insertDelivery(result, notificationID: item.notificationID, at: at, source: .outbox, on: connection)
            }
            try await self.settle([(item.id, settlement)], on: connection)
        }
    }

    package func recentDeliveries(limit: Int, channel: String?) async throws -> [DeliveryRecord] {
        try await rows(
            """
            SELECT delivery.*, notification.title AS title FROM delivery
            LEFT JOIN notification ON notification.id = delivery.notification_id
            WHERE \(channel)::TEXT IS NULL OR delivery.channel = \(channel)
            ORDER BY delivery.at DESC, delivery.id DESC LIMIT \(limit)
            """
        ).map(Self.deliveryRecord)
    }

    package func activity(channel: String) async throws -> ChannelActivity {
        let success = try await rows("SELECT MAX(at) AS at FROM delivery WHERE channel = \(channel) AND ok").first?["at"].decode(Double?.self)
        let failure = try await rows("SELECT at, error FROM delivery WHERE channel = \(channel) AND NOT ok ORDER BY at DESC LIMIT 1").first
        return ChannelActivity(
            lastSuccess: success.map(Date.init(timeIntervalSince1970:)),
            lastFailure: try failure.map { Date(timeIntervalSince1970: try $0["at"].decode(Double.self)) },
            lastError: try failure?["error"].decode(String?.self))
    }

    package func prune(retentionDays: Int, now: Date, interval: TimeInterval) async throws {
        let time = now.timeIntervalSince1970
        let cutoff = time - Double(retentionDays) * 86_400
        if interval > 0, let last = try await rows("SELECT value FROM meta WHERE key = 'pruned_at'").first?["value"].decode(String.self),
            let seconds = Double(last), time - seconds < interval
        {
            return
        }
        try await transaction { connection in
            try await self.execute(
                "INSERT INTO meta(key, value) VALUES ('pruned_at', \(String(time))) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                on: connection)
            try await self.execute("DELETE FROM delivery WHERE at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM notification WHERE at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM event WHERE at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM run WHERE updated_at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM run_message WHERE at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM outbox WHERE expired_at < \(cutoff)", on: connection)
            try await self.execute("DELETE FROM rate_slot WHERE at < \(time - 86_400)", on: connection)
            try await self.execute("DELETE FROM recent_message WHERE at < \(time - 86_400)", on: connection)
            try await self.execute(
                "DELETE FROM approval_token WHERE approval_id IN (SELECT id FROM approval WHERE expires_at < \(time - 86_400))",
                on: connection)
            try await self.execute("DELETE FROM approval WHERE created_at < \(cutoff)", on: connection)
        }
    }

    // MARK: Rate limits and duplicates

    package func reserveSlot(channel: String, limits: [RateLimit], now: Date) async throws -> RateDecision {
        guard !limits.isEmpty else { return .send }
        return try await exclusive { connection in try await self.takeSlot(channel: channel, limits: limits, at: now, on: connection) }
    }

    package func isDuplicate(_ digest: String, window: Duration, now: Date) async throws -> Bool {
        guard let seen = try await rows("SELECT at FROM recent_message WHERE digest = \(digest)").first?["at"].decode(Double.self) else {
            return false
        }
        return now.timeIntervalSince1970 - seen < Double(window.milliseconds) / 1000
    }

    private func admission(
        channel: String, target: String?, limits: [RateLimit], at now: Date, on connection: PostgresConnection
    ) async throws -> Admission {
        guard !limits.isEmpty else { return .send }
        let time = now.timeIntervalSince1970
        let waiting = try await rows(
            """
            SELECT EXISTS(SELECT 1 FROM outbox WHERE channel = \(channel) AND expired_at IS NULL
                          AND (\(target)::TEXT IS NULL OR target IS NULL OR target = \(target))
                          AND (claimed_until IS NULL OR claimed_until < \(time))) AS waiting
            """, on: connection
        ).first?["waiting"].decode(Bool.self) ?? false
        return waiting ? .queueBehind : Admission(try await takeSlot(channel: channel, limits: limits, at: now, on: connection))
    }

    private func takeSlot(channel: String, limits: [RateLimit], at now: Date, on connection: PostgresConnection) async throws -> RateDecision {
        let time = now.timeIntervalSince1970
        var waitUntil: (Double, RateLimit)?
        for limit in limits {
            // As SQLiteStore: a 5 % margin, since services count at arrival.
            let window = Double(limit.window.milliseconds) / 1000 * 1.05
            let recent = try await rows(
                "SELECT at FROM rate_slot WHERE channel = \(channel) AND at > \(time - window) ORDER BY at DESC", on: connection
            ).map { try $0["at"].decode(Double.self) }
            if recent.count >= limit.count {
                let freeAt = recent[limit.count - 1] + window
                if waitUntil == nil || freeAt > waitUntil!.0 { waitUntil = (freeAt, limit) }
            }
        }
        if let (until, limit) = waitUntil { return .wait(until: Date(timeIntervalSince1970: until), limit: limit) }
        try await execute("INSERT INTO rate_slot(channel, at) VALUES (\(channel), \(time))", on: connection)
        return .send
    }

    private func remember(_ digest: String, at now: Date, on connection: PostgresConnection) async throws {
        try await execute(
            """
            INSERT INTO recent_message(digest, at) VALUES (\(digest), \(now.timeIntervalSince1970))
            ON CONFLICT(digest) DO UPDATE SET at = excluded.at
            """, on: connection)
    }

    // MARK: The outbox

    package func enqueue(
        channel: ChannelID, target: String?, message: Message, reason: QueueReason, notBefore: Date, attempts: Int,
        lastError: String?, notificationID: Int64?, expiresAt: Date?, now: Date
    ) async throws -> Int64 {
        try await transaction { connection in
            try await self.insertOutboxItem(
                channel: channel, target: target, message: message, notificationID: notificationID, reason: reason, notBefore: notBefore,
                expiresAt: expiresAt, claimedBy: nil, claimedUntil: nil, attempts: attempts, lastError: lastError, now: now, on: connection)
        }
    }

    package func claimDue(owner: String, targets: [OutboxTarget], lease: Duration, limit: Int, now: Date) async throws -> [OutboxItem] {
        guard !targets.isEmpty else { return [] }
        // Most passes find nothing: look before taking the lock.
        guard try await !dueItems(targets, now: now, limit: 1).isEmpty else { return [] }
        return try await exclusive { connection in
            let items = try await self.dueItems(targets, now: now, limit: limit, on: connection)
            let until = now.timeIntervalSince1970 + lease.seconds
            for item in items {
                try await self.execute("UPDATE outbox SET claimed_by = \(owner), claimed_until = \(until) WHERE id = \(item.id)", on: connection)
            }
            return items
        }
    }

    /// Items due for these targets, each target's in queue order (see SQLiteStore's `dueCondition`).
    private func dueItems(_ targets: [OutboxTarget], now: Date, limit: Int, on connection: PostgresConnection? = nil) async throws -> [OutboxItem] {
        let time = now.timeIntervalSince1970
        let fingerprints = targets.map(\.fingerprint)
        let channels = targets.map(\.channel)
        return try await rows(
            """
            SELECT * FROM outbox o
            WHERE o.expired_at IS NULL
              AND (o.claimed_until IS NULL OR o.claimed_until < \(time))
              AND o.next_attempt_at <= \(time)
              AND NOT EXISTS (SELECT 1 FROM outbox earlier
                              WHERE earlier.channel = o.channel AND earlier.id < o.id AND earlier.expired_at IS NULL
                                AND COALESCE(earlier.target, '') = COALESCE(o.target, '')
                                AND (earlier.next_attempt_at > \(time) OR earlier.claimed_until >= \(time)))
              AND (o.target = ANY(\(fingerprints)) OR (o.target IS NULL AND o.channel = ANY(\(channels))))
            ORDER BY o.id LIMIT \(limit)
            """, on: connection
        ).map(Self.outboxItem)
    }

    package func hasLiveOutboxItems() async throws -> Bool {
        try await rows("SELECT EXISTS(SELECT 1 FROM outbox WHERE expired_at IS NULL) AS live").first?["live"].decode(Bool.self) ?? false
    }

    package func nextDue(targets: [OutboxTarget]) async throws -> Date? {
        guard !targets.isEmpty else { return nil }
        let fingerprints = targets.map(\.fingerprint)
        let channels = targets.map(\.channel)
        let next = try await rows(
            """
            SELECT MIN(GREATEST(o.next_attempt_at, COALESCE(o.claimed_until, 0))) AS next FROM outbox o
            WHERE o.expired_at IS NULL
              AND (o.target = ANY(\(fingerprints)) OR (o.target IS NULL AND o.channel = ANY(\(channels))))
            """
        ).first?["next"].decode(Double?.self)
        return next.map(Date.init(timeIntervalSince1970:))
    }

    package func expire(maximumAge: Duration, now: Date) async throws -> [OutboxItem] {
        let time = now.timeIntervalSince1970
        let age = maximumAge.seconds
        let candidates: @Sendable (PostgresConnection?) async throws -> [OutboxItem] = { connection in
            try await self.rows(
                """
                SELECT * FROM outbox WHERE expired_at IS NULL AND (claimed_until IS NULL OR claimed_until < \(time))
                  AND COALESCE(expires_at, created_at + \(age)) < \(time) ORDER BY id
                """, on: connection
            ).map(Self.outboxItem)
        }
        guard try await !candidates(nil).isEmpty else { return [] }
        return try await exclusive { connection in
            let items = try await candidates(connection)
            for item in items {
                let waited = Duration.seconds(now.timeIntervalSince(item.createdAt)).roundedSecondsText
                let error = "expired: not delivered within \(waited) (MCP_PUSH_OUTBOX_MAX_AGE); last error: \(item.lastError ?? "none")"
                try await self.execute(
                    "UPDATE outbox SET expired_at = \(time), last_error = \(error), claimed_by = NULL, claimed_until = NULL WHERE id = \(item.id)",
                    on: connection)
                try await self.insertDelivery(
                    notificationID: item.notificationID, channel: item.channel, ok: false, queued: false, statusCode: nil, error: error,
                    attempts: item.attempts, durationMilliseconds: 0, at: now, source: .outbox, on: connection)
            }
            return items
        }
    }

    package func settle(_ settlements: [(item: Int64, OutboxSettlement)]) async throws {
        guard !settlements.isEmpty else { return }
        try await transaction { connection in try await self.settle(settlements, on: connection) }
    }

    private func settle(_ settlements: [(item: Int64, OutboxSettlement)], on connection: PostgresConnection) async throws {
        for (item, settlement) in settlements {
            switch settlement {
            case .remove:
                try await execute("DELETE FROM outbox WHERE id = \(item)", on: connection)
            case .reschedule(let at, let attempts, let lastError, let reason):
                try await execute(
                    """
                    UPDATE outbox SET next_attempt_at = \(at.timeIntervalSince1970), attempts = \(attempts), last_error = \(lastError),
                        reason = \(reason.rawValue), claimed_by = NULL, claimed_until = NULL WHERE id = \(item)
                    """, on: connection)
            }
        }
    }

    package func removeFromOutbox(_ id: Int64, now: Date) async throws -> Bool {
        try await exclusive { connection in
            guard let item = try await self.rows(
                "SELECT * FROM outbox WHERE id = \(id) AND (claimed_until IS NULL OR claimed_until < \(now.timeIntervalSince1970))",
                on: connection
            ).first.map(Self.outboxItem) else { return false }
            try await self.execute("DELETE FROM outbox WHERE id = \(id)", on: connection)
            if item.expiredAt == nil {
                try await self.insertDelivery(
                    notificationID: item.notificationID, channel: item.channel, ok: false, queued: false, statusCode: nil,
                    error: "dropped from the outbox by the user; last error: \(item.lastError ?? "none")", attempts: item.attempts,
                    durationMilliseconds: 0, at: now, source: .outbox, on: connection)
            }
            return true
        }
    }

    package func makeOutboxDue(now: Date) async throws -> Int {
        let time = now.timeIntervalSince1970
        return try await rows(
            """
            UPDATE outbox SET next_attempt_at = \(time)
            WHERE next_attempt_at > \(time) AND reason != \(QueueReason.rateLimit.rawValue) AND expired_at IS NULL RETURNING id
            """
        ).count
    }

    package func outbox() async throws -> [OutboxItem] {
        try await rows("SELECT * FROM outbox ORDER BY id").map(Self.outboxItem)
    }

    package func outboxBacklog() async throws -> (count: Int, oldest: Date?) {
        let row = try await rows("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE expired_at IS NULL").first
        return (try row?["n"].decode(Int.self) ?? 0, try row?["oldest"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)))
    }

    private func insertOutboxItem(
        channel: ChannelID, target: String?, message: Message, notificationID: Int64?, reason: QueueReason, notBefore: Date,
        expiresAt: Date?, claimedBy owner: String?, claimedUntil: Date?, attempts: Int, lastError: String?, now: Date,
        on connection: PostgresConnection
    ) async throws -> Int64 {
        let level: String? = message.level == .info ? nil : message.level.rawValue
        let format: String? = message.format == .text ? nil : message.format.rawValue
        let silent: Bool? = message.silent ? true : nil
        return try await rows(
            """
            INSERT INTO outbox(channel, target, title, body, url, level, silent, format, notification_id, reason, created_at,
                               next_attempt_at, expires_at, attempts, last_error, claimed_by, claimed_until)
            VALUES (\(channel), \(target), \(message.title), \(message.body), \(message.url), \(level), \(silent), \(format),
                    \(notificationID), \(reason.rawValue), \(now.timeIntervalSince1970), \(notBefore.timeIntervalSince1970),
                    \(expiresAt?.timeIntervalSince1970), \(attempts), \(lastError), \(owner), \(claimedUntil?.timeIntervalSince1970))
            RETURNING id
            """, on: connection
        )[0]["id"].decode(Int64.self)
    }

    private func insertNotification(
        title: String, runID: String?, status: String, message: String, at: Date, on connection: PostgresConnection
    ) async throws -> Int64 {
        let id = try await rows(
            """
            INSERT INTO notification(at, title, run_id, status, message)
            VALUES (\(at.timeIntervalSince1970), \(title), \(runID), \(status), \(message)) RETURNING id
            """, on: connection
        )[0]["id"].decode(Int64.self)
        if let runID {
            try await execute(
                "UPDATE event SET notification_id = \(id) WHERE id = (SELECT id FROM event WHERE run_id = \(runID) ORDER BY id DESC LIMIT 1)",
                on: connection)
        }
        return id
    }

    private func insertDelivery(
        _ result: ChannelResult, notificationID: Int64?, at: Date, source: DeliverySource, on connection: PostgresConnection
    ) async throws {
        try await insertDelivery(
            notificationID: notificationID, channel: result.channel, ok: result.ok, queued: result.queued, statusCode: result.statusCode,
            error: result.error, attempts: result.attempts, durationMilliseconds: result.durationMilliseconds, at: at, source: source,
            on: connection)
    }

    private func insertDelivery(
        notificationID: Int64?, channel: ChannelID, ok: Bool, queued: Bool, statusCode: Int?, error: String?, attempts: Int,
        durationMilliseconds: Int, at: Date, source: DeliverySource, on connection: PostgresConnection
    ) async throws {
        try await execute(
            """
            INSERT INTO delivery(notification_id, channel, ok, queued, status_code, error, attempts, duration_ms, at, source)
            VALUES (\(notificationID), \(channel), \(ok), \(queued), \(statusCode), \(error), \(attempts), \(durationMilliseconds),
                    \(at.timeIntervalSince1970), \(source.rawValue))
            """, on: connection)
    }

    // MARK: Runs

    package func record(_ event: RunEvent) async throws -> RunRecord? {
        try await exclusive { connection in
            let previous = try await self.rows("SELECT * FROM run WHERE run_id = \(event.runID)", on: connection).first.map(Self.runRecord)
            let at = event.timestamp.timeIntervalSince1970
            let progress = event.data["progress"]?.double
            let data = event.data.isEmpty ? nil : (try? JSONValue.object(event.data).encoded()).map { String(decoding: $0, as: UTF8.self) }
            try await self.execute(
                "INSERT INTO event(run_id, kind, message, data, at) VALUES (\(event.runID), \(event.kind.rawValue), \(event.message), \(data), \(at))",
                on: connection)
            let updated = Date().timeIntervalSince1970
            let kind = event.kind.rawValue
            if previous == nil {
                let started: Double? = event.kind == .start ? at : nil
                let finished: Double? = event.kind.isFinal ? at : nil
                let outcome: String? = event.kind.isFinal ? kind : nil
                try await self.execute(
                    """
                    INSERT INTO run(run_id, first_event, last_event, started_at, finished_at, outcome, last_progress, last_message, updated_at)
                    VALUES (\(event.runID), \(kind), \(kind), \(started), \(finished), \(outcome), \(progress), \(event.message), \(updated))
                    """, on: connection)
            } else {
                let isStart = event.kind == .start
                let isFinal = event.kind.isFinal
                try await self.execute(
                    """
                    UPDATE run SET last_event = \(kind), last_message = \(event.message), updated_at = \(updated),
                        started_at = CASE WHEN \(isStart) THEN \(at) ELSE started_at END,
                        finished_at = CASE WHEN \(isFinal) THEN \(at) WHEN \(isStart) THEN NULL ELSE finished_at END,
                        outcome = CASE WHEN \(isFinal) THEN \(kind) WHEN \(isStart) THEN NULL ELSE outcome END,
                        last_progress = COALESCE(\(progress), last_progress)
                    WHERE run_id = \(event.runID)
                    """, on: connection)
            }
            return previous
        }
    }

    package func runs(limit: Int) async throws -> [RunRecord] {
        try await rows("SELECT * FROM run ORDER BY updated_at DESC LIMIT \(limit)").map(Self.runRecord)
    }

    package func run(_ runID: String) async throws -> (run: RunRecord, events: [EventRecord], deliveries: [DeliveryRecord])? {
        guard let run = try await rows("SELECT * FROM run WHERE run_id = \(runID)").first.map(Self.runRecord) else { return nil }
        let events = try await rows("SELECT * FROM event WHERE run_id = \(runID) ORDER BY at, id").map { row in
            EventRecord(
                kind: RunEvent.Kind(rawValue: try row["kind"].decode(String.self)) ?? .update, message: try row["message"].decode(String.self),
                data: try row["data"].decode(String?.self), at: Date(timeIntervalSince1970: try row["at"].decode(Double.self)))
        }
        let deliveries = try await rows(
            """
            SELECT delivery.*, notification.title AS title FROM delivery
            JOIN notification ON notification.id = delivery.notification_id
            WHERE notification.run_id = \(runID) ORDER BY delivery.at, delivery.id
            """
        ).map(Self.deliveryRecord)
        return (run, events, deliveries)
    }

    package func runMessages(_ runID: String) async throws -> [String: String] {
        var messages: [String: String] = [:]
        for row in try await rows("SELECT target, message_id FROM run_message WHERE run_id = \(runID)") {
            messages[try row["target"].decode(String.self)] = try row["message_id"].decode(String.self)
        }
        return messages
    }

    package func rememberRunMessages(_ runID: String, _ messages: [String: String], now: Date) async throws {
        guard !messages.isEmpty else { return }
        try await transaction { connection in
            for (target, messageID) in messages {
                try await self.execute(
                    """
                    INSERT INTO run_message(run_id, target, message_id, at) VALUES (\(runID), \(target), \(messageID), \(now.timeIntervalSince1970))
                    ON CONFLICT(run_id, target) DO UPDATE SET message_id = excluded.message_id, at = excluded.at
                    """, on: connection)
            }
        }
    }

    // MARK: Questions and leases

    package func createApproval(_ record: ApprovalRecord, tokens: [(digest: String, purpose: TokenPurpose)]) async throws {
        let options = String(decoding: try JSONEncoder().encode(record.options), as: UTF8.self)
        let waiter = Int(record.waiterPID ?? getpid())
        let host = Self.hostName
        try await exclusive { connection in
            try await self.execute(
                """
                INSERT INTO approval(id, kind, agent, title, detail, options, created_at, expires_at, state, waiter_pid, waiter_host)
                VALUES (\(record.id), \(record.kind), \(record.agent), \(record.title), \(record.detail), \(options),
                        \(record.createdAt.timeIntervalSince1970), \(record.expiresAt.timeIntervalSince1970), 'pending', \(waiter), \(host))
                """, on: connection)
            for token in tokens {
                let choice: Int? = if case .answer(let index) = token.purpose { index } else { nil }
                try await self.execute(
                    "INSERT INTO approval_token(digest, approval_id, choice) VALUES (\(token.digest), \(record.id), \(choice))", on: connection)
            }
        }
    }

    package func approval(id: String) async throws -> ApprovalRecord? {
        try await fetchApproval(id: id)
    }

    package func approval(tokenDigest digest: String) async throws -> (record: ApprovalRecord, purpose: TokenPurpose)? {
        guard let row = try await rows("SELECT approval_id, choice FROM approval_token WHERE digest = \(digest)").first,
            let record = try await fetchApproval(id: try row["approval_id"].decode(String.self))
        else { return nil }
        let choice = try row["choice"].decode(Int?.self)
        return (record, choice.map(TokenPurpose.answer) ?? .page)
    }

    package func answer(tokenDigest digest: String, page: String?, by who: String, via channel: String, now: Date) async throws -> TokenUse {
        try await exclusive { connection in
            guard let row = try await self.rows("SELECT approval_id, choice FROM approval_token WHERE digest = \(digest)", on: connection).first,
                let choice = try row["choice"].decode(Int?.self),
                let record = try await self.fetchApproval(id: try row["approval_id"].decode(String.self), on: connection)
            else { return .unknown }
            if let page {
                let owner = try await self.rows(
                    "SELECT approval_id FROM approval_token WHERE digest = \(page) AND choice IS NULL", on: connection
                ).first?["approval_id"].decode(String.self)
                guard owner == record.id else { return .unknown }
            }
            // Whether the asker is gone is known only on its own machine (a replica elsewhere cannot see its processes).
            let waiterHost = try await self.rows("SELECT waiter_host FROM approval WHERE id = \(record.id)", on: connection)
                .first?["waiter_host"].decode(String?.self)
            let (use, changed) = record.answering(
                choice, by: who, via: channel, at: now, askerGone: waiterHost == Self.hostName && record.askerExitedHere)
            if let changed { try await self.close(changed, on: connection) }
            return use
        }
    }

    package func closeApproval(id: String, as state: ApprovalRecord.State, now: Date) async throws -> ApprovalRecord? {
        try await exclusive { connection in
            guard var record = try await self.fetchApproval(id: id, on: connection) else { return nil }
            guard record.state == .pending else { return record }
            record.state = state
            record.answeredAt = now
            try await self.close(record, on: connection)
            return record
        }
    }

    package func recentApprovals(limit: Int) async throws -> [ApprovalRecord] {
        try await rows("SELECT * FROM approval ORDER BY created_at DESC LIMIT \(limit)").map(Self.approvalRecord)
    }

    package func pendingApprovals(now: Date) async throws -> Int {
        try await rows(
            "SELECT COUNT(*) AS n FROM approval WHERE state = \(ApprovalRecord.State.pending.rawValue) AND expires_at > \(now.timeIntervalSince1970)"
        ).first?["n"].decode(Int.self) ?? 0
    }

    package func takeLease(_ name: String, holder: String, for duration: Duration, now: Date) async throws -> Bool {
        try await exclusive { connection in
            if let row = try await self.rows("SELECT holder, until FROM lease WHERE name = \(name)", on: connection).first,
                try row["holder"].decode(String.self) != holder, try row["until"].decode(Double.self) > now.timeIntervalSince1970
            {
                return false
            }
            try await self.execute(
                """
                INSERT INTO lease(name, holder, until) VALUES (\(name), \(holder), \(now.timeIntervalSince1970 + duration.seconds))
                ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                """, on: connection)
            return true
        }
    }

    package func releaseLease(_ name: String, holder: String) async throws {
        try await execute("UPDATE lease SET until = 0 WHERE name = \(name) AND holder = \(holder)")
    }

    package func leaseValue(_ name: String) async throws -> String? {
        try await rows("SELECT value FROM lease WHERE name = \(name)").first?["value"].decode(String?.self)
    }

    package func setLeaseValue(_ name: String, _ value: String) async throws {
        try await execute("UPDATE lease SET value = \(value) WHERE name = \(name)")
    }

    private func close(_ record: ApprovalRecord, on connection: PostgresConnection) async throws {
        try await execute(
            """
            UPDATE approval SET state = \(record.state.rawValue), answer = \(record.answer), answered_by = \(record.answeredBy),
                answered_via = \(record.answeredVia), answered_at = \(record.answeredAt?.timeIntervalSince1970) WHERE id = \(record.id)
            """, on: connection)
    }

    private func fetchApproval(id: String, on connection: PostgresConnection? = nil) async throws -> ApprovalRecord? {
        try await rows("SELECT * FROM approval WHERE id = \(id)", on: connection).first.map(Self.approvalRecord)
    }

    /// This machine's name, to tell whether a question's asker is a process here.
    static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        return gethostname(&name, name.count - 1) == 0 ? String(cString: name) : "localhost"
    }()

    // MARK: Rows

    static func outboxItem(_ row: PostgresRandomAccessRow) throws -> OutboxItem {
        var message = Message(
            title: try row["title"].decode(String.self), body: try row["body"].decode(String.self), url: try row["url"].decode(String?.self),
            level: try row["level"].decode(String?.self).flatMap(Level.init(rawValue:)) ?? .info,
            format: try row["format"].decode(String?.self).flatMap(Format.init(rawValue:)) ?? .text)
        message.silent = try row["silent"].decode(Bool?.self) ?? false
        func date(_ column: String) throws -> Date? { try row[column].decode(Double?.self).map(Date.init(timeIntervalSince1970:)) }
        return OutboxItem(
            id: try row["id"].decode(Int64.self), channel: try row["channel"].decode(String.self), target: try row["target"].decode(String?.self),
            message: message, notificationID: try row["notification_id"].decode(Int64?.self),
            reason: QueueReason(rawValue: try row["reason"].decode(String.self)) ?? .retry,
            createdAt: try date("created_at")!, nextAttemptAt: try date("next_attempt_at")!, expiresAt: try date("expires_at"),
            expiredAt: try date("expired_at"), claimedUntil: try date("claimed_until"), attempts: try row["attempts"].decode(Int.self),
            lastError: try row["last_error"].decode(String?.self))
    }

    static func deliveryRecord(_ row: PostgresRandomAccessRow) throws -> DeliveryRecord {
        DeliveryRecord(
            channel: try row["channel"].decode(String.self), title: row.contains("title") ? try row["title"].decode(String?.self) : nil,
            ok: try row["ok"].decode(Bool.self), queued: try row["queued"].decode(Bool.self), statusCode: try row["status_code"].decode(Int?.self),
            error: try row["error"].decode(String?.self), attempts: try row["attempts"].decode(Int.self),
            durationMilliseconds: try row["duration_ms"].decode(Int.self), at: Date(timeIntervalSince1970: try row["at"].decode(Double.self)),
            source: DeliverySource(rawValue: try row["source"].decode(String.self)) ?? .call)
    }

    static func runRecord(_ row: PostgresRandomAccessRow) throws -> RunRecord {
        func date(_ column: String) throws -> Date? { try row[column].decode(Double?.self).map(Date.init(timeIntervalSince1970:)) }
        return RunRecord(
            runID: try row["run_id"].decode(String.self), firstEvent: try row["first_event"].decode(String.self),
            lastEvent: try row["last_event"].decode(String.self), startedAt: try date("started_at"), finishedAt: try date("finished_at"),
            outcome: try row["outcome"].decode(String?.self), lastProgress: try row["last_progress"].decode(Double?.self),
            lastMessage: try row["last_message"].decode(String?.self), updatedAt: try date("updated_at")!)
    }

    static func approvalRecord(_ row: PostgresRandomAccessRow) throws -> ApprovalRecord {
        let options = (try? JSONDecoder().decode([String].self, from: Data(try row["options"].decode(String.self).utf8))) ?? []
        var record = ApprovalRecord(
            id: try row["id"].decode(String.self), kind: try row["kind"].decode(String.self), title: try row["title"].decode(String.self),
            detail: try row["detail"].decode(String.self), options: options,
            createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
            expiresAt: Date(timeIntervalSince1970: try row["expires_at"].decode(Double.self)), agent: try row["agent"].decode(String?.self))
        record.state = ApprovalRecord.State(rawValue: try row["state"].decode(String.self)) ?? .pending
        record.answer = try row["answer"].decode(Int?.self)
        record.answeredBy = try row["answered_by"].decode(String?.self)
        record.answeredVia = try row["answered_via"].decode(String?.self)
        record.answeredAt = try row["answered_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
        record.waiterPID = try row["waiter_pid"].decode(Int?.self).map(Int32.init)
        return record
    }
}
