import Foundation

/// One certificate's attempt ran past `job_timeout` and was cancelled.
package struct JobTimeoutError: Error, Sendable, Hashable, CustomStringConvertible {
    package var certificate: String
    package var timeout: TimeInterval

    package init(certificate: String, timeout: TimeInterval) {
        self.certificate = certificate
        self.timeout = timeout
    }

    package var description: String {
        "certificate \(certificate): the attempt did not finish within \(timeout < 1e15 ? Int64(timeout.rounded()) : Int64(1e15))s and was cancelled (a CA, DNS server, hook or file system that does not answer); it is tried again after a back-off; `job_timeout` in [defaults] sets the limit"
    }
}
