import Foundation
@testable import PushCore
import Testing

@Suite struct ResultJSONTests {
    @Test func anyTextSurvivesTheRoundTrip() throws {
        let awkward = "quote \" backslash \\ newline\nreturn\r tab\t bell\u{07} nul\u{00} unit\u{1F} 中文 🚀 </script> \u{2028}"
        var result = DispatchResult(
            status: .partialSuccess, message: awkward,
            results: [
                ChannelResult(channel: "bark", ok: true, statusCode: 200, error: nil, durationMilliseconds: 12, attempts: 1),
                ChannelResult(channel: "dingtalk", ok: false, statusCode: nil, error: awkward, durationMilliseconds: 3, attempts: 2, queued: true),
            ],
            event: EventSummary(runID: "run \"1\"", event: "end", timestamp: "2026-11-24T09:00:00Z"))
        result.warnings = ["history not recorded: \(awkward)"]
        result.reason = "duplicate"
        let text = result.jsonText
        #expect(!text.contains("\n"), "one line")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["message"] as? String == awkward)
        #expect((parsed["errors"] as? [String: String])?["dingtalk"] == awkward)
        #expect((parsed["warnings"] as? [String])?.first == "history not recorded: \(awkward)")
        #expect(parsed["run_id"] as? String == "run \"1\"")
        let results = try #require(parsed["results"] as? [[String: Any]])
        #expect(results[0]["status_code"] as? Int == 200 && results[0]["error"] == nil)
        #expect(results[1]["queued"] as? Bool == true && results[1]["attempts"] as? Int == 2)
        #expect(text.hasPrefix(#"{"status":"partial_success","reason":"duplicate","message":"#))
    }
}
