/// A plain HTTP response as ``HTTPTransport`` returns it.
package struct HTTPResponseData: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive), or nil.
    package func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveEquals(name) }?.1
    }

    /// Every value of header `name` (case-insensitive), in order.
    package func headers(named name: String) -> [String] {
        headers.filter { $0.0.caseInsensitiveEquals(name) }.map(\.1)
    }

    /// The body as UTF-8 text (lossy).
    package var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The media type of `Content-Type` without parameters, lowercased (e.g. `application/problem+json`).
    package var mediaType: String? {
        header("Content-Type").map {
            $0.split(separator: ";", maxSplits: 1).first.map(String.init)?.trimmingASCIISpaces().lowercased() ?? ""
        }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
