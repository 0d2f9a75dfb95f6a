/// Collects the diagnostics for one config file while it is validated.
final class DiagnosticCollector {
    /// The file name as printed (`CONFIG_DIR/certs.d/www.toml`).
    let file: String
    private(set) var diagnostics: [ConfigDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    var hasErrors: Bool { !diagnostics.isEmpty }

    func error(_ message: String, at position: SourcePosition) {
        diagnostics.append(ConfigDiagnostic(file: file, line: position.line, column: position.column, message: message))
    }

    /// Reports an error at a node's key (unknown key, missing companion key, ...).
    func error(_ message: String, atKeyOf node: ConfigNode) {
        error(message, at: node.keyPosition)
    }

    /// Reports an error at a node's value (wrong type, bad value).
    func error(_ message: String, atValueOf node: ConfigNode) {
        error(message, at: node.valuePosition)
    }
}
