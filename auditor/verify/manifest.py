"""`auditor verify`: recompute a report's digests from the database and compare them with its manifest.

Checks, each `match`, `MISMATCH` or `info`/`skipped`:
- evidence: SHA-256 over the scan's raw evidence rows, recomputed, against the manifest (and against the
  digest stored with the scan when it was committed);
- policy: the SHA-256 of the policy given now against the one the report used (findings depend on it);
- findings: the scan re-evaluated under that policy, SHA-256 over the findings, against the manifest;
- catalog: the control catalog's digest (info: a different catalog explains different findings);
- files: each report file listed in the manifest and present beside it, against its recorded SHA-256.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from auditor import sql
from auditor.controls import control_ids, evaluate_scan, load_catalog
from auditor.integrity import file_sha256, findings_digest
from auditor.policy import load_policy
from auditor.report.data import canonical_records, query_files
from auditor.report.manifest import read_manifest
from auditor.store import open_db, resolve_scan, stored_evidence_digest


@dataclass
class Check:
    """One comparison: ok True (match), False (mismatch) or None (information, or skipped)."""

    name: str
    ok: bool | None
    expected: str
    actual: str
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "match", False: "MISMATCH", None: "info"}[self.ok]


@dataclass
class VerifyResult:
    """Every check of one verification."""

    scan_id: str
    manifest: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "manifest": self.manifest,
            "ok": self.ok,
            "checks": [{**asdict(c), "verdict": c.verdict} for c in self.checks],
        }

    def lines(self) -> list[str]:
        width = max((len(c.name) for c in self.checks), default=8)
        out = [f"scan {self.scan_id} against {self.manifest}"]
        for c in self.checks:
            line = f"  {c.name:<{width}}  {c.verdict:<8}  {c.actual[:64]}"
            if c.ok is False:
                line += f"\n  {'':<{width}}  {'':<8}  expected {c.expected[:64]}"
            if c.detail:
                line += f"\n  {'':<{width}}  {'':<8}  {c.detail}"
            out.append(line)
        failed = ", ".join(c.name for c in self.checks if c.ok is False)
        out.append("verified: every digest matches the database" if self.ok else f"NOT verified: {failed} differ")
        return out


def recompute_evidence_digest(con: duckdb.DuckDBPyConnection, scan_id: str) -> tuple[str, int]:
    """The raw-evidence digest of a scan recomputed from its stored rows, and how many rows it covers."""
    count = sql.run(con, "verify/evidence_count.sql", scan_id=scan_id).scalar()
    return stored_evidence_digest(con, scan_id), int(count)


def verify(
    db_path: Path, manifest_path: Path, *, scan_selector: str | None = None, policy_path: Path | None = None
) -> VerifyResult:
    """Compare a report manifest with what the database yields now."""
    manifest = read_manifest(manifest_path)
    recorded = manifest["scan"]
    con = open_db(db_path, read_only=True)
    try:
        scan = resolve_scan(con, recorded["scan_id"])
        result = VerifyResult(scan.scan_id, str(manifest_path))
        if scan_selector and scan_selector != "latest":
            asked = resolve_scan(con, scan_selector)
            same = asked.scan_id == scan.scan_id
            result.checks.append(
                Check(
                    "scan",
                    same,
                    scan.scan_id,
                    asked.scan_id,
                    "" if same else "--scan names another scan than the manifest's",
                )
            )
        digest, items = recompute_evidence_digest(con, scan.scan_id)
        result.checks.append(
            Check(
                "evidence",
                digest == recorded["evidence_sha256"],
                recorded["evidence_sha256"],
                digest,
                f"{items} evidence items recomputed from the database",
            )
        )
        if scan.evidence_sha256 != digest:
            result.checks.append(
                Check(
                    "stored digest",
                    False,
                    digest,
                    scan.evidence_sha256,
                    "the digest stored with the scan no longer matches its evidence rows",
                )
            )
        policy = load_policy(policy_path, known_controls=control_ids())
        expected_policy = manifest["policy"]["sha256"]
        policy_ok = policy.sha256 == expected_policy
        result.checks.append(
            Check(
                "policy",
                policy_ok,
                expected_policy,
                policy.sha256,
                ""
                if policy_ok
                else f"the report used {manifest['policy'].get('source', 'another policy')}: "
                "pass that file with --policy",
            )
        )
        findings = evaluate_scan(con, scan.scan_id, policy)
    finally:
        con.close()
    got = findings_digest(canonical_records(findings))
    expected_findings = manifest["findings"]["sha256"]
    count = manifest["findings"].get("count")
    result.checks.append(
        Check(
            "findings",
            got == expected_findings,
            expected_findings,
            got,
            f"{len(findings)} findings re-evaluated"
            + ("" if count in (None, len(findings)) else f"; the report had {count}"),
        )
    )
    _catalog_check(result, manifest)
    for name, entry in sorted(dict(manifest.get("files", {})).items()):
        path = manifest_path.parent / Path(name).name
        if not path.exists():
            result.checks.append(
                Check(
                    f"file {name}",
                    None,
                    str(entry.get("sha256", "")),
                    "not present",
                    "skipped: the file is not beside the manifest",
                )
            )
            continue
        actual = file_sha256(path)
        expected = str(entry.get("sha256", ""))
        result.checks.append(Check(f"file {name}", actual == expected, expected, actual))
    return result


def _catalog_check(result: VerifyResult, manifest: dict[str, Any]) -> None:
    expected = manifest.get("catalog_sha256")
    if not expected:
        return
    _, current = query_files(load_catalog())
    if current == expected:
        result.checks.append(Check("catalog", True, expected, current))
    else:
        result.checks.append(
            Check(
                "catalog",
                None,
                expected,
                current,
                "this tool's control catalog differs from the report's: findings may differ "
                f"(report made by {manifest.get('tool_version', '?')})",
            )
        )
