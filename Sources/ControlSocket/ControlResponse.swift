/// One response on the control socket: a single JSON line such as `{"ok":true,"message":"reloaded"}`.
public struct ControlResponse: Codable, Sendable, Equatable {
    /// Whether the command succeeded; clients exit non-zero when it is `false`.
    public var ok: Bool
    /// A human-readable one-line result or error.
    public var message: String
    /// Optional command-specific data (e.g. JSON text for `status`).
    public var payload: String?

    /// Creates a response.
    public init(ok: Bool, message: String, payload: String? = nil) {
        self.ok = ok
        self.message = message
        self.payload = payload
    }
}
