#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a client asks the daemon over the control socket; one enum shared by the client and the server.
///
/// On the wire it is one JSON line: `{"command":"reload"}`, `{"command":"status"}`,
/// `{"command":"renew","name":"www","force":true}`, `{"command":"renew","name":"www","force":false,"wait":true}`.
package enum ControlCommand: Sendable, Hashable {
    /// Re-read the configuration directory and report the outcome.
    case reload
    /// Check (or, with `force`, renew) one certificate now.
    case renew(name: String, force: Bool)
    /// ``renew(name:force:)``, answered when the attempt is over, with progress lines while it runs.
    case renewWaiting(name: String, force: Bool)
    /// Report every certificate's state.
    case status

    /// The command's name on the wire.
    package var verb: String {
        switch self {
        case .reload: "reload"
        case .renew, .renewWaiting: "renew"
        case .status: "status"
        }
    }
}

extension ControlCommand: Codable {
    private enum Keys: String, CodingKey { case command, name, force, wait }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let verb = try container.decode(String.self, forKey: .command)
        switch verb {
        case "reload": self = .reload
        case "status": self = .status
        case "renew":
            guard let name = try container.decodeIfPresent(String.self, forKey: .name) else {
                throw ControlCommandError.missingName(command: verb)
            }
            let force = try container.decodeIfPresent(Bool.self, forKey: .force) ?? false
            let wait = try container.decodeIfPresent(Bool.self, forKey: .wait) ?? false
            self = wait ? .renewWaiting(name: name, force: force) : .renew(name: name, force: force)
        default:
            throw ControlCommandError.unknown(verb)
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(verb, forKey: .command)
        switch self {
        case .renew(let name, let force):
            try container.encode(name, forKey: .name)
            try container.encode(force, forKey: .force)
        case .renewWaiting(let name, let force):
            try container.encode(name, forKey: .name)
            try container.encode(force, forKey: .force)
            try container.encode(true, forKey: .wait)
        case .reload, .status: break
        }
    }
}

/// A well-formed request line that names no command the daemon knows.
package enum ControlCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknown(String)
    case missingName(command: String)

    package var description: String {
        switch self {
        case .unknown(let verb):
            let shown = verb.count > 40 ? String(verb.prefix(40)) + "…" : verb
            return "unknown command '\(shown)': expected reload, renew or status"
        case .missingName(let verb): return "\(verb) needs a certificate name"
        }
    }
}

extension ControlCommand {
    /// The certificate a `renew` names; nil for the other commands.
    package var renewedName: String? {
        switch self {
        case .renew(let name, _), .renewWaiting(let name, _): return name
        case .reload, .status: return nil
        }
    }
}
