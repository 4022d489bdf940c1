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
        let setup = runtime.notifier.setup
        let allowed = runtime.notifier.dispatcher.settings.allowedChannels
        let rows = setup.entries.map { entry -> [String] in
            let id = entry.descriptor.id
            switch entry.state {
            case .configured(let channel):
                let state = allowed.map { $0.contains(id) } ?? true ? "configured" : "configured, not in MCP_PUSH_CHANNELS"
                return [id, state, runtime.notifier.redactor.redact(channel.summary)]
            case .misconfigured(let problem):
                return [id, "MISCONFIGURED", problem.description]
            case .off:
                let required = entry.descriptor.variables.filter(\.isRequired).map(\.name)
                return [id, "off", "set \(required.joined(separator: " + "))"]
            }
        }
        Output.write(Output.table(header: ["CHANNEL", "STATE", "DETAILS"], rows: rows).joined(separator: "\n"))
        let configuredCount = setup.configured.count
        let misconfiguredCount = setup.entries.filter { if case .misconfigured = $0.state { true } else { false } }.count
        var footer = "\n\(configuredCount) configured, \(misconfiguredCount) misconfigured, \(setup.entries.count) supported."
        footer += runtime.configuration.sourceFile.map { " Config file: \($0) (the environment wins over it)." } ?? " No config.sh found; using the environment only."
        footer += " Details per channel: docs/CHANNEL_CONFIG.md."
        Output.write(footer)
        await runtime.notifier.shutdown()
    }
}
