import ACMEModels

/// The outcome of newAccount: the account URL (`kid`), the account object and whether it was just created (201).
package struct AccountResult: Sendable, Hashable {
    package var url: String
    package var account: AccountObject
    package var created: Bool

    package init(url: String, account: AccountObject, created: Bool) {
        self.url = url
        self.account = account
        self.created = created
    }
}
