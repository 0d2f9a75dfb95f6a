import Testing

@testable import CertkeeperConfig

/// Which proxy a CA's requests go through, and how proxy URLs are read.
@Suite struct ProxyPolicyTests {
    let squid = HTTPProxy(host: "squid.internal", port: 3128)

    @Test func proxyURLsAreReadWithoutEchoingThem() throws {
        #expect(
            try HTTPProxy.parse("http://proxy.example.com:3128").get()
                == HTTPProxy(host: "proxy.example.com", port: 3128))
        #expect(try HTTPProxy.parse("127.0.0.1:8080").get() == HTTPProxy(host: "127.0.0.1", port: 8080))
        #expect(try HTTPProxy.parse("http://[::1]:3128/").get() == HTTPProxy(host: "::1", port: 3128))
        let withUser = try HTTPProxy.parse("http://ops:p%40ss@proxy:3128").get()
        #expect(withUser.username == "ops" && withUser.password == "p@ss")
        #expect(withUser.description == "proxy:3128")
        for bad in ["http://proxy.example.com", "socks5://127.0.0.1:1080", "https://p:443", "http://p:3128/path", ""] {
            guard case .failure(let problem) = HTTPProxy.parse(bad) else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect(!problem.message.contains("p:3128/path"), "\(problem.message)")
        }
    }

    @Test func theCAsProxyWinsThenDefaultsThenTheEnvironment() {
        let environment = ["HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "localhost,.internal.example,10.1.2.3"]
        let policy = ProxyPolicy(environment: environment)
        #expect(policy.proxy(forHost: "acme.example.com", configured: nil) == HTTPProxy(host: "env-proxy", port: 8080))
        #expect(policy.proxy(forHost: "acme.example.com", configured: squid) == squid)
        #expect(
            ProxyPolicy(defaultProxy: squid, environment: environment).proxy(forHost: "x.test", configured: nil)
                == squid)
        #expect(ProxyPolicy(environment: [:]).proxy(forHost: "acme.example.com", configured: nil) == nil)
        #expect(
            ProxyPolicy(environment: ["https_proxy": "http://lower:1"]).proxy(forHost: "a.test", configured: nil)
                == HTTPProxy(host: "lower", port: 1))
    }

    @Test func anUnusableHTTPSProxyIsReportedWithoutItsValue() {
        let policy = ProxyPolicy(environment: ["HTTPS_PROXY": "https://user:pw@proxy.example.com"])
        #expect(policy.environmentProxy == nil)
        #expect(policy.environmentProblem?.contains("HTTPS_PROXY in the environment uses https://") == true)
        #expect(policy.environmentProblem?.contains("pw@") == false)
        #expect(ProxyPolicy(environment: ["HTTPS_PROXY": "http://p:1"]).environmentProblem == nil)
    }

    @Test func noProxyNamesHostsDomainsAddressesAndEverything() {
        let policy = ProxyPolicy(
            environment: [
                "HTTPS_PROXY": "http://p:1", "NO_PROXY": " localhost , .internal.example,ca.test:443,10.1.2.3,[::1]",
            ])
        for bypassed in [
            "localhost", "LOCALHOST", "acme.internal.example", "internal.example", "ca.test", "sub.ca.test",
            "10.1.2.3", "[::1]", "::1",
        ] {
            #expect(policy.bypasses(bypassed), "\(bypassed)")
            #expect(policy.proxy(forHost: bypassed, configured: nil) == nil, "\(bypassed)")
        }
        for proxied in ["example.com", "notinternal.example", "xca.test", "10.1.2.30"] {
            #expect(!policy.bypasses(proxied), "\(proxied)")
        }
        #expect(ProxyPolicy(environment: ["HTTPS_PROXY": "http://p:1", "no_proxy": "*"]).bypasses("anything.test"))
    }
}
