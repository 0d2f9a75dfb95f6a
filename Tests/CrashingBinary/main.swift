import CertkeeperCLI
import Foundation
import TestSupport

// `certkeeper` with crash points armed by CERTKEEPER_FAULT (scripts/e2e/renewal.sh, accounts.sh): the product binary
// has no way to be made to crash; this test build of the same command line does.
CertkeeperCommand.crashPoints.withLock { $0 = ExitingCrashPoints(environment: ProcessInfo.processInfo.environment) }
CertkeeperCommand.runAsProcess()
