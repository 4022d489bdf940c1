import Foundation
import PushCore

/// A config.sh that holds tokens should be readable by its owner alone: anyone who can read it
/// can push as the user (and read what ntfy topics carry).
enum ConfigFileExposure {
    /// A warning naming the file and the fix, when the file sets a secret and others may read it.
    static func warning(for configuration: Configuration, environment: [String: String]) -> String? {
        guard let path = configuration.sourceFile, setsSecret(configuration, environment: environment),
            let mode = permissions(of: path), mode & 0o044 != 0
        else { return nil }
        let readers = mode & 0o004 != 0 ? "every user" : "its group"
        return "\(path) holds tokens and is readable by \(readers); run `chmod 600 \(path)`"
    }

    /// Whether a secret variable's value comes from the file (set, and not by the environment).
    static func setsSecret(_ configuration: Configuration, environment: [String: String]) -> Bool {
        ChannelCatalogue.ids.contains { id in
            let variables = ChannelCatalogue.descriptor(for: id)?.variables ?? []
            return variables.contains { variable in
                variable.isSecret && configuration.raw(variable.name) != nil && (environment[variable.name] ?? "").isEmpty
            }
        }
    }

    private static func permissions(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }
}
