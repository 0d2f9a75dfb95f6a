/// Log metadata keys, defined once. The journal handler turns `cert` into `CERTKEEPER_CERT` and so on.
package enum LogKey {
    package static let cert = "cert"
    package static let domains = "domains"
    package static let ca = "ca"
    package static let account = "account"
    package static let notAfter = "not_after"
    package static let orderURL = "order_url"
    package static let problemType = "problem_type"
    package static let hook = "hook"
    package static let unit = "unit"
    package static let status = "status"
}
