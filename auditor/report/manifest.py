"""report-manifest.json: the digests a report states, written beside it, so `auditor verify` can check them.

The manifest records the scan's raw-evidence digest, the findings digest, the policy and catalog digests,
and the SHA-256 of each report file written with it. It is not a signature: whoever can rewrite the database
and the manifest together can make them agree. Keep (or sign) the manifest's own SHA-256 where the reports
are filed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.integrity import file_sha256
from auditor.report.data import ReportData

MANIFEST_NAME = "report-manifest.json"
MANIFEST_VERSION = 1


def _utc(moment: Any) -> str:
    text: str = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def manifest_for(data: ReportData, files: Sequence[Path]) -> dict[str, Any]:
    """The manifest of a report: its digests and its files (names relative to the manifest)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": "aks-upgrade-auditor",
        "tool_version": data.tool_version,
        "generated_at": _utc(data.generated_at),
        "scan": {
            "scan_id": data.scan.scan_id,
            "status": data.scan.status,
            "started_at": _utc(data.scan.started_at),
            "finished_at": _utc(data.scan.finished_at),
            "evidence_sha256": data.scan.evidence_sha256,
            "evidence_items": data.evidence_rows,
        },
        "policy": {"source": data.policy.source, "sha256": data.policy.sha256},
        "catalog_sha256": data.catalog_sha256,
        "findings": {"count": len(data.findings), "sha256": data.findings_sha256, "by_status": data.totals},
        "files": {path.name: {"sha256": file_sha256(path), "bytes": path.stat().st_size} for path in files},
    }


def write_manifest(data: ReportData, out_dir: Path, files: Sequence[Path]) -> Path:
    """Write report-manifest.json beside the reports.

    Reports of the same scan and findings rendered into the same directory by earlier runs stay listed
    (their entries are kept); a manifest of another scan or other findings is replaced.
    """
    path = out_dir / MANIFEST_NAME
    manifest = manifest_for(data, files)
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if (
            isinstance(previous, dict)
            and previous.get("scan", {}).get("scan_id") == data.scan.scan_id
            and previous.get("findings", {}).get("sha256") == data.findings_sha256
        ):
            kept = {
                name: entry
                for name, entry in dict(previous.get("files", {})).items()
                if name not in manifest["files"] and (out_dir / name).exists()
            }
            manifest["files"] = dict(sorted({**kept, **manifest["files"]}.items()))
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest, checked for the fields verification needs."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AuditorError(
            f"no report manifest at {path}: `auditor report` writes {MANIFEST_NAME} beside the reports"
        ) from exc
    except (OSError, ValueError) as exc:
        raise AuditorError(f"{path} is not a readable report manifest: {exc}") from exc
    try:
        if manifest["manifest_version"] != MANIFEST_VERSION:
            raise AuditorError(
                f"{path}: manifest version {manifest['manifest_version']} is not supported "
                f"(this tool reads version {MANIFEST_VERSION})"
            )
        for key in ("scan_id", "evidence_sha256"):
            str(manifest["scan"][key])
        str(manifest["findings"]["sha256"])
        str(manifest["policy"]["sha256"])
    except (KeyError, TypeError) as exc:
        raise AuditorError(f"{path} lacks the field {exc} of a report manifest") from exc
    return dict(manifest)
