import Foundation
import Installer
import Testing

/// Labelled PEM stand-ins: version `n` of a key and the certificate made for it.
func pair(_ n: Int) -> (key: String, fullchain: String, cert: String, chain: String) {
    (
        "-----BEGIN PRIVATE KEY-----\nKEY-\(n)\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nLEAF-FOR-KEY-\(n)\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nLEAF-FOR-KEY-\(n)\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
    )
}

/// The key number an installed (fullchain, key) pair belongs to, or nil if they do not match.
func matchingVersion(_ installed: (fullchainPEM: String, keyPEM: String)?) -> Int? {
    guard let installed,
        let keyRange = installed.keyPEM.range(of: #"KEY-(\d+)"#, options: .regularExpression),
        let leafRange = installed.fullchainPEM.range(of: #"LEAF-FOR-KEY-(\d+)"#, options: .regularExpression)
    else { return nil }
    let key = Int(installed.keyPEM[keyRange].dropFirst(4))
    let leaf = Int(installed.fullchainPEM[leafRange].dropFirst(13))
    return key == leaf ? key : nil
}

struct CertificateInstallerTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    @discardableResult
    func install(
        _ n: Int, name: String = "www", target: InstallTarget = InstallTarget(),
        installer: CertificateInstaller = CertificateInstaller()
    ) throws -> InstalledPaths {
        let p = pair(n)
        return try installer.install(
            name: name, keyPEM: p.key, fullchainPEM: p.fullchain, certPEM: p.cert, chainPEM: p.chain, spec: target,
            stateDirectory: dir.path)
    }

    func installed(_ name: String = "www", target: InstallTarget = InstallTarget()) -> Int? {
        matchingVersion(CertificateInstaller.readInstalled(name: name, target: target, stateDirectory: dir.path))
    }

    @Test func defaultLayoutSwitchesTheLiveSymlinkInOneStep() throws {
        #expect(
            CertificateInstaller.readInstalled(name: "www", target: InstallTarget(), stateDirectory: dir.path) == nil)
        let paths = try install(1)
        #expect(paths.fullchain == dir.path + "/live/www/fullchain.pem")
        #expect(paths.key == dir.path + "/live/www/privkey.pem")
        #expect(paths.cert == dir.path + "/live/www/cert.pem")
        #expect(paths.chain == dir.path + "/live/www/chain.pem")
        #expect(installed() == 1)

        // While version 2 is fully written but not yet switched, readers still get the complete old pair.
        let seenBeforeSwitch = Box<Int?>(nil)
        let stateDirectory = dir.path
        let observing = CertificateInstaller(faultHook: { step in
            if case .versionWritten = step {
                seenBeforeSwitch.value = matchingVersion(
                    CertificateInstaller.readInstalled(
                        name: "www", target: InstallTarget(), stateDirectory: stateDirectory))
            }
        })
        try install(2, installer: observing)
        #expect(seenBeforeSwitch.value == 1)
        #expect(installed() == 2)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/live/www") == "../archive/www/2")
        // The old version stays readable for processes that still use it.
        #expect(dir.contents("archive/www/1/privkey.pem") == pair(1).key)
        #expect(dir.entries("archive/www/2") == ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"])
        #expect(dir.mode("archive/www/2/privkey.pem") == 0o600)
        #expect(dir.mode("archive/www/2/fullchain.pem") == 0o644)
        #expect(dir.entries("live") == ["www"])
    }

    /// `certkeeper delete`: the link and every archived version of one name go, other names stay; a directory
    /// where the link belongs is not certkeeper's and is refused, untouched.
    @Test func removingTheDefaultLayoutTakesTheLinkAndEveryVersionOfOneName() throws {
        for n in 1...3 { try install(n) }
        try install(7, name: "api")
        let removed = try CertificateInstaller().removeDefaultLayout(name: "www", stateDirectory: dir.path)
        #expect(removed == [dir.path + "/live/www", dir.path + "/archive/www"])
        #expect(dir.entries("live") == ["api"])
        #expect(dir.entries("archive") == ["api"])
        #expect(installed("api") == 7)
        #expect(try CertificateInstaller().removeDefaultLayout(name: "www", stateDirectory: dir.path).isEmpty)

        try FileManager.default.createDirectory(atPath: dir.path + "/live/odd", withIntermediateDirectories: false)
        #expect(throws: InstallerError.self) {
            try CertificateInstaller().removeDefaultLayout(name: "odd", stateDirectory: dir.path)
        }
        #expect(dir.entries("live") == ["api", "odd"])
        #expect(throws: (any Error).self) {
            try CertificateInstaller().removeDefaultLayout(name: "../x", stateDirectory: dir.path)
        }
    }

    @Test func defaultLayoutKeepsTheLastThreeVersions() throws {
        for n in 1...5 { try install(n) }
        #expect(dir.entries("archive/www") == ["3", "4", "5"])
        #expect(installed() == 5)
    }

    @Test func failureBeforeTheSwitchLeavesThePreviousVersionLive() throws {
        try install(1)
        let failing = CertificateInstaller(faultHook: { step in
            if case .versionWritten = step { throw InjectedFault() }
        })
        #expect(throws: InjectedFault.self) { try install(2, installer: failing) }
        #expect(installed() == 1)
        #expect(dir.entries("archive/www") == ["1"])
        #expect(dir.entries("live") == ["www"])
        // The next attempt succeeds normally.
        try install(3)
        #expect(installed() == 3)
    }

    @Test func aVersionAbandonedByACrashIsRemovedByTheNextInstall() throws {
        try install(1)
        // kill -9 in the middle of writing version 2: a directory with a temp file, never switched live.
        try FileManager.default.createDirectory(atPath: dir.path + "/archive/www/2", withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: dir.path + "/archive/www/2/.privkey.pem.tmp-x"))
        #expect(installed() == 1)
        try install(3)
        #expect(installed() == 3)
        // The abandoned directory was removed and its number reused for the complete version.
        #expect(dir.entries("archive/www") == ["1", "2"])
        #expect(dir.entries("archive/www/2") == ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/live/www") == "../archive/www/2")
    }

    @Test func defaultLayoutRefusesToReplaceARealDirectory() throws {
        try FileManager.default.createDirectory(atPath: dir.path + "/live/www", withIntermediateDirectories: true)
        #expect(throws: InstallerError.unmanagedLivePath(certificate: "www", path: dir.path + "/live/www")) {
            try install(1)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "chown to another user needs root"))
    func explicitPathsGiveTheFilesAnotherOwnerAndGroup() throws {
        // Not the process's own uid and gid, which every new file would get anyway.
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        let nogroup = try #require(getgrnam("nogroup")).pointee.gr_gid
        #expect(nobody != geteuid() && nogroup != getegid())
        let target = InstallTarget(
            fullchain: dir.path + "/srv/fullchain.pem", key: dir.path + "/srv/private/key.pem",
            owner: "nobody", group: "nogroup", keyMode: 0o640)
        try install(1, target: target)
        for file in ["srv/private/key.pem", "srv/fullchain.pem"] {
            #expect(dir.info(file).st_uid == nobody, "\(file)")
            #expect(dir.info(file).st_gid == nogroup, "\(file)")
        }
        #expect(dir.mode("srv/private/key.pem") == 0o640)
        // A renewal keeps them.
        try install(2, target: target)
        #expect(dir.info("srv/private/key.pem").st_uid == nobody)
        #expect(dir.info("srv/private/key.pem").st_gid == nogroup)
        #expect(installed(target: target) == 2)
    }

    @Test func explicitPathsUseKeyModeGroupAndCreateDirectories() throws {
        let group = getegid()
        let groupName = String(cString: getgrgid(group)!.pointee.gr_name)
        let target = InstallTarget(
            fullchain: dir.path + "/etc/ssl/www/fullchain.pem", key: dir.path + "/etc/ssl/private/www.key",
            cert: dir.path + "/etc/ssl/www/cert.pem", chain: dir.path + "/etc/ssl/www/chain.pem", group: groupName,
            keyMode: 0o640)
        let paths = try install(1, target: target)
        #expect(
            paths
                == InstalledPaths(
                    fullchain: target.fullchain!, key: target.key!, cert: target.cert, chain: target.chain))
        #expect(dir.mode("etc/ssl/private/www.key") == 0o640)
        #expect(dir.info("etc/ssl/private/www.key").st_gid == group)
        #expect(dir.mode("etc/ssl/www/fullchain.pem") == 0o644)
        #expect(dir.mode("etc/ssl/www/cert.pem") == 0o644)
        #expect(dir.info("etc/ssl/www/chain.pem").st_gid == group)
        #expect(dir.mode("etc/ssl/private") == 0o755)
        #expect(dir.contents("etc/ssl/www/chain.pem") == pair(1).chain)
        #expect(installed(target: target) == 1)
        try install(2, target: target)
        #expect(installed(target: target) == 2)
        #expect(dir.entries("etc/ssl/www") == ["cert.pem", "chain.pem", "fullchain.pem"])
    }

    @Test(arguments: [UInt16(0o644), 0o604, 0o601, 0o4600])
    func refusesKeyModesReadableByOthers(mode: UInt16) throws {
        let target = InstallTarget(fullchain: dir.path + "/fullchain.pem", key: dir.path + "/key.pem", keyMode: mode)
        #expect(throws: InstallerError.unsafeKeyMode(certificate: "www", mode: mode)) { try install(1, target: target) }
        #expect(throws: InstallerError.unsafeKeyMode(certificate: "www", mode: mode)) {
            try install(1, target: InstallTarget(keyMode: mode))
        }
        #expect(dir.entries("") == [])
    }

    @Test func explicitFailureWhileStagingLeavesPreviousFilesIntact() throws {
        let target = InstallTarget(fullchain: dir.path + "/out/fullchain.pem", key: dir.path + "/out/key.pem")
        try install(1, target: target)
        let failing = CertificateInstaller(faultHook: { step in if step == .staged { throw InjectedFault() } })
        #expect(throws: InjectedFault.self) { try install(2, target: target, installer: failing) }
        #expect(installed(target: target) == 1)
        #expect(dir.entries("out") == ["fullchain.pem", "key.pem"])
    }

    @Test func explicitCrashAfterTheKeyIsTheDocumentedWindow() throws {
        let target = InstallTarget(fullchain: dir.path + "/out/fullchain.pem", key: dir.path + "/out/key.pem")
        try install(1, target: target)
        let failing = CertificateInstaller(faultHook: { step in if step == .keyCommitted { throw InjectedFault() } })
        #expect(throws: InjectedFault.self) { try install(2, target: target, installer: failing) }
        // Key written first: new key, old certificate, and no temp files left behind. The next run repairs it.
        #expect(dir.contents("out/key.pem") == pair(2).key)
        #expect(dir.contents("out/fullchain.pem") == pair(1).fullchain)
        #expect(dir.entries("out") == ["fullchain.pem", "key.pem"])
        try install(2, target: target)
        #expect(installed(target: target) == 2)
    }

    @Test func refusesIncompleteOrRelativeTargets() throws {
        #expect(throws: InstallerError.incompleteTarget(certificate: "www", missing: "key")) {
            try install(1, target: InstallTarget(fullchain: dir.path + "/f.pem"))
        }
        #expect(throws: InstallerError.relativePath(certificate: "www", path: "rel/key.pem")) {
            try install(1, target: InstallTarget(fullchain: dir.path + "/f.pem", key: "rel/key.pem"))
        }
        let badName = #expect(throws: (any Error).self) { try install(1, name: "../etc") }
        #expect("\(badName.map { "\($0)" } ?? "")".contains("../etc"), "\(String(describing: badName))")
        let badOwner = #expect(throws: (any Error).self) {
            try install(
                1,
                target: InstallTarget(
                    fullchain: dir.path + "/f.pem", key: dir.path + "/k.pem", owner: "no-such-user-xyz"))
        }
        #expect("\(badOwner.map { "\($0)" } ?? "")".contains("no-such-user-xyz"), "\(String(describing: badOwner))")
        #expect(dir.entries("") == [])
    }
}
