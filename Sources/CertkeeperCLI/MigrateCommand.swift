import ArgumentParser
import CertStore
import CertkeeperConfig
import Foundation
import Renewal

#if canImport(Glibc)
    import Glibc
#endif

/// `certkeeper migrate certbot`: specs from certbot's lineages, pointing at the files certbot installed, and
/// certbot's accounts imported; nothing is issued and nothing certbot wrote is changed.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Take over certificates from another ACME client without issuing anything.",
        subcommands: [Certbot.self, Lego.self])

    struct Certbot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write one spec per certbot lineage (renewal/*.conf) into certs.d/, pointing at its live/ files, and import certbot's accounts (verified at the CA with onlyReturnExisting)."
        )
        @OptionGroup var directories: DirectoryOptions
        @Option(help: "certbot's configuration directory (its --config-dir).") var certbotDir = "/etc/letsencrypt"
        @Flag(help: "Print the specs and what would be imported; change nothing.") var dryRun = false

        func run() async throws {
            let dirs = directories.resolved
            let plans = try CertbotMigration.plans(certbotDirectory: certbotDir, secretDirectory: dirs.config)
            guard !plans.isEmpty else {
                print("no lineage in \(certbotDir)/renewal; nothing to migrate")
                return
            }
            try await MigrateCommand.apply(plans, dirs: dirs, dryRun: dryRun, from: "certbot") { directory in
                try AccountImportSource.fromCertbot(directory)
            }
            print(
                "Then stop certbot renewing them: `systemctl disable --now certbot.timer` (and remove /etc/cron.d/certbot if present)."
            )
        }
    }

    struct Lego: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write one spec per lego certificate (PATH/certificates/*.json), pointing at its files, and import lego's account for the CA (verified with onlyReturnExisting)."
        )
        @OptionGroup var directories: DirectoryOptions
        @Option(help: "lego's --path (default: $LEGO_PATH, else ~/.lego).") var path: String?
        @Option(help: "The CA's directory URL, as given to lego's --server.") var server =
            "https://acme-v02.api.letsencrypt.org/directory"
        @Option(help: "The webroot lego used (--http.webroot).") var webroot: String?
        @Option(help: "Where lego's own http-01 server listened (--http.port), e.g. 127.0.0.1:80 or :80.") var httpPort:
            String?
        @Flag(help: "Print the specs and what would be imported; change nothing.") var dryRun = false

        func run() async throws {
            let dirs = directories.resolved
            let environment = ProcessInfo.processInfo.environment
            let legoPath = path ?? environment["LEGO_PATH"] ?? "\(environment["HOME"] ?? "/root")/.lego"
            let challenge: LegoMigration.Challenge
            switch (webroot, httpPort) {
            case (let root?, nil):
                guard root.hasPrefix("/") else { throw ValidationError("--webroot must be an absolute path") }
                challenge = .webroot(root)
            case (nil, let port?):
                let address = port.hasPrefix(":") ? "0.0.0.0" + port : port
                guard let colon = address.lastIndex(of: ":"), let number = Int(address[address.index(after: colon)...]),
                    (1...65535).contains(number), colon != address.startIndex
                else {
                    throw ValidationError("--http-port must be [HOST]:PORT like :80 or 127.0.0.1:80, got '\(port)'")
                }
                challenge = .listen(address)
            case (nil, nil): challenge = .unknown
            case (.some, .some): throw ValidationError("give --webroot or --http-port, not both")
            }
            let plans = try LegoMigration.plans(legoPath: legoPath, server: server, challenge: challenge)
            guard !plans.isEmpty else {
                print("no certificate in \(legoPath)/certificates; nothing to migrate")
                return
            }
            try await MigrateCommand.apply(plans, dirs: dirs, dryRun: dryRun, from: "lego") { directory in
                try AccountImportSource.fromLego(directory)
            }
            print("Then remove lego's renewal job (its cron entry or timer).")
        }
    }

    /// Writes the plans' specs (never over an existing file) and secret files, after importing each account once.
    static func apply(
        _ plans: [MigrationPlan], dirs: Directories, dryRun: Bool, from client: String,
        account: (String) throws -> AccountImportSource
    ) async throws {
        let specDirectory = "\(dirs.config)/certs.d"
        var accounts: [String: String] = [:]  // account directory -> server
        for plan in plans { if let directory = plan.accountDirectory { accounts[directory] = plan.server } }
        if dryRun {
            for plan in plans {
                let exists = FileManager.default.fileExists(atPath: "\(specDirectory)/\(plan.name).toml")
                print(
                    "== \(specDirectory)/\(plan.name).toml"
                        + (exists ? " (exists: would be left as it is)" : " (would be written)"))
                print(plan.spec)
                if let secret = plan.secretFile { print("(would copy the TSIG secret into \(secret.path), mode 0600)") }
            }
            for (directory, server) in accounts.sorted(by: { $0.key < $1.key }) {
                print("would import the \(client) account \(directory) for \(server)")
            }
            return
        }
        var problems = 0
        for (directory, server) in accounts.sorted(by: { $0.key < $1.key }) {
            do {
                try await importAccount(try account(directory), server: server, dirs: dirs, client: client)
            } catch {
                problems += 1
                FileHandle.standardError.write(
                    Data(
                        "certkeeper: \(client) account \(directory) not imported: \(error); fix that and run the migration again (specs already written are left as they are), or import it with `certkeeper account import --from-\(client) \(directory) --ca \(server)`\n"
                            .utf8))
            }
        }
        try FileManager.default.createDirectory(atPath: specDirectory, withIntermediateDirectories: true)
        var written = Set<String>()
        var installDirectories = Set<String>()
        for plan in plans {
            guard !plan.name.isEmpty else {
                problems += 1
                print("\(plan.confPath): skipped: \(plan.todos.joined(separator: "; "))")
                continue
            }
            let path = "\(specDirectory)/\(plan.name).toml"
            guard written.insert(plan.name).inserted else {
                problems += 1
                print("\(plan.confPath): skipped: another certificate in this migration is also called \(plan.name)")
                continue
            }
            if FileManager.default.fileExists(atPath: path) {
                print("\(path) exists; left as it is (\(plan.confPath))")
                continue
            }
            for line in plan.spec.split(separator: "\n") where line.hasPrefix("fullchain = \"") {
                installDirectories.insert((String(line.dropFirst(13).dropLast()) as NSString).deletingLastPathComponent)
            }
            if let secret = plan.secretFile {
                if FileManager.default.fileExists(atPath: secret.path) {
                    print("\(secret.path) exists; left as it is")
                } else {
                    // Readable by the daemon's group (the shipped unit runs as user certkeeper), no one else.
                    let group = getgrnam("certkeeper")?.pointee.gr_gid
                    try write(secret.contents, to: secret.path, mode: group == nil ? 0o600 : 0o640, group: group)
                    print(
                        "copied the TSIG secret into \(secret.path) (mode \(group == nil ? "0600" : "0640, group certkeeper"))"
                    )
                }
            }
            try write(plan.spec, to: path, mode: 0o644, group: nil)
            print("wrote \(path) for \(plan.domains.joined(separator: ", "))")
            for todo in plan.todos { print("  TODO: \(todo)") }
            if !plan.complete || !plan.todos.isEmpty { problems += 1 }
        }
        print(
            "Next: `certkeeper check`, then `systemctl reload certkeeper`: the installed certificates are adopted and renewed at the same paths."
        )
        if !installDirectories.isEmpty {
            let list = installDirectories.sorted().joined(separator: " ")
            print(
                "The shipped unit runs as user certkeeper with ProtectSystem=strict: let it read and replace those files, "
                    + "e.g. `chgrp -R certkeeper \(list)` and `chmod g+rwX` on them (and g+x on their parents), and add "
                    + "them with `systemctl edit certkeeper`: [Service] ReadWritePaths=\(list)")
        }
        if problems > 0 { throw ExitCode(1) }
    }

    /// Verifies an account at the CA (onlyReturnExisting) and stores it as the CA's default account.
    static func importAccount(_ source: AccountImportSource, server: String, dirs: Directories, client: String)
        async throws
    {
        let ca = try resolveCA(server, configDirectory: dirs.config)
        let existing = try await withConfiguredStore(dirs) { store in
            try await store.accounts.activeRecord(caDirectoryURL: ca.directoryURL, name: "default")
        }
        let found = try await withACMEClient(ca) { client in
            try await client.newAccount(key: source.key, contact: [], eab: nil, onlyReturnExisting: true)
        }
        if let existing {
            guard existing.accountURL != found.url else {
                print("\(found.url) is already certkeeper's account \(existing.id); nothing imported")
                return
            }
            throw ValidationError(
                "certkeeper already has a default account for \(ca.directoryURL) (\(existing.id), \(existing.accountURL ?? "not registered")); the specs will use it. To use the \(client) account instead, import it under another name with `certkeeper account import --from-\(client) DIR --ca \(server) --name NAME` and set account = \"NAME\" in the specs"
            )
        }
        var record = try AccountRecord.pending(
            caDirectoryURL: ca.directoryURL, name: "default", contact: found.account.contact ?? source.contact,
            eabKeyID: nil, keyType: source.key.keyType, now: Date())
        record.accountURL = found.url
        record.status = .valid
        record.notes = "imported from \(source.origin) by certkeeper migrate"
        let imported = record
        try await withConfiguredStore(dirs) { store in
            try await store.accounts.importRecord(imported, keyPEM: source.key.pemRepresentation)
        }
        print("imported \(found.url) as account \(record.id)")
    }

    /// Writes a new file: a temp file created with `mode` (O_EXCL, so a secret is never readable by others, not even
    /// for a moment) and `group`, fsynced, then linked into place, which fails rather than replace a file that
    /// appeared meanwhile.
    static func write(_ text: String, to path: String, mode: mode_t, group: gid_t?) throws {
        let temp = path + ".tmp-migrate"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ValidationError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        defer { unlink(temp) }
        let bytes = Array(text.utf8)
        var failure: Int32 = 0
        if let group, fchown(fd, uid_t.max, group) != 0 { failure = errno }
        if failure == 0, bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) != bytes.count {
            failure = errno == 0 ? EIO : errno
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0, link(temp, path) != 0 { failure = errno }
        guard failure == 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(failure)))") }
    }
}
