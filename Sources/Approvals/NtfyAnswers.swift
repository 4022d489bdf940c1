import Foundation
import Logging
import PushCore

/// Questions on the configured ntfy topic with one `http` action button per option. A button
/// publishes its answer token to a reply topic made for this question alone (unguessable, and
/// carrying the user's ntfy credentials when set); the asking process subscribes to it.
struct NtfyAnswers: Sendable {
    let ntfy: Ntfy
    let http: HTTPService
    let logger: Logger
    let redact: @Sendable (String) -> String

    /// ntfy shows at most three actions on a notification.
    static let maximumActions = 3

    static func replyTopic() -> String { "mcp-push-" + OneTimeToken().text }

    private var authorization: [(String, String)] { ntfy.authorization.map { [("Authorization", $0)] } ?? [] }

    func send(title: String, text: String, options: [String], tokens: [OneTimeToken], replyTopic: String, link: String?) async throws {
        var actions: [JSONValue] = zip(options, tokens).prefix(Self.maximumActions).map { label, token in
            var action: [String: JSONValue] = [
                "action": "http", "label": .string(label), "url": .string("\(ntfy.server)/\(replyTopic)"), "method": "POST",
                "body": .string(token.answer), "clear": true,
            ]
            if let authorization = ntfy.authorization { action["headers"] = ["Authorization": .string(authorization)] }
            return .object(action)
        }
        if let link, actions.count < Self.maximumActions { actions.append(["action": "view", "label": "Open", "url": .string(link)]) }
        var body: [String: JSONValue] = [
            "topic": .string(ntfy.topic), "title": .string(title), "message": .string(String(text.prefix(3500))),
            "priority": .int(max(ntfy.priority, 4)), "actions": .array(actions),
        ]
        if let link { body["click"] = .string(link) }
        let answer = try await http.perform(.json(ntfy.server + "/", .object(body), headers: authorization), timeout: .seconds(10))
        guard answer.isSuccess, answer.json?["id"]?.string != nil else {
            let reason = answer.json.map { "\($0["code"]?.int ?? answer.status) \($0["error"]?.string ?? "")" } ?? "HTTP \(answer.status)"
            throw AnswerChannelError("ntfy: \(reason)")
        }
    }

    /// Subscribes to the reply topic (ntfy's JSON stream) and records each answer token that comes in,
    /// reconnecting until cancelled.
    func listen(replyTopic: String, since: Date, store: any StateStore, signer: TokenSigner) async {
        let url = "\(ntfy.server)/\(replyTopic)/json?since=\(Int(since.timeIntervalSince1970) - 1)"
        while !Task.isCancelled {
            do {
                let status = try await http.streamLines(HTTPRequestSpec(method: .GET, url: url, headers: authorization), timeout: .seconds(3600)) {
                    line in
                    guard let event = JSONValue.decode(Data(line.utf8)), event["event"]?.string == "message" else { return !Task.isCancelled }
                    guard let token = event["message"]?.string.flatMap({ OneTimeToken(answer: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
                        logger.warning("ntfy: ignored a reply that is not an answer token")
                        return true
                    }
                    let use = try? await store.answer(tokenDigest: signer.digest(token), page: nil, by: "ntfy", via: "ntfy", now: Date())
                    switch use ?? .unknown {
                    case .decided, .alreadyClosed: break
                    case .unknown: logger.warning("ntfy: an answer with an unknown token was refused")
                    }
                    return !Task.isCancelled
                }
                if !(200..<300).contains(status) { logger.info("ntfy: subscribing to the reply topic answered HTTP \(status)") }
            } catch {
                if Task.isCancelled { break }
                logger.info("ntfy subscription: \(redact(String(describing: error)))")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
