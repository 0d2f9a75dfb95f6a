import Foundation

/// One certbot lineage's `renewal/NAME.conf` (ConfigObj syntax): the live paths at the top, `[renewalparams]`, and
/// its `[[webroot_map]]` (domain = webroot). Only what a migration needs is kept; unknown keys are listed.
package struct CertbotRenewalConf: Sendable, Hashable {
    package var cert: String?
    package var privkey: String?
    package var chain: String?
    package var fullchain: String?
    /// `[renewalparams]`, values as written (list values keep their commas).
    package var params: [String: String]
    /// `[[webroot_map]]`: domain to webroot.
    package var webrootMap: [String: String]

    package init(
        cert: String? = nil, privkey: String? = nil, chain: String? = nil, fullchain: String? = nil,
        params: [String: String] = [:], webrootMap: [String: String] = [:]
    ) {
        self.cert = cert
        self.privkey = privkey
        self.chain = chain
        self.fullchain = fullchain
        self.params = params
        self.webrootMap = webrootMap
    }

    /// Parses the file's text; `path` names it in errors.
    package static func parse(_ text: String, path: String) throws -> CertbotRenewalConf {
        var conf = CertbotRenewalConf()
        var section = ""
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw MigrationError(path: "\(path):\(index + 1)", reason: "expected KEY = VALUE, got '\(line)'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = unquoted(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            switch section {
            case "":
                switch key {
                case "cert": conf.cert = value
                case "privkey": conf.privkey = value
                case "chain": conf.chain = value
                case "fullchain": conf.fullchain = value
                default: break
                }
            case "renewalparams": conf.params[key] = value
            case "webroot_map": conf.webrootMap[key.lowercased()] = value
            default: break
            }
        }
        return conf
    }

    /// A ConfigObj list value (`a, b,` or a single `a`) as its items, each unquoted.
    package static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { unquoted($0.trimmingCharacters(in: .whitespaces)) }
            .filter { !$0.isEmpty }
    }

    /// A ConfigObj value without its quotes (triple or single, either kind); an unquoted value loses an inline
    /// `# comment`.
    static func unquoted(_ value: String) -> String {
        for quote in ["\"\"\"", "'''", "\"", "'"] where value.count >= 2 * quote.count {
            if value.hasPrefix(quote), value.hasSuffix(quote) {
                return String(value.dropFirst(quote.count).dropLast(quote.count))
            }
        }
        if let hash = value.range(of: " #") { return value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
        return value
    }
}
