import SystemdSupport

/// What the daemon tells its service manager (systemd's `sd_notify`); tests record the calls.
package protocol ServiceNotifier: Sendable {
    /// Start-up or a reload finished (`READY=1`), with an optional status line.
    func ready(status: String?) -> Bool
    /// A reload started (`RELOADING=1`).
    func reloading(status: String?) -> Bool
    /// Shutdown started (`STOPPING=1`).
    func stopping(status: String?) -> Bool
    /// The one-line status (`STATUS=`).
    func status(_ line: String) -> Bool
    /// The daemon is alive (`WATCHDOG=1`).
    func watchdog() -> Bool
    /// How often to send ``watchdog()``; nil when the service manager does not watch.
    var watchdogInterval: Duration? { get }
}

extension SystemdNotifier: ServiceNotifier {}
