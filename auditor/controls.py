"""The control catalog (queries/controls/*.sql + *.toml), its framework mappings (queries/frameworks/*.toml),
and its evaluation into findings."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import string
import tomllib
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from auditor.errors import AuditorError
from auditor.model import prepare_model
from auditor.paths import queries_dir
from auditor.policy import THRESHOLDS, Policy, WaiverIndex

STATUSES = ("pass", "fail", "warn", "unknown", "waived", "not_applicable")
SEVERITIES = ("info", "low", "medium", "high", "critical")
LEVELS = ("cluster", "pool", "fleet", "subscription")
RESULT_COLUMNS = ["resource_id", "node_pool", "status", "message", "evidence", "target"]
_REQUIRED_META = {"id", "title", "level", "severity", "rationale", "rule", "evidence", "remediation"}
_OPTIONAL_META = {"thresholds", "references"}
_PLACEHOLDERS = {"resource_group", "cluster", "pool", "target"}
_EVIDENCE_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_CONTROL_ID = re.compile(r"^AKS-[A-Z]{3}-\d{2}$")


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
    thresholds: tuple[str, ...] = ()
    references: tuple[str, ...] = ()  # the Microsoft pages the rule's facts come from

    def remediation_for(self, resource_group: str, cluster: str, pool: str | None, target: str | None) -> str:
        # Names are untrusted: quote them so a copied command cannot run anything else.
        return self.remediation.format(
            resource_group=shlex.quote(resource_group or "RG"),
            cluster=shlex.quote(cluster or "NAME"),
            pool=shlex.quote(pool or "POOL"),
            target=shlex.quote(target or "VERSION"),
        )


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework and the controls that give evidence for it (control id -> why)."""

    ref: str
    title: str
    controls: dict[str, str]


@dataclass(frozen=True)
class Framework:
    """A compliance framework (queries/frameworks/<id>.toml) mapped onto the catalog."""

    id: str
    name: str
    title: str
    url: str
    requirements: tuple[Requirement, ...]

    def label(self, requirement: Requirement) -> str:
        """How a control lists this requirement, e.g. 'PCI DSS v4.0 6.3.3'."""
        return f"{self.name} {requirement.ref}"


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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AuditorError(f"{path}: invalid TOML: {exc}") from exc


def _load_control(toml_path: Path) -> Control:
    meta = _read_toml(toml_path)
    missing = _REQUIRED_META - set(meta)
    if missing:
        raise AuditorError(f"{toml_path}: control metadata lacks {', '.join(sorted(missing))}")
    unknown = set(meta) - _REQUIRED_META - _OPTIONAL_META
    if unknown:
        hint = " (framework mappings live in queries/frameworks/*.toml)" if "frameworks" in unknown else ""
        raise AuditorError(f"{toml_path}: unknown metadata key(s) {', '.join(sorted(unknown))}{hint}")
    sql_path = toml_path.with_suffix(".sql")
    if not sql_path.exists():
        raise AuditorError(f"{toml_path}: no SQL file {sql_path.name} beside it")
    if meta["id"] != toml_path.stem or not _CONTROL_ID.match(str(meta["id"])):
        raise AuditorError(f"{toml_path}: id {meta['id']!r} must match the file name and look like AKS-XXX-00")
    if meta["level"] not in LEVELS or meta["severity"] not in SEVERITIES:
        raise AuditorError(f"{toml_path}: level must be one of {LEVELS} and severity one of {SEVERITIES}")
    for key in ("title", "rationale", "rule", "remediation"):
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise AuditorError(f"{toml_path}: '{key}' must be a non-empty string")
    evidence = meta["evidence"]
    if (
        not isinstance(evidence, list)
        or not evidence
        or not all(isinstance(e, str) and _EVIDENCE_KIND.match(e) for e in evidence)
    ):
        raise AuditorError(f"{toml_path}: 'evidence' must be a non-empty list of evidence kinds (snake_case)")
    used = {name for _, name, _, _ in string.Formatter().parse(meta["remediation"]) if name is not None}
    # A subscription-level finding names no cluster, group or pool: only {target} can be filled in.
    allowed = (
        {"target"}
        if meta["level"] == "subscription"
        else _PLACEHOLDERS - ({"pool"} if meta["level"] != "pool" else set())
    )
    if used - allowed:
        raise AuditorError(
            f"{toml_path}: remediation uses unknown placeholder(s) {', '.join(sorted(used - allowed))}"
            f" (allowed: {', '.join(sorted(allowed))})"
        )
    thresholds = meta.get("thresholds", [])
    if not isinstance(thresholds, list) or not all(t in THRESHOLDS for t in thresholds):
        raise AuditorError(f"{toml_path}: 'thresholds' must list policy thresholds among {', '.join(THRESHOLDS)}")
    references = meta.get("references", [])
    if "references" in meta and (
        not isinstance(references, list)
        or not references
        or not all(isinstance(r, str) and r.startswith("https://") and len(r) > 8 for r in references)
    ):
        raise AuditorError(f"{toml_path}: 'references' must be a non-empty list of https URLs")
    sql = sql_path.read_text(encoding="utf-8")
    if not sql.strip():
        raise AuditorError(f"{sql_path}: empty SQL")
    return Control(
        id=meta["id"],
        title=meta["title"].strip(),
        level=meta["level"],
        severity=meta["severity"],
        rationale=" ".join(meta["rationale"].split()),
        rule=" ".join(meta["rule"].split()),
        evidence=tuple(evidence),
        remediation=meta["remediation"].strip(),
        sql=sql,
        thresholds=tuple(thresholds),
        references=tuple(references),
    )


def _load_framework(path: Path) -> Framework:
    data = _read_toml(path)
    allowed = {"name", "title", "url", "requirements"}
    if set(data) - allowed or not {"name", "title", "requirements"} <= set(data):
        raise AuditorError(f"{path}: a framework file has exactly the keys name, title, url (optional), requirements")
    requirements: list[Requirement] = []
    for raw in data["requirements"]:
        if not isinstance(raw, dict) or set(raw) != {"ref", "title", "controls"}:
            raise AuditorError(f"{path}: each [[requirements]] has exactly ref, title and controls")
        controls = raw["controls"]
        if (
            not isinstance(controls, dict)
            or not controls
            or not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in controls.items())
        ):
            raise AuditorError(f"{path}: requirement {raw['ref']}: controls maps control ids to a reason each")
        requirements.append(
            Requirement(str(raw["ref"]), str(raw["title"]), {k: " ".join(v.split()) for k, v in controls.items()})
        )
    return Framework(
        id=path.stem,
        name=str(data["name"]),
        title=str(data["title"]),
        url=str(data.get("url", "")),
        requirements=tuple(requirements),
    )


@cache
def load_frameworks() -> tuple[Framework, ...]:
    """Every framework mapping, ordered by file name."""
    return tuple(_load_framework(p) for p in sorted((queries_dir() / "frameworks").glob("*.toml")))


@cache
def load_catalog() -> tuple[Control, ...]:
    """Every control, ordered by id, with its framework references."""
    controls = {c.id: c for c in (_load_control(p) for p in sorted((queries_dir() / "controls").glob("AKS-*.toml")))}
    references: dict[str, list[str]] = {cid: [] for cid in controls}
    for framework in load_frameworks():
        for requirement in framework.requirements:
            for control_id in requirement.controls:
                if control_id not in controls:
                    raise AuditorError(
                        f"framework {framework.id} maps {framework.name} {requirement.ref} to unknown "
                        f"control {control_id}"
                    )
                references[control_id].append(framework.label(requirement))
    return tuple(replace(controls[cid], frameworks=tuple(references[cid])) for cid in sorted(controls))


def control_ids() -> frozenset[str]:
    """The catalog's control ids: what a policy's waivers may name (load_policy's known_controls)."""
    return frozenset(c.id for c in load_catalog())


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
    context: dict[str, tuple[Any, ...]] = {}
    for cluster_id, name, sub_id, sub_name, group, location, tags_json, power in con.execute(
        "SELECT c.cluster_id, c.name, c.subscription_id, coalesce(s.display_name, ''), c.resource_group, "
        "c.location, CAST(c.tags AS VARCHAR), c.power_state FROM clusters c "
        "LEFT JOIN subscriptions s USING (subscription_id)"
    ).fetchall():
        stopped = bool(power) and power.lower() == "stopped"
        # A cluster row lacking a field (no subscriptionId, say) is still judged and reported: empty, not null.
        context[cluster_id] = (
            name or "",
            sub_id or "",
            sub_name,
            group or "",
            location or "",
            json.loads(tags_json or "{}"),
            stopped,
        )
    # Subscription-level findings (resource_id '/subscriptions/<id>') carry the subscription, and no cluster.
    for sub_id, sub_name in con.execute(
        "SELECT lower(subscription_id), coalesce(min(display_name), '') FROM subscriptions GROUP BY 1"
    ).fetchall():
        context.setdefault(f"/subscriptions/{sub_id}", ("", sub_id, sub_name, "", "", {}, False))
    for (sub_id,) in con.execute("SELECT DISTINCT subscription_id FROM clusters").fetchall():
        context.setdefault(f"/subscriptions/{sub_id}", ("", sub_id, "", "", "", {}, False))
    missing: tuple[Any, ...] = ("", "", "", "", "", {}, False)
    findings: list[Finding] = []
    for control in controls if controls is not None else load_catalog():
        try:
            rows = con.execute(control.sql).fetchall()
            columns = [d[0] for d in con.description or []]
        except duckdb.Error as exc:
            raise AuditorError(f"control {control.id} failed to evaluate: {' '.join(str(exc).split())}") from exc
        if columns != RESULT_COLUMNS:
            raise AuditorError(f"control {control.id} returns columns {columns}, expected {RESULT_COLUMNS}")
        control_id, severity, title = control.id, control.severity, control.title
        for resource_id, node_pool, status, message, evidence, target in rows:
            if status not in STATUSES:
                raise AuditorError(f"control {control_id} returned status {status!r} for {resource_id}")
            if not resource_id:
                raise AuditorError(f"control {control_id} returned a {status} row that names no resource")
            name, sub_id, sub_name, group, location, tags, stopped = context.get(resource_id, missing)
            if stopped:
                message = f"{message} (cluster is stopped)"
            findings.append(
                Finding(
                    control_id,
                    status,
                    severity,
                    resource_id,
                    node_pool,
                    message,
                    title,
                    name,
                    sub_id,
                    sub_name,
                    group,
                    location,
                    dict(tags),
                    evidence or "",
                    control.remediation_for(group, name, node_pool, target) if status in ("fail", "warn") else "",
                )
            )
    _apply_waivers(findings, policy, as_of[0])
    # SQL rows come back in whatever order the threads finished: a total order makes every output byte-stable.
    findings.sort(key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or "", f.status, f.message))
    return findings


def _apply_waivers(findings: list[Finding], policy: Policy, as_of: Any) -> None:
    if not policy.waivers:
        return
    index = WaiverIndex(policy.waivers)
    for finding in findings:
        if finding.status != "fail":
            continue
        # An active waiver wins over an expired one for the same finding; an expired one is still flagged.
        matching = index.matching(finding.control_id, finding.resource_id, finding.node_pool)
        if not matching:
            continue
        active = [w for w in matching if w.active(as_of)]
        waiver = max(active or matching, key=lambda w: w.expires)
        record = {
            "reason": waiver.reason,
            "approver": waiver.approver,
            "expires": waiver.expires.isoformat(),
            "resource": waiver.resource,
        }
        if active:
            finding.status = "waived"
            finding.waiver = record
            finding.message = (
                f"{finding.message} — waived until {waiver.expires} by {waiver.approver} ({waiver.reason})"
            )
        else:
            finding.message = f"{finding.message} — waiver expired on {waiver.expires}"
            finding.waiver = {**record, "expired": "true"}


def findings_digest(findings: list[Finding]) -> str:
    """SHA-256 over the findings in a canonical order and form."""
    ordered = sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or ""))
    text = json.dumps([f.as_dict() for f in ordered], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
