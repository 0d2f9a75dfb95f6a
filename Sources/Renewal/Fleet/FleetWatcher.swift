import Foundation
import Logging

/// Keeps every node of a fleet installing what any node issued: each published name is handed to `check` (the
/// scheduler's "look at it now") as the notification arrives, and a periodic comparison of the published serials
/// catches what a lost notification connection missed.
package struct FleetWatcher: Sendable {
    /// Published serial by name.
    package var serials: @Sendable () async throws -> [String: String]
    /// Calls its argument with each published name until cancelled; throws when the connection is lost.
    package var listen: @Sendable (@escaping @Sendable (String) async -> Void) async throws -> Void
    /// Look at this certificate now (install what was published).
    package var check: @Sendable (String) async -> Void
    /// The serial installed on this node for a name it manages, nil when none (or not managed here). The first
    /// comparison is against these: the shared state says a certificate is fine, whatever this node has installed.
    package var installedSerials: @Sendable () async -> [String: String?]
    package var clock: any DaemonClock
    /// How often the serials are compared without a notification.
    package var interval: TimeInterval
    /// The pause before listening again after the connection was lost.
    package var reconnectDelay: TimeInterval
    package var logger: Logger

    package init(
        serials: @escaping @Sendable () async throws -> [String: String],
        listen: @escaping @Sendable (@escaping @Sendable (String) async -> Void) async throws -> Void,
        check: @escaping @Sendable (String) async -> Void,
        installedSerials: @escaping @Sendable () async -> [String: String?], clock: any DaemonClock,
        interval: TimeInterval = 300,
        reconnectDelay: TimeInterval = 5, logger: Logger
    ) {
        self.serials = serials
        self.listen = listen
        self.check = check
        self.installedSerials = installedSerials
        self.clock = clock
        self.interval = interval
        self.reconnectDelay = reconnectDelay
        self.logger = logger
    }

    /// Listens and polls until cancelled.
    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listenForever() }
            group.addTask { await pollForever() }
            await group.waitForAll()
        }
    }

    /// Checks every name this node manages whose published serial is not the one installed here.
    package func compare() async {
        do {
            let current = try await serials()
            let installed = await installedSerials()
            for (name, serial) in current.sorted(by: { $0.key < $1.key }) {
                // Names this node does not manage are absent from its installed serials: not checked.
                guard let here = installed[name], here != serial else { continue }
                logger.info(
                    "the fleet has another certificate for \(name) (serial \(serial)) than this node; looking at it now",
                    metadata: ["cert": "\(name)"])
                await check(name)
            }
        } catch {
            if Task.isCancelled { return }
            logger.warning("cannot compare the fleet's certificates: \(error)")
        }
    }

    private func listenForever() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await listen { name in
                    logger.debug("the fleet published a certificate for \(name)", metadata: ["cert": "\(name)"])
                    await check(name)
                }
            } catch {
                if Task.isCancelled { return }
                if !failing {
                    logger.warning(
                        "not hearing about certificates other nodes issue (\(error)); comparing every \(Int(interval)) s and listening again"
                    )
                }
                failing = true
            }
            do {
                try await clock.sleep(until: clock.now().addingTimeInterval(reconnectDelay))
            } catch {
                return
            }
        }
    }

    /// The periodic comparison, against what is installed on this node every time: a name published while this
    /// node was not listening is found as surely as a changed one.
    private func pollForever() async {
        while !Task.isCancelled {
            await compare()
            do {
                try await clock.sleep(until: clock.now().addingTimeInterval(interval))
            } catch {
                return
            }
        }
    }
}
