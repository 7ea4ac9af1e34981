"""The emulator's behaviour knobs: latency, Azure's quotas and injected faults, deterministic per seed."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from auditor.emulator.fleet import FleetError

# Call kinds; faults may be limited to some of them (fault_kinds, timeout_kinds).
CALL_KINDS = (
    "subscriptions",
    "resource_graph",
    "managed_clusters",
    "agent_pools",
    "maintenance_configurations",
    "kubernetes_versions",
    "pool_upgrade_profiles",
    "cluster_upgrade_profiles",
    "permissions",
    "management_groups",
)


# How error replies are written: ARM JSON; an HTML gateway page (not JSON); ARM JSON or plain text that echoes
# the request's headers, Authorization included, as some proxies and gateways do.
ERROR_BODIES = ("arm", "html", "echo-json", "echo-text")
GRAPH_TABLES = ("resources", "resourcechanges", "containerserviceeventresources")


@dataclass(frozen=True)
class Behaviour:
    """How the emulator answers besides the payloads: latency, quotas, faults.

    Defaults model Azure's real limits with no faults: Resource Graph allows 15 queries per 5 s window per
    token, the AKS resource provider a bucket of 60 refilled at 1/s per (subscription, region).
    """

    latency_ms: tuple[float, float] = (0.0, 0.0)
    resource_graph_quota: int | None = 15
    resource_graph_window_seconds: float = 5.0
    rp_burst: int | None = 60
    rp_refill_per_second: float = 1.0
    list_page_size: int = 100
    storm_calls: int = 0
    storm_seconds: float = 0.0
    storm_retry_after: int = 1
    server_error_rate: float = 0.0
    fault_kinds: frozenset[str] = field(default_factory=frozenset)
    # Listed, but the identity may not read their managed clusters: 403 on every call into them (the permissions
    # API excepted, which shows the missing action), and Resource Graph leaves their rows out.
    forbidden_subscriptions: frozenset[str] = field(default_factory=frozenset)
    # Not even listed: the identity has no access at all (403 everywhere, 404 on GET /subscriptions/{id}).
    hidden_subscriptions: frozenset[str] = field(default_factory=frozenset)
    # Clusters (lower-case ARM ids) Resource Graph has not indexed yet: only the ARM list shows them.
    graph_lag_clusters: frozenset[str] = field(default_factory=frozenset)
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    timeout_kinds: frozenset[str] = field(default_factory=frozenset)
    truncate_results: bool = False
    # Hostile payloads (malformed-input tests): how error replies are written, and (table, row) pairs served
    # verbatim after the fleet's own rows in every Resource Graph answer of that table (objectArray).
    error_body: str = "arm"
    extra_graph_rows: tuple[tuple[str, Any], ...] = ()
    seed: int = 0
    token: str | None = None

    def with_overrides(self, overrides: Mapping[str, Any]) -> Behaviour:
        """A copy with constructor-style overrides (field names; TypeError for unknown ones)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown emulator behaviour option(s): {', '.join(unknown)}")
        coerced = {name: _coerce(name, value) for name, value in overrides.items()}
        result = replace(self, **coerced)
        result.check()
        return result

    def check(self) -> None:
        """Raise ValueError when a knob is out of range."""
        low, high = self.latency_ms
        if low < 0 or high < low:
            raise ValueError(f"latency_ms must be 0 <= min <= max, got {self.latency_ms}")
        for name in ("server_error_rate", "timeout_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.list_page_size < 1:
            raise ValueError("list_page_size must be at least 1")
        if self.resource_graph_quota is not None and self.resource_graph_quota < 1:
            raise ValueError("resource_graph_quota must be at least 1 (or None for no quota)")
        if self.rp_burst is not None and (self.rp_burst < 1 or self.rp_refill_per_second <= 0):
            raise ValueError("rp_burst must be at least 1 and rp_refill_per_second positive (or rp_burst None)")
        tables = sorted({table for table, _ in self.extra_graph_rows} - set(GRAPH_TABLES))
        if tables:
            raise ValueError(
                f"extra_graph_rows: unknown table(s) {', '.join(tables)}; known: {', '.join(GRAPH_TABLES)}"
            )
        if self.error_body not in ERROR_BODIES:
            raise ValueError(f"error_body must be one of {', '.join(ERROR_BODIES)}, got {self.error_body!r}")
        for name in ("fault_kinds", "timeout_kinds"):
            unknown = sorted(set(getattr(self, name)) - set(CALL_KINDS))
            if unknown:
                raise ValueError(f"{name}: unknown call kind(s) {', '.join(unknown)}; known: {', '.join(CALL_KINDS)}")


def _coerce(name: str, value: Any) -> Any:
    if name == "latency_ms":
        if isinstance(value, int | float):
            return (float(value), float(value))
        low, high = value
        return (float(low), float(high))
    if name in ("fault_kinds", "timeout_kinds"):
        return frozenset(value or ())
    if name == "extra_graph_rows":
        # A list is rows of `resources`; a mapping gives rows per table; (table, row) pairs pass through.
        if isinstance(value, Mapping):
            return tuple((str(table).lower(), row) for table, rows in value.items() for row in rows)
        return tuple(
            item if isinstance(item, tuple) and len(item) == 2 else ("resources", item) for item in (value or ())
        )
    if name in ("forbidden_subscriptions", "hidden_subscriptions", "graph_lag_clusters"):
        return frozenset(str(item).lower() for item in (value or ()))
    return value


def behaviour_from_settings(settings: Mapping[str, Any] | None, source: str = "<fleet>") -> Behaviour:
    """Behaviour from a fleet file's ``emulator`` section (camelCase keys, see docs/emulator.md)."""
    if not settings:
        return Behaviour()
    where = f"{source}: emulator"
    allowed = {"latencyMs", "resourceGraphQuota", "rpThrottle", "listPageSize", "seed", "token", "faults"}
    _no_unknown(settings, allowed, where)
    options: dict[str, Any] = {}
    if "latencyMs" in settings:
        options["latency_ms"] = settings["latencyMs"]
    if "resourceGraphQuota" in settings:
        quota = settings["resourceGraphQuota"]
        if quota is None:
            options["resource_graph_quota"] = None
        else:
            _no_unknown(quota, {"queries", "windowSeconds"}, f"{where}.resourceGraphQuota")
            options["resource_graph_quota"] = int(quota.get("queries", 15))
            options["resource_graph_window_seconds"] = float(quota.get("windowSeconds", 5.0))
    if "rpThrottle" in settings:
        bucket = settings["rpThrottle"]
        if bucket is None:
            options["rp_burst"] = None
        else:
            _no_unknown(bucket, {"burst", "refillPerSecond"}, f"{where}.rpThrottle")
            options["rp_burst"] = int(bucket.get("burst", 60))
            options["rp_refill_per_second"] = float(bucket.get("refillPerSecond", 1.0))
    if "listPageSize" in settings:
        options["list_page_size"] = int(settings["listPageSize"])
    if "seed" in settings:
        options["seed"] = int(settings["seed"])
    if "token" in settings:
        options["token"] = settings["token"]
    faults = settings.get("faults") or {}
    _no_unknown(
        faults,
        {
            "throttleStorm",
            "serverErrorRate",
            "faultKinds",
            "forbiddenSubscriptions",
            "hiddenSubscriptions",
            "graphLagClusters",
            "timeouts",
            "truncateResults",
            "errorBody",
            "extraGraphRows",
        },
        f"{where}.faults",
    )
    storm = faults.get("throttleStorm") or {}
    _no_unknown(storm, {"calls", "seconds", "retryAfter"}, f"{where}.faults.throttleStorm")
    if storm:
        options["storm_calls"] = int(storm.get("calls", 0))
        options["storm_seconds"] = float(storm.get("seconds", 0.0))
        options["storm_retry_after"] = int(storm.get("retryAfter", 1))
    if "serverErrorRate" in faults:
        options["server_error_rate"] = float(faults["serverErrorRate"])
    if "faultKinds" in faults:
        options["fault_kinds"] = faults["faultKinds"]
    if "forbiddenSubscriptions" in faults:
        options["forbidden_subscriptions"] = faults["forbiddenSubscriptions"]
    if "hiddenSubscriptions" in faults:
        options["hidden_subscriptions"] = faults["hiddenSubscriptions"]
    if "graphLagClusters" in faults:
        options["graph_lag_clusters"] = faults["graphLagClusters"]
    timeouts = faults.get("timeouts") or {}
    _no_unknown(timeouts, {"rate", "seconds", "kinds"}, f"{where}.faults.timeouts")
    if timeouts:
        options["timeout_rate"] = float(timeouts.get("rate", 0.0))
        options["timeout_seconds"] = float(timeouts.get("seconds", 30.0))
        options["timeout_kinds"] = timeouts.get("kinds", ())
    if "truncateResults" in faults:
        options["truncate_results"] = bool(faults["truncateResults"])
    if "errorBody" in faults:
        options["error_body"] = faults["errorBody"]
    if "extraGraphRows" in faults:
        extra = faults["extraGraphRows"]
        if not isinstance(extra, list | Mapping) or (
            isinstance(extra, Mapping) and not all(isinstance(rows, list) for rows in extra.values())
        ):
            raise FleetError(f"{where}.faults.extraGraphRows: expected a list of rows, or lists of rows by table")
        unknown = (
            sorted(str(t) for t in extra if str(t).lower() not in GRAPH_TABLES) if isinstance(extra, Mapping) else []
        )
        if unknown:
            raise FleetError(
                f"{where}.faults.extraGraphRows: unknown table(s) {', '.join(unknown)}; "
                f"known: {', '.join(GRAPH_TABLES)}"
            )
        options["extra_graph_rows"] = faults["extraGraphRows"]
    try:
        return Behaviour().with_overrides(options)
    except (TypeError, ValueError) as exc:
        raise FleetError(f"{where}: {exc}") from None


def _no_unknown(section: Any, allowed: Iterable[str], where: str) -> None:
    if not isinstance(section, Mapping):
        raise FleetError(f"{where}: expected an object")
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise FleetError(f"{where}: unknown key(s) {', '.join(unknown)}")


def format_hms(seconds: float) -> str:
    """hh:mm:ss, rounded up, as in x-ms-user-quota-resets-after."""
    total = max(0, math.ceil(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


@dataclass
class QuotaDecision:
    """Outcome of asking a quota for one call."""

    allowed: bool
    remaining: int
    resets_after: float
    retry_after: int


class WindowQuota:
    """A fixed-window quota per key (Resource Graph: 15 queries per 5 s per user token)."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> QuotaDecision:
        """Count one query for key; allowed False once the window's limit is used up."""
        now = time.monotonic() if now is None else now
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window_seconds:
                start, used = now, 0
            resets_after = self.window_seconds - (now - start)
            if used >= self.limit:
                self._windows[key] = (start, used)
                return QuotaDecision(False, 0, resets_after, max(1, math.ceil(resets_after)))
            used += 1
            self._windows[key] = (start, used)
            return QuotaDecision(True, self.limit - used, resets_after, 0)


class TokenBucket:
    """A token bucket per key (AKS resource provider: burst 60, refilled 1/s, per subscription and region)."""

    def __init__(self, burst: int, refill_per_second: float) -> None:
        self.burst = burst
        self.refill_per_second = refill_per_second
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str], now: float | None = None) -> QuotaDecision:
        """Spend one token for key; allowed False with the seconds until the next token otherwise."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.refill_per_second)
            if tokens >= 1.0:
                tokens -= 1.0
                self._buckets[key] = (tokens, now)
                return QuotaDecision(True, int(tokens), 0.0, 0)
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.refill_per_second
            return QuotaDecision(False, 0, wait, max(1, math.ceil(wait)))


class FaultPlan:
    """Seeded decisions for latency and injected faults; one lock keeps the draw sequence reproducible."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._random = random.Random(behaviour.seed)
        self._lock = threading.Lock()
        self._calls = 0
        self._first_call: float | None = None

    def latency_seconds(self) -> float:
        """This call's added latency."""
        low, high = self.behaviour.latency_ms
        if high <= 0:
            return 0.0
        if low == high:
            return low / 1000.0
        with self._lock:
            return self._random.uniform(low, high) / 1000.0

    def _applies(self, kind: str, kinds: frozenset[str]) -> bool:
        return not kinds or kind in kinds

    def in_storm(self, kind: str, now: float | None = None) -> bool:
        """Whether this call falls in the configured 429 storm (first N calls, or the first T seconds)."""
        behaviour = self.behaviour
        if not (behaviour.storm_calls or behaviour.storm_seconds) or not self._applies(kind, behaviour.fault_kinds):
            return False
        now = time.monotonic() if now is None else now
        with self._lock:
            self._calls += 1
            if self._first_call is None:
                self._first_call = now
            if behaviour.storm_calls and self._calls <= behaviour.storm_calls:
                return True
            return bool(behaviour.storm_seconds) and now - self._first_call < behaviour.storm_seconds

    def times_out(self, kind: str) -> bool:
        """Whether this call should hang past the client's timeout."""
        behaviour = self.behaviour
        if behaviour.timeout_rate <= 0 or not self._applies(kind, behaviour.timeout_kinds):
            return False
        with self._lock:
            return self._random.random() < behaviour.timeout_rate

    def server_error(self, kind: str) -> int | None:
        """500 or 503 when this call draws an injected server error, else None."""
        behaviour = self.behaviour
        if behaviour.server_error_rate <= 0 or not self._applies(kind, behaviour.fault_kinds):
            return None
        with self._lock:
            if self._random.random() >= behaviour.server_error_rate:
                return None
            return 503 if self._random.random() < 0.5 else 500
