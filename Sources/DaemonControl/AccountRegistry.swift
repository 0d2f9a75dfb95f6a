import CertkeeperConfig
import CertkeeperLogging
import Logging
import Renewal

/// The accounts side of a reload: forget what was cached and register (or find) every account in use.
package protocol AccountRegistry: Sendable {
    /// Forgets cached CA directories, so a reload's profile check sees what the CA offers now.
    func forgetDirectories() async
    /// Forgets account handles and remembered refusals (the configuration changed).
    func reloaded() async
    /// Registers or finds each account in the background; failures are logged, not returned.
    func register(_ accounts: [AccountSettings]) async
}

/// The daemon's registry: the ``AccountManager`` and the ``ACMEClientPool`` it uses.
package struct ManagedAccountRegistry: AccountRegistry {
    package var accounts: AccountManager
    package var clients: ACMEClientPool
    package var logger: Logger

    package init(accounts: AccountManager, clients: ACMEClientPool, logger: Logger) {
        self.accounts = accounts
        self.clients = clients
        self.logger = logger
    }

    package func forgetDirectories() async {
        await clients.reloaded()
    }

    package func reloaded() async {
        await accounts.reloaded()
    }

    /// Accounts are registered when the config is loaded, not at the first order (GTS expires unused EAB keys).
    package func register(_ settings: [AccountSettings]) async {
        for account in settings {
            Task { [accounts, logger] in
                do {
                    _ = try await accounts.handle(for: account)
                } catch {
                    logger.error(
                        "account '\(account.name)' for \(account.ca.directoryURL) is not usable: \(error)",
                        metadata: [
                            LogKey.account: .string(account.name), LogKey.ca: .string(account.ca.directoryURL),
                        ])
                }
            }
        }
    }
}
