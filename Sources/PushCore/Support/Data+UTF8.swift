import Foundation

extension Data {
    /// The text's UTF-8 bytes. Not `Data(text.utf8)`: that generic initializer tries a run-time cast
    /// first, whose first use cost the first delivery about 0.4 M instructions (docs/PERFORMANCE.md).
    package init(utf8 text: String) {
        var text = text
        self = text.withUTF8 { bytes in bytes.baseAddress.map { Data(bytes: $0, count: bytes.count) } ?? Data() }
    }
}
