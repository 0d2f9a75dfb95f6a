import Foundation

/// `Link` header parsing (RFC 8288) for `rel="alternate"`, `up`, `index`, `terms-of-service`.
package enum LinkHeader {
    /// Every target URL with relation `rel` across all `values` (repeated headers and comma-joined lists),
    /// resolved against `base`.
    package static func targets(rel: String, in values: [String], base: String) -> [String] {
        var result: [String] = []
        for value in values {
            for link in splitLinks(value) {
                guard let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else {
                    continue
                }
                let target = String(link[link.index(after: open)..<close])
                let params = link[link.index(after: close)...].split(separator: ";")
                let rels = params.compactMap { param -> [String]? in
                    let parts = param.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else {
                        return nil
                    }
                    let raw = parts[1].trimmingCharacters(in: .whitespaces)
                        .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    return raw.split(separator: " ").map { $0.lowercased() }
                }.flatMap { $0 }
                if rels.contains(rel.lowercased()) {
                    result.append(resolve(target, base: base))
                }
            }
        }
        return result
    }

    static func resolve(_ target: String, base: String) -> String {
        if target.hasPrefix("https://") || target.hasPrefix("http://") { return target }
        guard let baseURL = URL(string: base), let url = URL(string: target, relativeTo: baseURL) else { return target }
        return url.absoluteString
    }

    private static func splitLinks(_ value: String) -> [Substring] {
        var links: [Substring] = []
        var start = value.startIndex
        var inAngle = false
        var inQuote = false
        for index in value.indices {
            switch value[index] {
            case "<" where !inQuote: inAngle = true
            case ">" where !inQuote: inAngle = false
            case "\"" where !inAngle: inQuote.toggle()
            case "," where !inAngle && !inQuote:
                links.append(value[start..<index])
                start = value.index(after: index)
            default: break
            }
        }
        links.append(value[start...])
        return links
    }
}
