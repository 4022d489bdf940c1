import Foundation
@testable import SMTPClient
import Testing

@Suite struct MailMessageTests {
    @Test func asciiSubjectStaysReadable() {
        #expect(MailMessage.encodedWords("Build finished", firstLineUsed: 9) == "Build finished")
    }

    @Test func nonASCIISubjectBecomesShortEncodedWordsSplitBetweenCharacters() throws {
        let subject = "构建完成：全部 412 个测试通过 🚀 " + String(repeating: "长标题", count: 20)
        let encoded = MailMessage.encodedWords(subject, firstLineUsed: 9)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.count <= 75, "RFC 2047 limits an encoded word to 75 characters")
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            #expect(String(data: payload, encoding: .utf8) != nil, "each word holds whole characters")
            decoded += payload
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }

    @Test func headersCannotBeInjected() {
        let message = MailMessage(from: "bot@example.com", to: ["me@example.com"], subject: "Hi\r\nBcc: victim@example.com", body: "x")
        let rendered = message.rendered()
        #expect(!rendered.contains("\r\nBcc:"))
        #expect(rendered.contains("Subject: Hi Bcc: victim@example.com\r\n"))
    }

    @Test func quotedPrintableLinesAreShortAndReversible() throws {
        let body = "第一行 with trailing space \n" + String(repeating: "é", count: 100) + "\n.\n=sign and tab\t"
        let encoded = MailMessage.quotedPrintable(body)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
        }
        #expect(Self.decodeQuotedPrintable(encoded) == body.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func dotStuffing() {
        #expect(MailMessage.dotStuffed("a\r\n.\r\n.b\r\nc.") == "a\r\n..\r\n..b\r\nc.")
        #expect(MailMessage.dotStuffed(".first") == "..first")
    }

    @Test func requiredHeadersArePresent() {
        let message = MailMessage(from: "bot@example.com", fromName: "构建机器人", to: ["a@example.com", "b@example.com"], subject: "s", body: "b")
        let rendered = message.rendered(date: Date(timeIntervalSince1970: 1_732_406_400), messageID: "abc")
        #expect(rendered.contains("Date: Sun, 24 Nov 2024 00:00:00 +0000\r\n"))
        #expect(rendered.contains("Message-ID: <abc@example.com>\r\n"))
        #expect(rendered.contains("From: =?UTF-8?B?"))
        #expect(rendered.contains("To: <a@example.com>, <b@example.com>\r\n"))
        #expect(rendered.contains("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF everywhere")
        #expect(MailMessage.mailbox("a@b.c", name: "Build, Bot") == "\"Build, Bot\" <a@b.c>")
    }

    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let joined = text.replacingOccurrences(of: "=\r\n", with: "")
        var index = joined.utf8.startIndex
        let utf8 = joined.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "="), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
                let value = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = end
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct ReplyParsingTests {
    @Test func multiLineRepliesAreJoined() throws {
        var pending: [String] = []
        #expect(try SMTPReplyDecoder.accept("250-smtp.example.com Hello", pending: &pending) == nil)
        #expect(try SMTPReplyDecoder.accept("250-AUTH PLAIN LOGIN", pending: &pending) == nil)
        let reply = try #require(try SMTPReplyDecoder.accept("250 STARTTLS", pending: &pending))
        #expect(reply.code == 250)
        #expect(reply.lines == ["smtp.example.com Hello", "AUTH PLAIN LOGIN", "STARTTLS"])
        #expect(pending.isEmpty)
        let bare = try #require(try SMTPReplyDecoder.accept("354", pending: &pending))
        #expect(bare.code == 354 && bare.lines == [""])
    }

    @Test func garbageIsAProtocolError() {
        var pending: [String] = []
        #expect(throws: SMTPError.self) { try SMTPReplyDecoder.accept("HTTP/1.1 400 Bad Request", pending: &pending) }
    }

    @Test func transientAndPermanentCodes() {
        #expect(SMTPError.rejected(stage: "RCPT TO", reply: SMTPReply(code: 451, lines: ["greylisted"])).isTransient)
        #expect(!SMTPError.rejected(stage: "AUTH PLAIN", reply: SMTPReply(code: 535, lines: ["bad"])).isTransient)
        #expect(SMTPError.rejected(stage: "AUTH PLAIN", reply: SMTPReply(code: 535, lines: ["5.7.8 bad credentials"])).description
            == "AUTH PLAIN refused: 535 5.7.8 bad credentials")
    }
}
