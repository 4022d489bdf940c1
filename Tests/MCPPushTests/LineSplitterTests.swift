import Foundation
@testable import MCPPush
import Testing

/// How stdin is cut into JSON-RPC messages.
@Suite struct LineSplitterTests {
    func lines(_ chunks: [String], splitter: inout LineSplitter) -> [String] {
        var out: [String] = []
        for chunk in chunks {
            splitter.feed(Array(chunk.utf8)) { out.append(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }

    @Test func messagesSplitAcrossReadsAreJoined() {
        var splitter = LineSplitter()
        let out = lines([#"{"id":1,"me"#, #"thod":"ping"}"# + "\n" + #"{"id":2"#, "}\n"], splitter: &splitter)
        #expect(out == [#"{"id":1,"method":"ping"}"#, #"{"id":2}"#])
        #expect(splitter.buffered == 0)
    }

    @Test func carriageReturnsAndBlankLinesAreDropped() {
        var splitter = LineSplitter()
        let out = lines(["{\"a\":1}\r\n\n\r\n{\"b\":\"é\"}\n{\"c\""], splitter: &splitter)
        #expect(out == [#"{"a":1}"#, #"{"b":"é"}"#])
        #expect(splitter.buffered == 4)  // the unfinished {"c" waits for its end
    }

    @Test func handledLinesAreNotKept() {
        var splitter = LineSplitter()
        let line = Array((#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notify_send"}}"# + "\n").utf8)
        var count = 0
        for _ in 0..<20_000 {
            splitter.feed(line) { _ in count += 1 }
        }
        #expect(count == 20_000)
        // 20 000 lines are 1.6 MB; what stays is bounded by one read, not by the history.
        #expect(splitter.retainedCapacity < 4 * 1024, "kept \(splitter.retainedCapacity) bytes")
    }
}
