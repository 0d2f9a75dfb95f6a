import Foundation

extension TSIGKey {
    /// Reads a key file: see ``parse(keyFile:name:algorithm:source:)``.
    package static func load(path: String, name: String? = nil, algorithm: TSIGAlgorithm = .hmacSHA256) throws
        -> TSIGKey
    {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TSIGKeyError(source: path, reason: "cannot read the TSIG key file (\(error.localizedDescription))")
        }
        return try parse(keyFile: text, name: name, algorithm: algorithm, source: path)
    }

    /// Parses the contents of a key file.
    ///
    /// Two forms are accepted:
    /// - the bare standard base64 secret (whitespace ignored), as `tsig-keygen` prints it inside `secret "..."`;
    ///   then `name` is required and `algorithm` applies;
    /// - one or more BIND `key "NAME" { algorithm hmac-sha256; secret "..."; };` blocks (comments allowed, names
    ///   with or without a trailing dot); with several blocks `name` picks one, and a given `name` must match.
    ///
    /// - Parameters:
    ///   - source: the file path or config location named in errors.
    package static func parse(
        keyFile text: String,
        name: String? = nil,
        algorithm: TSIGAlgorithm = .hmacSHA256,
        source: String = "TSIG key file"
    ) throws -> TSIGKey {
        // Base64 never contains braces, so a brace means a named.conf key block.
        guard text.contains("{") else {
            guard let name else {
                throw TSIGKeyError(
                    source: source,
                    reason: "a bare base64 secret needs a key name in the configuration (or use a BIND key block)"
                )
            }
            return try TSIGKey(name: name, algorithm: algorithm, base64Secret: text)
        }
        let tokens = try KeyFileTokenizer.tokenize(text, source: source)
        var blocks: [TSIGKey] = []
        var index = tokens.startIndex
        while index < tokens.endIndex {
            blocks.append(try parseBlock(tokens, at: &index, source: source))
        }
        guard let name else {
            guard blocks.count == 1 else {
                let names = blocks.map(\.name.description).joined(separator: ", ")
                throw TSIGKeyError(source: source, reason: "\(blocks.count) key blocks (\(names)); name the one to use")
            }
            return blocks[0]
        }
        let wanted: DNSName
        do {
            wanted = try DNSName(name)
        } catch {
            throw TSIGKeyError(source: source, reason: "bad key name \"\(name)\": \(error)")
        }
        guard let match = blocks.first(where: { $0.name == wanted }) else {
            let names = blocks.map(\.name.description).joined(separator: ", ")
            throw TSIGKeyError(source: source, reason: "no key \(wanted) in the file (it has \(names))")
        }
        return match
    }

    private static func parseBlock(_ tokens: [KeyFileToken], at index: inout Int, source: String) throws -> TSIGKey {
        func next(_ what: String) throws -> KeyFileToken {
            guard index < tokens.endIndex else {
                throw TSIGKeyError(source: source, reason: "unexpected end, expected \(what)")
            }
            defer { index += 1 }
            return tokens[index]
        }
        func expect(_ token: KeyFileToken) throws {
            let got = try next("\(token)")
            guard got == token else { throw TSIGKeyError(source: source, reason: "expected \(token), found \(got)") }
        }
        try expect(.word("key"))
        let rawName = try next("a key name").text
        let keyName: DNSName
        do {
            keyName = try DNSName(rawName)
        } catch {
            throw TSIGKeyError(source: source, reason: "bad key name \"\(rawName)\": \(error)")
        }
        try expect(.open)
        var algorithm: TSIGAlgorithm? = nil
        var secret: [UInt8]? = nil
        while true {
            let token = try next("a statement or }")
            if token == .close { break }
            let value = try next("a value").text
            try expect(.semicolon)
            switch token.text.lowercased() {
            case "algorithm":
                guard let parsed = TSIGAlgorithm(name: value) else {
                    throw TSIGKeyError(
                        source: source,
                        reason: "key \(keyName): unsupported algorithm \"\(value)\" (use hmac-sha256, hmac-sha384, "
                            + "hmac-sha512 or hmac-sha1; hmac-md5 and truncated MACs are not supported)"
                    )
                }
                algorithm = parsed
            case "secret":
                secret = try TSIGKey.decodeBase64(value, source: "\(source): key \(keyName)")
            default:
                throw TSIGKeyError(source: source, reason: "key \(keyName): unknown statement \"\(token.text)\"")
            }
        }
        if index < tokens.endIndex, tokens[index] == .semicolon { index += 1 }
        guard let secret else { throw TSIGKeyError(source: source, reason: "key \(keyName) has no secret") }
        return TSIGKey(name: keyName, algorithm: algorithm ?? .hmacSHA256, secret: secret)
    }
}

enum KeyFileToken: Hashable, CustomStringConvertible {
    case word(String)
    case quoted(String)
    case open
    case close
    case semicolon

    var text: String {
        switch self {
        case .word(let text), .quoted(let text): return text
        case .open: return "{"
        case .close: return "}"
        case .semicolon: return ";"
        }
    }

    /// Quoted strings are shown as `"…"`: they may be secrets.
    var description: String {
        switch self {
        case .quoted: return "a quoted string"
        default: return "\"\(text)\""
        }
    }
}

/// Splits named.conf-style text into tokens, dropping `#`, `//` and `/* */` comments.
enum KeyFileTokenizer {
    static func tokenize(_ text: String, source: String) throws -> [KeyFileToken] {
        var tokens: [KeyFileToken] = []
        let chars = Array(text.unicodeScalars)
        var index = 0
        var word = ""
        func flush() {
            if !word.isEmpty { tokens.append(.word(word)) }
            word = ""
        }
        while index < chars.count {
            let char = chars[index]
            let following = index + 1 < chars.count ? chars[index + 1] : nil
            switch char {
            case "#":
                flush()
                while index < chars.count, chars[index] != "\n" { index += 1 }
            case "/" where following == "/":
                flush()
                while index < chars.count, chars[index] != "\n" { index += 1 }
            case "/" where following == "*":
                flush()
                index += 2
                while index + 1 < chars.count, !(chars[index] == "*" && chars[index + 1] == "/") { index += 1 }
                guard index + 1 < chars.count else {
                    throw TSIGKeyError(source: source, reason: "unterminated /* comment")
                }
                index += 2
                continue
            case "\"":
                flush()
                var quoted = ""
                index += 1
                while index < chars.count, chars[index] != "\"" {
                    quoted.unicodeScalars.append(chars[index])
                    index += 1
                }
                guard index < chars.count else {
                    throw TSIGKeyError(source: source, reason: "unterminated quoted string")
                }
                tokens.append(.quoted(quoted))
            case "{":
                flush()
                tokens.append(.open)
            case "}":
                flush()
                tokens.append(.close)
            case ";":
                flush()
                tokens.append(.semicolon)
            default:
                if CharacterSet.whitespacesAndNewlines.contains(char) {
                    flush()
                } else {
                    word.unicodeScalars.append(char)
                }
            }
            index += 1
        }
        flush()
        return tokens
    }
}

extension TSIGKey {
    /// Like ``parse(keyFile:name:algorithm:source:)`` with the algorithm given by name (`hmac-sha256`, ...),
    /// as configuration files spell it.
    package static func parse(
        keyFile text: String,
        name: String?,
        algorithm: String,
        source: String = "TSIG key file"
    ) throws -> TSIGKey {
        guard let parsed = TSIGAlgorithm(name: algorithm) else {
            throw TSIGKeyError(
                source: source,
                reason:
                    "unsupported TSIG algorithm \"\(algorithm)\" (use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)"
            )
        }
        return try parse(keyFile: text, name: name, algorithm: parsed, source: source)
    }
}
