import Foundation
import Logging
import PushCore

/// Questions with inline buttons on the configured Telegram bot, and their answers.
///
/// Telegram hands a bot's updates to one `getUpdates` caller at a time (a second gets 409
/// Conflict), so one mcp-push process polls for all of them: the holder of the bot's lease in
/// the shared store. Whoever polls records each answer in the store, where the process that
/// asked finds it. Only callbacks from the configured user, in that user's own chat, count.
struct TelegramAnswers: Sendable {
    let telegram: Telegram
    let userID: Int64
    let http: HTTPService
    let logger: Logger
    let redact: @Sendable (String) -> String

    /// Nil unless `TG_USER_ID` names one person (a private chat): in a group, anyone could press.
    init?(telegram: Telegram, http: HTTPService, logger: Logger, redact: @escaping @Sendable (String) -> String) {
        guard let user = Int64(telegram.chatID), user > 0 else { return nil }
        self.telegram = telegram
        self.userID = user
        self.http = http
        self.logger = logger
        self.redact = redact
    }

    /// The lease's name: the bot's public id (the part of the token before the colon).
    var leaseName: String { "telegram-poller:" + (telegram.token.split(separator: ":").first.map(String.init) ?? "") }

    private func method(_ name: String) -> String { "\(telegram.apiBase)/bot\(telegram.token)/\(name)" }

    private func call(_ name: String, _ body: JSONValue, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let answer = try await http.perform(.json(method(name), body), timeout: timeout, proxy: telegram.proxy)
        guard let json = answer.json else { throw AnswerChannelError("Telegram \(name): HTTP \(answer.status), not JSON") }
        guard json["ok"]?.bool == true else {
            let code = json["error_code"]?.int ?? answer.status
            throw AnswerChannelError("Telegram \(name): \(code) \(json["description"]?.string ?? "")", code: code)
        }
        return json["result"] ?? .null
    }

    /// Sends the question with one button per option; returns the message's id (to edit it later).
    func send(_ text: String, options: [String], tokens: [OneTimeToken]) async throws -> Int {
        // Two buttons a row: "Allow" and "Deny" side by side, four options in two rows.
        let buttons = zip(options, tokens).map { label, token -> JSONValue in
            ["text": .string(label), "callback_data": .string(token.answer)]
        }
        let rows = stride(from: 0, to: buttons.count, by: 2).map { JSONValue.array(Array(buttons[$0..<min($0 + 2, buttons.count)])) }
        let result = try await call(
            "sendMessage",
            [
                "chat_id": .string(telegram.chatID), "text": .string(String(text.prefix(4000))), "disable_web_page_preview": true,
                "reply_markup": ["inline_keyboard": .array(rows)],
            ])
        guard let id = result["message_id"]?.int else { throw AnswerChannelError("Telegram sendMessage: no message_id in the answer") }
        return id
    }

    /// Replaces the question with its outcome and removes the buttons.
    func finish(messageID: Int, text: String) async {
        do {
            _ = try await call(
                "editMessageText",
                ["chat_id": .string(telegram.chatID), "message_id": .int(messageID), "text": .string(String(text.prefix(4000)))])
        } catch {
            logger.info("Telegram: could not update the question's message: \(redact(String(describing: error)))")
        }
    }

    /// Polls for answers while this process waits: takes the bot's lease when it is free (or its
    /// holder died), long-polls while holding it, and gives it up when cancelled.
    func poll(store: any StateStore, signer: TokenSigner, holder: String, pollTime: Duration) async {
        let lease = leaseName
        while !Task.isCancelled {
            guard (try? await store.takeLease(lease, holder: holder, for: pollTime + .seconds(5), now: Date())) == true else {
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            let offset = (try? await store.leaseValue(lease)).flatMap { $0.flatMap(Int.init) } ?? 0
            do {
                let updates = try await call(
                    "getUpdates",
                    ["offset": .int(offset), "timeout": .int(Int(pollTime.components.seconds)), "allowed_updates": ["callback_query"]],
                    timeout: pollTime + .seconds(10))
                // Updates read are handled to the end even if this process stops waiting meanwhile: a press
                // is recorded and acknowledged (or its button spins), and the offset moves past it.
                let handling = Task {
                    var next = offset
                    for update in updates.array ?? [] {
                        if let id = update["update_id"]?.int { next = max(next, id + 1) }
                        if let callback = update["callback_query"] { await handle(callback, store: store, signer: signer) }
                    }
                    if next != offset { try? await store.setLeaseValue(lease, String(next)) }
                }
                await handling.value
            } catch let error as AnswerChannelError where error.code == 409 {
                // Something else polls this bot (another program, or a webhook is set): say so and wait.
                logger.warning("Telegram: \(error.description); answers can only be read while nothing else polls this bot")
                try? await Task.sleep(for: .seconds(2))
            } catch {
                if Task.isCancelled { break }
                logger.info("Telegram getUpdates: \(redact(String(describing: error)))")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        try? await store.releaseLease(lease, holder: holder)
    }

    /// One button press: recorded if it comes from the configured user with a live token, and
    /// always acknowledged (else the button spins on the phone).
    func handle(_ callback: JSONValue, store: any StateStore, signer: TokenSigner) async {
        guard let callbackID = callback["id"]?.string else { return }
        let from = callback["from"]?["id"]?.int.map(Int64.init)
        let chat = callback["message"]?["chat"]?["id"]?.int.map(Int64.init)
        var reply: String
        var alert = false
        if let token = callback["data"]?.string.flatMap(OneTimeToken.init(answer:)) {
            if from != userID || (chat != nil && chat != userID) {
                logger.warning("Telegram: refused an answer from user \(from.map(String.init) ?? "unknown") (only TG_USER_ID can answer)")
                reply = "Only the person this bot reports to can answer."
                alert = true
            } else {
                let username = callback["from"]?["username"]?.string.map { "@\($0)" }
                let who = username ?? "user \(userID)"
                let use = try? await store.answer(tokenDigest: signer.digest(token), page: nil, by: who, via: "telegram", now: Date())
                switch use ?? .unknown {
                case .decided(let record):
                    reply = "\(record.answerLabel ?? "Answered") ✓"
                case .alreadyClosed(let record):
                    reply = Self.closedText(record)
                case .unknown:
                    logger.warning("Telegram: an answer with an unknown token was refused")
                    reply = "This question is no longer open."
                }
            }
        } else {
            reply = ""  // not one of ours: acknowledge quietly
        }
        var body: [String: JSONValue] = ["callback_query_id": .string(callbackID)]
        if !reply.isEmpty { body["text"] = .string(reply) }
        if alert { body["show_alert"] = true }
        do { _ = try await call("answerCallbackQuery", .object(body)) } catch {
            logger.info("Telegram answerCallbackQuery: \(redact(String(describing: error)))")
        }
    }

    static func closedText(_ record: ApprovalRecord) -> String {
        switch record.state {
        case .answered: return "Already decided: \(record.answerLabel ?? "answered")\(record.answeredVia.map { " (\($0))" } ?? "")."
        case .expired: return "Too late: this question expired."
        case .withdrawn: return "Already decided elsewhere (in the terminal)."
        case .pending: return "Still open."
        }
    }
}

/// An answering channel's service refused or could not be reached.
struct AnswerChannelError: Error, CustomStringConvertible {
    let description: String
    var code: Int?

    init(_ description: String, code: Int? = nil) {
        self.description = description
        self.code = code
    }
}
