"""Policy: thresholds, scopes that override them, and waivers; TOML, optional, validated strictly."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditor.errors import PolicyError

# name -> (default, type, description). Each becomes a column of the per-cluster `cluster_params` table.
THRESHOLDS: dict[str, tuple[Any, type, str]] = {
    "image_max_age_days": (30, int, "AKS-IMG-01: oldest acceptable node image, in days"),
    "allowed_upgrade_channels": (["patch", "stable", "rapid"], list, "AKS-CHN-01: acceptable auto-upgrade channels"),
    "support_warning_days": (90, int, "AKS-VER-02: warn when support ends within this many days"),
    "window_max_hours": (6, int, "AKS-WIN-01/02: warn when a maintenance window is longer"),
    "system_max_unavailable": (0, int, "AKS-SRG-01: largest maxUnavailable allowed on System pools"),
}

_TOP_KEYS = {"organisation", "classification", "thresholds", "scopes", "waivers"}
_SCOPE_KEYS = {"name", "match", "thresholds"}
_MATCH_KEYS = {"tags", "subscriptions", "resource_groups"}
_WAIVER_KEYS = {"control", "resource", "reason", "approver", "expires"}


@dataclass(frozen=True)
class Scope:
    """Clusters matched by tag, subscription or resource group get these threshold overrides."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    subscriptions: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()
    thresholds: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiver:
    """Turns a `fail` of `control` on matching resources into `waived` until `expires`."""

    control: str
    resource: str  # ARM id or glob
    reason: str
    approver: str
    expires: date

    def matches(self, control_id: str, resource_id: str) -> bool:
        return self.control == control_id and fnmatch.fnmatchcase(resource_id.lower(), self.resource.lower())

    def active(self, on: date) -> bool:
        return on <= self.expires


@dataclass(frozen=True)
class Policy:
    """Thresholds in effect, scopes, waivers, and where they came from."""

    thresholds: dict[str, Any]
    scopes: tuple[Scope, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    organisation: str = ""
    classification: str = "Confidential"
    source: str = "built-in defaults"
    sha256: str = ""


def default_policy() -> Policy:
    """The built-in defaults of DESIGN.md."""
    thresholds = {name: spec[0] for name, spec in THRESHOLDS.items()}
    digest = hashlib.sha256(repr(sorted(thresholds.items())).encode()).hexdigest()
    return Policy(thresholds=thresholds, sha256=digest)


def load_policy(path: Path | None) -> Policy:
    """Read and validate a policy file; None gives the defaults."""
    if path is None:
        return default_policy()
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    text = raw_bytes.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML: {exc}") from exc
    return _validate(data, text, path, hashlib.sha256(raw_bytes).hexdigest())


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\[*\s*\"?{re.escape(key)}\"?\s*[=\]]", re.MULTILINE)
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _error(path: Path, text: str, key: str, message: str) -> PolicyError:
    line = _line_of(text, key.split(".")[-1])
    where = f"{path}:{line}" if line else str(path)
    return PolicyError(f"{where}: {message}")


def _unknown(path: Path, text: str, given: dict[str, Any], allowed: set[str], context: str) -> None:
    for key in given:
        if key not in allowed:
            raise _error(path, text, key, f"unknown key '{key}' in {context} (allowed: {', '.join(sorted(allowed))})")


def _thresholds(path: Path, text: str, given: Any, context: str) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise _error(path, text, "thresholds", f"{context} must be a table")
    _unknown(path, text, given, set(THRESHOLDS), context)
    checked: dict[str, Any] = {}
    for key, value in given.items():
        expected = THRESHOLDS[key][1]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _error(path, text, key, f"'{key}' must be a whole number ≥ 0, not {value!r}")
        if expected is list and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise _error(path, text, key, f"'{key}' must be a list of strings, not {value!r}")
        checked[key] = [v.lower() for v in value] if expected is list else value
    return checked


def _validate(data: dict[str, Any], text: str, path: Path, digest: str) -> Policy:
    _unknown(path, text, data, _TOP_KEYS, "the policy")
    thresholds = {name: spec[0] for name, spec in THRESHOLDS.items()}
    thresholds.update(_thresholds(path, text, data.get("thresholds", {}), "[thresholds]"))
    scopes: list[Scope] = []
    for raw in data.get("scopes", []):
        if not isinstance(raw, dict):
            raise _error(path, text, "scopes", "each [[scopes]] entry must be a table")
        _unknown(path, text, raw, _SCOPE_KEYS, "[[scopes]]")
        match = raw.get("match", {})
        if not isinstance(match, dict) or not match:
            raise _error(path, text, "scopes", f"scope '{raw.get('name', '?')}' needs a non-empty match table")
        _unknown(path, text, match, _MATCH_KEYS, "[scopes.match]")
        scopes.append(
            Scope(
                name=str(raw.get("name", f"scope {len(scopes) + 1}")),
                tags={str(k): str(v) for k, v in dict(match.get("tags", {})).items()},
                subscriptions=tuple(str(s).lower() for s in match.get("subscriptions", [])),
                resource_groups=tuple(str(g).lower() for g in match.get("resource_groups", [])),
                thresholds=_thresholds(path, text, raw.get("thresholds", {}), "[scopes.thresholds]"),
            )
        )
    waivers: list[Waiver] = []
    for raw in data.get("waivers", []):
        if not isinstance(raw, dict):
            raise _error(path, text, "waivers", "each [[waivers]] entry must be a table")
        _unknown(path, text, raw, _WAIVER_KEYS, "[[waivers]]")
        missing = sorted(_WAIVER_KEYS - set(raw))
        if missing:
            raise _error(path, text, "waivers", f"a waiver lacks {', '.join(missing)}")
        expires = raw["expires"]
        if isinstance(expires, datetime):
            expires = expires.astimezone(UTC).date() if expires.tzinfo else expires.date()
        if not isinstance(expires, date):
            raise _error(path, text, "expires", f"waiver 'expires' must be a TOML date, not {expires!r}")
        waivers.append(Waiver(str(raw["control"]), str(raw["resource"]), str(raw["reason"]),
                              str(raw["approver"]), expires))
    return Policy(
        thresholds=thresholds,
        scopes=tuple(scopes),
        waivers=tuple(waivers),
        organisation=str(data.get("organisation", "")),
        classification=str(data.get("classification", "Confidential")),
        source=str(path),
        sha256=digest,
    )
