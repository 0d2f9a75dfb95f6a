/// One certificate another client manages, planned as a certkeeper spec (`certkeeper migrate`).
package struct MigrationPlan: Sendable, Hashable {
    /// The spec name (the lineage's or certificate's, if it is a valid name).
    package var name: String
    /// The file it was planned from (a certbot renewal conf, a lego certificate's JSON).
    package var confPath: String
    package var domains: [String]
    /// The CA directory URL the certificate renews against.
    package var server: String
    /// The other client's account directory for the certificate's account, nil when unknown.
    package var accountDirectory: String?
    /// The spec file's text.
    package var spec: String
    /// What could not be mapped (also written as comments in the spec).
    package var todos: [String]
    /// True when the spec has a working `[challenge]` (otherwise a commented TODO that `check` rejects).
    package var complete: Bool
    /// A secret the spec names by path (the dns-rfc2136 TSIG secret), to be written with mode 0600.
    package var secretFile: SecretFile?

    /// A file holding one secret, written before the spec that names it (never printed).
    package struct SecretFile: Sendable, Hashable {
        package var path: String
        package var contents: String
    }
}
