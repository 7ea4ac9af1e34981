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
from auditor.vocabulary import ControlId

STATUSES = ("pass", "fail", "warn", "unknown", "waived", "not_applicable")
SEVERITIES = ("info", "low", "medium", "high", "critical")
LEVELS = ("cluster", "pool", "fleet", "subscription")
RESULT_COLUMNS = ["resource_id", "node_pool", "status", "message", "evidence", "target"]
_REQUIRED_META = {"id", "title", "level", "severity", "rationale", "rule", "evidence", "remediation", "references"}
# remediation_variants: alternative commands for findings whose `target` names the variant (e.g. a Windows pool
# migrates by adding a pool, not in place).
_OPTIONAL_META = {"thresholds", "remediation_variants"}
_PLACEHOLDERS = {"resource_group", "cluster", "pool", "target"}
_EVIDENCE_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE = re.compile(r"^https://[^\s/]+\.[^\s/]+/\S*$")
# A pool the evidence names only by its place in agentPoolProfiles (queries/model/20_node_pools.sql): no name to use.
_UNNAMED_POOL = re.compile(r"^agentPoolProfiles\[\d+\]$")
_MISSING_VALUE = {
    "resource_group": "the evidence names no resource group",
    "cluster": "the evidence names no cluster",
    "pool": "the pool has no name in the evidence",
    "target": "the evidence gives no target to name",
}


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
    remediation_variants: tuple[tuple[str, str], ...] = ()

    def template_for(self, target: str | None) -> str:
        """The remediation template for a finding: the variant its target names, else the default."""
        return dict(self.remediation_variants).get(target or "", self.remediation)

    def remediation_for(self, resource_group: str, cluster: str, pool: str | None, target: str | None) -> str:
        """The remediation with the resource's values. Names are untrusted: each is shell-quoted, so a copied
        command cannot run anything else. A value the evidence lacks is never replaced by a placeholder: its
        option (with anything glued to the value, as in `-n {pool}2`) is left out and a trailing shell comment says
        which and why."""
        values = {"resource_group": resource_group, "cluster": cluster, "pool": pool, "target": target}
        if pool is not None and _UNNAMED_POOL.match(pool):
            values["pool"] = None
        command = self.template_for(target)
        omitted: list[str] = []
        for name, value in values.items():
            if value or "{" + name + "}" not in command:
                continue
            flag = re.search(r"(\s+(--?[A-Za-z][\w-]*))?\s+\{" + name + r"\}[^\s{}]*", command)
            if flag:
                command = command[: flag.start()] + command[flag.end() :]
                omitted.append(f"{flag.group(2) or name} omitted: {_MISSING_VALUE[name]}")
        filled = command.format(**{k: shlex.quote(v) for k, v in values.items() if v})
        return filled + (f"  # {'; '.join(omitted)}" if omitted else "")


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
    if meta["id"] != toml_path.stem or not ControlId.is_valid(str(meta["id"])):
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
    # A subscription-level finding names no cluster, group or pool: only {target} can be filled in.
    allowed = (
        {"target"}
        if meta["level"] == "subscription"
        else _PLACEHOLDERS - ({"pool"} if meta["level"] != "pool" else set())
    )
    variants = meta.get("remediation_variants", {})
    if not isinstance(variants, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip().startswith("az ")
        for k, v in variants.items()
    ):
        raise AuditorError(f"{toml_path}: 'remediation_variants' maps target values to az commands")
    for template in [meta["remediation"], *variants.values()]:
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if used - allowed:
            raise AuditorError(
                f"{toml_path}: remediation uses unknown placeholder(s) {', '.join(sorted(used - allowed))}"
                f" (allowed: {', '.join(sorted(allowed))})"
            )
    references = meta["references"]
    if (
        not isinstance(references, list)
        or not references
        or not all(isinstance(r, str) and _REFERENCE.match(r) for r in references)
        or len(set(references)) != len(references)
    ):
        raise AuditorError(
            f"{toml_path}: 'references' must be a non-empty list of distinct https URLs "
            "(the pages that source the rule)"
        )
    thresholds = meta.get("thresholds", [])
    if not isinstance(thresholds, list) or not all(t in THRESHOLDS for t in thresholds):
        raise AuditorError(f"{toml_path}: 'thresholds' must list policy thresholds among {', '.join(THRESHOLDS)}")
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
        remediation_variants=tuple(sorted((k, v.strip()) for k, v in variants.items())),
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
    mapped: dict[str, list[str]] = {cid: [] for cid in controls}
    for framework in load_frameworks():
        for requirement in framework.requirements:
            for control_id in requirement.controls:
                if control_id not in controls:
                    raise AuditorError(
                        f"framework {framework.id} maps {framework.name} {requirement.ref} to unknown "
                        f"control {control_id}"
                    )
                mapped[control_id].append(framework.label(requirement))
    return tuple(replace(controls[cid], frameworks=tuple(mapped[cid])) for cid in sorted(controls))


def _tags(tags_json: str | None) -> dict[str, Any]:
    """A resource's tags as stored; a `tags` that is not a JSON object (malformed evidence) is no tags."""
    tags = json.loads(tags_json or "{}")
    return tags if isinstance(tags, dict) else {}


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
        # A cluster row lacking a field (no subscriptionId, say) is still judged and reported: read from its ARM
        # id, else empty, never null.
        from_id = _from_id(cluster_id)
        context[cluster_id] = (
            name or from_id[0],
            sub_id or from_id[1],
            sub_name,
            group or from_id[3],
            location or "",
            _tags(tags_json),
            stopped,
        )
    # Fleet-level findings name a Fleet Manager resource: give them its name, subscription and resource group
    # (empty, not null, where Resource Graph left a field out).
    for fleet_id, name, sub_id, sub_name, group, location, tags_json in con.execute(
        "SELECT f.fleet_id, f.name, f.subscription_id, coalesce(s.display_name, ''), f.resource_group, f.location, "
        "CAST(f.tags AS VARCHAR) FROM fleets f LEFT JOIN (SELECT subscription_id, min(display_name) AS display_name "
        "FROM subscriptions GROUP BY 1) s USING (subscription_id)"
    ).fetchall():
        context.setdefault(
            fleet_id,
            (name or "", sub_id or "", sub_name, group or "", location or "", _tags(tags_json), False),
        )
    # Subscription-level findings (resource_id '/subscriptions/<id>') carry the subscription, and no cluster.
    for sub_id, sub_name in con.execute(
        "SELECT lower(subscription_id), coalesce(min(display_name), '') FROM subscriptions GROUP BY 1"
    ).fetchall():
        context.setdefault(f"/subscriptions/{sub_id}", ("", sub_id, sub_name, "", "", {}, False))
    for (sub_id,) in con.execute("SELECT DISTINCT subscription_id FROM clusters").fetchall():
        context.setdefault(f"/subscriptions/{sub_id}", ("", sub_id, "", "", "", {}, False))
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
            name, sub_id, sub_name, group, location, tags, stopped = context.get(resource_id) or _from_id(resource_id)
            if message is None:  # a control must always say why; never let a NULL message pass silently
                message = f"{control_id} gave no message for this resource: a value it reads is missing"
                status = "unknown" if status == "pass" else status
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


def _from_id(resource_id: str) -> tuple[Any, ...]:
    """Name, subscription and resource group read from an ARM id, for a cluster whose payload lacks them."""
    parts = (resource_id or "").strip("/").split("/")
    low = [p.lower() for p in parts]
    subscription = parts[1].lower() if len(parts) > 1 and low[0] == "subscriptions" else ""
    group = parts[3] if len(parts) > 3 and low[2] == "resourcegroups" else ""
    name = parts[7] if len(parts) > 7 and low[6] == "managedclusters" else ""
    return (name, subscription, "", group, "", {}, False)


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
