import ArgumentParser
import PushCore

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channels",
        abstract: "List every channel: configured, misconfigured (and what is missing) or off.",
        discussion: """
            Values are masked. A misconfigured channel is never sent to; fix the variable it names. \
            Configuration comes from the environment, over config.sh (MCP_PUSH_CONFIG, else \
            ~/.config/mcp-push/config.sh, else ./config.sh). --json prints the mcp-push://channels \
            resource's array.

            Exit status, like send's: 0 at least one channel configured and none misconfigured, 1 at least \
            one configured but some misconfigured, 2 none configured (nothing would be sent).

            Examples:
              mcp-push channels
              mcp-push channels --json
              MCP_PUSH_CONFIG=./my-config.sh mcp-push channels
            """)

    @Flag(help: "Print the channels as JSON.")
    var json = false

    @OptionGroup var options: CommandOptions

    func run() async throws {
        let runtime = try Runtime.start(options)
        let statuses = await runtime.notifier.channelStatuses()
        await runtime.notifier.shutdown()
        if json {
            Output.write(Reports.json(statuses))
        } else {
            Output.write(Output.table(header: ["CHANNEL", "STATE", "DETAILS"], rows: statuses.map(Self.row)).joined(separator: "\n"))
            Output.write(Self.footer(statuses, sourceFile: runtime.configuration.sourceFile))
        }
        throw Self.exitCode(statuses)
    }

    static func exitCode(_ statuses: [Reports.ChannelStatus]) -> ExitCode {
        if !statuses.contains(where: { $0.state == .configured }) { return ExitCode(2) }
        return statuses.contains(where: { $0.state == .misconfigured }) ? ExitCode(1) : .success
    }

    static func row(_ status: Reports.ChannelStatus) -> [String] {
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

    static func footer(_ statuses: [Reports.ChannelStatus], sourceFile: String?) -> String {
        let configuredCount = statuses.filter { $0.state == .configured }.count
        let misconfiguredCount = statuses.filter { $0.state == .misconfigured }.count
        var footer = "\n\(configuredCount) configured, \(misconfiguredCount) misconfigured, \(statuses.count) supported."
        footer += sourceFile.map { " Config file: \($0) (the environment wins over it)." } ?? " No config.sh found; using the environment only."
        footer += " Details per channel: docs/CHANNEL_CONFIG.md."
        return footer
    }
}
