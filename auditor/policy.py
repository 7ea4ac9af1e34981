"""Policy: thresholds, scopes that override them, and waivers; TOML, optional, validated strictly.

Every error names the file and the line it concerns (``policy.toml:12: ...``); unknown keys are errors, never
ignored, so a typo cannot silently fall back to a default. See docs/policy.md for the format.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditor.errors import PolicyError
from auditor.vocabulary import ControlId

# name -> (default, type, description). Each becomes a column of the per-cluster `cluster_params` table.
THRESHOLDS: dict[str, tuple[Any, type, str]] = {
    "image_max_age_days": (30, int, "AKS-IMG-01: oldest acceptable Linux node image, in days"),
    "windows_image_max_age_days": (60, int, "AKS-IMG-01: oldest acceptable Windows node image, in days"),
    "allowed_upgrade_channels": (
        ["patch", "stable", "rapid"],
        list,
        "AKS-CHN-01: acceptable auto-upgrade channels",
    ),
    "allowed_node_os_upgrade_channels": (
        ["NodeImage", "SecurityPatch"],
        list,
        "AKS-CHN-02: node OS upgrade channels that count as automated patching",
    ),
    "support_warning_days": (90, int, "AKS-VER-02: warn when support ends within this many days"),
    "window_max_hours": (6, int, "AKS-WIN-01/02: warn when a maintenance window is longer"),
    "system_max_unavailable": (0, int, "AKS-SRG-01: largest maxUnavailable (nodes) allowed on System pools"),
    "campaign_window_hours": (
        72,
        int,
        "AKS-ORD-01: steps towards one version, each within this many hours of the last, are one campaign",
    ),
    "history_lookback_days": (90, int, "AKS-ORD-01: campaigns judged, in days before the scan"),
    "node_image_order": (True, bool, "AKS-ORD-01: node-image rollouts must also update System pools first"),
    "aks_run_order": (
        False,
        bool,
        "AKS-ORD-01: hold campaigns AKS ran (auto-upgrades, forced upgrades) to System-before-User too",
    ),
    "ring_tag": ("environment", str, "AKS-RNG-01: the tag that names a cluster's rollout ring"),
    "ring_order": (
        ["dev", "staging", "prod"],
        list,
        "AKS-RNG-01: ring tag values from the first ring to production (the last)",
    ),
    "fleet_lookback_days": (90, int, "AKS-FLT-01: Fleet update runs judged, in days before the scan"),
    "require_fleet_for_production": (
        False,
        bool,
        "AKS-FLT-02: production clusters (ring tag) that are members of no Fleet fail",
    ),
    "maintenance_freeze_max_days": (
        30,
        int,
        "AKS-WIN-03: most consecutive days a window's notAllowedDates may block",
    ),
    "override_recent_days": (30, int, "AKS-OVR-01: warn when an upgrade override ended within this many days"),
    "os_support_warning_days": (180, int, "AKS-OS-01: warn when the node OS's support ends within this many days"),
    "upgrade_min_surge_percent": (
        33,
        int,
        "AKS-UPG-01: smallest maxSurge, in percent of the pool, on production pools",
    ),
    "patch_deadline_days": (
        30,
        int,
        "Period report: days from a node image or Kubernetes patch becoming the newest to running it",
    ),
    "window_overlap_max_clusters": (
        10,
        int,
        "AKS-WIN-04: most clusters of one subscription whose windows of one kind may be open at once",
    ),
    "ring_window_lead_hours": (
        24,
        int,
        "AKS-WIN-05: a lower ring's window opens at least this many hours before production's, every cycle",
    ),
    "node_provisioning_minutes": (
        10,
        int,
        "AKS-WIN-06: minutes to provision a surge node, per round of a rolling upgrade",
    ),
}

# Inclusive bounds of the whole-number thresholds.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "image_max_age_days": (0, 3650),
    "windows_image_max_age_days": (0, 3650),
    "support_warning_days": (0, 3650),
    "window_max_hours": (4, 24),  # AKS windows last 4..24 hours (MaintenanceConfiguration.tsp)
    "system_max_unavailable": (0, 1000),
    "campaign_window_hours": (1, 720),
    "history_lookback_days": (1, 3650),
    "fleet_lookback_days": (1, 3650),
    "maintenance_freeze_max_days": (0, 3650),
    "override_recent_days": (0, 3650),
    "os_support_warning_days": (0, 3650),
    "upgrade_min_surge_percent": (0, 100),
    "patch_deadline_days": (1, 3650),
    "window_overlap_max_clusters": (1, 100_000),
    "ring_window_lead_hours": (0, 168),  # the window model keeps a week of room before the scan
    "node_provisioning_minutes": (1, 240),
}

# List thresholds whose values are the organisation's own (tag values): any distinct, non-empty strings.
_FREE_LISTS = {"ring_order"}

# The values each list threshold may hold, in their wire spelling; a policy may write them in any case.
_LIST_VALUES: dict[str, tuple[str, ...]] = {
    "allowed_upgrade_channels": ("rapid", "stable", "patch", "node-image", "none"),
    "allowed_node_os_upgrade_channels": ("None", "Unmanaged", "NodeImage", "SecurityPatch"),
}

_TOP_KEYS = {"organisation", "classification", "thresholds", "scopes", "waivers"}
_SCOPE_KEYS = {"name", "match", "thresholds"}
_MATCH_KEYS = {"tags", "subscriptions", "resource_groups"}
_WAIVER_KEYS = {"control", "resource", "reason", "approver", "expires"}


@dataclass(frozen=True)
class Scope:
    """Clusters matched by tag, subscription and resource group (all given criteria; any value of each) get
    these threshold overrides. Tag names and values compare case-insensitively."""

    name: str
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    subscriptions: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()
    thresholds: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The match criteria in one line."""
        parts = [f"tag {k} in ({', '.join(v)})" if len(v) > 1 else f"tag {k}={v[0]}" for k, v in self.tags.items()]
        if self.subscriptions:
            parts.append(f"subscription in ({', '.join(self.subscriptions)})")
        if self.resource_groups:
            parts.append(f"resource group in ({', '.join(self.resource_groups)})")
        return " and ".join(parts)


@dataclass(frozen=True)
class Waiver:
    """Turns a `fail` of `control` on matching resources into `waived` until `expires` (inclusive)."""

    control: str
    resource: str  # ARM id or glob; a cluster id also covers its pools, `<cluster id>/agentPools/<pool>` one pool
    reason: str
    approver: str
    expires: date
    line: int | None = None

    def matches(self, control_id: str, resource_id: str, node_pool: str | None = None) -> bool:
        if self.control != control_id:
            return False
        pattern = self.resource.lower()
        if fnmatch.fnmatchcase(resource_id.lower(), pattern):
            return True
        return node_pool is not None and fnmatch.fnmatchcase(f"{resource_id}/agentPools/{node_pool}".lower(), pattern)

    def active(self, on: date) -> bool:
        return on <= self.expires

    @property
    def is_glob(self) -> bool:
        """Whether `resource` is a pattern rather than one ARM id."""
        return any(char in self.resource for char in "*?[")

    @property
    def fleet_wide(self) -> bool:
        """Whether the pattern covers any cluster of any subscription (``*``, ``/subscriptions/*``, ...)."""
        pattern = self.resource.lower()
        return self.is_glob and all(fnmatch.fnmatchcase(probe, pattern) for probe in _UNRELATED_CLUSTERS)


# Two clusters with nothing in common but the shape of an AKS id: a waiver matching both covers the whole fleet.
_UNRELATED_CLUSTERS = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/a/providers/"
    "microsoft.containerservice/managedclusters/a",
    "/subscriptions/ffffffff-ffff-ffff-ffff-ffffffffffff/resourcegroups/zz-9_(x)/providers/"
    "microsoft.containerservice/managedclusters/q-9",
)
# A waiver covering the whole fleet should be short-lived: a warning names one that runs longer than this.
FLEET_WIDE_WAIVER_MAX_DAYS = 90


class WaiverIndex:
    """Waivers ready to match findings in time linear in findings plus waivers: exact ids are looked up,
    only patterns are tried one by one."""

    def __init__(self, waivers: tuple[Waiver, ...]) -> None:
        self._exact: dict[tuple[str, str], list[tuple[int, Waiver]]] = {}
        self._globs: dict[str, list[tuple[int, Waiver]]] = {}
        for order, waiver in enumerate(waivers):
            if waiver.is_glob:
                self._globs.setdefault(waiver.control, []).append((order, waiver))
            else:
                self._exact.setdefault((waiver.control, waiver.resource.lower()), []).append((order, waiver))
        self.controls = {w.control for w in waivers}

    def matching(self, control_id: str, resource_id: str, node_pool: str | None) -> list[Waiver]:
        """Every waiver covering this finding, in policy order."""
        if control_id not in self.controls:
            return []
        key = resource_id.lower()
        found = list(self._exact.get((control_id, key), []))
        if node_pool is not None:
            found += self._exact.get((control_id, f"{key}/agentpools/{node_pool.lower()}"), [])
        found += [
            (order, w) for order, w in self._globs.get(control_id, []) if w.matches(control_id, resource_id, node_pool)
        ]
        return [w for _, w in sorted(found, key=lambda pair: pair[0])]


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
    # What a reviewer should hear about a valid policy (a fleet-wide waiver with a far expiry); one line each.
    warnings: tuple[str, ...] = ()


def default_policy() -> Policy:
    """The built-in defaults: every threshold at its default (THRESHOLDS), no scope, no waiver."""
    thresholds = {name: list(spec[0]) if spec[1] is list else spec[0] for name, spec in THRESHOLDS.items()}
    digest = hashlib.sha256(repr(sorted(thresholds.items())).encode()).hexdigest()
    return Policy(thresholds=thresholds, sha256=digest)


def load_policy(path: Path | None, *, known_controls: Collection[str]) -> Policy:
    """Read and validate a policy file; None gives the defaults. Waivers must name one of known_controls (the
    catalog's ids, which the caller passes: the policy sits below the catalog and never loads it)."""
    if path is None:
        return default_policy()
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    if raw_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolicyError(
            f"{path}:1: the policy file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8"
        )
    try:
        # A byte-order mark (Windows editors write one) is not TOML; it is dropped, and the digest stays the file's.
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw_bytes[: exc.start].count(b"\n") + 1
        raise PolicyError(f"{path}:{line}: the policy file is not valid UTF-8") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(_decode_error(path, exc)) from exc
    return _Validator(path, text, frozenset(known_controls)).policy(data, hashlib.sha256(raw_bytes).hexdigest())


def _decode_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        reason = message[: found.start()].strip()
        return f"{path}:{found.group(1)}: invalid TOML: {reason} (column {found.group(2)})"
    return f"{path}: invalid TOML: {message}"


# --- where a key is written ------------------------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY_PART = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[|\[)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"({_DOTTED})\s*=\s*")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_KEY_PART, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


class _Locator:
    """Maps key paths such as ('scopes', 1, 'thresholds', 'window_max_hours') to the line that writes them.

    tomllib gives no positions; this reads the text the way TOML is laid out (headers, arrays of tables,
    dotted keys, inline tables). It only serves error messages: a path it cannot place falls back to the
    line of the nearest enclosing table.
    """

    def __init__(self, text: str):
        self.lines: dict[tuple[Any, ...], int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        prefix: tuple[Any, ...] = ()
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(line)
            if header:
                names = _split_key(header.group(2))
                if header.group(1) == "[[":
                    arrays[names] = arrays.get(names, -1) + 1
                prefix = self._resolve(names, arrays)
                self.lines.setdefault(prefix, number)
                continue
            keyed = _KEY_LINE.match(line)
            if not keyed:
                continue
            path = prefix + _split_key(keyed.group(1))
            for depth in range(len(prefix) + 1, len(path) + 1):
                self.lines.setdefault(path[:depth], number)
            value = keyed.group(2)
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_string = quote
            if value.startswith("{"):
                self._inline(value, path, number)

    @staticmethod
    def _resolve(names: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> tuple[Any, ...]:
        resolved: list[Any] = []
        for depth in range(1, len(names) + 1):
            resolved.append(names[depth - 1])
            if names[:depth] in arrays:
                resolved.append(arrays[names[:depth]])
        return tuple(resolved)

    def _inline(self, value: str, path: tuple[Any, ...], number: int) -> None:
        # Keys inside `{ a = { b = "x" } }`, tracked by brace depth; strings are skipped.
        stack = [path]
        position = 1
        last_key: tuple[Any, ...] | None = None
        while position < len(value) and stack:
            char = value[position]
            if char in "\"'":
                end = value.find(char, position + 1)
                position = len(value) if end < 0 else end + 1
                continue
            if char == "{":
                stack.append(last_key if last_key is not None else stack[-1])
            elif char == "}":
                stack.pop()
            else:
                found = _INLINE_KEY.match(value, position)
                if found and (position == 0 or value[position - 1] in "{, \t"):
                    last_key = stack[-1] + _split_key(found.group(1))
                    self.lines.setdefault(last_key, number)
                    position = found.end()
                    continue
            position += 1

    def line(self, path: tuple[Any, ...]) -> int | None:
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.lines:
                return self.lines[path[:depth]]
        return None


# --- validation ------------------------------------------------------------------------------------


class _Validator:
    def __init__(self, path: Path, text: str, known_controls: frozenset[str]):
        self.path = path
        self.locator = _Locator(text)
        self.known_controls = known_controls

    def error(self, where: tuple[Any, ...], message: str) -> PolicyError:
        line = self.locator.line(where)
        return PolicyError(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")

    def unknown(self, given: dict[str, Any], allowed: set[str], where: tuple[Any, ...], context: str) -> None:
        for key in given:
            if key not in allowed:
                raise self.error(
                    where + (key,),
                    f"unknown key '{key}' in {context} (allowed: {', '.join(sorted(allowed))})",
                )

    def table(self, value: Any, where: tuple[Any, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"{what} must be a table, not {_kind(value)}")
        return value

    def array_of_tables(self, value: Any, where: tuple[Any, ...], what: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise self.error(where, f"{what} must be an array of tables ([[{where[-1]}]]), not {_kind(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(where + (index,), f"each {what} entry must be a table, not {_kind(item)}")
        return value

    def text(self, value: Any, where: tuple[Any, ...], what: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.error(where, f"{what} must be a non-empty string, not {value!r}")
        return value

    def strings(self, value: Any, where: tuple[Any, ...], what: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(where, f"{what} must be a string or a non-empty list of strings, not {value!r}")
        return tuple(v.strip() for v in value)

    def thresholds(self, given: Any, where: tuple[Any, ...], context: str) -> dict[str, Any]:
        given = self.table(given, where, context)
        self.unknown(given, set(THRESHOLDS), where, context)
        checked: dict[str, Any] = {}
        for key, value in given.items():
            at = where + (key,)
            kind = THRESHOLDS[key][1]
            if kind is bool:
                if not isinstance(value, bool):
                    raise self.error(at, f"'{key}' must be true or false, not {value!r}")
                checked[key] = value
                continue
            if kind is str:
                if not isinstance(value, str) or not value.strip():
                    raise self.error(at, f"'{key}' must be a non-empty string, not {value!r}")
                checked[key] = value.strip()
                continue
            if key in _FREE_LISTS:
                if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                    raise self.error(at, f"'{key}' must be a non-empty list of non-empty strings, not {value!r}")
                lowered = [v.strip().lower() for v in value]
                if len(set(lowered)) != len(lowered):
                    raise self.error(at, f"'{key}' names a value twice (values compare case-insensitively)")
                checked[key] = [v.strip() for v in value]
                continue
            if kind is int:
                low, high = _INT_RANGES[key]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise self.error(at, f"'{key}' must be a whole number from {low} to {high}, not {value!r}")
                checked[key] = value
                continue
            allowed = _LIST_VALUES[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(at, f"'{key}' must be a list of strings, not {value!r}")
            canonical = {a.lower(): a for a in allowed}
            for item in value:
                if item.lower() not in canonical:
                    raise self.error(at, f"'{key}' has unknown value '{item}' (known: {', '.join(allowed)})")
            checked[key] = list(dict.fromkeys(canonical[v.lower()] for v in value))
        return checked

    def policy(self, data: dict[str, Any], digest: str) -> Policy:
        self.unknown(data, _TOP_KEYS, (), "the policy")
        thresholds = default_policy().thresholds
        if "thresholds" in data:
            thresholds.update(self.thresholds(data["thresholds"], ("thresholds",), "[thresholds]"))
        scopes: list[Scope] = []
        for index, raw in enumerate(self.array_of_tables(data.get("scopes", []), ("scopes",), "[[scopes]]")):
            scopes.append(self.scope(raw, ("scopes", index), index, {s.name for s in scopes}))
        waivers = [
            self.waiver(raw, ("waivers", index))
            for index, raw in enumerate(self.array_of_tables(data.get("waivers", []), ("waivers",), "[[waivers]]"))
        ]
        for key in ("organisation", "classification"):
            if key in data:
                self.text(data[key], (key,), f"'{key}'")
        return Policy(
            warnings=tuple(self.waiver_warnings(waivers)),
            thresholds=thresholds,
            scopes=tuple(scopes),
            waivers=tuple(waivers),
            organisation=str(data.get("organisation", "")),
            classification=str(data.get("classification", "Confidential")),
            source=str(self.path),
            sha256=digest,
        )

    def scope(self, raw: dict[str, Any], where: tuple[Any, ...], index: int, taken: set[str]) -> Scope:
        self.unknown(raw, _SCOPE_KEYS, where, "[[scopes]]")
        name = self.text(raw["name"], where + ("name",), "a scope's 'name'") if "name" in raw else f"scope {index + 1}"
        if name in taken:
            raise self.error(where + ("name",), f"scope name '{name}' is used twice")
        if "match" not in raw:
            raise self.error(
                where, f"scope '{name}' needs a [scopes.match] table (tags, subscriptions, resource_groups)"
            )
        match = self.table(raw["match"], where + ("match",), f"scope '{name}' match")
        if not match:
            raise self.error(where + ("match",), f"scope '{name}' has an empty match table: it would match nothing")
        self.unknown(match, _MATCH_KEYS, where + ("match",), "[scopes.match]")
        tags: dict[str, tuple[str, ...]] = {}
        if "tags" in match:
            given = self.table(match["tags"], where + ("match", "tags"), f"scope '{name}' match.tags")
            if not given:
                raise self.error(where + ("match", "tags"), f"scope '{name}' has an empty match.tags table")
            for key, value in given.items():
                tags[key] = self.strings(value, where + ("match", "tags", key), f"tag '{key}' of scope '{name}'")
        subscriptions: tuple[str, ...] = ()
        if "subscriptions" in match:
            subscriptions = tuple(
                s.lower()
                for s in self.strings(
                    match["subscriptions"],
                    where + ("match", "subscriptions"),
                    f"scope '{name}' match.subscriptions",
                )
            )
        groups: tuple[str, ...] = ()
        if "resource_groups" in match:
            groups = tuple(
                g.lower()
                for g in self.strings(
                    match["resource_groups"],
                    where + ("match", "resource_groups"),
                    f"scope '{name}' match.resource_groups",
                )
            )
        thresholds = self.thresholds(raw.get("thresholds", {}), where + ("thresholds",), "[scopes.thresholds]")
        return Scope(name=name, tags=tags, subscriptions=subscriptions, resource_groups=groups, thresholds=thresholds)

    def waiver_warnings(self, waivers: list[Waiver]) -> list[str]:
        """A waiver covering the whole fleet that runs for more than FLEET_WIDE_WAIVER_MAX_DAYS from today."""
        today = datetime.now(UTC).date()
        warnings = []
        for waiver in waivers:
            days = (waiver.expires - today).days
            if waiver.fleet_wide and days > FLEET_WIDE_WAIVER_MAX_DAYS:
                at = f"{self.path}:{waiver.line}" if waiver.line else str(self.path)
                warnings.append(
                    f"{at}: the waiver of {waiver.control} covers every cluster (resource = {waiver.resource!r}) "
                    f"until {waiver.expires}, {days} days from today: a fleet-wide exception should expire within "
                    f"{FLEET_WIDE_WAIVER_MAX_DAYS} days or name the clusters it covers"
                )
        return warnings

    def waiver(self, raw: dict[str, Any], where: tuple[Any, ...]) -> Waiver:
        self.unknown(raw, _WAIVER_KEYS, where, "[[waivers]]")
        missing = sorted(_WAIVER_KEYS - set(raw))
        if missing:
            raise self.error(where, f"a waiver lacks {', '.join(missing)}")
        # Control ids are case-insensitive, as on the command line: 'aks-img-01' is AKS-IMG-01.
        control = self.text(raw["control"], where + ("control",), "a waiver's 'control'").strip().upper()
        if not ControlId.is_valid(control) or control not in self.known_controls:
            known = f" (known: {', '.join(sorted(self.known_controls))})" if self.known_controls else ""
            raise self.error(where + ("control",), f"waiver names unknown control '{control}'{known}")
        resource = self.text(raw["resource"], where + ("resource",), "a waiver's 'resource'").strip()
        if not resource.startswith(("/", "*")):
            raise self.error(
                where + ("resource",),
                f"waiver resource must be an ARM id or a glob of one (starting with / or *), not {resource!r}",
            )
        reason = self.text(raw["reason"], where + ("reason",), "a waiver's 'reason'").strip()
        approver = self.text(raw["approver"], where + ("approver",), "a waiver's 'approver'").strip()
        expires = raw["expires"]
        if isinstance(expires, datetime):
            expires = expires.astimezone(UTC).date() if expires.tzinfo else expires.date()
        if not isinstance(expires, date):
            raise self.error(
                where + ("expires",), f"waiver 'expires' must be a TOML date (2026-12-31), not {expires!r}"
            )
        return Waiver(control, resource, reason, approver, expires, self.locator.line(where))


def _kind(value: Any) -> str:
    names = {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)
