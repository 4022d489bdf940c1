import Agents
import Testing

@Suite struct AgentTests {
    @Test func everyAgentHasAName() {
        #expect(Agent.allCases.map(\.displayName) == ["Claude Code", "Codex CLI", "Gemini CLI"])
    }
}
