/// One request on the control socket: a single JSON line such as `{"command":"reload"}`.
///
/// The commands are defined by the daemon; this module only carries them.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// The command, e.g. `reload`, `status`, `renew`.
    public var command: String
    /// An optional object the command applies to (e.g. a certificate name).
    public var name: String?
    /// An optional force flag.
    public var force: Bool?

    /// Creates a request.
    public init(command: String, name: String? = nil, force: Bool? = nil) {
        self.command = command
        self.name = name
        self.force = force
    }
}
