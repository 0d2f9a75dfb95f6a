#!/usr/bin/env python3
"""ACME test double in front of a real Pebble 2.4.0, for certkeeper integration tests.

It listens with TLS (the certificate/key Pebble uses) and relays every request to Pebble, keeping the
client's Host header so that Pebble's directory URLs and JWS `url` checks stay on the double's address.
On top of Pebble it adds:

  --single-use-eab   GTS-like EAB: a kid is spent by the first newAccount that carries it (bound to that
                     account key's RFC 7638 thumbprint); another key then gets 403 unauthorized. A newAccount
                     with EAB but without contact gets 400 malformed and burns the kid for every key.
  --ari              "renewalInfo" in the directory and GET /renewal-info/<certID> served from windows set
                     through the control API (RFC 9773).
  --profiles a,b     meta.profiles in the directory; newOrder with an unknown profile gets 400 invalidProfile.
  counters, recorded `replaces`/`profile` values and fault injection, all through a plain-HTTP control API.

newOrder `replaces`/`profile`: the payload is signed, so it is relayed unchanged. Pebble 2.4.0 ignores the unknown
fields (Go's json decoder; verified by test-acme-double.sh: 201). The double records them and adds them to the
order objects it relays (newOrder response and later POST-as-GET of that order URL), as RFC 9773/profiles require.

Control API (http://127.0.0.1:CONTROL_PORT):
  GET  /health                 -> {"ok": true}
  GET  /stats                  -> counters (see Double.stats)
  POST /reset                  -> clear counters, spent/burned kids, faults, ARI windows, recorded values
  POST /reset/stats            -> clear counters only (and the /orders record)
  GET  /spent                  -> {kid: thumbprint}      GET /burned -> [kid, ...]
  POST /eab/burn {"kid": k}    -> make kid unusable (simulates an expired GTS key)
  POST /ari {"certID","start","end","retryAfter"?,"explanationURL"?}     (start/end RFC 3339, or
       "startOffset"/"endOffset" seconds relative to the time of each GET)
  POST /ari/default {"startOffset": -3600, "endOffset": -60, "retryAfter"?}   DELETE /ari -> clear all
  GET  /ari/requests           -> [certID, ...] in order of GET /renewal-info
  GET  /replaces               -> [certID, ...] from newOrder payloads;  GET /profiles -> [profile, ...]
  GET  /orders                 -> orders seen at the CA, in creation order: [{"order": path, "opened": t,
       "closed": t | null, "end": "certificate" | "invalid" | null}], t from the double's time.monotonic().
       An order opens when Pebble answers newOrder 201 and closes at the first 200 download of its certificate
       (its URL learned from the order object) or when an order object says "invalid"; both are recorded before
       the reply goes to the client. /stats has orders_opened, orders_closed, orders_in_flight and
       orders_in_flight_peak (the most orders open at once, e.g. to observe a client's concurrency limit).
  POST /faults {"path_contains": "newOrder" | "/order-plz" | ..., "kind": K, "count": N,
                "method"?: "POST", "retryAfter"?: 5}
       K: "500" | "503-retry-after" | "429-rate-limited" | "badNonce" | "drop" | "drop-before".
       A directory key name (newAccount, newOrder, newNonce, revokeCert, keyChange, finalize, renewalInfo)
       matches that resource; anything else is a substring of the request path.
       "drop" forwards the request to Pebble, then closes the connection without a response;
       "drop-before" closes without forwarding.
  GET  /faults (pending), DELETE /faults
  POST /chaos {"error_rate": 0.10, "drop_rate": 0.05, "seed"?: 1, "kinds"?: ["newOrder", ...]}
       Probabilistic faults on every request to the ACME port (not the control API) that no /faults entry took:
       each request independently gets, with probability error_rate, a 500 serverInternal problem without being
       forwarded; with probability drop_rate, its connection closed without a response (half "drop": forwarded to
       Pebble first, so the CA did carry it out; half "drop-before": not forwarded). "kinds" limits chaos to those
       request kinds (see below; default: all). The decisions come from random.Random(seed), reseeded by each
       POST /chaos: the same seed gives the same decision sequence in request arrival order.
  GET  /chaos (current setting, null when off), DELETE /chaos (off). --chaos-error-rate/--chaos-drop-rate/
       --chaos-seed/--chaos-kinds set it at start; POST /reset returns to that start setting.

Request kinds (stats and chaos): directory, newNonce, newAccount, newOrder, revokeCert, keyChange, renewalInfo,
finalize, authz (/authZ/), challenge (/chalZ/), order (/my-order/), cert (/certZ/), account (/my-account/),
orders (/list-orderz/), other. GET /stats adds per kind: requests_by_kind (every request received),
upstream_status {kind: {"201": n, ...}} (Pebble's answers to relayed requests, dropped ones included),
upstream_bad_nonce {kind: n} (Pebble's badNonce refusals), chaos_injected {kind: {"500","drop","drop-before"}} and
chaos_injected_total. /faults entries count in faults_injected, chaos in chaos_injected only.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import hashlib
import http.client
import http.server
import json
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "accept-encoding",
}
RESPONSE_SKIP = HOP_BY_HOP | {"date", "server"}

GTS_UNKNOWN_EAB = (
    "Unknown external account binding (EAB) key. This may be due to the EAB key expiring which occurs "
    "7 days after creation."
)
GTS_NO_CONTACT = "Accounts must have at least one contact."
FAULT_KINDS = {"500", "503-retry-after", "429-rate-limited", "badNonce", "drop", "drop-before"}
CHAOS_FAULTS = ("500", "drop", "drop-before")
# Request kinds by path prefix (Pebble 2.4.0's URLs); directory resources are named by their directory key.
PATH_KINDS = (
    ("/authZ/", "authz"),
    ("/chalZ/", "challenge"),
    ("/my-order/", "order"),
    ("/certZ/", "cert"),
    ("/my-account/", "account"),
    ("/list-orderz/", "orders"),
)
# Kinds listed in chaos_injected from the start (with zeros), so scripts can index them without a KeyError.
CHAOS_KINDS = ("directory", "newNonce", "newAccount", "newOrder", "authz", "challenge", "finalize", "order", "cert")
ERR = "urn:ietf:params:acme:error:"


def b64u_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("base64url value is not a string")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC or RSA JWK, base64url without padding."""
    kty = jwk.get("kty")
    if kty == "EC":
        members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    elif kty == "RSA":
        members = {k: jwk[k] for k in ("e", "kty", "n")}
    elif kty == "OKP":
        members = {k: jwk[k] for k in ("crv", "kty", "x")}
    else:
        raise ValueError(f"unsupported JWK kty {kty!r}")
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64u_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def rfc3339(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_jws(body: bytes) -> tuple[dict, object]:
    """Returns (protected header, decoded payload) of a flattened JWS; payload is None for POST-as-GET."""
    jws = json.loads(body)
    protected = json.loads(b64u_decode(jws["protected"]))
    raw = b64u_decode(jws.get("payload", ""))
    payload = json.loads(raw) if raw else None
    return protected, payload


def problem(kind: str, detail: str, status: int) -> bytes:
    return json.dumps({"type": ERR + kind, "detail": detail, "status": status}).encode()


class Drop(Exception):
    """Close the client connection without writing a response."""


class Double:
    """Shared state: configuration, counters, spent EAB kids, ARI windows, faults."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.upstream_host = "127.0.0.1"
        self.upstream_port = args.pebble_port
        self.upstream_ctx = ssl.create_default_context(cafile=args.upstream_ca)
        self.profiles = [p for p in (args.profiles or "").split(",") if p]
        self.paths: dict[str, str] | None = None  # directory key -> path, learned from Pebble
        self.finalize_paths: set[str] = set()
        self.order_extras: dict[str, dict] = {}  # order path -> {"replaces","profile"} to inject
        self.log_file = open(args.log, "a", buffering=1) if args.log else None
        self.chaos_start: dict | None = None
        if args.chaos_error_rate or args.chaos_drop_rate:
            start = {"error_rate": args.chaos_error_rate, "drop_rate": args.chaos_drop_rate, "seed": args.chaos_seed}
            if args.chaos_kinds:
                start["kinds"] = [k for k in args.chaos_kinds.split(",") if k]
            self.chaos_start = self.chaos_setting(start)
        self.reset_all()

    # ---- state -------------------------------------------------------------------------------------
    def reset_stats(self) -> None:
        with self.lock:
            self.counters = {
                "new_account_total": 0,
                "new_account_with_eab": 0,
                "new_account_only_return_existing": 0,
                "new_account_refused": 0,
                "new_order": 0,
                "new_order_refused": 0,
                "finalize": 0,
                "new_nonce": 0,
                "renewal_info": 0,
                "faults_injected": 0,
                "forwarded": 0,
                "requests_total": 0,
            }
            self.by_path: dict[str, int] = {}
            self.by_kind: dict[str, int] = {}
            self.upstream_status: dict[str, dict[str, int]] = {}
            self.upstream_bad_nonce: dict[str, int] = {}
            self.chaos_counts = {kind: {f: 0 for f in CHAOS_FAULTS} for kind in CHAOS_KINDS}
            self.orders: dict[str, dict] = {}  # order path -> {"order","opened","closed","end"} (GET /orders)
            self.order_of_path: dict[str, str] = {}  # finalize or certificate path -> its order path
            self.orders_in_flight = 0
            self.orders_in_flight_peak = 0

    def reset_all(self) -> None:
        self.reset_stats()
        with self.lock:
            self.spent: dict[str, str] = {}
            self.burned: set[str] = set()
            self.faults: list[dict] = []
            self.ari_windows: dict[str, dict] = {}
            self.ari_default: dict | None = None
            self.ari_requests: list[str] = []
            self.replaces_seen: list[str] = []
            self.profiles_seen: list[str] = []
        self.set_chaos(self.chaos_start)

    def bump(self, key: str) -> None:
        with self.lock:
            self.counters[key] += 1

    def stats(self) -> dict:
        with self.lock:
            out = dict(self.counters)
            out["requests_by_path"] = dict(self.by_path)
            out["requests_by_kind"] = dict(self.by_kind)
            out["upstream_status"] = {k: dict(v) for k, v in self.upstream_status.items()}
            out["upstream_bad_nonce"] = dict(self.upstream_bad_nonce)
            out["chaos_injected"] = {k: dict(v) for k, v in self.chaos_counts.items()}
            out["chaos_injected_total"] = sum(sum(v.values()) for v in self.chaos_counts.values())
            out["chaos"] = dict(self.chaos) if self.chaos else None
            out["spent_kids"] = len(self.spent)
            out["orders_opened"] = len(self.orders)
            out["orders_closed"] = sum(1 for o in self.orders.values() if o["closed"] is not None)
            out["orders_in_flight"] = self.orders_in_flight
            out["orders_in_flight_peak"] = self.orders_in_flight_peak
            return out

    # ---- orders in flight --------------------------------------------------------------------------
    def track_order(self, resource, kind, method, path, status, up_headers, data: bytes) -> None:
        """Opens an order at newOrder 201, learns its finalize and certificate paths from the order objects
        relayed, closes it at the first 200 certificate download or when it turns invalid."""
        if kind == "cert" and status == 200:
            with self.lock:
                self.close_order(self.order_of_path.get(path), "certificate")
            return
        if status >= 300:
            return
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            return
        if not isinstance(obj, dict) or "status" not in obj or "identifiers" not in obj:
            return
        location = next((v for k, v in up_headers if k.lower() == "location"), None)
        with self.lock:
            if resource == "newOrder" and method == "POST" and status == 201 and location:
                order = urllib.parse.urlsplit(location).path
                if order not in self.orders:
                    self.orders[order] = {"order": order, "opened": time.monotonic(), "closed": None, "end": None}
                    self.orders_in_flight += 1
                    self.orders_in_flight_peak = max(self.orders_in_flight_peak, self.orders_in_flight)
            else:
                order = self.order_of_path.get(path, path)
            if order not in self.orders:
                return
            for key in ("finalize", "certificate"):
                if isinstance(obj.get(key), str):
                    self.order_of_path[urllib.parse.urlsplit(obj[key]).path] = order
            if obj.get("status") == "invalid":
                self.close_order(order, "invalid")

    def close_order(self, order: str | None, end: str) -> None:
        """Under self.lock."""
        entry = self.orders.get(order) if order else None
        if entry is not None and entry["closed"] is None:
            entry["closed"], entry["end"] = time.monotonic(), end
            self.orders_in_flight -= 1

    # ---- chaos -------------------------------------------------------------------------------------
    @staticmethod
    def chaos_setting(body: dict) -> dict:
        """Validates a chaos setting (POST /chaos body or the CLI flags)."""
        error_rate, drop_rate = float(body.get("error_rate", 0)), float(body.get("drop_rate", 0))
        if not (0 <= error_rate <= 1 and 0 <= drop_rate <= 1 and error_rate + drop_rate <= 1):
            raise ValueError(f"need 0 <= error_rate, drop_rate and error_rate + drop_rate <= 1, got {error_rate}, {drop_rate}")
        setting = {"error_rate": error_rate, "drop_rate": drop_rate, "seed": int(body.get("seed", 1))}
        kinds = body.get("kinds")
        if kinds is not None:
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                raise ValueError("kinds must be a list of request kind names")
            setting["kinds"] = sorted(set(kinds))
        return setting

    def set_chaos(self, setting: dict | None) -> None:
        with self.lock:
            self.chaos = dict(setting) if setting else None
            self.rng = random.Random(setting["seed"] if setting else 0)

    def take_chaos(self, kind: str) -> str | None:
        """One seeded draw per request: "500", "drop", "drop-before" or None; counts what it injects."""
        with self.lock:
            chaos = self.chaos
            if chaos is None or ("kinds" in chaos and kind not in chaos["kinds"]):
                return None
            draw = self.rng.random()
            if draw < chaos["error_rate"]:
                fault = "500"
            elif draw < chaos["error_rate"] + chaos["drop_rate"]:
                fault = "drop" if self.rng.random() < 0.5 else "drop-before"
            else:
                return None
            counts = self.chaos_counts.setdefault(kind, {f: 0 for f in CHAOS_FAULTS})
            counts[fault] += 1
            return fault

    def count_upstream(self, kind: str, status: int, data: bytes) -> None:
        with self.lock:
            per_kind = self.upstream_status.setdefault(kind, {})
            per_kind[str(status)] = per_kind.get(str(status), 0) + 1
            if status == 400 and b"badNonce" in data:
                self.upstream_bad_nonce[kind] = self.upstream_bad_nonce.get(kind, 0) + 1

    def log(self, line: str) -> None:
        if self.log_file:
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.log_file.write(f"{stamp} {line}\n")

    # ---- upstream ----------------------------------------------------------------------------------
    def upstream(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None):
        conn = http.client.HTTPSConnection(
            self.upstream_host, self.upstream_port, context=self.upstream_ctx, timeout=self.args.upstream_timeout
        )
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()

    def directory_paths(self) -> dict[str, str]:
        if self.paths is None:
            host = f"127.0.0.1:{self.upstream_port}"
            status, _, _, data = self.upstream("GET", self.args.directory_path, [("Host", host)], None)
            if status != 200:
                raise RuntimeError(f"Pebble directory {self.args.directory_path} answered {status}")
            directory = json.loads(data)
            paths = {}
            for key, value in directory.items():
                if isinstance(value, str) and value.startswith("https://"):
                    paths[key] = urllib.parse.urlsplit(value).path
            self.paths = paths
        return self.paths

    def fresh_nonce(self, host: str) -> str | None:
        try:
            path = self.directory_paths().get("newNonce", "/nonce-plz")
            _, _, headers, _ = self.upstream("HEAD", path, [("Host", host)], None)
            for name, value in headers:
                if name.lower() == "replay-nonce":
                    return value
        except Exception as exc:  # noqa: BLE001 - a missing nonce is reported, not fatal
            self.log(f"cannot fetch nonce from Pebble: {exc}")
        return None

    # ---- classification ----------------------------------------------------------------------------
    def resource_of(self, path: str) -> str | None:
        paths = self.directory_paths()
        for key, value in paths.items():
            if value == path:
                return key
        if path in self.finalize_paths or "/finalize-order/" in path:
            return "finalize"
        if path.startswith("/renewal-info/") or path == "/renewal-info":
            return "renewalInfo"
        if path == self.args.directory_path:
            return "directory"
        return None

    def kind_of(self, path: str, resource: str | None) -> str:
        if resource is not None:
            return resource
        for prefix, kind in PATH_KINDS:
            if path.startswith(prefix):
                return kind
        return "other"

    def take_fault(self, method: str, path: str, resource: str | None) -> dict | None:
        with self.lock:
            for fault in self.faults:
                want = fault["path_contains"]
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if not (want == resource or (want not in KNOWN_RESOURCES and want in path)):
                    continue
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                self.counters["faults_injected"] += 1
                return dict(fault)
        return None

    def ari_window(self, cert_id: str) -> dict | None:
        with self.lock:
            self.ari_requests.append(cert_id)
            entry = self.ari_windows.get(cert_id) or self.ari_default
            if entry is None:
                return None
            entry = dict(entry)
        now = time.time()
        if "start" in entry:
            start, end = entry["start"], entry["end"]
        else:
            start, end = rfc3339(now + entry["startOffset"]), rfc3339(now + entry["endOffset"])
        body = {"suggestedWindow": {"start": start, "end": end}}
        if entry.get("explanationURL"):
            body["explanationURL"] = entry["explanationURL"]
        return {"body": body, "retryAfter": int(entry.get("retryAfter", 3600))}


KNOWN_RESOURCES = {"newAccount", "newOrder", "newNonce", "revokeCert", "keyChange", "finalize", "renewalInfo", "directory"}


class Reply:
    """A response the double writes itself."""

    def __init__(
        self, status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None, reason: str | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or []
        self.reason = reason


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "certkeeper-acme-double/1"
    double: Double  # set on the subclass

    def setup(self) -> None:
        self.request.settimeout(60)
        super().setup()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        pass

    def read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        return None

    def do_GET(self) -> None:
        self.handle_any()

    def do_HEAD(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def do_PUT(self) -> None:
        self.handle_any()

    def do_DELETE(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        d = self.double
        method = self.command
        path = urllib.parse.urlsplit(self.path).path
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        note = ""
        status = 0
        try:
            body = self.read_body()
            if method in ("POST", "PUT") and body is None:
                body = b""
            resource = d.resource_of(path)
            kind = d.kind_of(path, resource)
            with d.lock:
                d.counters["requests_total"] += 1
                d.by_path[path] = d.by_path.get(path, 0) + 1
                d.by_kind[kind] = d.by_kind.get(kind, 0) + 1
            fault = d.take_fault(method, path, resource)
            if fault:
                note = f"fault={fault['kind']}"
            else:
                chaos = d.take_chaos(kind)
                if chaos:
                    fault = {"kind": chaos}
                    note = f"chaos={chaos}"
            if fault and fault["kind"] == "drop-before":
                self.count_request(resource, method, body)
                raise Drop()
            if fault and fault["kind"] in ("500", "503-retry-after", "429-rate-limited", "badNonce"):
                self.count_request(resource, method, body)
                reply = self.fault_reply(fault, host)
            else:
                reply, extra_note = self.process(resource, kind, method, path, host, body)
                note = " ".join(x for x in (note, extra_note) if x)
                if fault and fault["kind"] == "drop":
                    raise Drop()
            status = reply.status
            self.write(reply, method)
        except Drop:
            status = "dropped"
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except Exception as exc:  # noqa: BLE001 - answer 502 instead of killing the thread silently
            status = 502
            note = f"{note} error={type(exc).__name__}: {exc}".strip()
            detail = f"acme-double: upstream Pebble on 127.0.0.1:{d.upstream_port} failed: {exc}"
            try:
                self.write(Reply(502, problem("serverInternal", detail, 502), [("Content-Type", "application/problem+json")]), method)
            except OSError:
                pass
        finally:
            d.log(f'{self.client_address[0]} "{method} {self.path}" host={host} -> {status} {note}'.rstrip())

    def count_request(self, resource: str | None, method: str, body: bytes | None) -> tuple[dict | None, object]:
        """Bumps the per-resource counters; returns the parsed (protected, payload) of a POST when parseable."""
        d = self.double
        parsed: tuple[dict | None, object] = (None, None)
        if method == "POST" and body:
            try:
                parsed = parse_jws(body)
            except (ValueError, KeyError, TypeError, binascii.Error):
                parsed = (None, None)
        payload = parsed[1] if isinstance(parsed[1], dict) else {}
        if resource == "newAccount" and method == "POST":
            d.bump("new_account_total")
            if payload.get("externalAccountBinding") is not None:
                d.bump("new_account_with_eab")
            if payload.get("onlyReturnExisting"):
                d.bump("new_account_only_return_existing")
        elif resource == "newOrder" and method == "POST":
            d.bump("new_order")
            with d.lock:
                if "replaces" in payload:
                    d.replaces_seen.append(payload["replaces"])
                if "profile" in payload:
                    d.profiles_seen.append(payload["profile"])
        elif resource == "finalize" and method == "POST":
            d.bump("finalize")
        elif resource == "newNonce":
            d.bump("new_nonce")
        elif resource == "renewalInfo":
            d.bump("renewal_info")
        return parsed

    def fault_reply(self, fault: dict, host: str) -> Reply:
        d = self.double
        kind = fault["kind"]
        retry_after = str(int(fault.get("retryAfter", 5)))
        headers = [("Content-Type", "application/problem+json")]
        nonce = d.fresh_nonce(host)
        if nonce:
            headers.append(("Replay-Nonce", nonce))
        if kind == "badNonce":
            return Reply(400, problem("badNonce", "JWS has an invalid anti-replay nonce (injected by acme-double)", 400), headers)
        if kind == "500":
            return Reply(500, problem("serverInternal", "injected internal error (acme-double)", 500), headers)
        if kind == "503-retry-after":
            headers.append(("Retry-After", retry_after))
            return Reply(503, problem("serverInternal", "service busy, retry later (injected by acme-double)", 503), headers)
        headers.append(("Retry-After", retry_after))
        return Reply(429, problem("rateLimited", "too many requests (injected by acme-double)", 429), headers)

    def local_problem(self, host: str, kind: str, detail: str, status: int) -> Reply:
        headers = [("Content-Type", "application/problem+json")]
        nonce = self.double.fresh_nonce(host)
        if nonce:
            headers.append(("Replay-Nonce", nonce))
        headers.append(("Link", f'<https://{host}{self.double.args.directory_path}>;rel="index"'))
        return Reply(status, problem(kind, detail, status), headers)

    def process(
        self, resource: str | None, kind: str, method: str, path: str, host: str, body: bytes | None
    ) -> tuple[Reply, str]:
        d = self.double
        protected, payload = self.count_request(resource, method, body)
        payload = payload if isinstance(payload, dict) else {}
        note = ""
        spend: tuple[str, str] | None = None

        if resource == "renewalInfo" and d.args.ari and method in ("GET", "HEAD"):
            cert_id = path[len("/renewal-info/"):] if path.startswith("/renewal-info/") else ""
            window = d.ari_window(cert_id) if cert_id else None
            if window is None:
                detail = f"no renewal information for certID {cert_id!r}; set one with POST /ari or /ari/default"
                return Reply(404, problem("malformed", detail, 404), [("Content-Type", "application/problem+json")]), "ari=none"
            headers = [("Content-Type", "application/json"), ("Retry-After", str(window["retryAfter"]))]
            return Reply(200, json.dumps(window["body"]).encode(), headers), "ari=window"

        if resource == "newAccount" and method == "POST" and d.args.single_use_eab and protected is not None:
            eab = payload.get("externalAccountBinding")
            if eab is not None and not payload.get("onlyReturnExisting"):
                try:
                    kid = json.loads(b64u_decode(eab["protected"])).get("kid")
                    thumb = jwk_thumbprint(protected["jwk"])
                except (ValueError, KeyError, TypeError, binascii.Error):
                    kid, thumb = None, None
                if kid is not None and thumb is not None:
                    with d.lock:
                        bound = d.spent.get(kid)
                        burned = kid in d.burned
                        if burned or (bound is not None and bound != thumb):
                            d.counters["new_account_refused"] += 1
                            refuse = "unknown"
                        elif not payload.get("contact"):
                            d.counters["new_account_refused"] += 1
                            d.spent.setdefault(kid, thumb)
                            d.burned.add(kid)
                            refuse = "contact"
                        else:
                            refuse = None
                    if refuse == "unknown":
                        return self.local_problem(host, "unauthorized", GTS_UNKNOWN_EAB, 403), f"eab={kid} refused"
                    if refuse == "contact":
                        return self.local_problem(host, "malformed", GTS_NO_CONTACT, 400), f"eab={kid} no-contact burned"
                    spend = (kid, thumb)
                    note = f"eab={kid}"

        if resource == "newOrder" and method == "POST" and d.profiles and "profile" in payload:
            if payload["profile"] not in d.profiles:
                with d.lock:
                    d.counters["new_order_refused"] += 1
                detail = f"profile {payload['profile']!r} is not one of {', '.join(d.profiles)}"
                return self.local_problem(host, "invalidProfile", detail, 400), "invalidProfile"

        self.order_extras = {}
        if resource == "newOrder" and method == "POST":
            self.order_extras = {k: payload[k] for k in ("replaces", "profile") if k in payload}
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if spend:
            with d.lock:
                d.spent.setdefault(spend[0], spend[1])
        d.bump("forwarded")
        status, reason, up_headers, data = d.upstream(method, self.path, headers, body)
        d.count_upstream(kind, status, data)
        d.track_order(resource, kind, method, path, status, up_headers, data)
        out_headers = [(k, v) for k, v in up_headers if k.lower() not in RESPONSE_SKIP]
        data = self.rewrite(resource, method, path, host, status, up_headers, data)
        return Reply(status, data, out_headers, reason), note

    def rewrite(self, resource, method, path, host, status, up_headers, data: bytes) -> bytes:
        """Adjusts relayed JSON: directory extensions, learned finalize URLs, injected order fields."""
        d = self.double
        ctype = next((v for k, v in up_headers if k.lower() == "content-type"), "")
        if status >= 300 or "json" not in ctype or not data:
            return data
        try:
            obj = json.loads(data)
        except ValueError:
            return data
        if not isinstance(obj, dict):
            return data
        changed = False
        if resource == "directory" and method == "GET":
            if d.args.ari:
                obj["renewalInfo"] = f"https://{host}/renewal-info"
                changed = True
            if d.profiles:
                meta = obj.setdefault("meta", {})
                meta["profiles"] = {p: f"certkeeper acme-double profile {p}" for p in d.profiles}
                changed = True
        if isinstance(obj.get("finalize"), str):
            with d.lock:
                d.finalize_paths.add(urllib.parse.urlsplit(obj["finalize"]).path)
        location = next((v for k, v in up_headers if k.lower() == "location"), None)
        order_path = urllib.parse.urlsplit(location).path if location else path
        with d.lock:
            if resource == "newOrder" and method == "POST" and location and self.order_extras:
                d.order_extras[order_path] = self.order_extras
            extras = d.order_extras.get(order_path) or d.order_extras.get(path)
        if extras and "status" in obj and "identifiers" in obj:
            for key, value in extras.items():
                obj.setdefault(key, value)
            changed = True
        return json.dumps(obj, indent=2).encode() if changed else data

    def write(self, reply: Reply, method: str) -> None:
        self.send_response(reply.status, reply.reason)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status not in (204, 304) and not (100 <= reply.status < 200):
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if method != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)
        self.wfile.flush()


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "certkeeper-acme-double-control/1"
    double: Double

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

    def send_json(self, status: int, obj: object) -> None:
        data = json.dumps(obj, indent=2, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        obj = json.loads(raw) if raw.strip() else {}
        if not isinstance(obj, dict):
            raise ValueError("request body must be a JSON object")
        return obj

    def do_GET(self) -> None:
        d = self.double
        path = urllib.parse.urlsplit(self.path).path
        with d.lock:
            views = {
                "/spent": lambda: dict(d.spent),
                "/burned": lambda: sorted(d.burned),
                "/replaces": lambda: list(d.replaces_seen),
                "/profiles": lambda: list(d.profiles_seen),
                "/orders": lambda: sorted((dict(o) for o in d.orders.values()), key=lambda o: o["opened"]),
                "/faults": lambda: [dict(f) for f in d.faults],
                "/ari/requests": lambda: list(d.ari_requests),
                "/ari": lambda: {"windows": dict(d.ari_windows), "default": d.ari_default},
                "/health": lambda: {"ok": True},
                "/chaos": lambda: dict(d.chaos) if d.chaos else None,
            }
            view = views.get(path)
            result = view() if view else None
        if path == "/stats":
            self.send_json(200, d.stats())
        elif view is not None:
            self.send_json(200, result)
        else:
            self.send_json(404, {"error": f"unknown control path {path}", "paths": sorted(views) + ["/stats"]})

    def do_DELETE(self) -> None:
        d = self.double
        path = urllib.parse.urlsplit(self.path).path
        if path == "/chaos":
            d.set_chaos(None)
            d.log('control "DELETE /chaos"')
            self.send_json(200, {"ok": True})
            return
        with d.lock:
            if path == "/faults":
                d.faults.clear()
            elif path == "/ari":
                d.ari_windows.clear()
                d.ari_default = None
            else:
                path = None
        self.send_json(200 if path else 404, {"ok": bool(path)})

    def do_POST(self) -> None:
        d = self.double
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self.body_json()
            if path == "/reset":
                d.reset_all()
            elif path == "/reset/stats":
                d.reset_stats()
            elif path == "/eab/burn":
                with d.lock:
                    d.burned.add(str(body["kid"]))
            elif path == "/ari":
                cert_id = str(body["certID"])
                with d.lock:
                    d.ari_windows[cert_id] = self.window(body)
            elif path == "/ari/default":
                with d.lock:
                    d.ari_default = self.window(body)
            elif path == "/faults":
                kind = str(body["kind"])
                if kind not in FAULT_KINDS:
                    raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}, got {kind!r}")
                fault = {
                    "path_contains": str(body["path_contains"]),
                    "kind": kind,
                    "count": int(body.get("count", 1)),
                    "retryAfter": int(body.get("retryAfter", 5)),
                }
                if body.get("method"):
                    fault["method"] = str(body["method"]).upper()
                if fault["count"] < 1:
                    raise ValueError("count must be >= 1")
                with d.lock:
                    d.faults.append(fault)
            elif path == "/chaos":
                d.set_chaos(d.chaos_setting(body))
            else:
                self.send_json(404, {"error": f"unknown control path {path}"})
                return
        except (ValueError, KeyError, TypeError) as exc:
            self.send_json(400, {"error": f"{path}: {type(exc).__name__}: {exc}"})
            return
        d.log(f'control "POST {path}" {json.dumps(body, sort_keys=True)}')
        self.send_json(200, {"ok": True})

    @staticmethod
    def window(body: dict) -> dict:
        entry: dict = {"retryAfter": int(body.get("retryAfter", 3600))}
        if body.get("explanationURL"):
            entry["explanationURL"] = str(body["explanationURL"])
        if "start" in body or "end" in body:
            start, end = str(body["start"]), str(body["end"])
            parse_rfc3339(start), parse_rfc3339(end)  # validate
            entry.update(start=start, end=end)
        else:
            entry.update(startOffset=int(body["startOffset"]), endOffset=int(body["endOffset"]))
        return entry


class TLSThreadingServer(http.server.ThreadingHTTPServer):
    """Threaded HTTPS server; the TLS handshake runs in the per-connection thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address) -> None:
        # TLS handshake failures and client resets are routine in tests; keep stderr quiet.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


class ControlServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="ACME test double in front of Pebble (see module doc)")
    parser.add_argument("--port", type=int, default=14443, help="TLS listen port on 127.0.0.1")
    parser.add_argument("--control-port", type=int, default=14480, help="plain-HTTP control API port on 127.0.0.1")
    parser.add_argument("--pebble-port", type=int, default=14000, help="Pebble ACME port on 127.0.0.1")
    parser.add_argument("--cert", required=True, help="TLS certificate PEM (Pebble's tls-cert.pem)")
    parser.add_argument("--key", required=True, help="TLS private key PEM (Pebble's tls-key.pem)")
    parser.add_argument("--upstream-ca", required=True, help="CA PEM that verifies Pebble's TLS (tls-ca.pem)")
    parser.add_argument("--directory-path", default="/dir")
    parser.add_argument("--upstream-timeout", type=float, default=30.0)
    parser.add_argument("--log", help="append one line per request to this file")
    parser.add_argument("--single-use-eab", action="store_true", help="GTS-like single-use EAB kids")
    parser.add_argument("--ari", action="store_true", help="advertise and serve ARI renewalInfo")
    parser.add_argument("--profiles", default="", help="comma-separated profile names for meta.profiles")
    parser.add_argument("--chaos-error-rate", type=float, default=0.0, help="chaos: probability of an injected 500")
    parser.add_argument("--chaos-drop-rate", type=float, default=0.0, help="chaos: probability of a dropped connection")
    parser.add_argument("--chaos-seed", type=int, default=1, help="chaos: seed of the decision sequence")
    parser.add_argument("--chaos-kinds", default="", help="chaos: comma-separated request kinds (default: all)")
    args = parser.parse_args(argv)

    try:
        double = Double(args)
    except ValueError as exc:
        parser.error(str(exc))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    tls.set_alpn_protocols(["http/1.1"])

    proxy_handler = type("BoundProxyHandler", (ProxyHandler,), {"double": double})
    control_handler = type("BoundControlHandler", (ControlHandler,), {"double": double})
    proxy = TLSThreadingServer(("127.0.0.1", args.port), proxy_handler, tls)
    control = ControlServer(("127.0.0.1", args.control_port), control_handler)
    threading.Thread(target=control.serve_forever, name="control", daemon=True).start()
    flags = " ".join(f for f, on in (("single-use-eab", args.single_use_eab), ("ari", args.ari)) if on)
    double.log(
        f"listening https://127.0.0.1:{args.port} -> Pebble 127.0.0.1:{args.pebble_port}; "
        f"control http://127.0.0.1:{args.control_port}; flags: {flags} profiles: {args.profiles or '-'} "
        f"chaos: {json.dumps(double.chaos, sort_keys=True) if double.chaos else '-'}"
    )
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        control.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
