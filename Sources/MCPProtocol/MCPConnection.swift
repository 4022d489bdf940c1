import JSONText
import Synchronization

/// One client's conversation: its era (handshake or stateless), the revision, the requests
/// under way (for `notifications/cancelled` and for draining), and batches.
///
/// 2026-07-28 basic/versioning "Backward Compatibility": a dual-era server selects its behaviour
/// from how the client opens. A request with the per-request `_meta` is served statelessly at
/// 2026-07-28; `initialize` selects the handshake revision for the rest of the connection.
public final class MCPConnection: Sendable {
    public enum Era: Sendable, Equatable {
        case undecided
        /// After `initialize` (or preset: stateless HTTP of the handshake revisions).
        case handshake(ProtocolRevision)
        case stateless
    }

    private struct State {
        var era: Era
        // A list: a few requests at a time, and a dictionary's first use costs a run-time conformance
        // lookup on the way to the first answer (docs/PERFORMANCE.md).
        var running: [(id: RequestID, task: Task<Void, Never>)] = []
        var cancelled: Set<RequestID> = []
        var unfinished = 0
    }

    let server: MCPServer
    private let state: Mutex<State>

    public init(server: MCPServer, era: Era = .undecided) {
        self.server = server
        self.state = Mutex(State(era: era))
    }

    public var era: Era { state.withLock { $0.era } }

    /// Requests received and not yet answered.
    public var unfinished: Int { state.withLock { $0.unfinished } }

    /// Handles one message (already parsed) and returns once every answer for it has been sent
    /// (one HTTP POST).
    public func handle(_ message: OrderedJSON, send: @escaping Sink) async {
        if case .array(let members) = message {
            await handleBatch(members, send: send)
            return
        }
        switch admit(Incoming(message), send: send) {
        case .none: break
        case .answer(let answer): await send(answer)
        case .task(let work): await work.run()
        }
    }

    /// Takes one message on the transport's own thread, in arrival order (stdio): a ready answer is
    /// written at once through `write`, without a hop to the task pool; a request that needs work
    /// runs as a task of its own, counted until answered, and sends through `send`.
    public func dispatch(_ message: OrderedJSON, send: @escaping Sink, write: (OrderedJSON) -> Void) {
        if case .array(let members) = message {
            // Like a request: runs beside what follows it, and is counted until answered.
            start(Work(run: { [self] in await handleBatch(members, send: send) }, id: nil))
            return
        }
        switch admit(Incoming(message), send: send) {
        case .none: break
        case .answer(let answer): write(answer)
        case .task(let work): start(work)
        }
    }

    /// The answer to a line that is not JSON (JSON-RPC section 5.1: -32700 with id null).
    public static func parseError(_ error: JSONParseError) -> OrderedJSON {
        Outgoing.error(.parseError("the message is not valid JSON (\(error))"), id: nil)
    }

    /// 2025-03-26 basic/index "Batching": a batch is answered with an array of the requests'
    /// responses (none at all when it held only notifications). Other revisions have no batches.
    private func handleBatch(_ members: [OrderedJSON], send: @escaping Sink) async {
        guard !members.isEmpty else {
            await send(Outgoing.error(.invalidRequest("an empty batch"), id: nil))
            return
        }
        guard case .handshake(let revision) = era, revision.allowsBatches else {
            let reason: String
            switch era {
            case .undecided: reason = "a batch cannot open a connection (initialize comes alone)"
            case .stateless: reason = "JSON-RPC batches are not part of MCP \(ProtocolRevision.latest.rawValue)"
            case .handshake(let revision): reason = "JSON-RPC batches are not part of MCP \(revision.rawValue) (only 2025-03-26 has them)"
            }
            await send(Outgoing.error(.invalidRequest(reason), id: nil))
            return
        }
        let responses = Mutex<[OrderedJSON]>([])
        let collect: Sink = { message in
            if message["method"] == nil {
                responses.withLock { $0.append(message) }
            } else {
                await send(message)
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                if case .array = member {
                    await collect(Outgoing.error(.invalidRequest("a batch inside a batch"), id: nil))
                } else {
                    switch admit(Incoming(member), send: collect) {
                    case .none: break
                    case .answer(let answer): await collect(answer)
                    case .task(let work): group.addTask { await work.run() }
                    }
                }
            }
        }
        let answers = responses.withLock { $0 }
        if !answers.isEmpty { await send(.array(answers)) }
    }

    /// A request admitted for running, with the revision it runs at.
    struct Work: Sendable {
        let run: @Sendable () async -> Void
        /// For `notifications/cancelled`; a batch has none.
        let id: RequestID?
    }

    /// What a message needs: an answer already known, or work.
    enum Admission {
        case answer(OrderedJSON)
        case task(Work)
    }

    /// Decides, in arrival order, what a message is and at which revision it is answered. Nil for
    /// what gets no answer (notifications, responses).
    private func admit(_ incoming: Incoming, send: @escaping Sink) -> Admission? {
        switch incoming {
        case .response, .unusableNotification:
            return nil
        case .invalid(let error, let id):
            return .answer(Outgoing.error(error, id: id))
        case .notification(let method, let params):
            notification(method, params)
            return nil
        case .request(let id, let method, let params):
            let decision = state.withLock { state in Self.decide(method, params: params, era: &state.era) }
            switch decision {
            case .refuse(let error):
                return .answer(Outgoing.error(error, id: id))
            case .initialize(let revision):
                return .answer(Outgoing.result(server.initializeResult(revision), id: id))
            case .answer(let revision):
                let server = self.server
                return .task(
                    Work(
                        run: { [self] in
                            let answer = await server.answer(method, params: params, revision: revision, send: { message in
                                // 2025-11-25 basic/utilities/cancellation: nothing more is sent for a cancelled request.
                                guard !self.isCancelled(id) else { return }
                                await send(message)
                            })
                            guard !self.isCancelled(id) else { return }
                            switch answer {
                            case .success(let result): await send(Outgoing.result(result, id: id))
                            case .failure(let error): await send(Outgoing.error(error, id: id))
                            }
                        }, id: id))
            }
        }
    }

    private enum Decision {
        case refuse(MCPError)
        case initialize(ProtocolRevision)
        case answer(ProtocolRevision)
    }

    /// The era rules, applied to one request in arrival order.
    private static func decide(_ method: String, params: OrderedJSON?, era: inout Era) -> Decision {
        let envelope = RequestMeta.value(RequestMeta.protocolVersion, in: params)
        if method == "initialize" {
            switch era {
            case .stateless:
                // 2026-07-28 basic/versioning: a modern server names its versions in any error to `initialize`.
                return .refuse(unsupported(requested: params?["protocolVersion"]?.stringValue ?? "", "initialize is not part of 2026-07-28"))
            case .handshake:
                return .refuse(.invalidRequest("initialize was already done on this connection"))
            case .undecided:
                let revision = ProtocolRevision.negotiated(params?["protocolVersion"]?.stringValue)
                era = .handshake(revision)
                return .initialize(revision)
            }
        }
        switch era {
        case .handshake(let revision):
            if envelope != nil, !revision.isStateless, method != "ping" {
                // The era is the connection's; a 2026 request here would be served under the wrong rules.
                return .refuse(.invalidRequest("this connection was opened with initialize (\(revision.rawValue)); requests with 2026-07-28 _meta are not accepted on it"))
            }
            return .answer(revision)
        case .undecided where envelope == nil:
            // 2025-11-25 basic/lifecycle: only pings before initialization.
            if method == "ping" { return .answer(.latestHandshake) }
            return .refuse(.invalidRequest("send initialize first, or (MCP 2026-07-28) put io.modelcontextprotocol/protocolVersion in params._meta"))
        case .undecided, .stateless:
            guard case .string(let requested) = envelope else {
                return .refuse(.invalidParams("params._meta[\"io.modelcontextprotocol/protocolVersion\"] is required (a string) in MCP 2026-07-28"))
            }
            guard let revision = ProtocolRevision(rawValue: requested), revision.isStateless else {
                return .refuse(unsupported(requested: requested, "this server speaks 2026-07-28 per request, or the listed versions through initialize"))
            }
            guard case .object = RequestMeta.value(RequestMeta.clientCapabilities, in: params) else {
                return .refuse(.invalidParams("params._meta[\"io.modelcontextprotocol/clientCapabilities\"] is required (an object) in MCP 2026-07-28"))
            }
            era = .stateless
            return .answer(revision)
        }
    }

    /// 2026-07-28 schema `UnsupportedProtocolVersionError`: -32022 with the supported and requested versions.
    static func unsupported(requested: String, _ detail: String) -> MCPError {
        MCPError(
            code: MCPError.unsupportedProtocolVersion, "Unsupported protocol version \"\(requested)\": \(detail)",
            data: ["supported": ProtocolRevision.supportedVersions, "requested": .string(requested)])
    }

    private func notification(_ method: String, _ params: OrderedJSON?) {
        guard method == "notifications/cancelled", let id = params?["requestId"].flatMap(RequestID.init) else { return }
        // 2025-11-25 basic/utilities/cancellation: the request is stopped and not answered. The handler's
        // work sees a cancelled task (mcp-push queues what it had not delivered).
        let task = state.withLock { state -> Task<Void, Never>? in
            guard let task = state.running.last(where: { $0.id == id })?.task else { return nil }
            state.cancelled.insert(id)
            return task
        }
        task?.cancel()
    }

    func isCancelled(_ id: RequestID) -> Bool { state.withLock { $0.cancelled.contains(id) } }

    /// Runs a request as a task of its own, registered for cancellation and draining.
    private func start(_ work: Work) {
        // Registered in the same critical section that creates it, so `finish` always comes after.
        // A request id reused while the first is running: only the newest can be cancelled.
        state.withLock { state in
            state.unfinished += 1
            let task = Task { [self] in
                await work.run()
                self.finish(work.id)
            }
            if let id = work.id {
                state.running.removeAll { $0.id == id }
                state.running.append((id, task))
            }
        }
    }

    private func finish(_ id: RequestID?) {
        state.withLock { state in
            state.unfinished -= 1
            guard let id else { return }
            state.running.removeAll { $0.id == id }
            state.cancelled.remove(id)
        }
    }
}
