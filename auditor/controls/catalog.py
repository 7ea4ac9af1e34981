"""The control catalog (queries/controls/*.sql + *.toml) and its framework mappings (queries/frameworks/*.toml)."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from auditor.controls.remediation import fill
from auditor.errors import AuditorError
from auditor.paths import queries_dir
from auditor.policy import THRESHOLDS
from auditor.vocabulary import ControlId, Level, Severity, Status

# Plain strings in the vocabulary's declaration order: the column order of counts (reports, CSV, trend).
STATUSES = tuple(status.value for status in Status)
SEVERITIES = tuple(severity.value for severity in Severity)
LEVELS = tuple(level.value for level in Level)
RESULT_COLUMNS = ["resource_id", "node_pool", "status", "message", "evidence", "target"]
_REQUIRED_META = {"id", "title", "level", "severity", "rationale", "rule", "evidence", "remediation", "references"}
# remediation_variants: alternative commands for findings whose `target` names the variant (e.g. a Windows pool
# migrates by adding a pool, not in place).
_OPTIONAL_META = {"thresholds", "remediation_variants"}
_PLACEHOLDERS = {"resource_group", "cluster", "pool", "target"}
_EVIDENCE_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE = re.compile(r"^https://[^\s/]+\.[^\s/]+/\S*$")


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
        """The remediation with the resource's values (auditor.controls.remediation.fill)."""
        values = {"resource_group": resource_group, "cluster": cluster, "pool": pool, "target": target}
        return fill(self.template_for(target), values)


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


def control_ids() -> frozenset[str]:
    """The catalog's control ids: what a policy's waivers may name (load_policy's known_controls)."""
    return frozenset(c.id for c in load_catalog())
