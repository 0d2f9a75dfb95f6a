#!/usr/bin/env python3
"""Self-test of acme-double.py against a live Pebble (run through test-acme-double.sh).

Needs env: DOUBLE_DIRECTORY (https://127.0.0.1:PORT/dir), DOUBLE_CONTROL (http://127.0.0.1:CPORT),
TLS_CA (PEM), EAB_DIR (pebble.sh DIR/eab), CHALLTESTSRV (http://127.0.0.1:PORT).
The double must run with --single-use-eab --ari --profiles tlsserver,shortlived.
Every wait is a bounded loop. Exit status 0 = all checks passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

DIRECTORY = os.environ["DOUBLE_DIRECTORY"]
CONTROL = os.environ["DOUBLE_CONTROL"]
TLS = ssl.create_default_context(cafile=os.environ["TLS_CA"])
EAB_DIR = os.environ["EAB_DIR"]
CHALLTESTSRV = os.environ["CHALLTESTSRV"]
GTS_TEXT = "Unknown external account binding (EAB) key. This may be due to the EAB key expiring which occurs 7 days after creation."

failures: list[str] = []


def check(cond: bool, what: str, extra: object = "") -> None:
    print(("ok   " if cond else "FAIL ") + what + (f"  [{extra}]" if (extra and not cond) else ""))
    if not cond:
        failures.append(what)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Resp:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body) if self.body else None


def request(method: str, url: str, body: bytes | None = None, ctype: str | None = None) -> Resp:
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=TLS, timeout=20)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    try:
        headers = {"User-Agent": "certkeeper-double-selftest"}
        if ctype:
            headers["Content-Type"] = ctype
        conn.request(method, u.path + (f"?{u.query}" if u.query else ""), body=body, headers=headers)
        r = conn.getresponse()
        headers: dict[str, str] = {}
        for k, v in r.getheaders():
            headers[k.lower()] = f"{headers[k.lower()]}, {v}" if k.lower() in headers else v
        return Resp(r.status, headers, r.read())
    finally:
        conn.close()


def control(method: str, path: str, obj: object | None = None):
    body = json.dumps(obj).encode() if obj is not None else None
    r = request(method, CONTROL + path, body, "application/json" if body is not None else None)
    if r.status != 200:
        raise RuntimeError(f"control {method} {path} -> {r.status} {r.body!r}")
    return r.json()


class Account:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        nums = self.key.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))}
        self.thumbprint = b64u(hashlib.sha256(json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
        self.kid: str | None = None

    def jws(self, url: str, payload: object | None, nonce: str, use_jwk: bool = False) -> bytes:
        protected = {"alg": "ES256", "nonce": nonce, "url": url}
        if use_jwk or self.kid is None:
            protected["jwk"] = self.jwk
        else:
            protected["kid"] = self.kid
        p64 = b64u(json.dumps(protected).encode())
        pl64 = "" if payload is None else b64u(json.dumps(payload).encode())
        der = self.key.sign(f"{p64}.{pl64}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return json.dumps({"protected": p64, "payload": pl64, "signature": sig}).encode()

    def eab(self, kid: str, hmac_key: bytes, url: str) -> dict:
        protected = b64u(json.dumps({"alg": "HS256", "kid": kid, "url": url}).encode())
        payload = b64u(json.dumps(self.jwk).encode())
        sig = hmac.new(hmac_key, f"{protected}.{payload}".encode(), hashlib.sha256).digest()
        return {"protected": protected, "payload": payload, "signature": b64u(sig)}


class Client:
    def __init__(self) -> None:
        self.dir = request("GET", DIRECTORY).json()
        self.nonce: str | None = None

    def new_nonce(self) -> str:
        r = request("HEAD", self.dir["newNonce"])
        return r.headers["replay-nonce"]

    def post(self, acct: Account, url: str, payload: object | None, use_jwk: bool = False, retry_bad_nonce: bool = True) -> Resp:
        for _ in range(5):
            nonce = self.nonce or self.new_nonce()
            self.nonce = None
            r = request("POST", url, acct.jws(url, payload, nonce, use_jwk), "application/jose+json")
            self.nonce = r.headers.get("replay-nonce")
            if retry_bad_nonce and r.status == 400 and (r.json() or {}).get("type", "").endswith(":badNonce"):
                continue
            return r
        return r


def eab_key(n: int) -> bytes:
    with open(os.path.join(EAB_DIR, f"kid-{n}.hmac")) as f:
        return b64u_dec(f.read().strip())


def main() -> int:
    control("POST", "/reset")
    c = Client()
    host = urllib.parse.urlsplit(DIRECTORY).netloc

    # --- directory relayed with extensions, URLs on the double's address ---------------------------------
    check(c.dir.get("newAccount") == f"https://{host}/sign-me-up", "directory relayed on the double's host", c.dir)
    check(c.dir.get("renewalInfo") == f"https://{host}/renewal-info", "directory has renewalInfo (--ari)", c.dir)
    check(sorted((c.dir.get("meta") or {}).get("profiles", {})) == ["shortlived", "tlsserver"], "meta.profiles (--profiles)")

    # --- single-use EAB --------------------------------------------------------------------------------
    a, b, e = Account(), Account(), Account()
    contact = {"termsOfServiceAgreed": True, "contact": ["mailto:selftest@example.org"]}
    url = c.dir["newAccount"]
    r = c.post(a, url, {**contact, "externalAccountBinding": a.eab("kid-1", eab_key(1), url)})
    check(r.status == 201 and "location" in r.headers, "newAccount A with EAB kid-1 -> 201", (r.status, r.body))
    a.kid = r.headers.get("location")
    check(control("GET", "/spent") == {"kid-1": a.thumbprint}, "kid-1 spent, bound to A's RFC 7638 thumbprint")

    r = c.post(b, url, {**contact, "externalAccountBinding": b.eab("kid-1", eab_key(1), url)})
    pj = r.json() or {}
    check(r.status == 403 and r.headers.get("content-type") == "application/problem+json", "newAccount B with spent kid-1 -> 403 problem", (r.status, r.body))
    check(pj.get("type") == "urn:ietf:params:acme:error:unauthorized" and pj.get("detail") == GTS_TEXT and pj.get("status") == 403, "GTS unauthorized text", pj)
    check(bool(r.headers.get("replay-nonce")), "refusal carries a Replay-Nonce")

    # The refusal's nonce is fresh and valid at Pebble (started with PEBBLE_WFE_NONCEREJECT=0): no badNonce retry.
    r = c.post(a, url, {**contact, "externalAccountBinding": a.eab("kid-1", eab_key(1), url)}, use_jwk=True, retry_bad_nonce=False)
    check(r.status == 200 and r.headers.get("location") == a.kid, "newAccount A again with kid-1 (refusal's nonce) -> 200 same account", (r.status, r.body))

    r = c.post(b, url, {"onlyReturnExisting": True})
    check(r.status == 400 and "accountDoesNotExist" in r.body.decode(), "onlyReturnExisting for B forwarded -> accountDoesNotExist", (r.status, r.body))

    r = c.post(e, url, {"termsOfServiceAgreed": True, "externalAccountBinding": e.eab("kid-2", eab_key(2), url)})
    pj = r.json() or {}
    check(r.status == 400 and pj.get("type", "").endswith(":malformed") and pj.get("detail") == "Accounts must have at least one contact.", "EAB without contact -> 400 malformed", (r.status, r.body))
    r = c.post(e, url, {**contact, "externalAccountBinding": e.eab("kid-2", eab_key(2), url)})
    check(r.status == 403, "kid-2 burned by the contact-less attempt -> 403 even for the same key", (r.status, r.body))

    r = c.post(b, url, {**contact, "externalAccountBinding": b.eab("kid-3", eab_key(3), url)})
    check(r.status == 201, "newAccount B with fresh kid-3 -> 201", (r.status, r.body))
    b.kid = r.headers.get("location")

    st = control("GET", "/stats")
    want = {"new_account_total": 7, "new_account_with_eab": 6, "new_account_only_return_existing": 1, "new_account_refused": 3}
    check({k: st[k] for k in want} == want, "account counters", st)
    check(st["requests_by_path"].get("/sign-me-up") == 7, "requests_by_path /sign-me-up", st["requests_by_path"])

    # --- newOrder with replaces + profile: Pebble 2.4.0 ignores unknown fields --------------------------
    ident = [{"type": "dns", "value": "selftest.example.test"}]
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident, "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "profile": "tlsserver"})
    order = r.json() or {}
    check(r.status == 201, "newOrder with replaces+profile accepted by Pebble 2.4.0", (r.status, r.body))
    check(order.get("replaces") == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" and order.get("profile") == "tlsserver", "order echoes replaces/profile", order)
    check(control("GET", "/replaces") == ["aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"], "GET /replaces records the certID")
    check(control("GET", "/profiles") == ["tlsserver"], "GET /profiles records the profile")
    order_url = r.headers.get("location", "")
    r = c.post(a, order_url, None)
    check(r.status == 200 and (r.json() or {}).get("profile") == "tlsserver", "POST-as-GET order keeps injected profile", (r.status, r.body))

    r = c.post(a, c.dir["newOrder"], {"identifiers": ident, "profile": "classic"})
    check(r.status == 400 and "invalidProfile" in r.body.decode(), "unknown profile -> 400 invalidProfile", (r.status, r.body))

    # --- dns-01 via challtestsrv, then finalize (counted) ---------------------------------------------
    authz_url = order["authorizations"][0]
    authz = c.post(a, authz_url, None).json()
    if authz["status"] != "valid":
        chall = next(ch for ch in authz["challenges"] if ch["type"] == "dns-01")
        digest = b64u(hashlib.sha256(f"{chall['token']}.{a.thumbprint}".encode()).digest())
        control_ct = request("POST", CHALLTESTSRV + "/set-txt", json.dumps({"host": "_acme-challenge.selftest.example.test.", "value": digest}).encode())
        check(control_ct.status == 200, "challtestsrv set-txt", control_ct.status)
        c.post(a, chall["url"], {})
        for _ in range(50):
            authz = c.post(a, authz_url, None).json()
            if authz["status"] != "pending":
                break
            time.sleep(0.2)
    check(authz["status"] == "valid", "authorization valid", authz)
    for _ in range(50):
        order = c.post(a, order_url, None).json()
        if order["status"] != "pending":
            break
        time.sleep(0.2)
    cert_key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "selftest.example.test")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("selftest.example.test")]), critical=False)
        .sign(cert_key, hashes.SHA256())
    )
    r = c.post(a, order["finalize"], {"csr": b64u(csr.public_bytes(serialization.Encoding.DER))})
    check(r.status == 200, "finalize through the double", (r.status, r.body))

    # --- orders in flight: opened at newOrder 201 (the invalidProfile one never reached Pebble), closed at download
    st = control("GET", "/stats")
    check((st["orders_opened"], st["orders_in_flight"], st["orders_in_flight_peak"]) == (1, 1, 1), "one order in flight before the download", st)
    for _ in range(50):
        order = c.post(a, order_url, None).json()
        if order["status"] == "valid":
            break
        time.sleep(0.2)
    r = c.post(a, order.get("certificate", ""), None)
    check(r.status == 200 and b"BEGIN CERTIFICATE" in r.body, "certificate download through the double", r.status)
    st = control("GET", "/stats")
    check((st["orders_opened"], st["orders_closed"], st["orders_in_flight"], st["orders_in_flight_peak"]) == (1, 1, 0, 1), "the download closed the order", st)
    orders = control("GET", "/orders")
    check(len(orders) == 1 and orders[0]["order"] == urllib.parse.urlsplit(order_url).path and orders[0]["end"] == "certificate"
          and orders[0]["closed"] >= orders[0]["opened"], "GET /orders records the order's life", orders)

    # --- ARI ------------------------------------------------------------------------------------------
    ri = c.dir["renewalInfo"]
    r = request("GET", ri + "/unknown.AA")
    check(r.status == 404, "renewal-info without any window -> 404", r.status)
    control("POST", "/ari/default", {"startOffset": -3600, "endOffset": -60, "retryAfter": 120})
    r = request("GET", ri + "/whatever.AQ")
    w = (r.json() or {}).get("suggestedWindow", {})
    now = time.time()
    check(r.status == 200 and r.headers.get("retry-after") == "120", "default window -> 200 + Retry-After", (r.status, r.headers))
    def ts(s: str) -> float:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

    check(ts(w["start"]) < ts(w["end"]) < now + 1 and ts(w["start"]) > now - 3700, "default window is 'renew now'", w)
    control("POST", "/ari", {"certID": "abc.AQ", "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "retryAfter": 3600})
    r = request("GET", ri + "/abc.AQ")
    check(r.json() == {"suggestedWindow": {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"}} and r.headers.get("retry-after") == "3600", "explicit window for certID", r.body)
    check(control("GET", "/ari/requests") == ["unknown.AA", "whatever.AQ", "abc.AQ"], "ARI requests recorded")

    # --- faults ---------------------------------------------------------------------------------------
    orders_url = c.post(a, a.kid, None).json()["orders"]

    def order_count() -> int:
        total, url = 0, orders_url
        for _ in range(20):  # Pebble pages the list (PEBBLE_WFE_ORDERS_PER_PAGE, default 3)
            r = c.post(a, url, None)
            total += len((r.json() or {}).get("orders", []))
            nxt = [p.split(">")[0].lstrip(" <") for p in r.headers.get("link", "").split(",") if 'rel="next"' in p]
            if not nxt:
                break
            url = nxt[0]
        return total

    control("POST", "/faults", {"path_contains": "newOrder", "kind": "badNonce", "count": 1})
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident}, retry_bad_nonce=False)
    check(r.status == 400 and "badNonce" in r.body.decode() and bool(r.headers.get("replay-nonce")), "badNonce fault with fresh nonce", (r.status, r.body))
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident})
    check(r.status == 201, "retry after injected badNonce -> 201", (r.status, r.body))

    control("POST", "/faults", {"path_contains": "/order-plz", "kind": "503-retry-after", "count": 1, "retryAfter": 7})
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident})
    check(r.status == 503 and r.headers.get("retry-after") == "7", "503 fault with Retry-After", (r.status, r.headers))
    control("POST", "/faults", {"path_contains": "newOrder", "kind": "500", "count": 1})
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident})
    check(r.status == 500 and "serverInternal" in r.body.decode(), "500 fault", (r.status, r.body))

    before = order_count()
    control("POST", "/faults", {"path_contains": "newOrder", "kind": "drop-before", "count": 1})
    try:
        r = c.post(a, c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": "drop-before.example.test"}]})
        dropped = False
    except (http.client.HTTPException, OSError):
        dropped, c.nonce = True, None
    check(dropped and order_count() == before, "drop-before: no response and no order created")

    control("POST", "/faults", {"path_contains": "newOrder", "kind": "drop", "count": 1})
    try:
        c.post(a, c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": "drop-after.example.test"}]})
        dropped = False
    except (http.client.HTTPException, OSError):
        dropped, c.nonce = True, None
    check(dropped and order_count() == before + 1, "drop: no response but Pebble created the order")
    check(control("GET", "/faults") == [], "faults consumed")

    st = control("GET", "/stats")
    check(st["finalize"] == 1, "finalize counted", st["finalize"])
    check(st["faults_injected"] == 5 and st["new_order"] == 8 and st["new_order_refused"] == 1, "fault/newOrder counters", st)
    check(st["requests_by_path"].get("/renewal-info/abc.AQ") == 1, "requests_by_path", st["requests_by_path"])

    # --- chaos: seeded probabilistic 500s and drops, counted per request kind ------------------------
    check(control("GET", "/chaos") is None, "chaos off by default")
    bad = request("POST", CONTROL + "/chaos", json.dumps({"error_rate": 0.7, "drop_rate": 0.5}).encode(), "application/json")
    check(bad.status == 400, "chaos rates summing above 1 -> 400", (bad.status, bad.body))
    by_kind = control("GET", "/stats")["requests_by_kind"]
    want_kinds = ("directory", "newNonce", "newAccount", "newOrder", "authz", "challenge", "finalize", "order", "orders", "account")
    check(all(by_kind.get(k, 0) > 0 for k in want_kinds), "requests_by_kind names every request kind seen", by_kind)

    # 40 sequential HEAD newNonce under error 0.3 / drop 0.3, seed 7: the outcomes follow random.Random(7)
    # drawn the way the double draws (one draw, a second one to split drops), and the counters match.
    control("POST", "/reset/stats")
    control("POST", "/chaos", {"error_rate": 0.3, "drop_rate": 0.3, "seed": 7})
    rng, expected = __import__("random").Random(7), []
    for _ in range(40):
        draw = rng.random()
        expected.append("500" if draw < 0.3 else ("drop" if rng.random() < 0.5 else "drop-before") if draw < 0.6 else "ok")
    seen = []
    for _ in range(40):
        try:
            r = request("HEAD", c.dir["newNonce"])
            seen.append("500" if r.status == 500 else "ok" if r.status in (200, 204) else f"status {r.status}")
        except (http.client.HTTPException, OSError):
            seen.append("dropped")
    check(seen == [("dropped" if e.startswith("drop") else e) for e in expected], "seeded chaos: outcome sequence reproducible", seen)
    st = control("GET", "/stats")
    nonce_chaos = st["chaos_injected"]["newNonce"]
    want = {f: expected.count(f) for f in ("500", "drop", "drop-before")}
    check(nonce_chaos == want and st["chaos_injected_total"] == 40 - expected.count("ok"), "chaos_injected per kind", (nonce_chaos, want))
    check(st["requests_by_kind"].get("newNonce") == 40 and st["faults_injected"] == 0, "chaos requests counted, not as /faults", st["requests_by_kind"])
    check(st["upstream_status"].get("newNonce", {}).get("200", 0) == expected.count("ok") + expected.count("drop"),
          "chaos 500 and drop-before not forwarded; drop forwarded", st["upstream_status"])
    check(all(v == {"500": 0, "drop": 0, "drop-before": 0} for k, v in st["chaos_injected"].items() if k != "newNonce"),
          "no chaos counted on other kinds", st["chaos_injected"])

    # Limited to newOrder: a 500 is a serverInternal problem and creates no order; a drop after forwarding does.
    control("DELETE", "/chaos")
    before = order_count()
    control("POST", "/chaos", {"error_rate": 1.0, "drop_rate": 0.0, "kinds": ["newOrder"]})
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident})
    pj = r.json() or {}
    check(r.status == 500 and pj.get("type") == "urn:ietf:params:acme:error:serverInternal" and pj.get("status") == 500,
          "chaos 500: serverInternal problem document", (r.status, r.body))
    check(order_count() == before, "chaos 500: not forwarded (no order created)")
    control("POST", "/reset/stats")
    control("POST", "/chaos", {"error_rate": 0.0, "drop_rate": 1.0, "seed": 3, "kinds": ["newOrder"]})
    dropped = 0
    for i in range(8):
        try:
            c.post(a, c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": f"chaos{i}.example.test"}]})
        except (http.client.HTTPException, OSError):
            dropped, c.nonce = dropped + 1, None
    st = control("GET", "/stats")
    drops = st["chaos_injected"]["newOrder"]
    check(dropped == 8 and drops["drop"] + drops["drop-before"] == 8 and drops["drop"] > 0 and drops["drop-before"] > 0,
          "chaos drops: every connection closed, both halves drawn", (dropped, drops))
    check(order_count() == before + drops["drop"], "chaos drop creates the order at Pebble, drop-before does not", drops)
    check(st["upstream_status"].get("newOrder", {}).get("201") == drops["drop"], "upstream_status counts Pebble's 201s", st["upstream_status"])
    control("DELETE", "/chaos")
    check(control("GET", "/chaos") is None, "DELETE /chaos turns chaos off")
    r = c.post(a, c.dir["newOrder"], {"identifiers": ident})
    check(r.status == 201, "newOrder after DELETE /chaos -> 201", (r.status, r.body))

    print(f"\n{'PASS' if not failures else 'FAIL'}: {len(failures)} failure(s)")
    for f in failures:
        print("  - " + f)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
