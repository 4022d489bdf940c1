import Foundation

/// A plain-text e-mail, rendered per RFC 5322 with MIME UTF-8 content.
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var fromName: String?
    public var to: [String]
    public var subject: String
    public var body: String
    /// An HTML rendering of `body`, sent as its alternative (mail clients show the richer one).
    public var html: String?

    public init(from: String, fromName: String? = nil, to: [String], subject: String, body: String, html: String? = nil) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.body = body
        self.html = html
    }

    /// The message as sent after DATA (before dot-stuffing): CRLF line endings, headers
    /// encoded per RFC 2047 where not ASCII, the body quoted-printable.
    public func rendered(date: Date = Date(), messageID: String = UUID().uuidString) -> String {
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        var headers: [String] = []
        headers.append("Date: " + Self.rfc5322Date(date))
        headers.append("Message-ID: <\(messageID)@\(domain)>")
        headers.append("From: " + Self.mailbox(from, name: fromName))
        headers.append("To: " + to.map { Self.mailbox($0, name: nil) }.joined(separator: ", "))
        headers.append("Subject: " + Self.encodedWords(Self.singleLine(subject), firstLineUsed: "Subject: ".count))
        headers.append("MIME-Version: 1.0")
        headers.append("X-Mailer: mcp-push")
        let plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + Self.quotedPrintable(body)
        guard let html else { return headers.joined(separator: "\r\n") + "\r\n" + plain }
        // "=_" never occurs in quoted-printable text (a literal "=" is "=3D"), so no part can contain the boundary.
        let boundary = "=_mcp-push_\(messageID)"
        let document = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\(html)</body></html>"
        let htmlPart = "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + Self.quotedPrintable(document)
        headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
        return headers.joined(separator: "\r\n") + "\r\n\r\n--\(boundary)\r\n" + plain + "\r\n--\(boundary)\r\n" + htmlPart
            + "\r\n--\(boundary)--\r\n"
    }

    /// Header text never holds a line break: it would end the header (or start a new one).
    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func mailbox(_ address: String, name: String?) -> String {
        guard let name = name.map(singleLine), !name.isEmpty else { return "<\(address)>" }
        let isPlain = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && !"\"\\()<>[]:;@,.".unicodeScalars.contains($0) }
        if isPlain { return "\(name) <\(address)>" }
        if name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(address)>"
        }
        return encodedWords(name, firstLineUsed: "From: ".count) + " <\(address)>"
    }

    /// ASCII text as is (folded if long); anything else as RFC 2047 `=?UTF-8?B?...?=` words of at
    /// most 75 characters, split between characters (never inside a UTF-8 sequence), one per line.
    static func encodedWords(_ text: String, firstLineUsed: Int) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) && !text.contains("=?") {
            return text
        }
        let overhead = "=?UTF-8?B??=".count
        // 75 characters per word; base64 turns 3 bytes into 4.
        let maximumBytes = (75 - overhead) / 4 * 3
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maximumBytes, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// RFC 2045 quoted-printable with CRLF line breaks and lines of at most 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var output: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded = ""
            var width = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let token: String
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"):
                    // Trailing white space would be lost in transit: encode it.
                    token = isLast ? "=" + hex(byte) : String(UnicodeScalar(byte))
                case 33...126 where byte != UInt8(ascii: "="):
                    token = String(UnicodeScalar(byte))
                default:
                    token = "=" + hex(byte)
                }
                // Leave room for the soft break's "=".
                if width + token.count > 75 {
                    encoded += "=\r\n"
                    width = 0
                }
                encoded += token
                width += token.count
            }
            output.append(encoded)
        }
        return output.joined(separator: "\r\n")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// RFC 5321 §4.5.2: a line starting with "." gets one more, so it cannot end the data.
    static func dotStuffed(_ rendered: String) -> String {
        rendered.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
