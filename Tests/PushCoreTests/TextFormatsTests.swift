import Foundation
import PushCore
import Testing

@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-24T09:30:00Z", 1_795_512_600.0),
        ("2026-11-24T09:30:00.125Z", 1_795_512_600.125),
        ("2026-11-24T09:30:00+08:00", 1_795_483_800.0),
        ("2026-11-24T09:30:00.5+08:00", 1_795_483_800.5),
        ("2026-11-24T09:30:00-0530", 1_795_532_400.0),
    ])
    func parsesInternetDateTimes(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test(arguments: ["2026-11-24", "2026-11-24T09:30:00", "2026-11-24 09:30:00Z", "2026-13-40T99:00:00Z", "soon", ""])
    func rejectsWhatIsNotADateTimeWithAZone(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsUTCWithMillisecondsAndReadsItBack() throws {
        let date = Date(timeIntervalSince1970: 1_795_512_600.25)
        #expect(RFC3339.format(date) == "2026-11-24T09:30:00.250Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        let now = Date()
        let back = try #require(RFC3339.parse(RFC3339.format(now)))
        #expect(abs(back.timeIntervalSince(now)) < 0.001)
    }
}

@Suite struct WhitespaceTests {
    @Test func trimsSpacesTabsNewlinesAndUnicodeSpacesAtBothEnds() {
        #expect(" \t key \r\n".trimmingWhitespace() == "key")
        #expect("\u{3000}全角\u{00A0}".trimmingWhitespace() == "全角")
        #expect("a b\tc".trimmingWhitespace() == "a b\tc")
        #expect(" \n\t ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace() == "")
        #expect("x".dropFirst(0).trimmingWhitespace() == "x")
    }
}

@Suite struct JSONValueDecodingTests {
    @Test func everyKindOfValueKeepsItsKind() throws {
        let text = #"{"s":"ok","i":42,"neg":-7,"whole":3.0,"d":1.5,"big":12345678901234567890,"t":true,"f":false,"n":null,"a":[1,"x",[],{}],"o":{"code":0,"msg":"成功"}}"#
        let value = try #require(JSONValue.decode(Data(text.utf8)))
        guard case .object(let object) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(object["s"] == .string("ok"))
        #expect(object["i"] == .int(42))
        #expect(object["neg"] == .int(-7))
        #expect(object["whole"] == .int(3))
        #expect(object["d"] == .double(1.5))
        #expect(object["big"] == .double(12345678901234567890))
        #expect(object["t"] == .bool(true))
        #expect(object["f"] == .bool(false))
        #expect(object["n"] == .null)
        #expect(object["a"] == .array([.int(1), .string("x"), .array([]), .object([:])]))
        #expect(object["o"] == .object(["code": .int(0), "msg": .string("成功")]))
    }

    @Test func aBareArrayAndNotJSONAtAll() {
        #expect(JSONValue.decode(Data("[true,\"1\"]".utf8)) == .array([.bool(true), .string("1")]))
        #expect(JSONValue.decode(Data("<html>".utf8)) == nil)
    }
}

@Suite struct JSONValueEncodingTests {
    @Test func compactSortedAndReadBackTheSame() throws {
        let value = JSONValue.object([
            "title": .string("构建 \"done\"\n\ttab \\ /path \u{01}"), "count": .int(-3), "ratio": .double(0.25),
            "ok": .bool(true), "none": .null, "list": .array([.int(1), .object(["b": .int(2), "a": .int(1)])]),
        ])
        let text = String(decoding: try value.encoded(), as: UTF8.self)
        #expect(text == #"{"count":-3,"list":[1,{"a":1,"b":2}],"none":null,"ok":true,"ratio":0.25,"title":"构建 \"done\"\n\ttab \\ /path \u0001"}"#)
        #expect(JSONValue.decode(Data(text.utf8)) == value)
    }

    @Test func aNumberJSONCannotWriteIsAnError() {
        #expect(throws: EncodingError.self) { try JSONValue.array([.double(.infinity)]).encoded() }
        #expect(throws: EncodingError.self) { try JSONValue.double(.nan).encoded() }
    }
}
