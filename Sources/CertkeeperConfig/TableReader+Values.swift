import ACMECrypto

/// Readers for the value kinds shared by certkeeper.toml and certs.d specs.
extension TableReader {
    func keyType(_ key: String) -> KeyType? {
        guard let (text, child) = string(key) else { return nil }
        guard let type = KeyType(rawValue: text.lowercased()) else {
            diagnostics.error(
                "'\(key)' in \(displayName) has unknown key type '\(text)'; use one of: \(KeyType.allNames)",
                atValueOf: child)
            return nil
        }
        return type
    }

    /// A contact e-mail, normalised to `mailto:addr`.
    func contact(_ key: String) -> String? {
        guard let (text, child) = string(key) else { return nil }
        guard let contact = NameSyntax.mailtoContact(text) else {
            diagnostics.error(
                "'\(key)' in \(displayName) is not an e-mail address: '\(text)'; write e.g. \"ops@example.com\" or \"mailto:ops@example.com\"",
                atValueOf: child)
            return nil
        }
        return contact
    }

    /// A duration string in seconds, at most `maximum` seconds (see ``DurationLimits``). `allowZero` permits `"0s"`.
    func duration(_ key: String, allowZero: Bool, maximum: Int64) -> Int64? {
        guard let child = node[key] else { return nil }
        guard case .string(let text) = child.value else {
            diagnostics.error(
                "'\(key)' in \(displayName) must be a duration string like \"60s\", \"2m\" or \"1d12h\", not \(child.typeDescription)",
                atValueOf: child)
            return nil
        }
        guard let seconds = DurationSyntax.seconds(from: text) else {
            diagnostics.error(
                "'\(key)' in \(displayName) is not a duration: '\(text)'; use numbers with units w, d, h, m, s, largest first, e.g. \"90s\", \"2m\", \"1d12h\"",
                atValueOf: child)
            return nil
        }
        guard allowZero || seconds > 0 else {
            diagnostics.error("'\(key)' in \(displayName) must be longer than 0s", atValueOf: child)
            return nil
        }
        guard seconds <= maximum else {
            let limit = DurationSyntax.format(seconds: maximum)
            diagnostics.error(
                "'\(key)' in \(displayName) is '\(text)', longer than certkeeper accepts (at most \(limit)); use a shorter duration, e.g. \"\(limit)\"",
                atValueOf: child)
            return nil
        }
        return seconds
    }

    /// `renew_before`: a duration string or a fraction of the lifetime 0 < f < 1.
    func renewBefore(_ key: String) -> RenewBefore? {
        guard let child = node[key] else { return nil }
        switch child.value {
        case .float(let fraction):
            guard fraction > 0 && fraction < 1 else {
                diagnostics.error(
                    "'\(key)' in \(displayName) is a fraction of the certificate lifetime and must be between 0 and 1 (exclusive), e.g. 0.33; got \(fraction)",
                    atValueOf: child)
                return nil
            }
            return .fraction(fraction)
        case .string:
            return duration(key, allowZero: false, maximum: DurationLimits.renewBefore).map { .seconds($0) }
        default:
            diagnostics.error(
                "'\(key)' in \(displayName) must be a duration string like \"30d\" or a fraction like 0.33, not \(child.typeDescription)",
                atValueOf: child)
            return nil
        }
    }

    func absolutePath(_ key: String) -> String? {
        guard let (text, child) = string(key) else { return nil }
        guard text.hasPrefix("/"), !text.contains("\0") else {
            diagnostics.error(
                "'\(key)' in \(displayName) must be an absolute path (starting with '/'): '\(text)'", atValueOf: child)
            return nil
        }
        return text
    }

    /// A name validated like spec names (credential and account names).
    func name(_ key: String, what: String) -> String? {
        guard let (text, child) = string(key) else { return nil }
        guard NameSyntax.isValidName(text) else {
            diagnostics.error(
                "'\(key)' in \(displayName) is not a valid \(what) name: '\(text)'; use \(NameSyntax.nameRule)",
                atValueOf: child)
            return nil
        }
        return text
    }

    /// A secret reference: exactly one of `PREFIX_file` / `PREFIX_credential`. Never reads the secret.
    /// `source` is nil when neither is given; `ok` is false when something was reported.
    func secretSource(filePrefix prefix: String) -> (source: SecretSource?, ok: Bool) {
        let fileKey = "\(prefix)_file"
        let credentialKey = "\(prefix)_credential"
        let before = diagnostics.diagnostics.count
        let file = absolutePath(fileKey)
        let credential = name(credentialKey, what: "systemd credential")
        if let fileNode = node[fileKey], let credentialNode = node[credentialKey] {
            let later = fileNode.keyPosition > credentialNode.keyPosition ? fileNode : credentialNode
            diagnostics.error(
                "\(displayName) sets both '\(fileKey)' and '\(credentialKey)'; keep exactly one", atKeyOf: later)
        }
        guard diagnostics.diagnostics.count == before else { return (nil, false) }
        if let file { return (.file(file), true) }
        if let credential { return (.credential(credential), true) }
        return (nil, true)
    }

    /// `eab_kid` plus `eab_hmac_key_file` or `eab_hmac_key_credential`. `ok` is false when something was reported.
    func eab() -> (eab: EABSettings?, ok: Bool) {
        let before = diagnostics.diagnostics.count
        let kid = string("eab_kid")
        if let kid, kid.value.isEmpty {
            diagnostics.error(
                "'eab_kid' in \(displayName) is empty; paste the key ID your CA gave you", atValueOf: kid.node)
        }
        let (source, secretOK) = secretSource(filePrefix: "eab_hmac_key")
        guard secretOK else { return (nil, false) }
        switch (kid, source) {
        case (let kid?, let source?):
            return (EABSettings(keyID: kid.value, hmacKey: source), diagnostics.diagnostics.count == before)
        case (let kid?, nil):
            diagnostics.error(
                "\(displayName) sets 'eab_kid' without its HMAC key; add eab_hmac_key_file = \"/etc/certkeeper/NAME.hmac\" or eab_hmac_key_credential = \"NAME\"",
                atKeyOf: kid.node)
            return (nil, false)
        case (nil, _?):
            let keyNode = node["eab_hmac_key_file"] ?? node["eab_hmac_key_credential"]!
            diagnostics.error(
                "\(displayName) sets '\(keyNode.key)' without 'eab_kid'; add the EAB key ID as eab_kid = \"...\"",
                atKeyOf: keyNode)
            return (nil, false)
        case (nil, nil):
            return (nil, diagnostics.diagnostics.count == before)
        }
    }
}
