"""`auditor verify --pdf`, and the seal, signature and attestation checks of `auditor verify`.

A PDF report is checked on its own: its seal (auditor/integrity.py) and signatures (auditor/signing.py), its
PDF/A identification and attachments (auditor/report/package.py), then the attached manifest's digests are
recomputed from the database by `verify` itself, under the attached policy. Beside a manifest, report.pdf's
seal and signature and report.intoto.json (subjects, digests, DSSE signature) are checked after `verify`.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from cryptography import x509

from auditor.controls import Finding, control_ids
from auditor.errors import AuditorError, InputError
from auditor.integrity import check_seal, dsse_verify, file_sha256, findings_digest, issued_by_any
from auditor.period import build_period, figures_sha256
from auditor.policy import default_policy, load_policy
from auditor.report.attestation import ATTESTATION_NAME, read_attestation
from auditor.report.data import canonical_records
from auditor.report.manifest import MANIFEST_NAME, read_manifest
from auditor.report.package import (
    ATTACHMENTS,
    FINDINGS_NAME,
    POLICY_NAME,
    defaults_toml,
    is_default_policy,
    read_package,
)
from auditor.report.period import PERIOD_ATTACHMENTS, PERIOD_JSON
from auditor.signing import PdfSignature, pdf_signatures, signer_name
from auditor.store import open_db
from auditor.verify.manifest import Check, VerifyResult, verify

PDF_NAME = "report.pdf"


def verify_with_signatures(
    db_path: Path,
    manifest_path: Path,
    *,
    scan_selector: str | None = None,
    policy_path: Path | None = None,
    trust_anchors: list[x509.Certificate] | None = None,
) -> VerifyResult:
    """verify(), then the seal and signature of report.pdf and the in-toto attestation found beside the manifest."""
    result = verify(db_path, manifest_path, scan_selector=scan_selector, policy_path=policy_path)
    manifest = read_manifest(manifest_path)
    pdf_path = manifest_path.parent / PDF_NAME
    if PDF_NAME in dict(manifest.get("files", {})) and pdf_path.exists():
        result.checks.extend(_document_checks(pdf_path.read_bytes(), trust_anchors, label=f"{PDF_NAME} "))
    attestation = manifest_path.parent / ATTESTATION_NAME
    if attestation.exists():
        result.checks.extend(_attestation_checks(attestation, manifest_path, manifest, trust_anchors))
    return result


def verify_pdf(
    db_path: Path,
    pdf_path: Path,
    *,
    scan_selector: str | None = None,
    trust_anchors: list[x509.Certificate] | None = None,
) -> VerifyResult:
    """Verify a PDF report on its own: its seal and signatures, its attachments (findings, manifest, policy)
    read back out of it, and the digests they state recomputed from the database."""
    try:
        data = pdf_path.read_bytes()
    except FileNotFoundError as exc:
        raise AuditorError(f"no PDF at {pdf_path}") from exc
    except OSError as exc:
        raise AuditorError(f"cannot read {pdf_path}: {exc.strerror}") from exc
    if not data.startswith(b"%PDF-"):
        raise AuditorError(f"{pdf_path} is not a PDF")
    checks = _document_checks(data, trust_anchors, label="")
    label = f"{pdf_path} (its attached {MANIFEST_NAME})"
    try:
        package = read_package(data)
    except AuditorError as exc:
        checks.append(Check("PDF structure", False, "a readable PDF", "unreadable", str(exc)[:200]))
        return VerifyResult("unknown", label, checks)
    period = PERIOD_JSON in package.attachments and MANIFEST_NAME not in package.attachments
    checks.append(
        Check(
            "PDF/A",
            package.pdfa == "PDF/A-3b",
            "PDF/A-3b",
            package.pdfa or "not declared",
            "" if package.pdfa == "PDF/A-3b" else "the XMP metadata does not identify the file as PDF/A-3b",
        )
    )
    for name, (relationship, _) in (PERIOD_ATTACHMENTS if period else ATTACHMENTS).items():
        attached = package.attachments.get(name)
        if attached is None:
            checks.append(Check(f"attachment {name}", False, relationship, "missing", "the report embeds it"))
            continue
        ok = attached.copies == 1 and attached.relationship == relationship
        detail = "" if attached.copies == 1 else f"{attached.copies} attachments share this name"
        actual = f"{attached.relationship or 'no AFRelationship'}, {len(attached.data)} bytes"
        checks.append(Check(f"attachment {name}", ok, relationship, actual, detail))
    if PERIOD_JSON in package.attachments and MANIFEST_NAME not in package.attachments:
        return _verify_period(db_path, pdf_path, package, checks, scan_selector)
    if MANIFEST_NAME not in package.attachments:
        return VerifyResult("unknown", label, checks)
    with tempfile.TemporaryDirectory(prefix="auditor-verify-") as tmp:
        folder = Path(tmp)
        for name, attached in package.attachments.items():
            if name in ATTACHMENTS:
                (folder / name).write_bytes(attached.data)
        try:
            manifest = read_manifest(folder / MANIFEST_NAME)
        except AuditorError as exc:
            raise AuditorError(
                f"{pdf_path}: {str(exc).replace(str(folder / MANIFEST_NAME), 'its attached manifest')}"
            ) from exc
        default = is_default_policy(str(manifest["policy"].get("source", "")))
        attached_policy = folder / POLICY_NAME
        if default and attached_policy.exists():
            expected = defaults_toml(default_policy())
            same = attached_policy.read_bytes() == expected
            checks.append(
                Check(
                    "attached policy",
                    same,
                    "the built-in defaults",
                    "the built-in defaults" if same else "another text",
                    "" if same else "the report names the built-in defaults but carries another policy text",
                )
            )
        checks.append(_attached_findings_check(folder / FINDINGS_NAME, manifest))
        try:
            database = verify(
                db_path,
                folder / MANIFEST_NAME,
                scan_selector=scan_selector,
                policy_path=None if default or not attached_policy.exists() else attached_policy,
            )
        except AuditorError as exc:
            raise AuditorError(str(exc).replace(str(folder) + "/", "attached ")) from exc
    for check in database.checks:
        if check.name.startswith("file "):
            check.name = "attached " + check.name.removeprefix("file ") + " digest"
            if check.actual == "not present":
                check.ok, check.detail = False, "the manifest lists it but the PDF does not carry it"
        elif check.name == "policy" and check.ok is False:
            check.detail = "the attached policy is not the one the attached manifest names"
    return VerifyResult(database.scan_id, label, checks + database.checks)


def _verify_period(
    db_path: Path, pdf_path: Path, package: Any, checks: list[Check], scan_selector: str | None
) -> VerifyResult:
    """A period report: its figures (period.json, attached) computed again from the database under the attached
    policy, over the same days, and compared (auditor/period.py, NOT_REPERFORMED aside)."""

    if scan_selector is not None:
        raise AuditorError("--scan does not go with a period report: it covers every scan of its period")
    label = f"{pdf_path} (its attached {PERIOD_JSON})"
    try:
        figures = json.loads(package.attachments[PERIOD_JSON].data.decode("utf-8"))
        start, end = date.fromisoformat(figures["from"]), date.fromisoformat(figures["to"])
        stated_policy = str(figures["policy"]["sha256"])
        scope_id = str(figures["scope"]["id"])
    except (ValueError, KeyError, TypeError) as exc:
        checks.append(Check(f"attached {PERIOD_JSON}", False, "the period's figures", "unreadable", str(exc)[:200]))
        return VerifyResult("period", label, checks)
    attached_policy = package.attachments.get(POLICY_NAME)
    default = is_default_policy(str(figures["policy"].get("source", "")))
    with tempfile.TemporaryDirectory(prefix="auditor-verify-") as tmp:
        policy_path = None
        if not default and attached_policy is not None:
            policy_path = Path(tmp) / POLICY_NAME
            policy_path.write_bytes(attached_policy.data)
        elif default and attached_policy is not None and attached_policy.data != defaults_toml(default_policy()):
            checks.append(
                Check(
                    "attached policy",
                    False,
                    "the built-in defaults",
                    "another text",
                    "the report names the built-in defaults but carries another policy text",
                )
            )
        policy = load_policy(policy_path, known_controls=control_ids())
    checks.append(Check("policy", policy.sha256 == stated_policy, stated_policy, policy.sha256))
    con = open_db(db_path)
    try:
        again = build_period(con, policy, start=start, end=end, scope=scope_id)
    except InputError:
        # The store holds no scan of the report's scope: nothing to re-perform the figures from.
        label_of_scope = str(figures["scope"].get("label", scope_id))
        checks.append(Check("period figures", False, f"scans of {label_of_scope} (id {scope_id})", "none in the store"))
        return VerifyResult(f"period {start} to {end}", label, checks)
    finally:
        con.close()
    expected, actual = figures_sha256(figures), figures_sha256(again.as_dict())
    checks.append(
        Check(
            "period figures",
            expected == actual,
            expected,
            actual,
            f"{again.scope.label}, {len(again.scans)} scan(s) from {start} to {end}"
            if expected == actual
            else "the figures computed again from the database differ from those the report carries",
        )
    )
    for scan in again.scans:
        checks.append(Check(f"scan {scan.scan_id}", None, "", scan.evidence_sha256, "raw evidence SHA-256"))
    return VerifyResult(f"period {start} to {end}", label, checks)


def _attached_findings_check(path: Path, manifest: dict[str, Any]) -> Check:
    """The findings digest recomputed from the attached findings.json, against the manifest's."""
    expected = str(manifest["findings"]["sha256"])
    if not path.exists():
        return Check("attached findings", False, expected, "missing")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        findings = [Finding(**record) for record in records]
    except (ValueError, TypeError) as exc:
        return Check("attached findings", False, expected, "unreadable", f"{type(exc).__name__}: {exc}"[:200])
    actual = findings_digest(canonical_records(findings))
    return Check(
        "attached findings", actual == expected, expected, actual, f"{len(findings)} findings read from the PDF"
    )


def _document_checks(data: bytes, anchors: list[x509.Certificate] | None, *, label: str) -> list[Check]:
    """The seal, the revisions and the signatures of a PDF's bytes."""
    try:
        signatures = pdf_signatures(data, anchors)
    except AuditorError as exc:
        checks = _seal_checks(data, [], label=label)
        checks.append(Check(f"{label}signature", False, "readable signatures", "unreadable", str(exc)[:200]))
        return checks
    return _seal_checks(data, signatures, label=label) + _signature_checks(signatures, anchors, label=label)


def _seal_checks(data: bytes, signatures: list[PdfSignature], *, label: str) -> list[Check]:
    """The seal of the report as written, and whether anything but signatures was added since."""
    seal = check_seal(data)
    checks = [
        Check(
            f"{label}seal",
            seal.intact,
            seal.stated or "a seal in the file identifier",
            seal.computed,
            ""
            if seal.intact
            else (
                "the file identifier holds no seal: not a report of this tool, or rewritten"
                if seal.stated is None
                else "the bytes of the report as written changed"
            ),
        )
    ]
    expected = 1 + len(signatures)
    checks.append(
        Check(
            f"{label}revisions",
            seal.revisions == expected,
            str(expected),
            str(seal.revisions),
            ""
            if seal.revisions == expected
            else "the file was updated after it was written (an incremental update that is not a signature): "
            "a viewer may show something else than the report",
        )
    )
    return checks


def _signature_checks(
    signatures: list[PdfSignature], anchors: list[x509.Certificate] | None, *, label: str
) -> list[Check]:
    """Who signed, whether each signature holds, and whether the document changed since."""
    if not signatures:
        return [Check(f"{label}signature", None, "", "not signed", "written without --sign-key: the seal only")]
    checks = []
    for signature in signatures:
        ok = signature.intact and signature.valid and signature.unchanged
        if signature.summary.startswith("cannot validate"):
            detail = signature.summary
        elif not signature.intact:
            detail = "the signed bytes changed: the document is not what was signed"
        elif not signature.valid:
            detail = "the signature does not match the signer's key"
        elif not signature.unchanged:
            detail = f"the document changed after it was signed ({signature.changes_after})"
        else:
            detail = "the document has not changed since it was signed"
        checks.append(
            Check(
                f"{label}signature",
                ok,
                "intact, valid, unchanged since signing",
                f"signed by {signature.signer}",
                f"{detail}; signed at {signature.signed_at} by {signature.subject or 'an unknown signer'}",
            )
        )
        if anchors:
            checks.append(
                Check(
                    f"{label}signer trust",
                    bool(signature.trusted),
                    "a certificate chaining to --trust-cert",
                    f"certificate SHA-256 {signature.fingerprint}",
                    "" if signature.trusted else "the signer's certificate does not chain to a given --trust-cert",
                )
            )
        else:
            checks.append(
                Check(
                    f"{label}signer trust",
                    None,
                    "",
                    f"certificate SHA-256 {signature.fingerprint}",
                    "not judged: pass --trust-cert to require a signer",
                )
            )
    return checks


def _attestation_checks(
    path: Path, manifest_path: Path, manifest: dict[str, Any], anchors: list[x509.Certificate] | None
) -> list[Check]:
    """report.intoto.json: its DSSE signature (if any), its subjects against the files, its digests against
    the manifest's."""

    name = "attestation"
    checks: list[Check] = []
    try:
        statement, envelope = read_attestation(path)
    except AuditorError as exc:
        return [Check(name, False, "an in-toto Statement v1", "unreadable", str(exc)[:200])]
    if envelope is None:
        checks.append(Check(f"{name} signature", None, "", "not signed", "a plain Statement (no --sign-key)"))
    else:
        envelope_check = dsse_verify(envelope)
        for signer, ok, certificate in envelope_check.signers:
            checks.append(
                Check(
                    f"{name} signature",
                    ok,
                    "a DSSE signature that verifies",
                    f"signed by {signer_name(certificate) if certificate else signer}",
                    (
                        f"DSSE, signed by {signer}"
                        if ok
                        else "the DSSE signature does not verify: the statement changed or the key differs"
                    ),
                )
            )
            if anchors:
                trusted = certificate is not None and issued_by_any(certificate, anchors)
                checks.append(Check(f"{name} signer trust", trusted, "a certificate issued by --trust-cert", signer))
    by_name = {str(s.get("name")): str(dict(s.get("digest", {})).get("sha256", "")) for s in statement["subject"]}
    for subject, expected in sorted(by_name.items()):
        target = manifest_path.parent / Path(subject).name
        if not target.exists():
            checks.append(Check(f"{name} subject {subject}", None, expected, "not present", "skipped"))
            continue
        actual = file_sha256(target)
        checks.append(Check(f"{name} subject {subject}", actual == expected, expected, actual))
    missing = sorted(set(dict(manifest.get("files", {}))) - set(by_name))
    if missing:
        checks.append(
            Check(
                f"{name} coverage",
                False,
                "every report file",
                f"missing {', '.join(missing)}",
                "the manifest lists files the attestation does not",
            )
        )
    configuration = {
        str(dict(c.get("annotations", {})).get("role")): str(dict(c.get("digest", {})).get("sha256"))
        for c in statement.get("predicate", {}).get("configuration", [])
        if isinstance(c, dict)
    }
    stated = (configuration.get("policy"), configuration.get("control catalog"), configuration.get("raw evidence"))
    recorded = (manifest["policy"]["sha256"], manifest.get("catalog_sha256"), manifest["scan"]["evidence_sha256"])
    checks.append(
        Check(
            f"{name} digests",
            stated == recorded,
            "the manifest's policy, catalog and evidence digests",
            "the same" if stated == recorded else "different",
        )
    )
    return checks
