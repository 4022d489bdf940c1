import Foundation
@testable import MCPProtocol
import Testing
import TestSupport

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

/// Defect: time grew with the square of a line's length (every read rescanned the unfinished line),
/// and any length was buffered.
@Suite struct LongLineTests {
    @Test func aHugeLineIsDroppedInLinearTimeAndTheNextOneStillArrives() async {
        let (elapsed, dropped, out, retained) = await offThePool {
            var splitter = LineSplitter()
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var dropped = 0
            var out: [String] = []
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<(24 << 20) / chunk.count {  // a 24 MiB line (over the 16 MiB cap) in 64 KiB reads; rescanning would read 4.8 GB
                splitter.feed(chunk, tooLong: { dropped += 1 }) { out.append(String(decoding: $0, as: UTF8.self)) }
            }
            splitter.feed(Array("tail\n{\"id\":1}\n".utf8), tooLong: { dropped += 1 }) { out.append(String(decoding: $0, as: UTF8.self)) }
            return (clock.now - start, dropped, out, splitter.retainedCapacity)
        }
        #expect(elapsed < .seconds(5))
        #expect(dropped == 1)
        #expect(out == [#"{"id":1}"#])
        #expect(retained < LineSplitter.maximumLine + 128 * 1024)
    }

    @Test func aLongLineUnderTheCapArrivesWhole() {
        var splitter = LineSplitter()
        let text = String(repeating: "y", count: 3 << 20)
        var out: [ArraySlice<UInt8>] = []
        for piece in Array(text.utf8 + [UInt8(ascii: "\n")]).chunked(64 * 1024) { splitter.feed(piece) { out.append($0) } }
        #expect(out.count == 1 && out[0].count == 3 << 20)
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
