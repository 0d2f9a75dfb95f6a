import Foundation
import Installer
import SafeFiles
import Testing

/// certkeeper runs as root; the install directory belongs to a site owner (another user) who plants links and
/// FIFOs where certkeeper writes. Nothing outside is touched, the error names the path, nothing hangs.
@Suite(.enabled(if: geteuid() == 0, "needs root to play a site owner with another uid"))
struct CertificateInstallerHostileTests {
    static let siteOwner: uid_t = 65534
    let dir: TemporaryDirectory
    let install: String

    init() throws {
        dir = try TemporaryDirectory()
        chmod(dir.path, 0o755)
        install = dir.path + "/site"
        mkdir(install, 0o755)
        chown(install, Self.siteOwner, Self.siteOwner)
        mkdir(dir.path + "/elsewhere", 0o700)
        _ = FileManager.default.createFile(atPath: dir.path + "/elsewhere/canary", contents: Data("canary".utf8))
        chmod(dir.path + "/elsewhere/canary", 0o600)
    }

    var target: InstallTarget {
        InstallTarget(
            fullchain: install + "/fullchain.pem", key: install + "/privkey.pem", cert: install + "/cert.pem",
            chain: install + "/chain.pem", keyMode: 0o600)
    }

    func installPair(_ n: Int, target: InstallTarget? = nil) throws {
        let p = pair(n)
        _ = try CertificateInstaller().install(
            name: "www", keyPEM: p.key, fullchainPEM: p.fullchain, certPEM: p.cert, chainPEM: p.chain,
            spec: target ?? self.target, stateDirectory: dir.path + "/state")
    }

    func expectCanaryUntouched(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(dir.contents("elsewhere/canary") == "canary", sourceLocation: sourceLocation)
        #expect(dir.mode("elsewhere/canary") == 0o600, sourceLocation: sourceLocation)
        #expect(dir.info("elsewhere/canary").st_uid == 0, sourceLocation: sourceLocation)
        #expect(dir.entries("elsewhere") == ["canary"], sourceLocation: sourceLocation)
    }

    @Test(arguments: ["privkey.pem", "cert.pem", "chain.pem", "fullchain.pem"])
    func aLinkPlantedAtAnyInstalledFileIsRefused(file: String) throws {
        try installPair(1)
        unlink(install + "/" + file)
        symlink(dir.path + "/elsewhere/canary", install + "/" + file)
        let error = #expect(throws: FileSystemError.self) { try installPair(2) }
        #expect(error == .symlinkRefused(path: install + "/" + file, directory: install))
        expectCanaryUntouched()
        // Nothing was replaced: the other files are still version 1, and no temp file is left.
        #expect(dir.entries("site") == ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"])
        if file != "privkey.pem" { #expect(dir.contents("site/privkey.pem") == pair(1).key) }
    }

    @Test(arguments: ["privkey.pem", "fullchain.pem"])
    func aFIFOPlantedAtAnInstalledFileNeitherHangsNorIsReplaced(file: String) throws {
        try installPair(1)
        unlink(install + "/" + file)
        mkfifo(install + "/" + file, 0o666)
        // Reading it back (reuse_key, reconcile) must not block on the FIFO.
        #expect(CertificateInstaller.readInstalled(name: "www", target: target, stateDirectory: dir.path) == nil)
        #expect(throws: FileSystemError.notRegularFile(path: install + "/" + file, kind: "FIFO")) {
            try installPair(2)
        }
        #expect(dir.info("site/" + file).st_mode & S_IFMT == S_IFIFO)
    }

    @Test func aLinkedInstallDirectoryInTheSiteOwnersTreeIsRefused() throws {
        symlink(dir.path + "/elsewhere", install + "/ssl")
        let linked = InstallTarget(fullchain: install + "/ssl/fullchain.pem", key: install + "/ssl/privkey.pem")
        #expect(throws: FileSystemError.symlinkRefused(path: install + "/ssl", directory: install)) {
            try installPair(1, target: linked)
        }
        expectCanaryUntouched()
    }

    @Test func linksPlantedInTheDefaultLayoutAreReplacedOrRemovedNeverFollowed() throws {
        try installPair(1, target: InstallTarget())
        // A link where the next version directory goes, and the live link pointed at the canary's directory.
        symlink(dir.path + "/elsewhere", dir.path + "/state/archive/www/2")
        try installPair(2, target: InstallTarget())
        expectCanaryUntouched()
        unlink(dir.path + "/state/live/www")
        symlink(dir.path + "/elsewhere", dir.path + "/state/live/www")
        try installPair(3, target: InstallTarget())
        expectCanaryUntouched()
        #expect(
            matchingVersion(
                CertificateInstaller.readInstalled(
                    name: "www", target: InstallTarget(), stateDirectory: dir.path + "/state"))
                == 3)
        #expect(dir.info("state/live/www").st_mode & S_IFMT == S_IFLNK)
    }

    @Test func aFIFOAsTheLiveEntryIsNamed() throws {
        try FileManager.default.createDirectory(atPath: dir.path + "/state/live", withIntermediateDirectories: true)
        mkfifo(dir.path + "/state/live/www", 0o666)
        #expect(throws: InstallerError.unmanagedLivePath(certificate: "www", path: dir.path + "/state/live/www")) {
            try installPair(1, target: InstallTarget())
        }
    }
}
