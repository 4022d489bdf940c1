import JSONText

/// What an MCP server offers; the protocol layer calls it and knows nothing else of it.
public protocol MCPHandler: Sendable {
    var implementation: Implementation { get }
    var instructions: String? { get }
    var tools: [Tool] { get }
    var resources: [Resource] { get }
    var resourceTemplates: [ResourceTemplate] { get }
    var prompts: [Prompt] { get }

    /// Runs a tool. `arguments` is the call's object (nil when absent). Problems with the
    /// arguments belong in an `isError` result; an unknown tool is an ``MCPError``.
    func callTool(_ name: String, arguments: OrderedJSON?, progress: ProgressReporter?) async throws(MCPError) -> ToolResult
    func readResource(_ uri: String) async throws(MCPError) -> [ResourceContents]
    func getPrompt(_ name: String, arguments: [String: String]) async throws(MCPError) -> PromptResult
}

public struct Implementation: Sendable {
    public var name: String
    public var version: String
    public var title: String?

    public init(name: String, version: String, title: String? = nil) {
        self.name = name
        self.version = version
        self.title = title
    }

    func json(_ revision: ProtocolRevision) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [("name", .string(name)), ("version", .string(version))]
        if let title, revision.hasStructuredOutput { members.append(("title", .string(title))) }
        return .object(members)
    }
}

public struct Tool: Sendable {
    public struct Annotations: Sendable {
        public var readOnly, destructive, idempotent, openWorld: Bool

        public init(readOnly: Bool, destructive: Bool, idempotent: Bool, openWorld: Bool) {
            (self.readOnly, self.destructive, self.idempotent, self.openWorld) = (readOnly, destructive, idempotent, openWorld)
        }
    }

    public var name: String
    public var title: String?
    public var description: String
    public var inputSchema: OrderedJSON
    public var outputSchema: OrderedJSON?
    public var annotations: Annotations?

    public init(
        name: String, title: String? = nil, description: String, inputSchema: OrderedJSON, outputSchema: OrderedJSON? = nil,
        annotations: Annotations? = nil
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }

    func json(_ revision: ProtocolRevision) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [("name", .string(name))]
        if let title, revision.hasStructuredOutput { members.append(("title", .string(title))) }
        members.append(("description", .string(description)))
        members.append(("inputSchema", inputSchema))
        if let outputSchema, revision.hasStructuredOutput { members.append(("outputSchema", outputSchema)) }
        if let annotations, revision.hasToolAnnotations {
            var hints: [(String, OrderedJSON)] = []
            if let title, revision.hasStructuredOutput { hints.append(("title", .string(title))) }
            hints += [
                ("readOnlyHint", .bool(annotations.readOnly)), ("destructiveHint", .bool(annotations.destructive)),
                ("idempotentHint", .bool(annotations.idempotent)), ("openWorldHint", .bool(annotations.openWorld)),
            ]
            members.append(("annotations", .object(hints)))
        }
        return .object(members)
    }
}

/// A `tools/call` result: text content, the same as structured content, and whether it is an error.
public struct ToolResult: Sendable {
    public var text: String
    public var structuredContent: OrderedJSON?
    public var isError: Bool

    public init(text: String, structuredContent: OrderedJSON? = nil, isError: Bool) {
        self.text = text
        self.structuredContent = structuredContent
        self.isError = isError
    }

    func json(_ revision: ProtocolRevision) -> [(String, OrderedJSON)] {
        var members: [(String, OrderedJSON)] = [("content", .array([.object([("type", "text"), ("text", .string(text))])]))]
        if let structuredContent, revision.hasStructuredOutput { members.append(("structuredContent", structuredContent)) }
        members.append(("isError", .bool(isError)))
        return members
    }
}

public struct Resource: Sendable {
    public var uri, name: String
    public var title, description, mimeType: String?

    public init(name: String, uri: String, title: String? = nil, description: String? = nil, mimeType: String? = nil) {
        (self.uri, self.name, self.title, self.description, self.mimeType) = (uri, name, title, description, mimeType)
    }

    func json(_ revision: ProtocolRevision) -> OrderedJSON {
        describing([("uri", .string(uri)), ("name", .string(name))], title: title, description: description, mimeType: mimeType, revision)
    }
}

public struct ResourceTemplate: Sendable {
    public var uriTemplate, name: String
    public var title, description, mimeType: String?

    public init(uriTemplate: String, name: String, title: String? = nil, description: String? = nil, mimeType: String? = nil) {
        (self.uriTemplate, self.name, self.title, self.description, self.mimeType) = (uriTemplate, name, title, description, mimeType)
    }

    func json(_ revision: ProtocolRevision) -> OrderedJSON {
        describing(
            [("uriTemplate", .string(uriTemplate)), ("name", .string(name))], title: title, description: description, mimeType: mimeType,
            revision)
    }
}

/// A resource's text (mcp-push serves no binary resources).
public struct ResourceContents: Sendable {
    public var uri, text: String
    public var mimeType: String?

    public init(uri: String, text: String, mimeType: String? = nil) {
        (self.uri, self.text, self.mimeType) = (uri, text, mimeType)
    }

    var json: OrderedJSON {
        var members: [(String, OrderedJSON)] = [("uri", .string(uri))]
        if let mimeType { members.append(("mimeType", .string(mimeType))) }
        members.append(("text", .string(text)))
        return .object(members)
    }
}

public struct Prompt: Sendable {
    public var name: String
    public var title, description: String?

    public init(name: String, title: String? = nil, description: String? = nil) {
        (self.name, self.title, self.description) = (name, title, description)
    }

    func json(_ revision: ProtocolRevision) -> OrderedJSON {
        describing([("name", .string(name))], title: title, description: description, mimeType: nil, revision)
    }
}

/// A `prompts/get` result: user-role text messages.
public struct PromptResult: Sendable {
    public var description: String?
    public var userMessages: [String]

    public init(description: String?, userMessages: [String]) {
        self.description = description
        self.userMessages = userMessages
    }

    var members: [(String, OrderedJSON)] {
        var members: [(String, OrderedJSON)] = []
        if let description { members.append(("description", .string(description))) }
        let messages = userMessages.map { text -> OrderedJSON in
            .object([("role", "user"), ("content", .object([("type", "text"), ("text", .string(text))]))])
        }
        members.append(("messages", .array(messages)))
        return members
    }
}

private func describing(
    _ members: [(String, OrderedJSON)], title: String?, description: String?, mimeType: String?, _ revision: ProtocolRevision
) -> OrderedJSON {
    var members = members
    if let title, revision.hasStructuredOutput { members.append(("title", .string(title))) }
    if let description { members.append(("description", .string(description))) }
    if let mimeType { members.append(("mimeType", .string(mimeType))) }
    return .object(members)
}
