"""report.intoto.json: an in-toto Statement v1 over every report file, with a test-result predicate.

Subjects are the files listed in report-manifest.json plus the manifest itself, each with its SHA-256. The
predicate (https://in-toto.io/attestation/test-result/v0.1) says how the fleet fared: `result` FAILED when a
control has an unwaived failure, WARNED when one warns or lacks evidence (unknown is never a pass), PASSED
otherwise; the controls by outcome; and, as `configuration`, the policy, the control catalog and the scan's
raw evidence, each by digest. With a signing key the Statement is wrapped in a DSSE envelope
(payloadType application/vnd.in-toto+json); the file then holds the envelope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.integrity import PAYLOAD_TYPE_INTOTO, dsse_sign, dsse_verify, file_sha256
from auditor.report.data import ReportData
from auditor.signing import SigningKey

ATTESTATION_NAME = "report.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
# A control's headline verdict (ControlSection.verdict) -> the predicate's list it belongs to.
OUTCOME = {
    "fail": "failedTests",
    "warn": "warnedTests",
    "unknown": "warnedTests",
    "waived": "passedTests",
    "pass": "passedTests",
    "not_applicable": "passedTests",
}


def statement_for(data: ReportData, manifest_path: Path) -> dict[str, Any]:
    """The Statement over the files of a manifest (and the manifest), with the report's test-result predicate."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    subjects = [
        {"name": name, "digest": {"sha256": str(entry["sha256"])}}
        for name, entry in sorted(dict(manifest.get("files", {})).items())
    ]
    subjects.append({"name": manifest_path.name, "digest": {"sha256": file_sha256(manifest_path)}})
    outcomes: dict[str, list[str]] = {"passedTests": [], "warnedTests": [], "failedTests": []}
    for section in sorted(data.sections, key=lambda s: s.control.id):
        outcomes[OUTCOME[section.verdict]].append(section.control.id)
    result = "FAILED" if outcomes["failedTests"] else "WARNED" if outcomes["warnedTests"] else "PASSED"
    predicate = {
        "result": result,
        "configuration": [
            {
                "name": Path(data.policy.source).name
                if data.policy.source != "built-in defaults"
                else "built-in defaults",
                "digest": {"sha256": data.policy.sha256},
                "annotations": {"role": "policy", "source": data.policy.source},
            },
            {
                "name": "control-catalog",
                "digest": {"sha256": data.catalog_sha256},
                "annotations": {
                    "role": "control catalog",
                    "tool": "aks-upgrade-auditor",
                    "toolVersion": data.tool_version,
                },
            },
            {
                "name": f"scan:{data.scan.scan_id}",
                "digest": {"sha256": data.scan.evidence_sha256},
                "annotations": {
                    "role": "raw evidence",
                    "scanStatus": data.scan.status,
                    "evidenceItems": data.evidence_rows,
                    "findings": len(data.findings),
                    "findingsSha256": data.findings_sha256,
                    "findingsByStatus": dict(data.totals),
                },
            },
        ],
        **outcomes,
    }
    return {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": PREDICATE_TYPE, "predicate": predicate}


def write_attestation(data: ReportData, manifest_path: Path, key: SigningKey | None = None) -> Path:
    """Write report.intoto.json beside the manifest: the Statement, or its DSSE envelope when a key is given."""
    statement = statement_for(data, manifest_path)
    body = (json.dumps(statement, indent=2) + "\n").encode("utf-8")
    path = manifest_path.parent / ATTESTATION_NAME
    if key is None:
        path.write_bytes(body)
    else:
        envelope = dsse_sign(body, PAYLOAD_TYPE_INTOTO, key.private_key, key.certificate)
        path.write_text(json.dumps(envelope, indent=2) + "\n", encoding="utf-8")
    return path


def read_attestation(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(statement, envelope or None) from report.intoto.json; the envelope's signatures are not checked here."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuditorError(f"{path} is not a readable in-toto attestation: {exc}") from exc
    envelope = None
    if isinstance(document, dict) and "payloadType" in document:
        envelope = document
        if document.get("payloadType") != PAYLOAD_TYPE_INTOTO:
            raise AuditorError(
                f"{path}: DSSE payloadType is {document.get('payloadType')!r}, not {PAYLOAD_TYPE_INTOTO}"
            )
        try:
            document = json.loads(dsse_verify(document).payload)
        except ValueError as exc:
            raise AuditorError(f"{path}: the DSSE payload is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("_type") != STATEMENT_TYPE:
        raise AuditorError(f"{path} is not an in-toto Statement v1")
    return document, envelope
