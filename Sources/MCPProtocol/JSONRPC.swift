import JSONText

/// A JSON-RPC request id as MCP allows it: a string or an integer, echoed exactly as received.
public enum RequestID: Sendable, Hashable {
    case string(String)
    case int(Int)

    /// nil for the types JSON-RPC forbids (object, array, boolean, null) and for a number
    /// MCP does not allow (fractional, or beyond 64 bits).
    init?(_ json: OrderedJSON) {
        switch json {
        case .string(let value): self = .string(value)
        case .int(let value): self = .int(value)
        default: return nil
        }
    }

    var json: OrderedJSON {
        switch self {
        case .string(let value): return .string(value)
        case .int(let value): return .int(value)
        }
    }
}

/// A JSON-RPC error, and the codes MCP uses.
public struct MCPError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: OrderedJSON?

    public init(code: Int, _ message: String, data: OrderedJSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func parseError(_ message: String) -> MCPError { MCPError(code: -32700, "Parse error: \(message)") }
    public static func invalidRequest(_ message: String) -> MCPError { MCPError(code: -32600, "Invalid Request: \(message)") }
    public static func methodNotFound(_ method: String) -> MCPError { MCPError(code: -32601, "Method not found: \(method)") }
    public static func invalidParams(_ message: String) -> MCPError { MCPError(code: -32602, "Invalid params: \(message)") }
    public static func internalError(_ message: String) -> MCPError { MCPError(code: -32603, "Internal error: \(message)") }
    /// A resource the server does not have; its code depends on the revision (``ProtocolRevision/resourceNotFoundCode``).
    public static func resourceNotFound(_ message: String) -> MCPError { MCPError(code: resourceNotFoundMarker, message) }

    static let resourceNotFoundMarker = -32002
    /// 2026-07-28 basic/index "Error codes": -32020...-32099 are the specification's.
    static let headerMismatch = -32020
    static let unsupportedProtocolVersion = -32022

    var json: OrderedJSON {
        var members: [(String, OrderedJSON)] = [("code", .int(code)), ("message", .string(message))]
        if let data { members.append(("data", data)) }
        return .object(members)
    }
}

/// The reserved `_meta` keys of a 2026-07-28 request (2026-07-28 basic/index "_meta").
enum RequestMeta {
    static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
    static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
    static let serverInfo = "io.modelcontextprotocol/serverInfo"

    /// `params._meta[key]` of a request's params.
    static func value(_ key: String, in params: OrderedJSON?) -> OrderedJSON? { params?["_meta"]?[key] }
}

/// One JSON-RPC message from the client, read once into what the server acts on.
enum Incoming: Sendable {
    case request(id: RequestID, method: String, params: OrderedJSON?)
    case notification(method: String, params: OrderedJSON?)
    /// A response to a request of ours; the server sends none, so it is ignored.
    case response
    /// Not a valid message: answered with this error (`id` when the message had a usable one).
    case invalid(MCPError, id: RequestID?)
    /// A notification that cannot be acted on; nothing may answer a notification.
    case unusableNotification(String)

    /// JSON-RPC 2.0 section 4 and 5 and MCP's basic rules: `jsonrpc` is "2.0"; an id is a string
    /// or an integer (anything else is answered -32600 with id null, since it cannot be echoed);
    /// `params`, when present, is an object (MCP); no `method` and no `result`/`error` is not a message.
    init(_ json: OrderedJSON) {
        guard case .object = json else {
            self = .invalid(.invalidRequest("a JSON-RPC message is an object, got \(json.typeName)"), id: nil)
            return
        }
        let rawID = json["id"]
        let id = rawID.flatMap(RequestID.init)
        if let rawID, id == nil {
            let kind = rawID == .null ? "null" : rawID.typeName
            self = .invalid(.invalidRequest("the id must be a string or an integer (64 bits), got \(kind)"), id: nil)
            return
        }
        guard json["jsonrpc"] == .string("2.0") else {
            self = .invalid(.invalidRequest("\"jsonrpc\" must be \"2.0\""), id: id)
            return
        }
        guard let methodValue = json["method"] else {
            if id != nil, json["result"] != nil || json["error"] != nil {
                self = .response
            } else {
                self = .invalid(.invalidRequest("no method, and not a response"), id: id)
            }
            return
        }
        guard case .string(let method) = methodValue else {
            self = .invalid(.invalidRequest("the method must be a string, got \(methodValue.typeName)"), id: id)
            return
        }
        var params = json["params"]
        if params == .null { params = nil }
        if let params, case .object = params {} else if let params {
            let reason = "params must be an object, got \(params.typeName)"
            if let id {
                self = .invalid(.invalidParams(reason), id: id)
            } else {
                self = .unusableNotification("\(method): \(reason)")
            }
            return
        }
        if let id {
            self = .request(id: id, method: method, params: params)
        } else {
            self = .notification(method: method, params: params)
        }
    }
}

/// Outgoing messages, written straight to JSON text.
enum Outgoing {
    static func result(_ result: OrderedJSON, id: RequestID) -> OrderedJSON {
        .object([("jsonrpc", .string("2.0")), ("id", id.json), ("result", result)])
    }

    static func error(_ error: MCPError, id: RequestID?) -> OrderedJSON {
        .object([("jsonrpc", .string("2.0")), ("id", id?.json ?? .null), ("error", error.json)])
    }

    static func notification(_ method: String, _ params: OrderedJSON) -> OrderedJSON {
        .object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)])
    }
}
