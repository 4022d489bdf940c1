import Foundation
import Hummingbird
import MCPProtocol
import Metrics
import NIOCore
import Prometheus
import PushCore

/// `/metrics` on the HTTP server, in Prometheus's text format: what the core counts through
/// swift-metrics (deliveries by channel and outcome, their duration, retries, rate-limit waits,
/// expiries), and gauges read from the store when scraped (the outbox's depth and age, questions
/// waiting). Behind the MCP endpoint's bearer token when one is set.
enum MetricsRoutes {
    static let registry = PrometheusCollectorRegistry()

    /// swift-metrics feeds `registry` from the first server on; set once per process.
    private static let bootstrap: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map { .milliseconds(Int64($0 * 1000)) }
        MetricsSystem.bootstrap(factory)
    }()

    static func add(to router: Router<BasicRequestContext>, notifier: Notifier, token: String?) {
        _ = bootstrap
        let group = router.group("metrics")
        if let token { group.add(middleware: BearerTokenMiddleware<BasicRequestContext>(token: token)) }
        group.get { _, _ in
            let store = await notifier.store
            let backlog = (try? await store.outboxBacklog()) ?? (count: 0, oldest: nil)
            let pending = (try? await store.pendingApprovals()) ?? 0
            registry.makeGauge(name: "mcp_push_outbox_items", help: "Deliveries waiting in the outbox").set(Int64(backlog.count))
            registry.makeGauge(name: "mcp_push_outbox_oldest_age_seconds", help: "Age of the oldest delivery waiting in the outbox")
                .set(backlog.oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
            registry.makeGauge(name: "mcp_push_approvals_pending", help: "Questions waiting for an answer")
                .set(Int64(pending))
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
