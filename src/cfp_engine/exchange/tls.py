"""A self-signed certificate for local use (``cfp serve --dev-tls``), kept in the store.

Made once with :mod:`cryptography` (an EC P-256 key; names ``localhost``, ``127.0.0.1``
and ``::1``; valid one year) and reused until 30 days before it expires. Clients trust
it by its file (``NODE_EXTRA_CA_CERTS``, ``httpx.Client(verify=...)``, ``curl --cacert``).
"""

from __future__ import annotations

import ipaddress
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.paths import data_home

VALID_DAYS = 365
RENEW_DAYS = 30


def dev_tls_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """The development certificate and key, made if missing or about to expire."""
    from cryptography import x509

    folder = folder or data_home() / "exchange" / "tls"
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "dev-cert.pem", folder / "dev-key.pem"
    if cert_path.is_file() and key_path.is_file():
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        left = certificate.not_valid_after_utc - datetime.now(timezone.utc)
        if left > timedelta(days=RENEW_DAYS):
            return cert_path, key_path
    cert_pem, key_pem = make_self_signed()
    write_bytes_atomically(key_path, lambda out: out.write(key_pem))
    os.chmod(key_path, 0o600)
    write_bytes_atomically(cert_path, lambda out: out.write(cert_pem))
    return cert_path, key_path


def make_self_signed(names: tuple[str, ...] = ("localhost",)) -> tuple[bytes, bytes]:
    """A self-signed certificate (PEM) for ``names`` and the loopback addresses, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cfp-engine dev host")])
    now = datetime.now(timezone.utc)
    alt_names = [x509.DNSName(name) for name in names] + [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem
