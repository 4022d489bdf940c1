import CoreMetrics

/// What deliveries came to, counted for whoever runs a gateway (`/metrics`) through swift-metrics:
/// nothing is kept unless the process set up a metrics backend (the HTTP server does).
enum DeliveryMetrics {
    /// One channel's result of a call, or of a delivery from the outbox.
    static func record(_ result: ChannelResult) {
        let channel = ("channel", result.channel)
        let outcome: String
        switch result.outcome {
        case .delivered: outcome = "delivered"
        case .failed: outcome = "failed"
        case .queued(_, _, .handedOver, _): outcome = "handed_over"
        case .queued(_, _, let reason, _):
            outcome = "queued"
            if reason == .rateLimit { Counter(label: "mcp_push_rate_limit_waits_total", dimensions: [channel]).increment() }
        }
        Counter(label: "mcp_push_deliveries_total", dimensions: [channel, ("outcome", outcome)]).increment()
        if result.attempts > 0 {
            Timer(label: "mcp_push_delivery_duration_seconds", dimensions: [channel]).recordMilliseconds(result.durationMilliseconds)
        }
        if result.attempts > 1 { retried(result.channel, times: result.attempts - 1) }
    }

    static func retried(_ channel: ChannelID, times: Int = 1) {
        Counter(label: "mcp_push_retries_total", dimensions: [("channel", channel)]).increment(by: times)
    }

    static func expired(_ channel: ChannelID) {
        Counter(label: "mcp_push_outbox_expired_total", dimensions: [("channel", channel)]).increment()
    }
}
