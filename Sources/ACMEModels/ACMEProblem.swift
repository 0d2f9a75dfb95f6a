/// An RFC 7807 problem document from an ACME server (RFC 8555 §6.7), thrown by the client as an error.
package struct ACMEProblem: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    package var type: ProblemType
    /// Human-readable detail; show it to the user. Decoded details are ``UntrustedText/sanitized(_:maxBytes:)``
    /// to ``UntrustedText/detailLimit``.
    package var detail: String?
    /// The HTTP status (from the body, or the response when the body has none).
    package var status: Int?
    /// Per-identifier subproblems (RFC 8555 §6.7.1).
    package var subproblems: [ACMEProblem]?
    /// Set on subproblems only.
    package var identifier: Identifier?
    /// A URL with more information (e.g. the new terms of service for `userActionRequired`).
    package var instance: String?
    /// From the response's `Retry-After` header; not part of the JSON.
    package var retryAfter: Duration?
    /// The URL of the request that failed; not part of the JSON.
    package var requestURL: String?

    enum CodingKeys: String, CodingKey {
        case type, detail, status, subproblems, identifier, instance
    }

    package init(
        type: ProblemType,
        detail: String? = nil,
        status: Int? = nil,
        subproblems: [ACMEProblem]? = nil,
        identifier: Identifier? = nil,
        instance: String? = nil,
        retryAfter: Duration? = nil,
        requestURL: String? = nil
    ) {
        self.type = type
        self.detail = detail
        self.status = status
        self.subproblems = subproblems
        self.identifier = identifier
        self.instance = instance
        self.retryAfter = retryAfter
        self.requestURL = requestURL
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.type =
            try container.decodeIfPresent(ProblemType.self, forKey: .type)
            ?? ProblemType(rawValue: "about:blank")
        // Everything textual comes from the CA: bounded and single-line before it can reach a log or a hook.
        self.detail = try container.decodeIfPresent(String.self, forKey: .detail).map {
            UntrustedText.sanitized($0, maxBytes: UntrustedText.detailLimit)
        }
        self.status = try container.decodeIfPresent(Int.self, forKey: .status)
        self.subproblems = try container.decodeIfPresent([ACMEProblem].self, forKey: .subproblems)
        self.identifier = try container.decodeIfPresent(Identifier.self, forKey: .identifier).map {
            Identifier(
                type: UntrustedText.sanitized($0.type, maxBytes: 32),
                value: UntrustedText.sanitized($0.value, maxBytes: 256))
        }
        self.instance = try container.decodeIfPresent(String.self, forKey: .instance).map {
            UntrustedText.sanitized($0, maxBytes: 512)
        }
        self.retryAfter = nil
        self.requestURL = nil
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(status, forKey: .status)
        try container.encodeIfPresent(subproblems, forKey: .subproblems)
        try container.encodeIfPresent(identifier, forKey: .identifier)
        try container.encodeIfPresent(instance, forKey: .instance)
    }

    /// How many subproblems ``description`` spells out.
    static let describedSubproblems = 3

    /// `<shortType>: <detail> (HTTP <status>, <url>)` plus subproblems and retry-after, on one line.
    package var description: String {
        var text = type.shortName
        if let identifier { text = "\(identifier.value): " + text }
        if let detail, !detail.isEmpty { text += ": \(detail)" }
        var context: [String] = []
        if let status { context.append("HTTP \(status)") }
        if let requestURL { context.append(requestURL) }
        if !context.isEmpty { text += " (\(context.joined(separator: ", ")))" }
        if let retryAfter { text += "; retry after \(retryAfter.components.seconds) s" }
        if let subproblems, !subproblems.isEmpty {
            text += "; " + subproblems.prefix(Self.describedSubproblems).map(\.description).joined(separator: "; ")
            if subproblems.count > Self.describedSubproblems {
                text += "; and \(subproblems.count - Self.describedSubproblems) more subproblem(s)"
            }
        }
        if let instance { text += "; see \(instance)" }
        return text
    }
}
