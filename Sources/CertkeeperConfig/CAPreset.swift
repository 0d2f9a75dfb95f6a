/// A well-known ACME CA usable as `ca = "NAME"` without a `[ca.NAME]` table.
package struct CAPreset: Sendable, Hashable {
    package var name: String
    package var directoryURL: String
    /// The CA demands External Account Binding and a contact for new accounts.
    package var requiresEAB: Bool

    /// Every preset, in the order shown in messages.
    package static let all: [CAPreset] = [
        CAPreset(
            name: "letsencrypt", directoryURL: "https://acme-v02.api.letsencrypt.org/directory", requiresEAB: false),
        CAPreset(
            name: "letsencrypt-staging", directoryURL: "https://acme-staging-v02.api.letsencrypt.org/directory",
            requiresEAB: false),
        CAPreset(name: "google", directoryURL: "https://dv.acme-v02.api.pki.goog/directory", requiresEAB: true),
        CAPreset(
            name: "google-staging", directoryURL: "https://dv.acme-v02.test-api.pki.goog/directory", requiresEAB: true),
        CAPreset(name: "zerossl", directoryURL: "https://acme.zerossl.com/v2/DV90", requiresEAB: true),
        CAPreset(name: "sslcom-rsa", directoryURL: "https://acme.ssl.com/sslcom-dv-rsa", requiresEAB: true),
        CAPreset(name: "sslcom-ecc", directoryURL: "https://acme.ssl.com/sslcom-dv-ecc", requiresEAB: true),
    ]

    /// The preset called `name`, if any.
    package static func named(_ name: String) -> CAPreset? {
        all.first { $0.name == name }
    }

    /// Names that once were CAs and are not presets, with the reason shown to the user.
    static let retired: [String: String] = [
        "buypass":
            "Buypass stopped issuing ACME certificates in 2025 (last orders 2025-10-15, last issuance 2025-10-31); choose another CA"
    ]

    /// The settings for this preset without EAB.
    package var settings: CASettings {
        CASettings(name: name, directoryURL: directoryURL, requiresEAB: requiresEAB)
    }
}
