/// The little of Route 53's XML that the solver reads: elements by tag name, entities decoded, and the one request
/// body it writes. Route 53's answers are flat and namespaced by default; no DTDs, no CDATA.
enum Route53XML {
    /// The inner text of every `<tag>...</tag>` in `text`, in order (not nested in themselves).
    static func elements(_ tag: String, in text: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = text[...]
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The first `<tag>` text, entities decoded.
    static func value(_ tag: String, in text: Substring) -> String? {
        elements(tag, in: text).first.map(decode)
    }

    /// XML's five named entities and numeric references.
    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let name = rest[rest.index(after: amp)..<semicolon]
            switch name {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if name.hasPrefix("#x"), let code = UInt32(name.dropFirst(2), radix: 16), let s = Unicode.Scalar(code) {
                    out.unicodeScalars.append(s)
                } else if name.hasPrefix("#"), let code = UInt32(name.dropFirst()), let s = Unicode.Scalar(code) {
                    out.unicodeScalars.append(s)
                } else {
                    out += rest[amp...semicolon]
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A ChangeResourceRecordSets request with one change of the TXT RRset at `name`.
    static func changeRequest(action: String, name: String, ttl: UInt32, values: [String]) -> String {
        let records = values.map { "<ResourceRecord><Value>\(escape($0))</Value></ResourceRecord>" }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">\
            <ChangeBatch><Comment>certkeeper dns-01</Comment><Changes><Change><Action>\(action)</Action>\
            <ResourceRecordSet><Name>\(escape(name))</Name><Type>TXT</Type><TTL>\(ttl)</TTL>\
            <ResourceRecords>\(records)</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>\
            </ChangeResourceRecordSetsRequest>
            """
    }
}
