import HTTPTypes
import Hummingbird
@testable import MCPProtocol
@testable import MCPPush
import PushCore
import Testing

/// Defect: any origin whose host started with `127.` counted as loopback and `Host` was not checked,
/// so a page could reach the server through a rebound name.
@Suite struct DNSRebindingTests {
    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.10.3", true), ("localhost", true), ("LOCALHOST", true), ("::1", true), ("[::1]", true),
        ("127.attacker.example", false), ("127.0.0.1.nip.io", false), ("127.invalid", false), ("127.0.0.256", false),
        ("127.0.0", false), ("127.0.0.1.", false), ("0127.0.0.1", false), ("128.0.0.1", false), ("", false), ("localhost.attacker.example", false),
    ])
    func loopbackIsAnAddressNotAPrefix(host: String, loopback: Bool) {
        #expect(HTTPServingOptions.isLoopback(host) == loopback)
    }

    func guardrail(host: String = "127.0.0.1", allowedHosts: Set<String> = []) -> HostAndOriginMiddleware<BasicRequestContext> {
        var options = HTTPServingOptions(
            host: host, port: 8765, path: "/mcp", stateless: false, token: nil, allowedOrigins: [], maximumBodyBytes: 1 << 20,
            sessionIdleTimeout: .seconds(60))
        options.allowedHosts = allowedHosts
        return HostAndOriginMiddleware(options: options)
    }

    func check(_ guardrail: HostAndOriginMiddleware<BasicRequestContext>, host: String, origin: String? = nil) -> HTTPResponse.Status? {
        var fields = HTTPFields()
        if let origin { fields[.origin] = origin }
        return guardrail.refusal(headers: fields, authority: host)?.status
    }

    @Test(arguments: ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "127.0.0.1"])
    func loopbackHostsPass(host: String) {
        #expect(check(guardrail(), host: host) == nil)
        #expect(check(guardrail(), host: host, origin: "http://\(host)") == nil)
    }

    @Test(arguments: ["127.attacker.example:8765", "127.0.0.1.nip.io:8765", "attacker.example", "", "localhost.attacker.example:8765"])
    func reboundHostsAreForbidden(host: String) {
        #expect(check(guardrail(), host: host) == .forbidden)
    }

    @Test(arguments: ["http://127.attacker.example:8765", "http://127.0.0.1.nip.io:8765", "http://localhost.attacker.example", "null"])
    func reboundOriginsAreForbidden(origin: String) {
        #expect(check(guardrail(), host: "127.0.0.1:8765", origin: origin) == .forbidden)
    }

    @Test func namesBehindAProxyCanBeAllowed() {
        #expect(check(guardrail(allowedHosts: ["mcp.internal"]), host: "mcp.internal:443") == nil)
        #expect(check(guardrail(allowedHosts: ["mcp.internal"]), host: "other.internal") == .forbidden)
    }

    @Test func aNonLoopbackHostNameIsNotLoopbackForTheTokenRule() {
        #expect(throws: ConfigurationError.self) {
            try HTTPServingOptions.from(configuration: Configuration([:]), host: "127.invalid", port: 0, path: "/mcp", stateless: false)
        }
    }
}
