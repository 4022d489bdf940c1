import JSONText
import Synchronization

/// Answers MCP requests for one ``MCPHandler`` at a given revision: the method table and the
/// shape of every result. Connections (``MCPConnection``) decide the revision.
public final class MCPServer: Sendable {
    public let handler: any MCPHandler
    /// The list results never change while the process runs: written once per revision, when first
    /// asked for (not at start, where every instruction delays the first answer). Indexed by the
    /// revision's position: a dictionary keyed by our own type costs a runtime conformance lookup.
    private let lists = Mutex<[Lists?]>(Array(repeating: nil, count: ProtocolRevision.allCases.count))

    private struct Lists {
        var tools, resources, templates, prompts: [(String, OrderedJSON)]
    }

    public init(handler: any MCPHandler) {
        self.handler = handler
    }

    private func list(_ method: String, _ revision: ProtocolRevision) -> [(String, OrderedJSON)] {
        let index = ProtocolRevision.allCases.firstIndex(of: revision)!
        let lists = self.lists.withLock { $0[index] } ?? {
            let written = Lists(
                tools: [("tools", .array(handler.tools.map { $0.json(revision) }))],
                resources: [("resources", .array(handler.resources.map { $0.json(revision) }))],
                templates: [("resourceTemplates", .array(handler.resourceTemplates.map { $0.json(revision) }))],
                prompts: [("prompts", .array(handler.prompts.map { $0.json(revision) }))])
            self.lists.withLock { $0[index] = written }
            return written
        }()
        switch method {
        case "tools/list": return lists.tools
        case "resources/list": return lists.resources
        case "resources/templates/list": return lists.templates
        default: return lists.prompts
        }
    }

    /// What the server offers, as `initialize` and `server/discover` declare it. 2024-11-05 to
    /// 2025-11-25 server/index: `listChanged` (and `subscribe` for resources) say whether the
    /// server notifies changes; ours never change. 2026-07-28 moved change notifications to
    /// `subscriptions/listen`, which this server does not offer, so the flags are left out there.
    func capabilities(_ revision: ProtocolRevision) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = []
        let legacy = !revision.isStateless
        if !handler.tools.isEmpty { members.append(("tools", legacy ? ["listChanged": false] : [:])) }
        if !handler.resources.isEmpty || !handler.resourceTemplates.isEmpty {
            members.append(("resources", legacy ? ["subscribe": false, "listChanged": false] : [:]))
        }
        if !handler.prompts.isEmpty { members.append(("prompts", legacy ? ["listChanged": false] : [:])) }
        return .object(members)
    }

    /// 2025-11-25 basic/lifecycle "Initialization": version, capabilities, server info, instructions.
    func initializeResult(_ revision: ProtocolRevision) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("protocolVersion", .string(revision.rawValue)), ("capabilities", capabilities(revision)),
            ("serverInfo", handler.implementation.json(revision)),
        ]
        if let instructions = handler.instructions { members.append(("instructions", .string(instructions))) }
        return .object(members)
    }

    /// Runs one request already admitted at `revision`; the result object, or the error to answer.
    func answer(
        _ method: String, params: OrderedJSON?, revision: ProtocolRevision, send: @escaping Sink
    ) async -> Result<OrderedJSON, MCPError> {
        do throws(MCPError) {
            var members: [(String, OrderedJSON)]
            var cacheable = true
            switch method {
            case "tools/list", "resources/list", "resources/templates/list", "prompts/list":
                members = list(method, revision)
            case "tools/call":
                guard case .string(let name) = params?["name"] else { throw .invalidParams("tools/call needs the tool's name (a string)") }
                let arguments = params?["arguments"]
                if let arguments, arguments != .null, case .object = arguments {} else if let arguments, arguments != .null {
                    throw .invalidParams("tools/call arguments must be an object, got \(arguments.typeName)")
                }
                let progress = ProgressReporter(params: params, revision: revision, send: send)
                members = try await handler.callTool(name, arguments: arguments == .null ? nil : arguments, progress: progress).json(revision)
                cacheable = false
            case "resources/read":
                guard case .string(let uri) = params?["uri"] else { throw .invalidParams("resources/read needs the resource's uri (a string)") }
                do {
                    members = [("contents", .array(try await handler.readResource(uri).map(\.json)))]
                } catch where error.code == MCPError.resourceNotFoundMarker {
                    throw MCPError(code: revision.resourceNotFoundCode, error.message, data: ["uri": .string(uri)])
                }
                // Resource contents here are live views of the store: fresh on every read, and the user's own.
                return .success(tagged(members, revision, cache: (0, "private")))
            case "prompts/get":
                guard case .string(let name) = params?["name"] else { throw .invalidParams("prompts/get needs the prompt's name (a string)") }
                var arguments: [String: String] = [:]
                for (key, value) in params?["arguments"]?.members ?? [] {
                    guard case .string(let text) = value else { throw .invalidParams("prompt argument '\(key)' must be a string") }
                    arguments[key] = text
                }
                members = try await handler.getPrompt(name, arguments: arguments).members
                cacheable = false
            case "ping" where revision.hasPingAndSetLevel, "logging/setLevel" where revision.hasPingAndSetLevel:
                // This server writes its logs to stderr and sends no log notifications: a level changes nothing.
                members = []
                cacheable = false
            case "server/discover" where revision.isStateless:
                // 2026-07-28 server/discover: versions, capabilities, identity (in _meta, added by `tagged`).
                members = [("supportedVersions", ProtocolRevision.supportedVersions), ("capabilities", capabilities(revision))]
                if let instructions = handler.instructions { members.append(("instructions", .string(instructions))) }
            default:
                throw .methodNotFound(method)
            }
            // 2026-07-28 server/utilities/caching: the lists change only with the binary, and hold nothing private.
            return .success(tagged(members, revision, cache: cacheable ? (3_600_000, "public") : nil))
        } catch {
            return .failure(error)
        }
    }

    /// 2026-07-28: `resultType` on every result, the server's identity in `_meta`, and `ttlMs`/`cacheScope`
    /// on cacheable results. Earlier revisions get the members as they are.
    private func tagged(_ members: [(String, OrderedJSON)], _ revision: ProtocolRevision, cache: (Int, String)?) -> OrderedJSON {
        guard revision.tagsResults else { return .object(members) }
        var members = members
        members.append(("resultType", "complete"))
        if let (ttl, scope) = cache {
            members.append(("ttlMs", .int(ttl)))
            members.append(("cacheScope", .string(scope)))
        }
        members.append(("_meta", .object([(RequestMeta.serverInfo, handler.implementation.json(revision))])))
        return .object(members)
    }
}

/// Where a connection's outgoing messages go (stdout, or one HTTP response).
public typealias Sink = @Sendable (OrderedJSON) async -> Void

/// Progress notifications for one request whose caller sent a progress token.
public struct ProgressReporter: Sendable {
    let token: OrderedJSON
    let revision: ProtocolRevision
    let send: Sink

    init?(params: OrderedJSON?, revision: ProtocolRevision, send: @escaping Sink) {
        guard let token = RequestMeta.value("progressToken", in: params), RequestID(token) != nil else { return nil }
        (self.token, self.revision, self.send) = (token, revision, send)
    }

    /// 2025-03-26 added the `message` field (2024-11-05 has only progress and total).
    public func report(progress: Double, total: Double?, message: String?) async {
        var members: [(String, OrderedJSON)] = [("progressToken", token), ("progress", .double(progress))]
        if let total { members.append(("total", .double(total))) }
        if let message, revision >= .v2025_03_26 { members.append(("message", .string(message))) }
        await send(Outgoing.notification("notifications/progress", .object(members)))
    }
}
