/// Points inside ``CertificateInstaller/install(name:keyPEM:fullchainPEM:certPEM:chainPEM:spec:stateDirectory:)``
/// where a test can inject a failure (a throwing ``CertificateInstaller/faultHook``) to simulate a crash.
package enum InstallStep: Sendable, Hashable {
    /// Default layout: the new version directory is complete and fsynced; `live/<name>` still points at the old one.
    case versionWritten(directory: String)
    /// Default layout: `live/<name>` now points at the new version.
    case switched
    /// Explicit paths: every new file is staged as a temp file next to its target; nothing replaced yet.
    case staged
    /// Explicit paths: the key was renamed into place; the certificate files are still the old ones.
    case keyCommitted
}
