"""Signing keys (PKCS#12) and PAdES signatures on the PDF report, with pyHanko.

The password of a PKCS#12 file comes from an environment variable, never from the command line (which other
users can read in the process list); it is never printed, logged or written anywhere.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID

from auditor.errors import AuditorError

DEFAULT_PASSWORD_ENV = "AUDITOR_SIGN_PASSWORD"  # noqa: S105 -- the name of a variable, not a password
SIGNATURE_FIELD = "AuditorSignature"


@dataclass(frozen=True, repr=False)
class SigningKey:
    """A private key and its certificate chain, loaded from a PKCS#12 file."""

    path: Path
    pkcs12_bytes: bytes
    password: bytes | None
    private_key: Any
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def __repr__(self) -> str:  # never show the key material or the password
        return f"SigningKey({self.path}, subject={self.subject!r})"


def load_signing_key(path: Path, password_env: str | None = None) -> SigningKey:
    """Load a PKCS#12 (.p12/.pfx) signing key; its password is read from the environment variable password_env
    (AUDITOR_SIGN_PASSWORD when not named; no password when that is unset)."""
    if password_env:
        if password_env not in os.environ:
            raise AuditorError(f"the environment variable {password_env} (--sign-password-env) is not set")
        password: bytes | None = os.environ[password_env].encode("utf-8")
    else:
        value = os.environ.get(DEFAULT_PASSWORD_ENV)
        password = value.encode("utf-8") if value is not None else None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditorError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    try:
        private_key, certificate, others = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError) as exc:
        # cryptography's message says only "Invalid password or PKCS12 data": nothing secret to leak.
        raise AuditorError(
            f"cannot open the signing key {path}: wrong password or not a PKCS#12 file "
            f"(the password is read from {password_env or DEFAULT_PASSWORD_ENV})"
        ) from exc
    if private_key is None or certificate is None:
        raise AuditorError(f"{path} holds no private key with its certificate: a PKCS#12 signing key needs both")
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise AuditorError(
            f"the signing certificate of {path} ({certificate.subject.rfc4514_string()}) is valid from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d}, not now"
        )
    return SigningKey(path, data, password, private_key, certificate, tuple(others))


def sign_pdf(path: Path, key: SigningKey, *, reason: str) -> None:
    """Sign the PDF at path in place with a PAdES baseline signature (an incremental update, so the report's
    original bytes, its PDF/A identification and its seal stay as they were)."""
    # Deferred for import cost: pyHanko loads only when this runs.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load_pkcs12_data(key.pkcs12_bytes, other_certs=[], passphrase=key.password)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(path.read_bytes()))
    _producer_as_in_xmp(writer)
    output = io.BytesIO()
    signers.sign_pdf(writer, metadata, signer=signer, output=output)
    temporary = path.with_name(path.name + ".signing")
    temporary.write_bytes(output.getvalue())
    temporary.replace(path)


def signer_name(certificate: x509.Certificate) -> str:
    """A certificate's holder as a reader names it: common name, then organisation (or the full subject)."""

    def first(oid: x509.ObjectIdentifier) -> str:
        values = certificate.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    common, organisation = first(NameOID.COMMON_NAME), first(NameOID.ORGANIZATION_NAME)
    if not common:
        return certificate.subject.rfc4514_string() or "(no subject)"
    return f"{common} ({organisation})" if organisation else common


def _producer_as_in_xmp(writer: Any) -> None:
    """Keep the Info dictionary's /Producer equal to the XMP's pdf:Producer, as PDF/A requires (ISO 19005-3
    §6.6.2.3.1): pyHanko rewrites pdf:Producer to its own name but appends it to /Producer."""
    # Deferred for import cost: pyHanko loads only when this runs.
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    try:
        current = writer.trailer["/Info"]
    except KeyError:
        return
    info = generic.DictionaryObject({key: value for key, value in current.items()})
    info[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
    writer.set_info(info)


@dataclass(frozen=True)
class PdfSignature:
    """One embedded signature, validated."""

    field: str
    signer: str  # common name (organisation)
    subject: str  # the certificate's full subject, RFC 4514
    fingerprint: str  # SHA-256 of the signer's certificate
    signed_at: str
    intact: bool  # the signed bytes still hash to the signed digest
    valid: bool  # and the signature over that digest checks with the signer's key
    trusted: bool | None  # chains to a given trust anchor; None when no anchor was given
    covers_whole_file: bool
    changes_after: str  # what later revisions changed: 'none', or pyHanko's modification level
    summary: str

    @property
    def unchanged(self) -> bool:
        """The document as signed is what a reader sees now (later revisions may only add validation data)."""
        return self.covers_whole_file or self.changes_after in ("none", "lta_updates")


def pdf_signatures(data: bytes, trust_anchors: list[x509.Certificate] | None = None) -> list[PdfSignature]:
    """Validate every signature embedded in a PDF; trust is judged only against the given anchors."""
    # Deferred for import cost: pyHanko loads only when this runs.
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    anchors = [asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in trust_anchors or []]
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise AuditorError(f"cannot read the PDF's signatures: {exc}") from exc
    results = []
    for signature in embedded:
        context = ValidationContext(trust_roots=anchors, allow_fetching=False)
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as exc:  # a malformed or tampered signature: shown as a failed signature, not a crash
            results.append(_unreadable(str(signature.field_name), exc))
            continue
        certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
        level = status.modification_level
        changes = "none" if level is None else str(level.name).lower()
        coverage = status.coverage
        whole = coverage is not None and coverage.name == "ENTIRE_FILE"
        when = status.signer_reported_dt.strftime("%Y-%m-%dT%H:%M:%SZ") if status.signer_reported_dt else "unknown"
        results.append(
            PdfSignature(
                field=str(signature.field_name),
                signer=signer_name(certificate),
                subject=certificate.subject.rfc4514_string(),
                fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
                signed_at=when,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted) if anchors else None,
                covers_whole_file=whole,
                changes_after="none" if whole else changes,
                summary=status.summary(),
            )
        )
    return results


def _unreadable(field: str, exc: Exception) -> PdfSignature:
    reason = f"cannot validate: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return PdfSignature(field, "unknown signer", "", "", "unknown", False, False, None, False, "unknown", reason)


def load_certificates(paths: list[Path]) -> list[x509.Certificate]:
    """Trust anchors from PEM (one or more certificates) or DER files."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise AuditorError(f"cannot read the certificate {path}: {exc.strerror}") from exc
        try:
            if b"-----BEGIN" in raw:
                anchors.extend(x509.load_pem_x509_certificates(raw))
            else:
                anchors.append(x509.load_der_x509_certificate(raw))
        except ValueError as exc:
            raise AuditorError(f"{path} is not a PEM or DER certificate") from exc
    return anchors
