import ACMECrypto
import Foundation
import Renewal
import Testing

/// certbot's renewal conf read and mapped to a spec, without a certbot installation.
@Suite struct CertbotMigrationTests {
    static let conf = """
        # renew_before_expiry = 30 days
        version = 2.11.0
        archive_dir = /etc/letsencrypt/archive/example.com
        cert = /etc/letsencrypt/live/example.com/cert.pem
        privkey = /etc/letsencrypt/live/example.com/privkey.pem
        chain = /etc/letsencrypt/live/example.com/chain.pem
        fullchain = /etc/letsencrypt/live/example.com/fullchain.pem

        # Options used in the renewal process
        [renewalparams]
        account = 0123456789abcdef0123456789abcdef
        server = https://acme-v02.api.letsencrypt.org/directory
        authenticator = webroot
        webroot_path = /var/www/html,
        key_type = rsa
        rsa_key_size = 4096
        reuse_key = True
        renew_hook = systemctl reload nginx
        pre_hook = systemctl stop haproxy
        [[webroot_map]]
        example.com = /var/www/html
        www.example.com = /var/www/html
        api.example.com = /srv/api
        """

    @Test func aWebrootLineageBecomesASpecAtTheSamePaths() throws {
        let conf = try CertbotRenewalConf.parse(Self.conf, path: "/etc/letsencrypt/renewal/example.com.conf")
        #expect(conf.webrootMap["api.example.com"] == "/srv/api")
        #expect(CertbotRenewalConf.list(conf.params["webroot_path"]) == ["/var/www/html"])
        let plan = CertbotMigration.plan(
            lineage: "example.com", confPath: "/etc/letsencrypt/renewal/example.com.conf", conf: conf,
            certificateNames: ["example.com", "www.example.com", "api.example.com"], certificateKeyType: nil,
            certbotDirectory: "/etc/letsencrypt")
        #expect(plan.complete)
        #expect(plan.name == "example.com")
        #expect(plan.server == "https://acme-v02.api.letsencrypt.org/directory")
        #expect(
            plan.accountDirectory
                == "/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/directory/0123456789abcdef0123456789abcdef")
        let lines = plan.spec.split(separator: "\n").map(String.init)
        for expected in [
            "domains = [\"example.com\", \"www.example.com\", \"api.example.com\"]", "ca = \"letsencrypt\"",
            "key = \"rsa-4096\"", "reuse_key = true", "webroot = \"/var/www/html\"",
            "[challenge.domains.\"api.example.com\"]", "webroot = \"/srv/api\"",
            "fullchain = \"/etc/letsencrypt/live/example.com/fullchain.pem\"",
            "key = \"/etc/letsencrypt/live/example.com/privkey.pem\"",
        ] {
            #expect(lines.contains(expected), "missing \(expected) in\n\(plan.spec)")
        }
        #expect(plan.spec.contains("systemctl reload nginx"))
        #expect(plan.spec.contains("RENEWED_LINEAGE='/etc/letsencrypt/live/example.com'"))
        #expect(plan.todos.count == 1 && plan.todos[0].contains("pre_hook"), "\(plan.todos)")
        #expect(plan.spec.contains("# TODO: pre_hook"))
    }

    @Test func standaloneUsesTheBuiltInResponderAndUnknownAuthenticatorsAreLeftAsTODOs() throws {
        let standalone = CertbotRenewalConf(
            cert: "/le/live/a/cert.pem",
            params: [
                "authenticator": "standalone", "http01_port": "8080", "http01_address": "::1", "key_type": "ecdsa",
                "elliptic_curve": "secp384r1", "server": "https://ca.example/acme/dir",
            ])
        let plan = CertbotMigration.plan(
            lineage: "a", confPath: "/le/renewal/a.conf", conf: standalone, certificateNames: ["a.example"],
            certificateKeyType: nil, certbotDirectory: "/le")
        #expect(plan.complete)
        #expect(plan.spec.contains("listen = \"[::1]:8080\""))
        #expect(plan.spec.contains("key = \"ecdsa-p384\""))
        #expect(plan.spec.contains("ca = \"https://ca.example/acme/dir\""))

        let nginx = CertbotRenewalConf(params: ["authenticator": "nginx"])
        let other = CertbotMigration.plan(
            lineage: "bad name!", confPath: "/le/renewal/bad name!.conf", conf: nginx, certificateNames: ["b.example"],
            certificateKeyType: .ecdsaP256, certbotDirectory: "/le")
        #expect(!other.complete)
        #expect(other.name == "bad-name-")
        #expect(other.spec.contains("# [challenge]"))
        #expect(other.todos.contains { $0.contains("'nginx' has no certkeeper equivalent") }, "\(other.todos)")
        #expect(other.spec.contains("key = \"ecdsa-p256\""), "the installed key decides")
    }

    /// certbot-dns-rfc2136: server, port, key name and algorithm into the spec; the secret into a 0600 file of its
    /// own that the spec names, never into the spec.
    @Test func dnsRFC2136CredentialsBecomeSettingsAndASecretFile() throws {
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("rfc2136-\(UUID()).ini").path
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        try Data(
            """
            dns_rfc2136_server = 192.0.2.53
            dns_rfc2136_port = 5353
            dns_rfc2136_name = certbot-key.
            dns_rfc2136_secret = c2VjcmV0LXNlY3JldC1zZWNyZXQ=
            dns_rfc2136_algorithm = HMAC-SHA512
            """.utf8
        ).write(to: URL(fileURLWithPath: credentials))
        let conf = CertbotRenewalConf(
            cert: "/le/live/w/cert.pem",
            params: ["authenticator": "dns-rfc2136", "dns_rfc2136_credentials": credentials])
        let plan = CertbotMigration.plan(
            lineage: "w", confPath: "/le/renewal/w.conf", conf: conf, certificateNames: ["*.w.example", "w.example"],
            certificateKeyType: .ecdsaP256, certbotDirectory: "/le", secretDirectory: "/etc/ck")
        #expect(plan.complete, "\(plan.todos)")
        for expected in [
            "provider = \"rfc2136\"", "server = \"192.0.2.53:5353\"", "tsig_key_name = \"certbot-key.\"",
            "tsig_algorithm = \"hmac-sha512\"", "tsig_secret_file = \"/etc/ck/w.tsig\"",
        ] {
            #expect(plan.spec.contains(expected), "missing \(expected) in\n\(plan.spec)")
        }
        #expect(!plan.spec.contains("c2VjcmV0"))
        #expect(plan.secretFile?.path == "/etc/ck/w.tsig")
        #expect(plan.secretFile?.contents == "c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n")
    }

    /// What another client's files say never becomes more than a comment or a value, and never a path it chooses.
    @Test func hostileValuesStayInsideCommentsAndPaths() {
        let conf = CertbotRenewalConf(
            cert: "/le/live/x/cert.pem",
            params: [
                "authenticator": "manual", "account": "../../../home/u/x",
                "pre_hook": "a\n[hooks]\nrun = [[\"/bin/evil\"]]",
                "installer": "nginx",
            ])
        let plan = CertbotMigration.plan(
            lineage: "x", confPath: "/le/renewal/x.conf", conf: conf, certificateNames: ["x.example"],
            certificateKeyType: .ecdsaP256, certbotDirectory: "/le")
        #expect(plan.accountDirectory == nil)
        #expect(!plan.spec.contains("\n[hooks]\nrun = [[\"/bin/evil"), "\(plan.spec)")
        #expect(plan.spec.contains("reload_units = [\"nginx\"]"))
        let lines = plan.spec.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("run") }.isEmpty, "\(plan.spec)")
    }

    @Test func certbotDefaultsAreKeptWhereCertkeeperHasThem() throws {
        // certbot-dns-rfc2136 signs with HMAC-MD5 when no algorithm is named: not something certkeeper can do.
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("md5-\(UUID()).ini").path
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        try Data("dns_rfc2136_server = 192.0.2.1\r\ndns_rfc2136_name = k\r\ndns_rfc2136_secret = 'c2VjcmV0'\r\n".utf8)
            .write(to: URL(fileURLWithPath: credentials))
        let md5 = CertbotMigration.plan(
            lineage: "m", confPath: "/le/renewal/m.conf",
            conf: CertbotRenewalConf(
                cert: "/le/live/m/cert.pem",
                params: ["authenticator": "dns-rfc2136", "dns_rfc2136_credentials": credentials]),
            certificateNames: ["m.example"], certificateKeyType: .ecdsaP256, certbotDirectory: "/le")
        #expect(!md5.complete)
        #expect(md5.todos.contains { $0.contains("hmac-md5") }, "\(md5.todos)")
        #expect(md5.secretFile == nil)
        // The last webroot_path serves names without a map entry, as certbot does; quoted list items are unquoted.
        let webroot = CertbotMigration.plan(
            lineage: "w", confPath: "/le/renewal/w.conf",
            conf: try CertbotRenewalConf.parse(
                "cert = /le/live/w/cert.pem\r\n[renewalparams]\r\nauthenticator = webroot\r\nwebroot_path = '/srv/a', \"/srv/b\",\r\n",
                path: "/le/renewal/w.conf"),
            certificateNames: ["w.example"], certificateKeyType: .ecdsaP256, certbotDirectory: "/le")
        #expect(webroot.spec.contains("webroot = \"/srv/b\""), "\(webroot.spec)")
        // Unknown key types are a TODO, not a silent P-256.
        let big = CertbotMigration.plan(
            lineage: "r", confPath: "/le/renewal/r.conf",
            conf: CertbotRenewalConf(params: ["authenticator": "standalone", "rsa_key_size": "8192"]),
            certificateNames: ["r.example"], certificateKeyType: nil, certbotDirectory: "/le")
        #expect(big.todos.contains { $0.contains("no certkeeper equivalent") }, "\(big.todos)")
    }

    @Test func aMalformedLineIsReportedWithItsPlace() {
        #expect(throws: MigrationError.self) {
            try CertbotRenewalConf.parse("cert = /x\nnot a setting\n", path: "/le/renewal/x.conf")
        }
        do {
            _ = try CertbotRenewalConf.parse("cert = /x\nnot a setting\n", path: "/le/renewal/x.conf")
        } catch {
            #expect("\(error)".hasPrefix("/le/renewal/x.conf:2: "), "\(error)")
        }
    }
}

/// lego's certificates mapped to specs: the CA and challenge come from the flags lego was run with.
@Suite struct LegoMigrationTests {
    func plan(
        _ challenge: LegoMigration.Challenge, stem: String = "example.com", bundled: Bool = true, accounts: Int = 1
    )
        -> MigrationPlan
    {
        LegoMigration.plan(
            stem: stem, jsonPath: "/root/.lego/certificates/\(stem).json",
            server: "https://acme-v02.api.letsencrypt.org/directory", challenge: challenge,
            certificateNames: ["example.com", "www.example.com"], certificateKeyType: .rsa2048,
            fullchain: "/root/.lego/certificates/\(stem).crt", key: "/root/.lego/certificates/\(stem).key",
            chain: "/root/.lego/certificates/\(stem).issuer.crt", bundled: bundled,
            accountDirectory: accounts == 1 ? "/root/.lego/accounts/acme-v02.api.letsencrypt.org/a@b" : nil,
            accountCandidates: accounts)
    }

    @Test func aWebrootCertificateBecomesACompleteSpecAtLegosPaths() {
        let plan = plan(.webroot("/var/www/html"))
        #expect(plan.complete && plan.todos.isEmpty, "\(plan.todos)")
        for expected in [
            "ca = \"letsencrypt\"", "key = \"rsa-2048\"", "webroot = \"/var/www/html\"",
            "fullchain = \"/root/.lego/certificates/example.com.crt\"",
            "chain = \"/root/.lego/certificates/example.com.issuer.crt\"",
        ] {
            #expect(plan.spec.contains(expected), "missing \(expected) in\n\(plan.spec)")
        }
        #expect(self.plan(.listen("0.0.0.0:80")).spec.contains("listen = \"0.0.0.0:80\""))
    }

    @Test func whatLegoDoesNotRecordIsATODO() {
        let unknown = plan(.unknown, stem: "_.example.com", bundled: false, accounts: 2)
        #expect(!unknown.complete)
        #expect(unknown.name == "wildcard.example.com")
        #expect(unknown.spec.contains("# [challenge]"))
        #expect(unknown.todos.contains { $0.contains("--webroot or --http-port") })
        #expect(unknown.todos.contains { $0.contains("--no-bundle") })
        #expect(unknown.todos.contains { $0.contains("several lego accounts") })
        #expect(unknown.accountDirectory == nil)
    }
}
