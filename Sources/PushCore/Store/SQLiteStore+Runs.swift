import Foundation
import GRDB

extension SQLiteStore {
    /// Records `event` and returns the run as it stood before it: when it started and
    /// its last progress, which the `end` push reports.
    @discardableResult
    package func record(_ event: RunEvent) async throws -> RunRecord? {
        try await groupCommit.write { db in
            let previous = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM run WHERE run_id = ?"), arguments: [event.runID])
                .map(RunRecord.init)
            let at = event.timestamp.timeIntervalSince1970
            let progress = event.data["progress"]?.double
            let data = event.data.isEmpty ? nil : (try? JSONValue.object(event.data).encoded()).map { String(decoding: $0, as: UTF8.self) }
            try db.cachedStatement(sql: "INSERT INTO event(run_id, kind, message, data, at) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [event.runID, event.kind.rawValue, event.message, data, at])
            if previous == nil {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO run(run_id, first_event, last_event, started_at, finished_at, outcome, last_progress, last_message, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        event.runID, event.kind.rawValue, event.kind.rawValue,
                        event.kind == .start ? at : nil,
                        event.kind.isFinal ? at : nil, event.kind.isFinal ? event.kind.rawValue : nil,
                        progress, event.message, Date().timeIntervalSince1970,
                    ])
            } else {
                try db.cachedStatement(
                    sql: """
                        UPDATE run SET last_event = ?, last_message = ?, updated_at = ?,
                            started_at = CASE WHEN ? THEN ? ELSE started_at END,
                            finished_at = CASE WHEN ? THEN ? WHEN ? THEN NULL ELSE finished_at END,
                            outcome = CASE WHEN ? THEN ? WHEN ? THEN NULL ELSE outcome END,
                            last_progress = COALESCE(?, last_progress)
                        WHERE run_id = ?
                        """
                ).execute(
                    arguments: [
                        event.kind.rawValue, event.message, Date().timeIntervalSince1970,
                        event.kind == .start, at,
                        event.kind.isFinal, at, event.kind == .start,
                        event.kind.isFinal, event.kind.rawValue, event.kind == .start,
                        progress, event.runID,
                    ])
            }
            return previous
        }
    }

    package func runs(limit: Int) throws -> [RunRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY updated_at DESC LIMIT ?", arguments: [limit]).map(RunRecord.init)
        }
    }

    package func run(_ runID: String) throws -> (run: RunRecord, events: [EventRecord], deliveries: [DeliveryRecord])? {
        try database.read { db in
            guard let run = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE run_id = ?", arguments: [runID]).map(RunRecord.init) else {
                return nil
            }
            let events = try Row.fetchAll(db, sql: "SELECT * FROM event WHERE run_id = ? ORDER BY at, id", arguments: [runID]).map { row in
                // Only this code writes the column; a kind it no longer knows reads as an update.
                EventRecord(
                    kind: RunEvent.Kind(rawValue: row["kind"]) ?? .update, message: row["message"], data: row["data"],
                    at: Date(timeIntervalSince1970: row["at"]))
            }
            let deliveries = try Row.fetchAll(
                db,
                sql: """
                    SELECT delivery.*, notification.title AS title FROM delivery
                    JOIN notification ON notification.id = delivery.notification_id
                    WHERE notification.run_id = ? ORDER BY delivery.at, delivery.id
                    """,
                arguments: [runID]
            ).map(DeliveryRecord.init)
            return (run, events, deliveries)
        }
    }
}

// MARK: One message per run

extension SQLiteStore {
    /// The messages a run's events edit, by target fingerprint: what its `start` (or first pushed event) sent.
    package func runMessages(_ runID: String) throws -> [String: String] {
        try lookup { db in
            let rows = try Row.fetchAll(db, sql: "SELECT target, message_id FROM run_message WHERE run_id = ?", arguments: [runID])
            return Dictionary(rows.map { ($0["target"] as String, $0["message_id"] as String) }, uniquingKeysWith: { $1 })
        }
    }

    /// Remembers which message on each target a run's later events edit.
    package func rememberRunMessages(_ runID: String, _ messages: [String: String], now: Date = Date()) throws {
        guard !messages.isEmpty else { return }
        try database.write { db in
            for (target, messageID) in messages {
                try db.execute(
                    sql: """
                        INSERT INTO run_message(run_id, target, message_id, at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(run_id, target) DO UPDATE SET message_id = excluded.message_id, at = excluded.at
                        """,
                    arguments: [runID, target, messageID, now.timeIntervalSince1970])
            }
        }
    }
}

extension RunRecord {
    init(row: Row) {
        runID = row["run_id"]
        firstEvent = row["first_event"]
        lastEvent = row["last_event"]
        startedAt = (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        finishedAt = (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        outcome = row["outcome"]
        lastProgress = row["last_progress"]
        lastMessage = row["last_message"]
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}
