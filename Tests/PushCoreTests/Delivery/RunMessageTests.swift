import Foundation
@testable import PushCore
import Synchronization
import TestSupport
import Testing

/// One message per run: where the service can edit (Telegram, ntfy ≥ 2.16), a run's `update`,
/// `end` and `error` edit the message its `start` sent, whichever process sends them.
@Suite struct RunMessageTests {
    /// Telegram's sendMessage and editMessageText over a chat that keeps its messages: an edit of an
    /// unknown message and an edit that changes nothing are refused as the Bot API refuses them.
    final class TelegramChat: Sendable {
        let messages = Mutex<[Int: String]>([:])
        let nextID = Mutex(100)

        var handler: FakeService.Handler {
            { [self] request in
                guard let body = request.json, let text = body["text"]?.string else { return TelegramTests.badRequest("message text is empty") }
                if request.path.hasSuffix("/editMessageText") {
                    guard let id = body["message_id"]?.int, let old = messages.withLock({ $0[id] }) else {
                        return TelegramTests.badRequest("message to edit not found")
                    }
                    guard old != text else {
                        return TelegramTests.badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
                    }
                    messages.withLock { $0[id] = text }
                    return .raw(#"{"ok":true,"result":{"message_id":\#(id),"chat":{"id":987654321,"type":"private"},"date":1732406400,"edit_date":1732406460}}"#)
                }
                guard request.path.hasSuffix("/sendMessage") else { return .raw(#"{"ok":false,"error_code":404,"description":"Not Found"}"#, status: 404) }
                let id = nextID.withLock { $0 += 1; return $0 }
                messages.withLock { $0[id] = text }
                return .raw(#"{"ok":true,"result":{"message_id":\#(id),"chat":{"id":987654321,"type":"private"},"date":1732406400}}"#)
            }
        }
    }

    func notifier(_ variables: [String: String], _ directory: String) throws -> Notifier {
        try Notifier(configuration: Configuration(variables.merging(["MCP_PUSH_EVENTS": "all"]) { $1 }), store: .directory(directory))
    }

    @Test func aTelegramRunIsOneMessageEditedAcrossProcesses() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let chat = TelegramChat()
        try await FakeService.with(chat.handler) { fake in
            let variables = TelegramTests.variables(fake)
            let first = try notifier(variables, directory)
            let started = try await first.event(RunEvent(runID: "nightly-42", kind: .start, message: "Building 3 targets"))
            #expect(started.status == .success && started.results.first?.edited == false)
            await first.shutdown()

            // Another process (a new notifier on the same state) reports the rest of the run.
            let second = try notifier(variables, directory)
            let update = try await second.event(RunEvent(runID: "nightly-42", kind: .update, message: "2 of 3 built", data: ["progress": .double(0.66)]))
            #expect(update.status == .success && update.results.first?.edited == true, "\(update)")
            let end = try await second.event(RunEvent(runID: "nightly-42", kind: .end, message: "All 3 built"))
            #expect(end.results.first?.edited == true)
            #expect(chat.messages.withLock { $0.count } == 1, "one message for the whole run")
            let text = try #require(chat.messages.withLock { $0.values.first })
            #expect(text.hasPrefix("✅ nightly-42 finished\n\nAll 3 built") && text.contains("Took: "))
            #expect(fake.requests.map { $0.path.split(separator: "/").last! } == ["sendMessage", "editMessageText", "editMessageText"])

            // Another run is another message; a message of its own (notify_send, a hook) never edits one.
            _ = try await second.event(RunEvent(runID: "nightly-43", kind: .start, message: "Building"))
            _ = try await second.send(title: "Hook", content: "turn finished", runID: "nightly-42")
            #expect(chat.messages.withLock { $0.count } == 3)
            await second.shutdown()
        }
    }

    @Test func aDeletedRunMessageIsReplacedByANewOneThatLaterEventsEdit() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        let chat = TelegramChat()
        try await FakeService.with(chat.handler) { fake in
            let notifier = try notifier(TelegramTests.variables(fake), directory)
            _ = try await notifier.event(RunEvent(runID: "r1", kind: .start, message: "Starting"))
            chat.messages.withLock { $0.removeAll() }  // the user deleted it
            let update = try await notifier.event(RunEvent(runID: "r1", kind: .update, message: "Halfway"))
            #expect(update.status == .success && update.results.first?.edited == false)
            let end = try await notifier.event(RunEvent(runID: "r1", kind: .end, message: "Done"))
            #expect(end.results.first?.edited == true)
            #expect(chat.messages.withLock { $0.count } == 1)
            await notifier.shutdown()
        }
    }

    @Test func ntfyUpdatesTheNotificationBySequenceIDAndSaysWhenTheServerDidNot() async throws {
        for supportsUpdates in [true, false] {
            let directory = try OutboxTests.temporaryDirectory()
            let ntfy = NtfyTests.service()
            try await FakeService.with({ request in
                let answer = try await ntfy(request)
                // ntfy 2.16 echoes the sequence id; older servers ignore the header and publish a new notification.
                guard supportsUpdates, let sequence = request.headers["x-sequence-id"] else { return answer }
                return .raw(#"{"id":"u\#(Int.random(in: 1000...9999))","time":1732406460,"event":"message","topic":"\#(NtfyTests.topic)","sequence_id":"\#(sequence)","message":"updated"}"#)
            }) { fake in
                let notifier = try notifier(["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL], directory)
                let start = try await notifier.event(RunEvent(runID: "deploy", kind: .start, message: "Deploying"))
                #expect(start.status == .success)
                #expect(fake.lastRequest?.headers["x-sequence-id"] == nil)
                let end = try await notifier.event(RunEvent(runID: "deploy", kind: .end, message: "Deployed"))
                #expect(end.status == .success)
                // The id ntfy gave the start's message is the sequence the end updates.
                #expect(fake.lastRequest?.headers["x-sequence-id"] == "sPs71M8A2T")
                #expect(end.results.first?.edited == supportsUpdates, "edited is what the server said, not what was asked")
                await notifier.shutdown()
            }
        }
    }

    @Test func anIDThatIsNotNtfysIsNeverSentBackInAHeader() async throws {
        let directory = try OutboxTests.temporaryDirectory()
        try await FakeService.with({ request in
            .raw(#"{"id":"abc\r\nX-Injected: 1","time":1732406400,"event":"message","topic":"\#(NtfyTests.topic)","message":"m"}"#)
        }) { fake in
            let notifier = try notifier(["NTFY_TOPIC": NtfyTests.topic, "NTFY_URL": fake.baseURL], directory)
            _ = try await notifier.event(RunEvent(runID: "r", kind: .start, message: "Starting"))
            let end = try await notifier.event(RunEvent(runID: "r", kind: .end, message: "Done"))
            #expect(end.status == .success)
            #expect(fake.lastRequest?.headers["x-sequence-id"] == nil && fake.lastRequest?.headers["x-injected"] == nil)
            await notifier.shutdown()
        }
    }
}
