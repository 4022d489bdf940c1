import Foundation
import PushCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What sends a CLI's queued deliveries once the command has returned: a detached
/// `mcp-push outbox --drain` with the same environment (so the same channels), which works
/// the outbox until nothing it can send waits there, then exits. One per configuration:
/// a second one finds the lock taken and leaves at once.
enum BackgroundFlusher {
    /// The hidden `outbox` flag the detached process runs with.
    static let flag = "--drain"

    /// Starts the flusher in its own session, detached from the terminal and from our pipes
    /// (a hook's caller waiting for our stdout to close must not wait for it). Returns false
    /// when it could not be started.
    static func spawn() -> Bool {
        guard let executable = ThisBinary.path else { return false }
        var attributes = posix_spawnattr_t()
        var actions = posix_spawn_file_actions_t()
        posix_spawnattr_init(&attributes)
        posix_spawn_file_actions_init(&actions)
        defer {
            posix_spawnattr_destroy(&attributes)
            posix_spawn_file_actions_destroy(&actions)
        }
        #if os(Linux)
            // glibc's POSIX_SPAWN_SETSID (0x80), hidden from Swift behind _GNU_SOURCE: a session of its own.
            posix_spawnattr_setflags(&attributes, 0x80)
        #endif
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let arguments = [executable, "outbox", flag]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        StartupAffinity.releaseThisThread()
        return posix_spawn(&pid, executable, &actions, &attributes, argv, environ) == 0
    }

    /// Holds the per-configuration lock for the life of the process; false when another
    /// flusher of the same configuration holds it.
    static func lock(stateDirectory: String, configurationKey: String) -> Bool {
        try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = "\(stateDirectory)/flusher-\(configurationKey).lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return true }  // no lock file possible: a duplicate flusher is harmless (claims are atomic)
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            return false
        }
        return true  // kept open (and locked) until the process exits
    }
}
