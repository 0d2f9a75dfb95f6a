import ACMECrypto

/// One `certs.d/NAME.toml`.
///
/// A value type whose fields live in one shared, copy-on-write box: the daemon holds each spec in several places
/// (the configuration, the schedule, the parse cache, the status facts) and copies it into tasks and arrays; as a
/// plain struct each copy was about 700 bytes of inline fields (strings, arrays, the account and its CA), which made
/// up most of the memory per spec at 10,000 specs. A copy is now one reference, and two copies of the same spec
/// compare equal without looking at the fields. The account (with its CA), the challenge, the install paths and the
/// hooks are each a reference too, which the specs of one load that say the same share (``SpecSharing``): most
/// specs of a directory name one account and one challenge, and the box was still 576 bytes of inline fields per
/// spec, 211 of them the account's.
package struct CertificateSpec: Sendable, Hashable {
    /// The fields, shared by copies until one of them changes a field.
    struct Fields: Sendable, Hashable {
        var name: String
        /// The spec file's directory and name: the directory is one string every spec of a load holds (the path
        /// in full was a string of its own per spec, 0.9 MB with 10,000 specs).
        var directory: String
        var fileName: String
        var domains: [String]
        var account: Shared<AccountSettings>
        var keyType: KeyType
        var challenge: Shared<ChallengeSpec>
        var install: Shared<InstallSpec>
        var hooks: Shared<HooksSpec>
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
        get { ConfigLoader.join(box.fields.directory, box.fields.fileName) }
        set {
            let (directory, fileName) = Self.split(newValue)
            mutate {
                $0.directory = directory
                $0.fileName = fileName
            }
        }
    }
    /// Requested names, in the order written, lowercased.
    package var domains: [String] {
        get { box.fields.domains }
        set { mutate { $0.domains = newValue } }
    }
    /// The account this certificate is ordered with (resolved: named or the CA's default).
    package var account: AccountSettings {
        get { box.fields.account.value }
        set { mutate { $0.account = Shared(newValue) } }
    }
    package var keyType: KeyType {
        get { box.fields.keyType }
        set { mutate { $0.keyType = newValue } }
    }
    package var challenge: ChallengeSpec {
        get { box.fields.challenge.value }
        set { mutate { $0.challenge = Shared(newValue) } }
    }
    package var install: InstallSpec {
        get { box.fields.install.value }
        set { mutate { $0.install = Shared(newValue) } }
    }
    package var hooks: HooksSpec {
        get { box.fields.hooks.value }
        set { mutate { $0.hooks = Shared(newValue) } }
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
        let (directory, fileName) = Self.split(file)
        self.init(
            name: name, directory: directory, fileName: fileName, domains: domains, account: account,
            keyType: keyType, challenge: challenge, install: install, hooks: hooks, renewBefore: renewBefore,
            reuseKey: reuseKey, profile: profile, preferredChain: preferredChain)
    }

    /// A spec read from `fileName` in `directory` (the loader passes one directory string to all of its specs).
    package init(
        name: String, directory: String, fileName: String, domains: [String], account: AccountSettings,
        keyType: KeyType, challenge: ChallengeSpec, install: InstallSpec = InstallSpec(),
        hooks: HooksSpec = HooksSpec(), renewBefore: RenewBefore? = nil, reuseKey: Bool = false,
        profile: String? = nil, preferredChain: String? = nil
    ) {
        box = Box(
            Fields(
                name: name, directory: directory, fileName: fileName, domains: domains, account: Shared(account),
                keyType: keyType,
                challenge: Shared(challenge), install: Shared(install), hooks: Shared(hooks), renewBefore: renewBefore,
                reuseKey: reuseKey, profile: profile, preferredChain: preferredChain))
    }

    /// This spec with its account, challenge, install and hooks replaced by equal ones `pool` already holds (or
    /// added to it), so that specs saying the same share them.
    package func sharing(_ pool: inout SpecSharing) -> CertificateSpec {
        var fields = box.fields
        var changed = false
        pool.share(&fields.account, changed: &changed)
        pool.share(&fields.challenge, changed: &changed)
        pool.share(&fields.install, changed: &changed)
        pool.share(&fields.hooks, changed: &changed)
        guard changed else { return self }
        var copy = self
        copy.box = Box(fields)
        return copy
    }

    /// Which of the account, challenge, install and hooks this spec holds by the same reference as `other` (tests).
    func sharedParts(with other: CertificateSpec) -> [String] {
        let (a, b) = (box.fields, other.box.fields)
        return [
            a.account === b.account ? "account" : nil, a.challenge === b.challenge ? "challenge" : nil,
            a.install === b.install ? "install" : nil, a.hooks === b.hooks ? "hooks" : nil,
        ].compactMap { $0 }
    }

    /// Whether this spec's file directory is the same string storage as `other`'s (tests; a short one, held inline
    /// in the string itself, never is).
    func sharesDirectoryStorage(with other: CertificateSpec) -> Bool {
        var (a, b) = (box.fields.directory, other.box.fields.directory)
        let first = a.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        let second = b.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        return first != nil && first == second
    }

    /// Changes a field in a box of this value's own: other copies keep theirs.
    private mutating func mutate(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    /// A path split at its last `/`: the directory (empty when there is none, `/` for the root) and the file name;
    /// a path that joining those would not give back (`a//b.toml`) is kept whole as the file name.
    private static func split(_ path: String) -> (directory: String, fileName: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let fileName = String(path[path.index(after: slash)...])
        guard ConfigLoader.join(directory, fileName) == path else { return ("", path) }
        return (directory, fileName)
    }

    package static func == (lhs: CertificateSpec, rhs: CertificateSpec) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    package func hash(into hasher: inout Hasher) { hasher.combine(box.fields) }
}
