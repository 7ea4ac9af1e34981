"""The evidence a PDF report carries inside itself (PDF/A-3 associated files), and reading it back.

Three files are embedded, each with the AFRelationship that says what it is to the document (ISO 32000-2
§7.11.3, PDF/A-3 §6.8):
- findings.json (Data): every finding, as `findings.json` beside the reports; the tables are drawn from it;
- report-manifest.json (Supplement): the report's digests (evidence, findings, policy, catalog) and the SHA-256
  of the two other attachments;
- policy.toml (Source): the policy file in effect, byte for byte (its SHA-256 is the report's policy digest),
  or, without a policy file, the built-in defaults written as TOML.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.integrity import sha256_hex
from auditor.policy import Policy, default_policy
from auditor.report.data import ReportData
from auditor.report.manifest import MANIFEST_NAME, manifest_for
from auditor.report.tabular import findings_json

FINDINGS_NAME = "findings.json"
POLICY_NAME = "policy.toml"
ATTACHMENTS: dict[str, tuple[str, str]] = {  # name -> (AFRelationship, description)
    FINDINGS_NAME: ("Data", "Every finding of the report, as JSON (docs/findings.schema.json)"),
    MANIFEST_NAME: ("Supplement", "The report's digests: evidence, findings, policy, control catalog"),
    POLICY_NAME: ("Source", "The policy in effect (thresholds, scopes, waivers)"),
}


def defaults_toml(policy: Policy) -> bytes:
    """The built-in defaults written as a policy file (TOML), for the record; loading it gives the same
    thresholds. Its bytes are not the defaults' digest, which is computed from the thresholds themselves."""
    lines = [
        "# aks-upgrade-auditor: no policy file was given; these are the built-in defaults in effect.",
        f"# Built-in defaults digest (SHA-256): {policy.sha256}",
        "",
        "[thresholds]",
    ]
    for name, value in policy.thresholds.items():
        lines.append(f"{name} = {json.dumps(value)}")  # ints, booleans, strings and string lists: valid TOML
    return ("\n".join(lines) + "\n").encode("utf-8")


def is_default_policy(source: str) -> bool:
    """True when a policy (or a manifest's policy source) is the built-in defaults, not a file."""
    return source == default_policy().source


def policy_bytes(policy: Policy) -> bytes:
    """The policy file's bytes as evaluated (checked against its digest), or the defaults as TOML."""
    if is_default_policy(policy.source):
        return defaults_toml(policy)
    path = Path(policy.source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditorError(f"cannot embed the policy file {path}: {exc.strerror}") from exc
    if sha256_hex(raw) != policy.sha256:
        raise AuditorError(f"the policy file {path} changed while the report was written: run the report again")
    return raw


def package_for(data: ReportData) -> dict[str, bytes]:
    """The attachments of a PDF report, by name."""
    findings = (findings_json(data.findings) + "\n").encode("utf-8")
    policy = policy_bytes(data.policy)
    manifest = manifest_for(data, [])
    manifest["files"] = {
        FINDINGS_NAME: {"sha256": sha256_hex(findings), "bytes": len(findings)},
        POLICY_NAME: {"sha256": sha256_hex(policy), "bytes": len(policy)},
    }
    manifest["embedded"] = True  # attached to report.pdf: its `files` are the PDF's other attachments
    return {
        MANIFEST_NAME: (json.dumps(manifest, indent=2) + "\n").encode("utf-8"),
        FINDINGS_NAME: findings,
        POLICY_NAME: policy,
    }


@dataclass
class Attachment:
    """One file embedded in a PDF."""

    name: str
    data: bytes
    relationship: str | None  # AFRelationship, without the slash; None when not an associated file
    mime_type: str | None
    copies: int = 1  # embedded files of this name (more than one is ambiguous)


@dataclass
class PdfPackage:
    """What verification reads out of a PDF: its attachments and its PDF/A identification (XMP)."""

    attachments: dict[str, Attachment] = field(default_factory=dict)
    pdfa_part: str | None = None
    pdfa_conformance: str | None = None
    pages: int = 0

    @property
    def pdfa(self) -> str | None:
        return f"PDF/A-{self.pdfa_part}{(self.pdfa_conformance or '').lower()}" if self.pdfa_part else None


def read_package(pdf: bytes) -> PdfPackage:
    """The attachments and PDF/A identification of a PDF, read as any PDF reader would (pypdf)."""
    # Deferred for import cost: pypdf loads only when a package is read back.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        package = PdfPackage(pages=len(reader.pages))
        embedded = {name: list(contents) for name, contents in reader.attachments.items()}
        root: Any = reader.trailer["/Root"]
        relationships: dict[str, str] = {}
        mime_types: dict[str, str] = {}
        for reference in root.get("/AF", []) or []:
            spec: Any = reference.get_object()
            name = str(spec.get("/UF") or spec.get("/F") or "")
            relationship = spec.get("/AFRelationship")
            if name and relationship is not None:
                relationships[name] = str(relationship).lstrip("/")
            stream = spec.get("/EF", {}).get("/F")
            subtype = stream.get_object().get("/Subtype") if stream is not None else None
            if name and subtype is not None:
                mime_types[name] = str(subtype).lstrip("/").replace("#2f", "/").replace("#2F", "/")
        xmp = reader.xmp_metadata
        if xmp is not None:
            package.pdfa_part = _first(xmp.pdfaid_part)
            package.pdfa_conformance = _first(xmp.pdfaid_conformance)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditorError(f"cannot read the PDF: {type(exc).__name__}: {exc}") from exc
    for name, contents in embedded.items():
        package.attachments[name] = Attachment(
            name, contents[0], relationships.get(name), mime_types.get(name), copies=len(contents)
        )
    return package


def _first(value: Any) -> str | None:
    if value is None:
        return None
    return str(value[0] if isinstance(value, list | tuple) and value else value)
