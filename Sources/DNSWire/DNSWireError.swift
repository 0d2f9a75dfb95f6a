/// Malformed names or messages, raised while building or parsing DNS wire data.
package enum DNSWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A name breaks RFC 1035 limits or cannot be parsed from text.
    case invalidName(reason: String)
    /// The message ends before a field at `offset` is complete.
    case truncated(offset: Int)
    /// A compression pointer at `offset` points forward, loops, or a label type is reserved.
    case badPointer(offset: Int)
    /// RDATA of `type` at `offset` is inconsistent with its RDLENGTH.
    case badRData(type: DNSRecordType, offset: Int, reason: String)
    /// A value cannot be encoded (e.g. a TXT character-string longer than 255 bytes).
    case unencodable(reason: String)

    package var description: String {
        switch self {
        case .invalidName(let reason): return "invalid DNS name: \(reason)"
        case .truncated(let offset): return "DNS message truncated at byte \(offset)"
        case .badPointer(let offset): return "bad DNS name compression pointer at byte \(offset)"
        case .badRData(let type, let offset, let reason): return "bad \(type) RDATA at byte \(offset): \(reason)"
        case .unencodable(let reason): return "cannot encode DNS message: \(reason)"
        }
    }
}
