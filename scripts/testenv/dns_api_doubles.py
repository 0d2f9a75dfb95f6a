#!/usr/bin/env python3
"""Test doubles for DNS provider APIs that have no server running offline, each in front of a real DNS server.

  route53  A front for moto's Route 53 emulator (moto[server] from PyPI): it checks every request's AWS Signature
           Version 4 with botocore's own signer (moto does not check Route 53 signatures), answers a bad key or
           signature the way Route 53 does (403 InvalidClientTokenId / SignatureDoesNotMatch), forwards the rest to
           moto, reports each change PENDING once before moto's INSYNC (so clients must wait for INSYNC), and copies
           every TXT change into a zone of a real PowerDNS server so an ACME CA can resolve it.
  cloudflare  Cloudflare API v4 (the subset a dns-01 client uses: zones by name and id, dns_records list, create,
           delete) from Cloudflare's published reference, with Bearer-token checks; TXT records are copied into a
           zone of a real PowerDNS server.

Every request is appended to --log as one JSON line (method, path, status). Listens on 127.0.0.1 only.

Usage:
  dns_api_doubles.py route53 --port P --upstream http://127.0.0.1:MOTO --credentials FILE --pdns-url URL
      --pdns-key-file FILE --log FILE          (FILE: lines "ACCESS_KEY_ID SECRET")
  dns_api_doubles.py cloudflare --port P --token-file FILE --zone NAME --pdns-url URL --pdns-key-file FILE --log FILE
"""
import argparse
import hashlib
import json
import re
import secrets
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

R53_NS = "{https://route53.amazonaws.com/doc/2013-04-01/}"


class PowerDNSMirror:
    """Sets a TXT RRset in PowerDNS through its HTTP API (the zone is the longest one that holds the name)."""

    def __init__(self, url, key_file):
        self.url = url.rstrip("/") + "/api/v1/servers/localhost"
        with open(key_file) as f:
            self.key = f.read().strip()
        self.lock = threading.Lock()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"X-API-Key": self.key, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def set_txt(self, name, values):
        name = name.lower().rstrip(".") + "."
        with self.lock:
            zones = [z["name"] for z in self._call("GET", "/zones")]
            zone = max((z for z in zones if name == z or name.endswith("." + z)), key=len, default=None)
            if zone is None:
                raise RuntimeError(f"PowerDNS has no zone for {name}")
            records = [{"content": v if v.startswith('"') else f'"{v}"', "disabled": False} for v in values]
            rrset = {"name": name, "type": "TXT", "ttl": 60,
                     "changetype": "REPLACE" if records else "DELETE", "records": records}
            self._call("PATCH", "/zones/" + urllib.parse.quote(zone, safe=""), {"rrsets": [rrset]})


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, **entry):
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def route53_handler(args):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    keys = {}
    with open(args.credentials) as f:
        for line in f:
            if line.strip():
                key_id, secret = line.split()
                keys[key_id] = secret
    mirror = PowerDNSMirror(args.pdns_url, args.pdns_key_file)
    log = Log(args.log)
    pending_reported = set()
    changes = set()
    state_lock = threading.Lock()

    def error(code, message, status=403):
        body = (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
                f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{secrets.token_hex(8)}</RequestId></ErrorResponse>").encode()
        return status, {"Content-Type": "text/xml"}, body

    def check_signature(handler, body):
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return error("MissingAuthenticationToken", "Request is missing Authentication Token")
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        key_id, day, region, service, _ = fields["Credential"].split("/")
        if key_id not in keys:
            return error("InvalidClientTokenId", "The security token included in the request is invalid.")
        signed = fields["SignedHeaders"].split(";")
        headers = {}
        for name in signed:
            value = handler.headers.get(name)
            if value is None:
                return error("IncompleteSignature", f"signed header {name} is missing")
            headers[name] = value
        claimed = handler.headers.get("X-Amz-Content-Sha256")
        if claimed is not None and hashlib.sha256(body).hexdigest() != claimed:
            return error("SignatureDoesNotMatch", "X-Amz-Content-Sha256 is not the body's hash")
        request = AWSRequest(method=handler.command, url="http://" + handler.headers["Host"] + handler.path,
                             data=body, headers=headers)
        request.context["timestamp"] = handler.headers["X-Amz-Date"]
        signer = SigV4Auth(Credentials(key_id, keys[key_id]), service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != fields["Signature"]:
            return error("SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you provided.")
        return None

    def apply_change(body):
        root = ET.fromstring(body)
        for change in root.iter(R53_NS + "Change"):
            action = change.find(R53_NS + "Action").text
            rrset = change.find(R53_NS + "ResourceRecordSet")
            if rrset.find(R53_NS + "Type").text != "TXT":
                continue
            name = rrset.find(R53_NS + "Name").text
            values = [v.text for v in rrset.iter(R53_NS + "Value")]
            mirror.set_txt(name, [] if action == "DELETE" else values)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            failure = check_signature(self, body)
            change_path = "/2013-04-01/change/"
            if failure:
                status, headers, out = failure
            elif self.command == "GET" and self.path.startswith(change_path):
                # moto gives every change the same id and says INSYNC at once; the double numbers the changes
                # itself and answers PENDING at the first poll of each.
                change_id = self.path[len(change_path):]
                with state_lock:
                    known = change_id in changes
                    first = known and change_id not in pending_reported
                    pending_reported.add(change_id)
                if not known:
                    status, headers, out = error("NoSuchChange", f"A change with the specified change ID does not exist.",
                                                 404)
                else:
                    state = "PENDING" if first else "INSYNC"
                    out = (f'<?xml version="1.0"?>\n<GetChangeResponse xmlns="https://route53.amazonaws.com/doc/'
                           f'2013-04-01/"><ChangeInfo><Id>/change/{change_id}</Id><Status>{state}</Status>'
                           f"<SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>").encode()
                    status, headers = 200, {"Content-Type": "text/xml"}
            else:
                forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                # urllib would label a body without a type as a form, which moto then parses as one.
                forwarded.setdefault("Content-Type", "application/xml")
                request = urllib.request.Request(args.upstream + self.path, data=body if body else None,
                                                 method=self.command, headers=forwarded)
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        status, out = response.status, response.read()
                        headers = {"Content-Type": response.headers.get("Content-Type", "text/xml")}
                except urllib.error.HTTPError as e:
                    status, out, headers = e.code, e.read(), {"Content-Type": "text/xml"}
                if status == 200 and self.command == "POST" and self.path.endswith("/rrset/"):
                    apply_change(body)
                    with state_lock:
                        change_id = f"CK{len(changes) + 1:012d}"
                        changes.add(change_id)
                    out = re.sub(rb"<Id>[^<]*</Id>", f"<Id>/change/{change_id}</Id>".encode(), out, count=1)
                    out = out.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
            log.write(method=self.command, path=self.path, status=status)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_DELETE = handle_any

    return Handler


def cloudflare_handler(args):
    with open(args.token_file) as f:
        token = f.read().strip()
    mirror = PowerDNSMirror(args.pdns_url, args.pdns_key_file)
    log = Log(args.log)
    zone = {"id": secrets.token_hex(16), "name": args.zone.rstrip(".").lower(), "status": "active"}
    records = {}
    lock = threading.Lock()

    def envelope(result, status=200, errors=None):
        body = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
        return status, body

    def fail(status, code, message):
        return envelope(None, status, [{"code": code, "message": message}])

    def values_at(name):
        return [r["content"] for r in records.values() if r["name"] == name and r["type"] == "TXT"]

    def route(method, path, query, body):
        if not path.startswith("/client/v4/"):
            return fail(404, 7000, "No route for that URI")
        parts = path[len("/client/v4/"):].strip("/").split("/")
        if parts == ["zones"] and method == "GET":
            name = query.get("name", [None])[0]
            return envelope([zone] if name in (None, zone["name"]) else [])
        if len(parts) < 2 or parts[0] != "zones" or parts[1] != zone["id"]:
            return fail(404, 7003, "Could not route to /zones/..., perhaps your object identifier is invalid?")
        if len(parts) == 2 and method == "GET":
            return envelope(zone)
        if len(parts) >= 3 and parts[2] == "dns_records":
            if len(parts) == 3 and method == "GET":
                found = [r for r in records.values()
                         if r["type"] == query.get("type", [r["type"]])[0] and r["name"] == query.get("name", [r["name"]])[0]]
                return envelope(found)
            if len(parts) == 3 and method == "POST":
                try:
                    new = json.loads(body)
                except ValueError:
                    return fail(400, 9207, "Request body is invalid.")
                name = str(new.get("name", "")).lower().rstrip(".")
                if new.get("type") != "TXT" or not (name == zone["name"] or name.endswith("." + zone["name"])):
                    return fail(400, 9000, "DNS name is invalid.")
                record = {"id": secrets.token_hex(16), "type": "TXT", "name": name,
                          "content": str(new.get("content", "")), "ttl": int(new.get("ttl", 1)),
                          "zone_id": zone["id"], "zone_name": zone["name"]}
                records[record["id"]] = record
                mirror.set_txt(name, values_at(name))
                return envelope(record)
            if len(parts) == 4 and method == "DELETE":
                record = records.pop(parts[3], None)
                if record is None:
                    return fail(404, 81044, "Record does not exist.")
                mirror.set_txt(record["name"], values_at(record["name"]))
                return envelope({"id": record["id"]})
        return fail(405, 10405, "Method not allowed")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urllib.parse.urlsplit(self.path)
            if self.headers.get("Authorization") != f"Bearer {token}":
                status, out = fail(403, 10000, "Authentication error")
            else:
                with lock:
                    status, out = route(self.command, url.path, urllib.parse.parse_qs(url.query), body)
            record = out.get("result") if isinstance(out.get("result"), dict) else {}
            log.write(method=self.command, path=url.path, status=status, name=record.get("name"))
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = handle_any

    return Handler, zone


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["route53", "cloudflare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream")
    parser.add_argument("--credentials")
    parser.add_argument("--token-file")
    parser.add_argument("--zone")
    parser.add_argument("--zone-id-file", help="cloudflare: where to write the zone's id")
    parser.add_argument("--pdns-url", required=True)
    parser.add_argument("--pdns-key-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    if args.kind == "route53":
        handler = route53_handler(args)
    else:
        handler, zone = cloudflare_handler(args)
        if args.zone_id_file:
            with open(args.zone_id_file, "w") as f:
                f.write(zone["id"] + "\n")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"{args.kind} double on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
