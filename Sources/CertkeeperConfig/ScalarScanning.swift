/// A forward cursor over Unicode scalars that tracks line and column (1-based), shared by the hand-written TOML
/// scanners (``TOMLSourceMap`` and ``TOMLPreCheck``): conformers store the four properties, the movement is here.
protocol ScalarScanning {
    var scalars: [Unicode.Scalar] { get }
    var index: Int { get set }
    var line: Int { get set }
    var column: Int { get set }
}

extension ScalarScanning {
    var atEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    /// Moves past the current scalar, counting lines.
    mutating func advance() {
        guard let scalar = current else { return }
        index += 1
        if scalar == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }
}
