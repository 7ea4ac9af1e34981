"""Integrity primitives shared by `auditor report` and `auditor verify`: file and tree digests, the PDF seal, DSSE.

The PDF seal makes an unsigned report detect its own corruption: the second element of the PDF's file
identifier (trailer `/ID`, ISO 32000-1 §14.4) holds the SHA-256 of the file as written, computed with that
element set to 64 zeros. Any changed byte of the first revision changes the digest; a later incremental
update (an edit saved by a viewer) adds a revision, which `auditor verify --pdf` reports. The seal proves
integrity, not authorship: anyone who can rewrite the file can recompute it. A signature proves who.

DSSE (Dead Simple Signing Envelope, https://github.com/secure-systems-lab/dsse, protocol v1): the signature is
over PAE(payloadType, payload), never over the payload alone, so a payload cannot be replayed as another type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from auditor import sql
from auditor.errors import AuditorError

SEAL_PLACEHOLDER = b"<" + b"0" * 64 + b">"
# The end of a revision: `startxref <offset> %%EOF` and its end of line (ISO 32000-1 §7.5.5).
_REVISION_END = re.compile(rb"startxref\s+(\d+)\s+%%EOF[ \t]*(?:\r\n|\r|\n)?")
# A PDF string: hexadecimal <...> or literal (...) with escapes (no nested parentheses in identifiers).
_PDF_STRING = rb"(<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\()])*\))"
_FILE_ID = re.compile(rb"/ID\s*\[\s*" + _PDF_STRING + rb"\s*" + _PDF_STRING + rb"\s*\]", re.DOTALL)

PAYLOAD_TYPE_INTOTO = "application/vnd.in-toto+json"


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes, as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class NamedDigest:
    """SHA-256 over named byte strings, each framed as name NUL bytes NUL, in the order added: the framing of the
    report's catalog digest (catalog_sha256) and of the findings cache's evaluator key."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add(self, name: str, data: bytes) -> None:
        self._digest.update(name.encode() + b"\0" + data + b"\0")

    def add_tree(self, root: Path, patterns: Sequence[str]) -> None:
        """Every file under root matching each glob pattern in turn (name order within a pattern), named by its
        path relative to root with '/' separators."""
        for pattern in patterns:
            for path in sorted(p for p in root.glob(pattern) if p.is_file()):
                self.add(path.relative_to(root).as_posix(), path.read_bytes())

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def tree_digest(root: Path, patterns: Sequence[str]) -> str:
    """The NamedDigest of the files under root matching patterns (see NamedDigest.add_tree)."""
    digest = NamedDigest()
    digest.add_tree(root, patterns)
    return digest.hexdigest()


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def findings_digest(records: Iterable[Mapping[str, Any]]) -> str:
    """The report's findings digest: SHA-256 of the JSON array of the finding records (keys sorted, compact,
    UTF-8), records already in canonical order (control id, lower-case resource id, pool). Streamed: a JSON
    array is its elements joined by ',' between '[' and ']', so hashing them one by one gives the same digest as
    hashing one large text, in flat memory."""
    digest = hashlib.sha256(b"[")
    chunk: list[str] = []
    first = True
    for record in records:
        chunk.append(_CANONICAL_JSON.encode(record))
        if len(chunk) == 2000:  # a few thousand at a time: one hash update per chunk, not per record
            digest.update((("" if first else ",") + ",".join(chunk)).encode())
            chunk, first = [], False
    if chunk:
        digest.update((("" if first else ",") + ",".join(chunk)).encode())
    digest.update(b"]")
    return digest.hexdigest()


_BATCH = 8192


def eval_findings_digest(cursor: Any) -> str | None:
    """findings_digest of the findings in the evaluation's `eval_findings` table on cursor, their JSON built in
    DuckDB (queries/report/findings_json.sql); None when the table's `ord` order might not be the order the report
    digests in (then the caller digests its Finding objects). Rows DuckDB would encode differently from Python's
    json (control characters) are encoded in Python; tags and waivers, JSON texts in the table, are parsed and
    encoded once per distinct text, as the Finding objects hold them parsed."""
    for kind, resource_id, lowered in sql.run(cursor, "report/digest_order.sql"):
        if kind != "id" or resource_id.lower() != lowered:
            return None
    parts = [
        {"kind": kind, "raw": text, "canonical": _CANONICAL_JSON.encode(json.loads(text))}
        for kind, text in sql.run(cursor, "report/digest_texts.sql")
    ]
    sql.run(cursor, "report/digest_setup.sql", parts=parts)
    digest = hashlib.sha256(b"[")
    update = digest.update
    try:
        # One query, read in batches: fifty queries of a batch each ran one thread at a time and cost a third more.
        # Each text carries its separator, so each is hashed as it comes: joining them first cost more than hashing.
        for batch in sql.batches(cursor, "report/findings_json.sql", size=_BATCH):
            for text, record in batch:
                update(text if record is None else text + _canonical_record(record).encode())
    finally:
        sql.run(cursor, "report/digest_drop.sql")
    update(b"]")
    return digest.hexdigest()


def _canonical_record(text: str) -> str:
    """One finding's canonical JSON from its table row as JSON text (tags and waiver are JSON texts in the row,
    parsed in a Finding)."""
    record = json.loads(text)
    waiver = json.loads(record["waiver"]) if record["waiver"] is not None else None
    return _CANONICAL_JSON.encode({**record, "tags": json.loads(record["tags"]), "waiver": waiver})


# --- The PDF seal -------------------------------------------------------------------------------------------


def pdf_revisions(data: bytes) -> list[int]:
    """The end offset of each revision of a PDF (the original, then each incremental update)."""
    return [match.end() for match in _REVISION_END.finditer(data)]


def _file_id_span(data: bytes, revision_end: int) -> tuple[int, int] | None:
    """Where the second file identifier of the revision ending at revision_end sits, if it has one."""
    ends = [m for m in _REVISION_END.finditer(data, 0, revision_end)]
    if not ends:
        return None
    last = ends[-1]
    xref_offset = int(last.group(1))
    if not 0 <= xref_offset < last.start():
        return None
    # The trailer (or the cross-reference stream's dictionary, before its binary data) follows the xref offset.
    found = _FILE_ID.search(data, xref_offset, last.start())
    return (found.start(2), found.end(2)) if found else None


def seal_pdf(data: bytes) -> bytes:
    """The PDF with its seal written into the second file identifier; data must be one revision with an /ID."""
    revisions = pdf_revisions(data)
    span = _file_id_span(data, revisions[0]) if len(revisions) == 1 else None
    if span is None:
        raise AuditorError("cannot seal the PDF: expected one revision with a file identifier")
    start, end = span
    zeroed = data[:start] + SEAL_PLACEHOLDER + data[end:]
    digest = sha256_hex(zeroed).encode()
    return zeroed[:start] + b"<" + digest + b">" + zeroed[start + len(SEAL_PLACEHOLDER) :]


@dataclass(frozen=True)
class SealCheck:
    """The seal of a PDF's first revision: what it states, what the bytes give, and how many revisions follow."""

    stated: str | None  # None when the first revision carries no seal
    computed: str
    revisions: int

    @property
    def intact(self) -> bool:
        return self.stated is not None and self.stated == self.computed


def check_seal(data: bytes) -> SealCheck:
    """Recompute the seal of the PDF's first revision (the report as the auditor wrote it)."""
    revisions = pdf_revisions(data)
    if not revisions:
        return SealCheck(None, sha256_hex(data), 0)
    first = data[: revisions[0]]
    span = _file_id_span(first, len(first))
    if span is None:
        return SealCheck(None, sha256_hex(first), len(revisions))
    start, end = span
    stated_raw = first[start:end]
    stated = None
    if stated_raw.startswith(b"<"):
        hex_digits = re.sub(rb"\s", b"", stated_raw[1:-1]).decode("ascii").lower()
        stated = hex_digits if len(hex_digits) == 64 else None
    computed = sha256_hex(first[:start] + SEAL_PLACEHOLDER + first[end:])
    return SealCheck(stated, computed, len(revisions))


# --- DSSE ---------------------------------------------------------------------------------------------------


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding of a payload type and a body."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def key_id(public_key: Any) -> str:
    """A key id: SHA-256 of the DER SubjectPublicKeyInfo (a hint for verifiers, never a security decision)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return sha256_hex(der)


def _sign(private_key: Any, message: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    raise AuditorError(f"cannot sign with a {type(private_key).__name__} key: use RSA, ECDSA or Ed25519")


def _verify(public_key: Any, signature: bytes, message: bytes) -> None:
    """Raise InvalidSignature unless signature is the key's over message."""
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        public_key.verify(signature, message)
    else:
        raise InvalidSignature(f"unsupported key type {type(public_key).__name__}")


def dsse_sign(body: bytes, payload_type: str, private_key: Any, certificate: x509.Certificate) -> dict[str, Any]:
    """A DSSE JSON envelope of body signed with private_key; `certificate` (PEM) is an extension field that
    lets a verifier say who signed (consumers that do not know it ignore it, as the envelope spec requires)."""
    signature = _sign(private_key, pae(payload_type, body))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(body).decode("ascii"),
        "signatures": [
            {
                "keyid": key_id(certificate.public_key()),
                "sig": base64.b64encode(signature).decode("ascii"),
                "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            }
        ],
    }


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, as DSSE verifiers must accept either."""
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuditorError(f"invalid base64 in the DSSE envelope: {exc}") from exc


@dataclass(frozen=True)
class EnvelopeCheck:
    """A DSSE envelope verified: its payload, and per signature who signed and whether it holds."""

    payload_type: str
    payload: bytes
    signers: list[tuple[str, bool, x509.Certificate | None]]  # (subject or key id, signature valid, cert)

    @property
    def valid(self) -> bool:
        return bool(self.signers) and all(ok for _, ok, _ in self.signers)


def dsse_verify(envelope: Any) -> EnvelopeCheck:
    """Verify every signature of a DSSE envelope against the certificate it carries."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("signatures"), list):
        raise AuditorError("not a DSSE envelope: payload, payloadType and signatures are required")
    payload_type = envelope.get("payloadType")
    payload_text = envelope.get("payload")
    if not isinstance(payload_type, str) or not isinstance(payload_text, str):
        raise AuditorError("not a DSSE envelope: payload and payloadType must be strings")
    body = _b64decode(payload_text)
    message = pae(payload_type, body)
    signers: list[tuple[str, bool, x509.Certificate | None]] = []
    for entry in envelope["signatures"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("sig"), str):
            signers.append(("(malformed signature entry)", False, None))
            continue
        pem = entry.get("certificate")
        if not isinstance(pem, str):
            signers.append((f"key {entry.get('keyid') or '(no key id)'} (no certificate to check it)", False, None))
            continue
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except ValueError:
            signers.append(("(unreadable certificate)", False, None))
            continue
        try:
            _verify(certificate.public_key(), _b64decode(entry["sig"]), message)
            ok = True
        except (InvalidSignature, AuditorError):
            ok = False
        signers.append((certificate.subject.rfc4514_string(), ok, certificate))
    return EnvelopeCheck(payload_type, body, signers)


def issued_by_any(certificate: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    """True when certificate is one of the anchors or directly issued (and signed) by one of them."""
    for anchor in anchors:
        if certificate.fingerprint(hashes.SHA256()) == anchor.fingerprint(hashes.SHA256()):
            return True
        try:
            certificate.verify_directly_issued_by(anchor)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False
