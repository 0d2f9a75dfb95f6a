import Foundation

/// Validation and slugging for everything that becomes a path component in the state directory.
package enum StateName {
    /// True when `name` matches `^[A-Za-z0-9][A-Za-z0-9._-]*$` and is at most 200 characters.
    package static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 200, isAlnum(first) else { return false }
        return name.utf8.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// Throws ``StateNameError/invalidName(_:kind:)`` unless `name` ``isValid(_:)``.
    package static func validate(_ name: String, kind: String) throws {
        guard isValid(name) else { throw StateNameError.invalidName(name, kind: kind) }
    }

    /// The CA part of an account id: `host[_port][_path]`, lowercased, each character outside `[a-z0-9.-]`
    /// replaced by '-' ("https://127.0.0.1:14000/dir" -> "127.0.0.1_14000_dir").
    package static func caSlug(_ caDirectoryURL: String) throws -> String {
        guard let components = URLComponents(string: caDirectoryURL), let host = components.host, !host.isEmpty,
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else { throw StateNameError.invalidCADirectoryURL(caDirectoryURL) }
        var parts = [slugPart(host)]
        if let port = components.port { parts.append(String(port)) }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty { parts.append(slugPart(path)) }
        return parts.joined(separator: "_")
    }

    /// The account id `<ca-slug>--<name>`, validated.
    package static func accountID(caDirectoryURL: String, name: String) throws -> String {
        try validate(name, kind: "account name")
        let id = try caSlug(caDirectoryURL) + "--" + name
        try validate(id, kind: "account id")
        return id
    }

    private static func slugPart(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.lowercased().unicodeScalars.map { scalar in
                    switch scalar {
                    case "a"..."z", "0"..."9", ".", "-": return scalar
                    default: return "-"
                    }
                }))
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
