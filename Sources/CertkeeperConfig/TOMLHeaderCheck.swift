/// Finds a table header whose first key does not start with a key character, before TOMLKit sees the text.
///
/// toml++ (inside TOMLKit 0.6.0) checks that character for key/value lines but not after a header's `[` or `[[`:
/// `[:x]`, `[@]`, or a `[` alone at the end of a line trip an assertion that aborts the process (and is undefined
/// behaviour where assertions are compiled out). One mistyped header in a spec must be a syntax error with a
/// position, not a crashed `check` or daemon reload. Found by `Fuzz/FuzzConfig`.
///
/// Only headers are checked, so only text that is not valid TOML is ever reported: the scanner follows strings (all
/// four kinds), comments and multi-line arrays, so a `[` inside them is not taken for a header.
enum TOMLHeaderCheck {
    /// The position of the offending character and a message, or nil when every header starts with a key.
    static func firstBadHeader(in text: String) -> ConfigSyntaxError? {
        var scanner = Scanner(scalars: Array(text.unicodeScalars))
        return scanner.scan()
    }

    private struct Scanner: ScalarScanning {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var column = 1
        /// Open `[` and `{` of values (arrays may span lines).
        var depth = 0

        mutating func skipToEndOfLine() {
            while let scalar = current, scalar != "\n" { advance() }
        }

        static func isKeyStart(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'": return true
            default: return false
            }
        }

        mutating func scan() -> ConfigSyntaxError? {
            if current == "\u{FEFF}" { index += 1 }
            var atStatementStart = true
            while let scalar = current {
                if atStatementStart {
                    switch scalar {
                    case " ", "\t", "\r", "\n":
                        advance()
                    case "#":
                        skipToEndOfLine()
                    case "[":
                        advance()
                        if current == "[" { advance() }
                        while current == " " || current == "\t" { advance() }
                        if let first = current, first != "]", !Self.isKeyStart(first) {
                            let shown = first == "\n" || first == "\r" ? "the end of the line" : "'\(first)'"
                            return ConfigSyntaxError(
                                position: SourcePosition(line: line, column: column),
                                message: "a table header must start with a key (letters, digits, '_', '-' or a "
                                    + "quoted key), saw \(shown)")
                        }
                        skipToEndOfLine()
                    default:
                        atStatementStart = false
                    }
                    continue
                }
                switch scalar {
                case "\n":
                    advance()
                    if depth == 0 { atStatementStart = true }
                case "#":
                    skipToEndOfLine()
                case "\"", "'":
                    skipString(quote: scalar)
                case "[", "{":
                    depth += 1
                    advance()
                case "]", "}":
                    depth = max(0, depth - 1)
                    advance()
                default:
                    advance()
                }
            }
            return nil
        }

        /// Skips a string of any kind; basic strings honour backslash escapes. Stops at EOF (or, for single-line
        /// strings, before a newline: TOMLKit reports the unterminated string).
        mutating func skipString(quote: Unicode.Scalar) {
            let multiLine = peek(1) == quote && peek(2) == quote
            for _ in 0..<(multiLine ? 3 : 1) { advance() }
            while let scalar = current {
                if quote == "\"", scalar == "\\" {
                    advance()
                    advance()
                    continue
                }
                if scalar == quote {
                    if !multiLine {
                        advance()
                        return
                    }
                    if peek(1) == quote, peek(2) == quote {
                        // Up to two more quotes may belong to the content (`""""` ends with a quote inside).
                        var run = 0
                        while current == quote {
                            advance()
                            run += 1
                        }
                        if run >= 3 { return }
                        continue
                    }
                }
                if scalar == "\n", !multiLine { return }
                advance()
            }
        }
    }
}
