@preconcurrency import Crypto
import Foundation
import PushCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A capability for one answer (or one request's page): 128 random bits, written base64url so it
/// fits Telegram's 64-byte `callback_data`, an ntfy body and a URL path.
struct OneTimeToken: Sendable, Hashable {
    let text: String

    init() {
        var generator = SystemRandomNumberGenerator()
        self.init(bytes: (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// A token as presented (a button, a URL): nil unless it has a token's shape, so that
    /// nothing else reaches the store.
    init(bytes: some Sequence<UInt8>) {
        text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(presented: some StringProtocol) {
        guard presented.utf8.count == 22,
            presented.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        text = String(presented)
    }

    /// How answers travel in Telegram's `callback_data` and ntfy's reply body.
    static let answerPrefix = "mp1:"

    init?(answer: String) {
        guard answer.hasPrefix(Self.answerPrefix) else { return nil }
        self.init(presented: answer.dropFirst(Self.answerPrefix.count))
    }

    var answer: String { Self.answerPrefix + text }
}

/// Turns tokens into what the store keeps: HMAC-SHA256 under a key only this user's processes
/// read (`approvals.key` in the state directory, mode 0600). A copy of the database alone
/// neither yields a token nor lets one be forged.
struct TokenSigner: Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey) { self.key = key }

    func digest(_ token: OneTimeToken) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(token.text.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// The web page's answer token for option `choice`: made from the page token under the key, so
    /// the page can show it without the store keeping it, and nobody without the key can make one.
    func derive(from page: OneTimeToken, choice: Int) -> OneTimeToken {
        OneTimeToken(bytes: HMAC<SHA256>.authenticationCode(for: Data("web-answer\u{0}\(page.text)\u{0}\(choice)".utf8), using: key).prefix(16))
    }

    /// The key every process of this state shares: kept by the store where it is networked (each
    /// replica answers pages another one made), else in the state directory.
    static func load(store: any StateStore) async -> TokenSigner {
        if let bytes = try? await store.sharedKey("approvals.key"), bytes.count == 32 { return TokenSigner(key: SymmetricKey(data: bytes)) }
        return load(directory: store.directoryPath)
    }

    /// The key in `directory`, created on first use; a fresh one for this process when the
    /// directory cannot hold it (the store is then in memory too).
    static func load(directory: String?) -> TokenSigner {
        guard let directory else { return TokenSigner(key: SymmetricKey(size: .bits256)) }
        let path = "\(directory)/approvals.key"
        if let key = read(path) { return TokenSigner(key: key) }
        let fresh = SymmetricKey(size: .bits256)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if descriptor >= 0 {
            let written = fresh.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            if written == 32 { return TokenSigner(key: fresh) }
            unlink(path)
        }
        // Another process created it first: use theirs, once written.
        for _ in 0..<100 {
            if let key = read(path) { return TokenSigner(key: key) }
            usleep(2_000)
        }
        return TokenSigner(key: fresh)
    }

    private static func read(_ path: String) -> SymmetricKey? {
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else { return nil }
        return SymmetricKey(data: data)
    }
}
