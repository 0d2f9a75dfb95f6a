public import ACMEModels

/// The outcome of newAccount: the account URL (`kid`), the account object and whether it was just created (201).
public struct AccountResult: Sendable, Hashable {
    public var url: String
    public var account: AccountObject
    public var created: Bool

    public init(url: String, account: AccountObject, created: Bool) {
        self.url = url
        self.account = account
        self.created = created
    }
}
