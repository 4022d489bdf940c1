/// Which channels a message goes to by its level, when the call names none (docs/CHANNEL_CONFIG.md,
/// "Levels and routes"): `MCP_PUSH_ROUTES` picks channels per level, `MCP_PUSH_LEVEL_<ID>` keeps a
/// channel quiet below a level (a busy group chat that wants `error` and up).
struct Routing: Sendable, Equatable {
    static let routesVariable = "MCP_PUSH_ROUTES"
    static let fallbackVariable = "MCP_PUSH_FALLBACK"

    /// Channels per level; a level not named goes to every configured channel.
    var routes: [Level: [ChannelID]] = [:]
    /// The lowest level each channel is sent.
    var minimum: [ChannelID: Level] = [:]
    /// Channels sent to only when every chosen channel failed for good (not chosen otherwise).
    var fallback: [ChannelID] = []

    init(routes: [Level: [ChannelID]] = [:], minimum: [ChannelID: Level] = [:]) {
        self.routes = routes
        self.minimum = minimum
    }

    /// `critical,error=telegram,bark;info=ntfy`: `;` between routes, `,` between levels and between channels.
    init(configuration: Configuration) throws(ConfigurationError) {
        if let text = configuration[Self.routesVariable] {
            for route in text.split(separator: ";").map({ $0.trimmingWhitespace() }).filter({ !$0.isEmpty }) {
                let sides = route.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
                guard sides.count == 2 else {
                    throw .invalid(Self.routesVariable, "expected level=channel,channel;... e.g. critical,error=telegram,bark;info=ntfy, got \"\(route)\"")
                }
                let channels = sides[1].split(separator: ",").map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty }
                if let unknown = channels.first(where: { ChannelCatalogue.descriptor(for: $0) == nil }) {
                    throw .invalid(Self.routesVariable, "unknown channel \"\(unknown)\"; channels are: \(ChannelCatalogue.ids.joined(separator: ", "))")
                }
                guard !channels.isEmpty else { throw .invalid(Self.routesVariable, "no channel after = in \"\(route)\"") }
                for name in sides[0].split(separator: ",").map({ $0.trimmingWhitespace().lowercased() }) {
                    guard let level = Level(rawValue: name) else {
                        throw .invalid(Self.routesVariable, "unknown level \"\(name)\"; levels are: \(Level.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    guard routes[level] == nil else { throw .invalid(Self.routesVariable, "level \(name) is routed twice") }
                    routes[level] = channels
                }
            }
        }
        if let names = configuration.list(Self.fallbackVariable) {
            let ids = names.map { $0.lowercased() }
            if let unknown = ids.first(where: { ChannelCatalogue.descriptor(for: $0) == nil }) {
                throw .invalid(Self.fallbackVariable, "unknown channel \"\(unknown)\"; channels are: \(ChannelCatalogue.ids.joined(separator: ", "))")
            }
            fallback = ids
        }
        for id in ChannelCatalogue.ids {
            let variable = Self.minimumVariable(id)
            guard let name = configuration[variable] else { continue }
            guard let level = Level(rawValue: name.lowercased()) else {
                throw .invalid(variable, "expected one of \(Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
            }
            minimum[id] = level
        }
    }

    static func minimumVariable(_ id: ChannelID) -> String { "MCP_PUSH_LEVEL_\(id.uppercased())" }

    /// The rules in words, for `mcp-push doctor`.
    var summary: [String] {
        var lines: [String] = []
        for level in Level.allCases.reversed() {
            if let channels = routes[level] { lines.append("\(level.rawValue) messages go to \(channels.joined(separator: ", ")) (\(Self.routesVariable))") }
        }
        for (id, level) in minimum.sorted(by: { $0.key < $1.key }) {
            lines.append("\(id) gets \(level.rawValue) messages and up (\(Self.minimumVariable(id)))")
        }
        if !fallback.isEmpty { lines.append("\(fallback.joined(separator: ", ")) only when the others failed for good (\(Self.fallbackVariable))") }
        return lines
    }

    /// The channels for a message of `level` among `configured` (catalogue order kept).
    func channels(for level: Level, among configured: [ChannelID]) -> [ChannelID] {
        var chosen = configured.filter { !fallback.contains($0) }
        if let routed = routes[level] { chosen = configured.filter(routed.contains) }
        return chosen.filter { level >= (minimum[$0] ?? .info) }
    }
}
