/// Finds, before TOMLKit sees the text, the mistakes on which toml++ (inside TOMLKit 0.6.0) trips an assertion that
/// aborts the process (undefined behaviour where assertions are compiled out) instead of reporting a syntax error.
/// One mistyped line in a spec must be a syntax error with a position, not a crashed `check` or daemon reload. Both
/// were found by `Fuzz/FuzzConfig`:
///
/// - a table header whose first key does not start with a key character: toml++ checks that character for key/value
///   lines but not after a header's `[` or `[[` (`[:x]`, `[@]`, a `[` alone at the end of a line);
/// - a `}` where an array expects a value or `]` (`[}`, `[1, }`): toml++ skips whitespace and comments, handles `,`
///   and `]`, and asserts that what is left can start a value.
///
/// Only text that is not valid TOML is ever reported: the scanner follows strings (all four kinds), comments,
/// multi-line arrays and inline tables, so a `[` or `}` inside them is taken for what it is.
enum TOMLPreCheck {
    /// The position of the offending character and a message, or nil when none of those shapes is present.
    static func firstCrashingShape(in text: String) -> ConfigSyntaxError? {
        var scanner = Scanner(scalars: Array(text.unicodeScalars))
        return scanner.scan()
    }

    private struct Scanner: ScalarScanning {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var column = 1
        /// Open `[` and `{` of values, innermost last (arrays may span lines).
        var open: [Unicode.Scalar] = []

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
                    if open.isEmpty { atStatementStart = true }
                case "#":
                    skipToEndOfLine()
                case "\"", "'":
                    skipString(quote: scalar)
                case "[", "{":
                    open.append(scalar)
                    advance()
                case "}" where open.last == "[":
                    return ConfigSyntaxError(
                        position: SourcePosition(line: line, column: column),
                        message: "expected a value, ',' or ']' in an array, saw '}'")
                case "]", "}":
                    _ = open.popLast()
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
