/// An ACME problem type URN (RFC 8555 §6.7). An open set: unknown types (Pebble's `agreementRequired`) are kept.
public struct ProblemType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The `urn:ietf:params:acme:error:` prefix.
    public static let acmePrefix = "urn:ietf:params:acme:error:"

    /// A type in the ACME namespace, e.g. `ProblemType(acme: "badNonce")`.
    public init(acme name: String) { self.rawValue = Self.acmePrefix + name }

    /// The short name after the ACME prefix, or the whole URI for other namespaces.
    public var shortName: String {
        rawValue.hasPrefix(Self.acmePrefix)
            ? String(rawValue.dropFirst(Self.acmePrefix.count)) : rawValue
    }

    public static let accountDoesNotExist = Self(acme: "accountDoesNotExist")
    public static let alreadyRevoked = Self(acme: "alreadyRevoked")
    public static let badCSR = Self(acme: "badCSR")
    public static let badNonce = Self(acme: "badNonce")
    public static let badPublicKey = Self(acme: "badPublicKey")
    public static let badRevocationReason = Self(acme: "badRevocationReason")
    public static let badSignatureAlgorithm = Self(acme: "badSignatureAlgorithm")
    public static let caa = Self(acme: "caa")
    public static let compound = Self(acme: "compound")
    public static let connection = Self(acme: "connection")
    public static let dns = Self(acme: "dns")
    public static let externalAccountRequired = Self(acme: "externalAccountRequired")
    public static let incorrectResponse = Self(acme: "incorrectResponse")
    public static let invalidContact = Self(acme: "invalidContact")
    public static let malformed = Self(acme: "malformed")
    public static let orderNotReady = Self(acme: "orderNotReady")
    public static let rateLimited = Self(acme: "rateLimited")
    public static let rejectedIdentifier = Self(acme: "rejectedIdentifier")
    public static let serverInternal = Self(acme: "serverInternal")
    public static let tls = Self(acme: "tls")
    public static let unauthorized = Self(acme: "unauthorized")
    public static let unsupportedContact = Self(acme: "unsupportedContact")
    public static let unsupportedIdentifier = Self(acme: "unsupportedIdentifier")
    public static let userActionRequired = Self(acme: "userActionRequired")
    public static let alreadyReplaced = Self(acme: "alreadyReplaced")
    public static let invalidProfile = Self(acme: "invalidProfile")
    public static let agreementRequired = Self(acme: "agreementRequired")

    public var description: String { rawValue }
}
