import Foundation
@testable import PushCore
import Testing

@Suite struct ResultJSONTests {
    @Test func anyTextSurvivesTheRoundTrip() throws {
        let awkward = "quote \" backslash \\ newline\nreturn\r tab\t bell\u{07} nul\u{00} unit\u{1F} 中文 🚀 </script> \u{2028}"
        var result = DispatchResult(
            status: .partialSuccess, message: awkward,
            results: [
                ChannelResult(channel: "bark", outcome: .delivered, statusCode: 200, attempts: 1, durationMilliseconds: 12),
                ChannelResult(
                    channel: "dingtalk", outcome: .queued(item: 7, until: Date(), reason: .retry, lastError: awkward), attempts: 2,
                    durationMilliseconds: 3),
            ],
            event: EventSummary(runID: "run \"1\"", event: "end", timestamp: "2026-11-24T09:00:00Z"))
        result.warnings = ["history not recorded: \(awkward)"]
        result.reason = .duplicate
        let text = result.jsonText
        #expect(!text.contains("\n"), "one line")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["message"] as? String == awkward)
        // A queued channel's error is the service's reason, then when it goes out.
        #expect((parsed["errors"] as? [String: String])?["dingtalk"]?.hasPrefix(awkward + "; queued for retry") == true)
        #expect((parsed["warnings"] as? [String])?.first == "history not recorded: \(awkward)")
        #expect(parsed["run_id"] as? String == "run \"1\"")
        let results = try #require(parsed["results"] as? [[String: Any]])
        #expect(results[0]["status_code"] as? Int == 200 && results[0]["error"] == nil)
        #expect(results[1]["queued"] as? Bool == true && results[1]["attempts"] as? Int == 2)
        #expect(text.hasPrefix(#"{"status":"partial_success","reason":"duplicate","message":"#))
    }
}
