"""A private CA and a loopback server certificate for the emulator, so real SDK clients speak HTTPS to it.

azure-core refuses bearer tokens over plain HTTP, so the emulator must serve TLS; clients trust the CA file
through ``connection_verify``. Keys are ECDSA P-256 (fast to generate, accepted by OpenSSL and requests).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "emulator-ca.pem"
CERT_FILE = "emulator-server.pem"
KEY_FILE = "emulator-server-key.pem"

_VALIDITY = dt.timedelta(days=825)
# Regenerate well before expiry so a long-lived state directory never serves an expired certificate.
_RENEW_BEFORE = dt.timedelta(days=30)
_HOSTS = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class CertificatePaths:
    """Where the CA certificate, the server certificate chain and the server key were written."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """A KeyUsage extension allowing only the named usages."""
    usages: list[str] = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment"]
    usages += ["key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{usage: usage in allowed for usage in usages})


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aks-upgrade-auditor emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _still_valid(paths: CertificatePaths) -> bool:
    if not (paths.ca_file.is_file() and paths.cert_file.is_file() and paths.key_file.is_file()):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
        x509.load_pem_x509_certificate(paths.ca_file.read_bytes())
        serialization.load_pem_private_key(paths.key_file.read_bytes(), password=None)
    except ValueError:
        return False
    now = dt.datetime.now(dt.UTC)
    return certificate.not_valid_after_utc - _RENEW_BEFORE > now and certificate.not_valid_before_utc <= now


def ensure_certificates(directory: Path) -> CertificatePaths:
    """Reuse valid certificates in directory, or generate a new CA and server certificate there."""
    directory = Path(directory)
    paths = CertificatePaths(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    if _still_valid(paths):
        return paths
    return generate_certificates(directory)


def generate_certificates(directory: Path) -> CertificatePaths:
    """Generate a CA and a server certificate for localhost/127.0.0.1/::1 and write them as PEM files."""
    directory = Path(directory)
    alternative_names: list[x509.GeneralName] = [x509.DNSName(host) for host in _HOSTS]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(address)) for address in _ADDRESSES]
    paths = CertificatePaths(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    return _issue(paths, "aks-upgrade-auditor emulator CA", "localhost", alternative_names)


def generate_host_certificates(directory: Path, stem: str, names: list[str], ca_name: str) -> CertificatePaths:
    """A fresh CA and a server certificate for these DNS names (wildcards allowed), written as
    <stem>-ca.pem, <stem>-server.pem and <stem>-server-key.pem: the emulator's Kubernetes API servers, each
    reached by its cluster's API server name through TLS SNI, as a cluster's own CA would sign them."""
    directory = Path(directory)
    paths = CertificatePaths(
        directory / f"{stem}-ca.pem", directory / f"{stem}-server.pem", directory / f"{stem}-server-key.pem"
    )
    alternative_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names or ["localhost"]]
    return _issue(paths, ca_name, "kube-apiserver", alternative_names)


def _issue(
    paths: CertificatePaths, ca_name: str, subject: str, alternative_names: list[x509.GeneralName]
) -> CertificatePaths:
    """A new CA named ca_name and a server certificate it signs for subject and alternative_names, written to paths
    (the key owner-only)."""
    paths.ca_file.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    issuer = _name(ca_name)
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(issuer)
        .issuer_name(issuer)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("digital_signature", "key_cert_sign", "crl_sign"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_key_usage("digital_signature", "key_agreement"), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths.ca_file.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(server_certificate.public_bytes(serialization.Encoding.PEM))
    key_bytes = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The key only protects a loopback test server, but it is still a private key: owner-only.
    paths.key_file.touch(mode=0o600, exist_ok=True)
    paths.key_file.chmod(0o600)
    paths.key_file.write_bytes(key_bytes)
    return paths
