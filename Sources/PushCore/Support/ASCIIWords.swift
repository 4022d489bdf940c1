/// Checks of the ids, topics and keys services hand out, by hand: a Regex literal is parsed again
/// each time it is evaluated, which cost every ntfy delivery more than building its request did.
extension StringProtocol {
    /// `lengths` ASCII letters, digits, `-` or `_`.
    package func isWord(lengths: ClosedRange<Int> = 1...Int.max) -> Bool {
        lengths.contains(utf8.count) && utf8.allSatisfy { $0.isWordByte }
    }

    /// One or more ASCII digits.
    package var isDigits: Bool { !isEmpty && utf8.allSatisfy { (0x30...0x39).contains($0) } }
}

extension UInt8 {
    fileprivate var isWordByte: Bool {
        switch self {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F: true
        default: false
        }
    }
}
