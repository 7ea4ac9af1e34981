"""The control catalog (queries/controls/*.sql + *.toml) and its evaluation into findings."""

from __future__ import annotations

import hashlib
import json
import shlex
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from auditor.errors import AuditorError
from auditor.model import prepare_model
from auditor.paths import queries_dir
from auditor.policy import Policy

STATUSES = ("pass", "fail", "warn", "unknown", "waived", "not_applicable")
SEVERITIES = ("info", "low", "medium", "high", "critical")
LEVELS = ("cluster", "pool", "fleet")
RESULT_COLUMNS = ["resource_id", "node_pool", "status", "message", "evidence", "target"]
_REQUIRED_META = {"id", "title", "level", "severity", "rationale", "rule", "evidence", "remediation"}


@dataclass(frozen=True)
class Control:
    """One control: its metadata (TOML) and its SQL, side by side under queries/controls/."""

    id: str
    title: str
    level: str
    severity: str
    rationale: str
    rule: str
    evidence: tuple[str, ...]
    remediation: str
    sql: str
    frameworks: tuple[str, ...] = ()

    def remediation_for(self, resource_group: str, cluster: str, pool: str | None, target: str | None) -> str:
        # Names are untrusted: quote them so a copied command cannot run anything else.
        return self.remediation.format(
            resource_group=shlex.quote(resource_group or "RG"), cluster=shlex.quote(cluster or "NAME"),
            pool=shlex.quote(pool or "POOL"), target=shlex.quote(target or "VERSION"),
        )


@dataclass
class Finding:
    """One verdict of one control on one resource."""

    control_id: str
    status: str
    severity: str
    resource_id: str
    node_pool: str | None
    message: str
    title: str = ""
    cluster: str = ""
    subscription_id: str = ""
    subscription_name: str = ""
    resource_group: str = ""
    location: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    evidence: str = ""
    remediation: str = ""
    waiver: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _load_control(toml_path: Path) -> Control:
    meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    missing = _REQUIRED_META - set(meta)
    if missing:
        raise AuditorError(f"{toml_path}: control metadata lacks {', '.join(sorted(missing))}")
    sql_path = toml_path.with_suffix(".sql")
    if not sql_path.exists():
        raise AuditorError(f"{toml_path}: no SQL file {sql_path.name} beside it")
    if meta["id"] != toml_path.stem:
        raise AuditorError(f"{toml_path}: id {meta['id']} does not match the file name")
    if meta["level"] not in LEVELS or meta["severity"] not in SEVERITIES:
        raise AuditorError(f"{toml_path}: level must be one of {LEVELS} and severity one of {SEVERITIES}")
    return Control(
        id=meta["id"], title=meta["title"], level=meta["level"], severity=meta["severity"],
        rationale=" ".join(meta["rationale"].split()), rule=" ".join(meta["rule"].split()),
        evidence=tuple(meta["evidence"]), remediation=meta["remediation"],
        sql=sql_path.read_text(encoding="utf-8"),
        frameworks=tuple(meta.get("frameworks", ())),
    )


@cache
def load_catalog() -> tuple[Control, ...]:
    """Every control, ordered by id."""
    return tuple(_load_control(p) for p in sorted((queries_dir() / "controls").glob("AKS-*.toml")))


def evaluate(
    con: duckdb.DuckDBPyConnection,
    scan_id: str,
    policy: Policy,
    controls: tuple[Control, ...] | None = None,
) -> list[Finding]:
    """Run every control over one scan and return findings, waivers applied."""
    prepare_model(con, scan_id, policy)
    as_of = con.execute("SELECT as_of FROM scan").fetchone()
    if as_of is None:
        raise AuditorError(f"scan {scan_id} is not in the database")
    context = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT c.cluster_id, c.name, c.subscription_id, coalesce(s.display_name, ''), c.resource_group, "
            "c.location, CAST(c.tags AS VARCHAR), c.power_state FROM clusters c "
            "LEFT JOIN subscriptions s USING (subscription_id)"
        ).fetchall()
    }
    findings: list[Finding] = []
    for control in controls if controls is not None else load_catalog():
        try:
            rows = con.execute(control.sql).fetchall()
            columns = [d[0] for d in con.description or []]
        except duckdb.Error as exc:
            raise AuditorError(f"control {control.id} failed to evaluate: {' '.join(str(exc).split())}") from exc
        if columns != RESULT_COLUMNS:
            raise AuditorError(f"control {control.id} returns columns {columns}, expected {RESULT_COLUMNS}")
        for resource_id, node_pool, status, message, evidence, target in rows:
            if status not in STATUSES:
                raise AuditorError(f"control {control.id} returned status {status!r} for {resource_id}")
            name, sub_id, sub_name, group, location, tags_json, power = context.get(
                resource_id, ("", "", "", "", "", "{}", "Running")
            )
            if power and power.lower() == "stopped":
                message = f"{message} (cluster is stopped)"
            finding = Finding(
                control_id=control.id, status=status, severity=control.severity, resource_id=resource_id,
                node_pool=node_pool, message=message, title=control.title, cluster=name,
                subscription_id=sub_id, subscription_name=sub_name, resource_group=group, location=location,
                tags=json.loads(tags_json or "{}"), evidence=evidence or "",
            )
            if status in ("fail", "warn"):
                finding.remediation = control.remediation_for(group, name, node_pool, target)
            findings.append(finding)
    _apply_waivers(findings, policy, as_of[0])
    return findings


def _apply_waivers(findings: list[Finding], policy: Policy, as_of: Any) -> None:
    for finding in findings:
        if finding.status != "fail":
            continue
        for waiver in policy.waivers:
            if waiver.matches(finding.control_id, finding.resource_id):
                record = {"reason": waiver.reason, "approver": waiver.approver, "expires": waiver.expires.isoformat()}
                if waiver.active(as_of):
                    finding.status = "waived"
                    finding.waiver = record
                    finding.message = f"{finding.message} — waived until {waiver.expires} ({waiver.reason})"
                else:
                    finding.message = f"{finding.message} — waiver expired on {waiver.expires}"
                    finding.waiver = {**record, "expired": "true"}
                break


def findings_digest(findings: list[Finding]) -> str:
    """SHA-256 over the findings in a canonical order and form."""
    ordered = sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or ""))
    text = json.dumps([f.as_dict() for f in ordered], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
