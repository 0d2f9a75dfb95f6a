/// Checks on server-supplied challenge tokens before they become paths or file names.
package enum TokenValidation {
    /// True when `token` is 1...512 characters of the base64url alphabet `[A-Za-z0-9_-]` (no dots, slashes, padding).
    package static func isBase64URLToken(_ token: String) -> Bool {
        let bytes = token.utf8
        return (1...512).contains(bytes.count) && bytes.allSatisfy(Base64URL.isBase64URLByte)
    }
}
