/// An ACME problem type URN (RFC 8555 §6.7). An open set: unknown types (Pebble's `agreementRequired`) are kept.
package struct ProblemType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    /// The `urn:ietf:params:acme:error:` prefix.
    package static let acmePrefix = "urn:ietf:params:acme:error:"

    /// A type in the ACME namespace, e.g. `ProblemType(acme: "badNonce")`.
    package init(acme name: String) { self.rawValue = Self.acmePrefix + name }

    /// The short name after the ACME prefix, or the whole URI for other namespaces.
    package var shortName: String {
        rawValue.hasPrefix(Self.acmePrefix)
            ? String(rawValue.dropFirst(Self.acmePrefix.count)) : rawValue
    }

    package static let accountDoesNotExist = Self(acme: "accountDoesNotExist")
    package static let alreadyRevoked = Self(acme: "alreadyRevoked")
    package static let badCSR = Self(acme: "badCSR")
    package static let badNonce = Self(acme: "badNonce")
    package static let badPublicKey = Self(acme: "badPublicKey")
    package static let badRevocationReason = Self(acme: "badRevocationReason")
    package static let badSignatureAlgorithm = Self(acme: "badSignatureAlgorithm")
    package static let caa = Self(acme: "caa")
    package static let compound = Self(acme: "compound")
    package static let connection = Self(acme: "connection")
    package static let dns = Self(acme: "dns")
    package static let externalAccountRequired = Self(acme: "externalAccountRequired")
    package static let incorrectResponse = Self(acme: "incorrectResponse")
    package static let invalidContact = Self(acme: "invalidContact")
    package static let malformed = Self(acme: "malformed")
    package static let orderNotReady = Self(acme: "orderNotReady")
    package static let rateLimited = Self(acme: "rateLimited")
    package static let rejectedIdentifier = Self(acme: "rejectedIdentifier")
    package static let serverInternal = Self(acme: "serverInternal")
    package static let tls = Self(acme: "tls")
    package static let unauthorized = Self(acme: "unauthorized")
    package static let unsupportedContact = Self(acme: "unsupportedContact")
    package static let unsupportedIdentifier = Self(acme: "unsupportedIdentifier")
    package static let userActionRequired = Self(acme: "userActionRequired")
    package static let alreadyReplaced = Self(acme: "alreadyReplaced")
    package static let invalidProfile = Self(acme: "invalidProfile")
    package static let agreementRequired = Self(acme: "agreementRequired")

    package var description: String { rawValue }
}
