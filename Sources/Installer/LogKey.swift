/// Log metadata keys used by the Installer, defined once.
enum LogKey {
    static let cert = "cert"
    static let domains = "domains"
    static let hook = "hook"
    static let unit = "unit"
    static let status = "status"
}
