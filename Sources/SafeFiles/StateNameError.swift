/// A name from configuration or a CA that may not become a path component.
package enum StateNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A name or id that may not become a path component (`kind` is "account name", "certificate name", ...).
    case invalidName(String, kind: String)
    /// A CA directory URL without a usable host.
    case invalidCADirectoryURL(String)

    package var description: String {
        switch self {
        case .invalidName(let name, let kind):
            return "invalid \(kind) \"\(name)\": use letters, digits, '.', '_' and '-', starting with a letter or digit"
        case .invalidCADirectoryURL(let url):
            return "invalid CA directory URL \"\(url)\": expected an absolute https:// or http:// URL with a host"
        }
    }
}
