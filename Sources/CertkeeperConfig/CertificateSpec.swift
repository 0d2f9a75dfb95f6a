import ACMECrypto

/// One `certs.d/NAME.toml`.
///
/// A value type whose fields live in one shared, copy-on-write box: the daemon holds each spec in several places
/// (the configuration, the schedule, the parse cache, the status facts) and copies it into tasks and arrays; as a
/// plain struct each copy was about 700 bytes of inline fields (strings, arrays, the account and its CA), which made
/// up most of the memory per spec at 10,000 specs. A copy is now one reference, and two copies of the same spec
/// compare equal without looking at the fields.
package struct CertificateSpec: Sendable, Hashable {
    /// The fields, shared by copies until one of them changes a field.
    struct Fields: Sendable, Hashable {
        var name: String
        var file: String
        var domains: [String]
        var account: AccountSettings
        var keyType: KeyType
        var challenge: ChallengeSpec
        var install: InstallSpec
        var hooks: HooksSpec
        var renewBefore: RenewBefore?
        var reuseKey: Bool
        var profile: String?
        var preferredChain: String?
    }

    /// Immutable once shared: a write goes to a box of its own (``mutate(_:)``).
    final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    /// The file's stem; validated as a safe path component.
    package var name: String {
        get { box.fields.name }
        set { mutate { $0.name = newValue } }
    }
    /// The spec file it came from.
    package var file: String {
        get { box.fields.file }
        set { mutate { $0.file = newValue } }
    }
    /// Requested names, in the order written, lowercased.
    package var domains: [String] {
        get { box.fields.domains }
        set { mutate { $0.domains = newValue } }
    }
    /// The account this certificate is ordered with (resolved: named or the CA's default).
    package var account: AccountSettings {
        get { box.fields.account }
        set { mutate { $0.account = newValue } }
    }
    package var keyType: KeyType {
        get { box.fields.keyType }
        set { mutate { $0.keyType = newValue } }
    }
    package var challenge: ChallengeSpec {
        get { box.fields.challenge }
        set { mutate { $0.challenge = newValue } }
    }
    package var install: InstallSpec {
        get { box.fields.install }
        set { mutate { $0.install = newValue } }
    }
    package var hooks: HooksSpec {
        get { box.fields.hooks }
        set { mutate { $0.hooks = newValue } }
    }
    package var renewBefore: RenewBefore? {
        get { box.fields.renewBefore }
        set { mutate { $0.renewBefore = newValue } }
    }
    package var reuseKey: Bool {
        get { box.fields.reuseKey }
        set { mutate { $0.reuseKey = newValue } }
    }
    package var profile: String? {
        get { box.fields.profile }
        set { mutate { $0.profile = newValue } }
    }
    /// The issuer Common Name of the topmost certificate of the chain to install when the CA offers several
    /// (`preferred_chain`, as certbot's and lego's `--preferred-chain`); nil takes the CA's default chain.
    package var preferredChain: String? {
        get { box.fields.preferredChain }
        set { mutate { $0.preferredChain = newValue } }
    }
    package var ca: CASettings { account.ca }

    package init(
        name: String, file: String, domains: [String], account: AccountSettings, keyType: KeyType,
        challenge: ChallengeSpec, install: InstallSpec = InstallSpec(), hooks: HooksSpec = HooksSpec(),
        renewBefore: RenewBefore? = nil, reuseKey: Bool = false, profile: String? = nil, preferredChain: String? = nil
    ) {
        box = Box(
            Fields(
                name: name, file: file, domains: domains, account: account, keyType: keyType, challenge: challenge,
                install: install, hooks: hooks, renewBefore: renewBefore, reuseKey: reuseKey, profile: profile,
                preferredChain: preferredChain))
    }

    /// Changes a field in a box of this value's own: other copies keep theirs.
    private mutating func mutate(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    package static func == (lhs: CertificateSpec, rhs: CertificateSpec) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    package func hash(into hasher: inout Hasher) { hasher.combine(box.fields) }
}
