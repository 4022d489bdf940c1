import ArgumentParser
import PushCore

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channels",
        abstract: "List every channel: configured, misconfigured (and what is missing) or off.",
        discussion: """
            Values are masked. A misconfigured channel is never sent to; fix the variable it names. \
            Configuration comes from the environment, over config.sh (MCP_PUSH_CONFIG, else \
            ~/.config/mcp-push/config.sh, else ./config.sh).

            Examples:
              mcp-push channels
              MCP_PUSH_CONFIG=./my-config.sh mcp-push channels
            """)

    func run() async throws {
        let runtime = try Runtime.start()
        let statuses = await runtime.notifier.channelStatuses()
        await runtime.notifier.shutdown()
        let rows = statuses.map { status -> [String] in
            switch status.state {
            case .configured:
                return [status.id, status.allowed ? "configured" : "configured, not in MCP_PUSH_CHANNELS", status.target ?? ""]
            case .misconfigured:
                return [status.id, "MISCONFIGURED", status.problem ?? ""]
            case .off:
                let required = ChannelCatalogue.descriptor(for: status.id)?.variables.filter(\.isRequired).map(\.name) ?? []
                return [status.id, "off", "set \(required.joined(separator: " + "))"]
            }
        }
        Output.write(Output.table(header: ["CHANNEL", "STATE", "DETAILS"], rows: rows).joined(separator: "\n"))
        let configuredCount = statuses.filter { $0.state == .configured }.count
        let misconfiguredCount = statuses.filter { $0.state == .misconfigured }.count
        var footer = "\n\(configuredCount) configured, \(misconfiguredCount) misconfigured, \(statuses.count) supported."
        footer += runtime.configuration.sourceFile.map { " Config file: \($0) (the environment wins over it)." } ?? " No config.sh found; using the environment only."
        footer += " Details per channel: docs/CHANNEL_CONFIG.md."
        Output.write(footer)
    }
}
