extension StringProtocol {
    /// The text without leading and trailing whitespace or newlines (Unicode White_Space).
    ///
    /// Pure Swift on purpose: Foundation's `trimmingCharacters(in:)` goes through NSString and
    /// UTF-16, whose first use costs about 0.4 ms of every start (docs/PERFORMANCE.md). Inlinable, so that
    /// callers get it specialized: the generic version cost a run-time conformance lookup on first use.
    @inlinable public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
