import CertkeeperConfig
import FuzzSupport

// Feeds certkeeper.toml and certs.d specs through `ConfigLoader.load(mainTOML:specs:configDirectory:)`, the entry
// point the file-based `load(configDirectory:)` calls after reading the files.
//
// Input: text up to the first line `#--- NAME.toml` is certkeeper.toml; each such line starts a spec file of that
// name (a repeated name replaces the earlier file). Without such a line the input is loaded twice: once as
// certkeeper.toml alone, once as `certs.d/www.toml` with no certkeeper.toml. Bytes that are not UTF-8 are dropped, as the file-based loader reports them unreadable.

enum Input {
    static let configDirectory = "/etc/certkeeper"
    static let separator = "#--- "
}

func split(_ text: String) -> (main: String?, specs: [(fileName: String, text: String)])? {
    var main: [Substring] = []
    var specs: [(fileName: String, lines: [Substring])] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix(Input.separator) {
            // A directory holds one file per name: a repeated name replaces the earlier file, as writing it again would.
            let fileName = String(line.dropFirst(Input.separator.count))
            specs.removeAll { $0.fileName == fileName }
            specs.append((fileName, []))
        } else if specs.isEmpty {
            main.append(line)
        } else {
            specs[specs.count - 1].lines.append(line)
        }
    }
    guard !specs.isEmpty else { return nil }
    return (main.joined(separator: "\n"), specs.map { ($0.fileName, $0.lines.joined(separator: "\n")) })
}

func check(_ result: ConfigLoadResult, specNames: [String]) {
    for diagnostic in result.allDiagnostics {
        Fuzz.check(diagnostic.line >= 1 && diagnostic.column >= 1, "diagnostic without a position: \(diagnostic)")
        Fuzz.check(
            diagnostic.file.hasPrefix(Input.configDirectory + "/"), "diagnostic outside the config: \(diagnostic)")
        Fuzz.check(!diagnostic.message.isEmpty, "diagnostic without a message: \(diagnostic)")
    }
    if let configuration = result.configuration {
        for name in configuration.certificates.keys {
            Fuzz.check(specNames.contains(name + ".toml"), "certificate \(name) from no spec file")
            Fuzz.check(result.specDiagnostics[name]?.isEmpty ?? true, "certificate \(name) loaded despite errors")
        }
    }
    _ = formatDiagnostics(result.allDiagnostics)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(validating: Fuzz.bytes(data, size), as: UTF8.self) else { return 0 }
    let loader = ConfigLoader(environment: [:])
    if let (main, specs) = split(text) {
        check(
            loader.load(mainTOML: main, specs: specs, configDirectory: Input.configDirectory), specNames: specs.map(\.0)
        )
    } else {
        check(loader.load(mainTOML: text, specs: [], configDirectory: Input.configDirectory), specNames: [])
        let specs = [(fileName: "www.toml", text: text)]
        check(loader.load(mainTOML: nil, specs: specs, configDirectory: Input.configDirectory), specNames: ["www.toml"])
    }
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzConfig)
