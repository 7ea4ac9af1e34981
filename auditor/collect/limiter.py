"""One limiter shared by every concurrent call of a scan: token buckets, quotas, Retry-After, backoff."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SAFETY_MARGIN_S = 0.05


class ScanCancelled(Exception):
    """The scan is stopping (Ctrl-C, SIGTERM, a fatal error): a worker drops its call instead of waiting."""


@dataclass
class TokenBucket:
    """A bucket of `capacity` tokens refilled at `rate` per second."""

    capacity: float
    rate: float
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def reserve(self, now: float) -> float:
        """Take a token, returning how long the caller must wait before using it."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass
class LimiterSettings:
    """Azure's published limits, overridable for tests and other clouds."""

    aks_burst: float = 60.0  # AKS resource provider "other GETs" bucket, per subscription and region
    aks_refill_per_s: float = 1.0
    graph_queries: float = 15.0  # Resource Graph user quota: queries per window
    graph_window_s: float = 5.0
    max_attempts: int = 6
    max_connect_attempts: int = 3  # nothing answering at all is rarely cured by waiting long
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_retry_after_s: float = 120.0


class Limiter:
    """Schedules calls across (subscription, region) buckets and the Resource Graph quota."""

    def __init__(self, settings: LimiterSettings | None = None, *, sleep: Callable[[float], None] | None = None):
        self.settings = settings or LimiterSettings()
        self._stop = threading.Event()
        # Waits end at once when the scan stops, so no worker sleeps through a Ctrl-C.
        self._sleep = sleep or self._stop.wait
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        graph_rate = self.settings.graph_queries / self.settings.graph_window_s
        self._graph = TokenBucket(self.settings.graph_queries, graph_rate)
        self._graph_blocked_until = 0.0
        self._rng = random.Random()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Wake every waiting worker and refuse further waits: the scan is ending."""
        self._stop.set()

    def _wait(self, seconds: float) -> None:
        if self._stop.is_set():
            raise ScanCancelled()
        self._sleep(seconds)
        if self._stop.is_set():
            raise ScanCancelled()

    def acquire_aks(self, subscription_id: str, region: str) -> None:
        """Wait for a token of the AKS bucket of this subscription and region."""
        key = (subscription_id.lower(), region.lower())
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(self.settings.aks_burst, self.settings.aks_refill_per_s)
                self._buckets[key] = bucket
            wait = bucket.reserve(time.monotonic())
        if wait > 0:
            # A hair later than our model says: the server's bucket must have refilled, not nearly.
            self._wait(wait + SAFETY_MARGIN_S)

    def acquire_graph(self) -> None:
        """Wait for the Resource Graph user quota."""
        with self._lock:
            now = time.monotonic()
            wait = max(self._graph.reserve(now), self._graph_blocked_until - now)
        if wait > 0:
            self._wait(wait)

    def observe_graph_quota(self, remaining: str | None, resets_after: str | None) -> None:
        """Follow the quota headers: when none remain, nobody queries until the window resets."""
        if remaining is None:
            return
        try:
            left = int(remaining)
        except ValueError:
            return
        if left > 0:
            return
        with self._lock:
            self._graph_blocked_until = max(
                self._graph_blocked_until, time.monotonic() + parse_duration(resets_after or "00:00:05")
            )

    def block_aks(self, subscription_id: str, region: str, seconds: float) -> None:
        """A 429 said the bucket is empty: drain our model of it too, so peers wait."""
        key = (subscription_id.lower(), region.lower())
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(bucket.tokens, -seconds * bucket.rate)
                bucket.updated = time.monotonic()

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: Retry-After when given, else exponential with jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.settings.max_retry_after_s)
        ceiling = min(self.settings.backoff_cap_s, self.settings.backoff_base_s * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)

    def sleep(self, seconds: float) -> None:
        """Wait before a retry; raises ScanCancelled when the scan stops meanwhile."""
        if seconds > 0:
            self._wait(seconds)


def parse_duration(text: str) -> float:
    """Seconds in an 'hh:mm:ss' quota header (or a plain number of seconds)."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
    except ValueError:
        return 5.0
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds
