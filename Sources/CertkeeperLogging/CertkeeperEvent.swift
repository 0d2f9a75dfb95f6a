import Logging

/// The kinds of events that get a journal `MESSAGE_ID` and a catalog entry (systemd/certkeeper.catalog).
package enum CertkeeperEvent: String, Sendable, CaseIterable {
    case issued = "37bf690deaa14d4ab11dd1f138647f19"
    case renewed = "5ca944382831439cb962a460bbe32497"
    case renewalFailed = "13123b71feef45199ce11659a47a3efe"
    case reloadSucceeded = "c8a9b59f844e4ab499f041780e678031"
    case reloadRejectedSpec = "838e0c27903243c0b0c6f96fa23deae3"
    case accountRegistered = "558e25cf79f34537b7ad09eb8d2a9d29"
    case eabRefused = "a29784a5ac12444eabd634901270f312"

    /// Metadata that makes a log line this event (the journal handler maps `message_id` to `MESSAGE_ID`).
    package var metadata: Logger.Metadata { ["message_id": .string(rawValue)] }
}
