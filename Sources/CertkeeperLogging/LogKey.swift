/// Log metadata keys, defined once. The journal handler turns `cert` into `CERTKEEPER_CERT` and so on.
public enum LogKey {
    public static let cert = "cert"
    public static let domains = "domains"
    public static let ca = "ca"
    public static let account = "account"
    public static let notAfter = "not_after"
    public static let orderURL = "order_url"
    public static let problemType = "problem_type"
    public static let hook = "hook"
    public static let unit = "unit"
    public static let status = "status"
}
