import Foundation

/// The absolute path of the running executable: what the background flusher re-runs, and what
/// `install` registers with the agents (they start it from anywhere, so never a relative path).
enum ThisBinary {
    static var path: String? {
        #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        let first = CommandLine.arguments.first ?? ""
        if first.hasPrefix("/") { return first }
        if first.contains("/") { return FileManager.default.currentDirectoryPath + "/" + first }
        return nil
    }
}
