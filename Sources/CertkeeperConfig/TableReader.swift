import Foundation

/// Typed, position-aware access to one TOML table, reporting wrong types and unknown keys.
struct TableReader {
    let node: ConfigNode
    let diagnostics: DiagnosticCollector
    /// How the table is named in messages: `[top level]`, `[challenge]`, `[ca.internal]`.
    let displayName: String

    init(_ node: ConfigNode, diagnostics: DiagnosticCollector) {
        self.node = node
        self.diagnostics = diagnostics
        self.displayName = Self.displayName(of: node.path)
    }

    /// `[top level]` for the root, else `[a.b."c d"]`.
    static func displayName(of path: [TOMLPathElement]) -> String {
        if path.isEmpty { return "[top level]" }
        let parts = path.map { element -> String in
            switch element {
            case .key(let key):
                let bare =
                    !key.isEmpty
                    && key.unicodeScalars.allSatisfy {
                        $0.isASCII && (Character($0).isLetter || Character($0).isNumber || $0 == "_" || $0 == "-")
                    }
                return bare ? key : "\"\(key)\""
            case .index(let index): return "[\(index)]"
            }
        }
        return "[" + parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "]"
    }

    /// Reports every key not in `known`, suggesting the closest known key.
    func rejectUnknownKeys(known: [String], explain: (String) -> String? = { _ in nil }) {
        for (key, child) in node.entries ?? [] where !known.contains(key) {
            var message = "unknown key '\(key)' in \(displayName)"
            if let reason = explain(key) {
                message += "; \(reason)"
            } else if let suggestion = Suggestion.closest(to: key, in: known) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; known keys: \(known.joined(separator: ", "))"
            }
            diagnostics.error(message, atKeyOf: child)
        }
    }

    subscript(key: String) -> ConfigNode? { node[key] }

    func has(_ key: String) -> Bool { node[key] != nil }

    private func typeError(_ child: ConfigNode, expected: String) {
        diagnostics.error(
            "'\(child.key)' in \(displayName) must be \(expected), not \(child.typeDescription)", atValueOf: child)
    }

    func string(_ key: String) -> (value: String, node: ConfigNode)? {
        guard let child = node[key] else { return nil }
        guard case .string(let value) = child.value else {
            typeError(child, expected: "a string")
            return nil
        }
        return (value, child)
    }

    func integer(_ key: String) -> (value: Int, node: ConfigNode)? {
        guard let child = node[key] else { return nil }
        guard case .integer(let value) = child.value else {
            typeError(child, expected: "an integer")
            return nil
        }
        return (value, child)
    }

    func boolean(_ key: String) -> (value: Bool, node: ConfigNode)? {
        guard let child = node[key] else { return nil }
        guard case .boolean(let value) = child.value else {
            typeError(child, expected: "a boolean (true or false)")
            return nil
        }
        return (value, child)
    }

    func table(_ key: String) -> TableReader? {
        guard let child = node[key] else { return nil }
        guard case .table = child.value else {
            typeError(child, expected: "a table")
            return nil
        }
        return TableReader(child, diagnostics: diagnostics)
    }

    /// An array of strings; each wrong element is reported at the element.
    func stringArray(_ key: String) -> (value: [(String, ConfigNode)], node: ConfigNode)? {
        guard let child = node[key] else { return nil }
        guard case .array(let elements) = child.value else {
            typeError(child, expected: "an array of strings")
            return nil
        }
        var out: [(String, ConfigNode)] = []
        var ok = true
        for (index, element) in elements.enumerated() {
            guard case .string(let value) = element.value else {
                diagnostics.error(
                    "'\(key)' in \(displayName): element \(index + 1) must be a string, not \(element.typeDescription)",
                    atValueOf: element)
                ok = false
                continue
            }
            out.append((value, element))
        }
        return ok ? (out, child) : nil
    }

    /// An array of argv arrays (`[["/bin/x", "-q"]]`); each must be non-empty with an absolute argv[0].
    func commandList(_ key: String) -> [[String]]? {
        guard let child = node[key] else { return nil }
        guard case .array(let commands) = child.value else {
            typeError(child, expected: "an array of argv arrays, e.g. [[\"/usr/local/bin/hook\", \"--quiet\"]]")
            return nil
        }
        var out: [[String]] = []
        var ok = true
        for (index, command) in commands.enumerated() {
            guard case .array(let words) = command.value else {
                diagnostics.error(
                    "'\(key)' in \(displayName): entry \(index + 1) must be an argv array like [\"/usr/local/bin/hook\"], not \(command.typeDescription)",
                    atValueOf: command)
                ok = false
                continue
            }
            if let argv = argv(words, in: command, name: "'\(key)' entry \(index + 1)") {
                out.append(argv)
            } else {
                ok = false
            }
        }
        return ok ? out : nil
    }

    /// One argv array (`command = ["/usr/local/bin/dns-hook"]`).
    func command(_ key: String) -> [String]? {
        guard let child = node[key] else { return nil }
        guard case .array(let words) = child.value else {
            typeError(child, expected: "an argv array, e.g. [\"/usr/local/bin/dns-hook\"]")
            return nil
        }
        return argv(words, in: child, name: "'\(key)'")
    }

    private func argv(_ words: [ConfigNode], in node: ConfigNode, name: String) -> [String]? {
        guard !words.isEmpty else {
            diagnostics.error(
                "\(name) in \(displayName) is empty: give the program's absolute path first", atValueOf: node)
            return nil
        }
        var out: [String] = []
        for (index, word) in words.enumerated() {
            guard case .string(let value) = word.value else {
                diagnostics.error(
                    "\(name) in \(displayName): argument \(index + 1) must be a string, not \(word.typeDescription)",
                    atValueOf: word)
                return nil
            }
            out.append(value)
        }
        guard out[0].hasPrefix("/") else {
            diagnostics.error(
                "\(name) in \(displayName): the program '\(out[0])' must be an absolute path (commands run without a shell or PATH search)",
                atValueOf: words[0])
            return nil
        }
        return out
    }
}
