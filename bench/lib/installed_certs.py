#!/usr/bin/env python3
"""Writes installed certificates for bench/scale.sh: STATE/live/PREFIX<i>/{fullchain.pem,privkey.pem} and a spec
CONFIG/certs.d/PREFIX<i>.toml for i in FIRST..LAST, as if certkeeper had issued them (one throw-away issuer, one
shared P-256 leaf key, 90 days from yesterday, an Authority Key Identifier for ARI). Benchmarks only: nothing here
is trusted by anything.

Usage: installed_certs.py STATE_DIR CONFIG_DIR PREFIX FIRST LAST LISTEN
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def main() -> None:
    state, config, prefix, first, last, listen = sys.argv[1:7]
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certkeeper bench issuer")])
    issuer = (
        x509.CertificateBuilder()
        .subject_name(issuer_name)
        .issuer_name(issuer_name)
        .public_key(issuer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuer_key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    issuer_pem = issuer.public_bytes(serialization.Encoding.PEM)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    os.makedirs(os.path.join(config, "certs.d"), exist_ok=True)
    for i in range(int(first), int(last) + 1):
        name = f"{prefix}{i}"
        domain = f"{name}.scale.bench.test"
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(issuer_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=89))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=True)
            .add_extension(aki, critical=False)
            .sign(issuer_key, hashes.SHA256())
        )
        live = os.path.join(state, "live", name)
        os.makedirs(live, mode=0o755, exist_ok=True)
        with open(os.path.join(live, "fullchain.pem"), "wb") as f:
            f.write(leaf.public_bytes(serialization.Encoding.PEM) + issuer_pem)
        fd = os.open(os.path.join(live, "privkey.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        with open(os.path.join(config, "certs.d", f"{name}.toml"), "w") as f:
            f.write(f'domains = ["{domain}"]\n[challenge]\ntype = "http-01"\nlisten = "{listen}"\n')


if __name__ == "__main__":
    main()
