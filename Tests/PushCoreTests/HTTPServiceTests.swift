@testable import PushCore
import Testing

/// The one HTTP client the channels share.
@Suite struct HTTPServiceTests {
    @Test func preparedClientIsClosedAtShutdown() async {
        let http = HTTPService()
        http.prepare()
        http.prepare()
        #expect(http.openClients == 1)
        await http.shutdown()
        #expect(http.openClients == 0)
    }

    @Test func preparingAfterShutdownOpensNothing() async {
        // A server whose client closes stdin at once shuts down before the background
        // preparation runs: that must not leave an open client behind.
        let http = HTTPService()
        await http.shutdown()
        http.prepare()
        #expect(http.openClients == 0)
    }

    /// The rehearsal a server runs as it starts (its first request's one-time costs, paid ahead) is
    /// answered by its own loopback listener, promptly.
    @Test func theFirstRequestRehearsalIsAnsweredByItsOwnListener() {
        let started = ContinuousClock.now
        #expect(HTTPService.rehearseFirstRequest())
        #expect(HTTPService.rehearseFirstRequest(), "a second one works too: nothing of the first is left in the way")
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
