import Foundation

/// Shared by the libFuzzer targets under `Fuzz/`.
///
/// Each target's `main.swift` defines `LLVMFuzzerTestOneInput` and ends with
/// `let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzOneInput)`. Built with `--sanitize=fuzzer`, SwiftPM
/// compiles `main.swift` as a library (`-parse-as-library`): that line is then a lazy global nobody reads and
/// libFuzzer's `main` runs. In a plain `swift build` the file is a script: the line runs, and the binary replays the
/// inputs named on its command line (files, or every file of a directory), which reproduces a crash without the
/// fuzzer runtime.
package enum FuzzReplay {
    /// Runs `body` on the contents of each file in `arguments` (after the program name), then exits.
    package static func run(_ arguments: [String], _ body: (UnsafePointer<UInt8>, Int) -> CInt) {
        let program = (arguments.first ?? "fuzz").split(separator: "/").last.map(String.init) ?? "fuzz"
        let paths = Array(arguments.dropFirst())
        guard !paths.isEmpty, !paths.contains(where: { $0.hasPrefix("-") }) else {
            print("usage: \(program) FILE|DIRECTORY...")
            print("  replays inputs through the fuzz target (built without --sanitize=fuzzer: no fuzzing)")
            exit(2)
        }
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(program): cannot read \(file)")
                    exit(1)
                }
                let bytes = [UInt8](data)
                // An empty input still needs a valid pointer.
                _ = (bytes.isEmpty ? [0] : bytes).withUnsafeBufferPointer { body($0.baseAddress!, bytes.count) }
                count += 1
            }
        }
        print("\(program): \(count) input(s) replayed, no crash")
        exit(0)
    }

    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }
    }
}

/// Helpers for fuzz targets.
package enum Fuzz {
    /// Copies the libFuzzer input into an array.
    package static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Fails the run (libFuzzer records the input as a crash) when an invariant does not hold.
    package static func check(
        _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #file,
        line: UInt = #line
    ) {
        if !condition() { fatalError("fuzz invariant violated: \(message())", file: file, line: line) }
    }
}
