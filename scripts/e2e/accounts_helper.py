#!/usr/bin/env python3
"""Helper for scripts/e2e/accounts.sh: a tiny ACME client that signs with a PEM account key, and converters from a
PEM account key to certbot- and lego-shaped account directories.

Usage:
  accounts_helper.py lookup DIRECTORY_URL TLS_CA KEY_PEM
      newAccount {"onlyReturnExisting": true} signed with KEY_PEM (jwk); prints "STATUS LOCATION PROBLEM_TYPE".
  accounts_helper.py post-as-get DIRECTORY_URL TLS_CA KEY_PEM ACCOUNT_URL
      POST-as-GET of ACCOUNT_URL signed with KEY_PEM (kid = ACCOUNT_URL); prints "STATUS PROBLEM_TYPE".
  accounts_helper.py certbot KEY_PEM ACCOUNT_URL CONTACT DIRECTORY_URL OUT_DIR
      private_key.json (RSA JWK with n,e,d,p,q,dp,dq,qi), regr.json {"body":{...},"uri":...}, meta.json.
  accounts_helper.py lego KEY_PEM ACCOUNT_URL EMAIL OUT_DIR
      account.json {"email","registration":{"body":{...},"uri":...},"key":""} and keys/EMAIL.key (PEM).
Python 3 with `cryptography` (Debian: python3-cryptography).
"""

from __future__ import annotations

import base64
import http.client
import hashlib
import json
import os
import ssl
import sys
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8 or 1, "big"))


def load_key(path: str):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def public_jwk(key) -> dict:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        nums = key.public_key().public_numbers()
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[key.curve.name]
        return {"crv": crv, "kty": "EC", "x": b64u(nums.x.to_bytes(size, "big")), "y": b64u(nums.y.to_bytes(size, "big"))}
    nums = key.public_key().public_numbers()
    return {"e": uint(nums.e), "kty": "RSA", "n": uint(nums.n)}


def sign(key, data: bytes) -> tuple[str, bytes]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        alg, digest = ("ES256", hashes.SHA256()) if size == 32 else ("ES384", hashes.SHA384())
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        return alg, r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return "RS256", key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class Client:
    def __init__(self, directory: str, tls_ca: str) -> None:
        self.tls = ssl.create_default_context(cafile=tls_ca)
        self.dir = json.loads(self.request("GET", directory)[2])

    def request(self, method: str, url: str, body: bytes | None = None):
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=self.tls, timeout=20)
        try:
            headers = {"User-Agent": "certkeeper-e2e-accounts"}
            if body is not None:
                headers["Content-Type"] = "application/jose+json"
            conn.request(method, u.path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def post(self, key, url: str, payload: object | None, kid: str | None):
        for _ in range(5):
            nonce = self.request("HEAD", self.dir["newNonce"])[1]["replay-nonce"]
            alg = sign(key, b"probe")[0]
            protected = {"alg": alg, "nonce": nonce, "url": url}
            if kid:
                protected["kid"] = kid
            else:
                protected["jwk"] = public_jwk(key)
            p64 = b64u(json.dumps(protected).encode())
            pl64 = "" if payload is None else b64u(json.dumps(payload).encode())
            sig = sign(key, f"{p64}.{pl64}".encode())[1]
            body = json.dumps({"protected": p64, "payload": pl64, "signature": b64u(sig)}).encode()
            status, headers, data = self.request("POST", url, body)
            problem = ""
            if status >= 400 and data:
                try:
                    problem = json.loads(data).get("type", "")
                except ValueError:
                    problem = "?"
            if problem.endswith(":badNonce"):
                continue
            return status, headers, problem
        return status, headers, problem


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "lookup" and len(argv) == 5:
        client = Client(argv[2], argv[3])
        status, headers, problem = client.post(load_key(argv[4]), client.dir["newAccount"], {"onlyReturnExisting": True}, None)
        print(status, headers.get("location", "-"), problem or "-")
        return 0
    if cmd == "thumbprint" and len(argv) == 3:
        jwk = public_jwk(load_key(argv[2]))
        required = {k: jwk[k] for k in (("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n"))}
        canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
        print(b64u(hashlib.sha256(canonical).digest()))
        return 0
    if cmd == "post-as-get" and len(argv) == 6:
        client = Client(argv[2], argv[3])
        status, _, problem = client.post(load_key(argv[4]), argv[5], None, argv[5])
        print(status, problem or "-")
        return 0
    if cmd == "certbot" and len(argv) == 7:
        key_pem, url, contact, directory, out = argv[2:]
        key = load_key(key_pem)
        if not isinstance(key, rsa.RSAPrivateKey):
            print("certbot account keys are RSA; got another key type", file=sys.stderr)
            return 2
        priv = key.private_numbers()
        jwk = public_jwk(key) | {
            "d": uint(priv.d), "p": uint(priv.p), "q": uint(priv.q),
            "dp": uint(priv.dmp1), "dq": uint(priv.dmq1), "qi": uint(priv.iqmp),
        }
        os.makedirs(out, mode=0o700, exist_ok=True)
        with open(os.path.join(out, "private_key.json"), "w") as f:
            json.dump(jwk, f)
        with open(os.path.join(out, "regr.json"), "w") as f:
            json.dump({"body": {"contact": [contact], "status": "valid"}, "uri": url}, f)
        with open(os.path.join(out, "meta.json"), "w") as f:
            json.dump({"creation_dt": "2024-01-01T00:00:00Z", "creation_host": "old-host", "register_to_eff": None}, f)
        return 0
    if cmd == "lego" and len(argv) == 6:
        key_pem, url, email, out = argv[2:]
        key = load_key(key_pem)
        os.makedirs(os.path.join(out, "keys"), mode=0o700, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
        with open(os.path.join(out, "keys", f"{email}.key"), "wb") as f:
            f.write(pem)
        with open(os.path.join(out, "account.json"), "w") as f:
            json.dump({"email": email, "registration": {"body": {"status": "valid", "contact": [f"mailto:{email}"]}, "uri": url}, "key": ""}, f)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
