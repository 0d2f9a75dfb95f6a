/// What `ConfigLoader` found: the usable configuration and every problem, with file, line and column.
package struct ConfigLoadResult: Sendable {
    /// The configuration, or nil when certkeeper.toml itself has errors (then nothing is trusted).
    /// Specs with errors are left out of `certificates`; the others are present.
    package var configuration: Configuration?
    /// Errors in certkeeper.toml, unreadable files, and cross-file errors (e.g. default-account contact conflicts).
    package var globalDiagnostics: [ConfigDiagnostic]
    /// Errors per spec NAME (`certs.d/NAME.toml`). A spec listed here is absent from `configuration.certificates`.
    package var specDiagnostics: [String: [ConfigDiagnostic]]

    package init(
        configuration: Configuration?, globalDiagnostics: [ConfigDiagnostic],
        specDiagnostics: [String: [ConfigDiagnostic]]
    ) {
        self.configuration = configuration
        self.globalDiagnostics = globalDiagnostics
        self.specDiagnostics = specDiagnostics
    }

    /// Every diagnostic, sorted by file, line, column.
    package var allDiagnostics: [ConfigDiagnostic] {
        (globalDiagnostics + specDiagnostics.values.flatMap { $0 }).sorted {
            ($0.file, $0.line, $0.column, $0.message) < ($1.file, $1.line, $1.column, $1.message)
        }
    }

    /// True when any file had an error (every diagnostic is an error).
    package var hasErrors: Bool {
        !globalDiagnostics.isEmpty || specDiagnostics.values.contains { !$0.isEmpty }
    }
}

/// Formats diagnostics as `FILE:LINE:COLUMN: message`, one per line, in the given order.
package func formatDiagnostics(_ diagnostics: [ConfigDiagnostic]) -> String {
    diagnostics.map(\.description).joined(separator: "\n")
}
