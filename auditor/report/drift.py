"""The report's drift section: the trend of the scans up to the report's scan, and its charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import duckdb

from auditor.controls import load_catalog
from auditor.findings_cache import cached_scans, evaluator_key, store_evaluation
from auditor.policy import Policy
from auditor.report import charts
from auditor.store import Scan, list_scans, scan_scopes
from auditor.trend import Trend, TrendEntry, build_trend
from auditor.vocabulary import score


@dataclass
class Drift:
    """The report's drift section: the trend of the scans up to the report's scan, and its charts."""

    scans: int
    trend: Trend | None = None
    image_limit: int = 30
    _charts: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def enough(self) -> bool:
        return self.trend is not None and len(self.trend.entries) >= 2

    @property
    def entries(self) -> list[TrendEntry]:
        return self.trend.entries if self.trend else []

    @property
    def first(self) -> TrendEntry:
        return self.entries[0]

    @property
    def last(self) -> TrendEntry:
        return self.entries[-1]

    @property
    def open_failures(self) -> list[dict[str, Any]]:
        return self.trend.open_failures if self.trend else []

    @property
    def remediation(self) -> dict[str, Any]:
        return self.trend.remediation if self.trend else {}

    @property
    def unreconciled(self) -> list[str]:
        """The scans whose failure count does not follow from the previous one's: fail = previous fail + new
        - resolved - unverified holds whenever a scan has one finding per control, resource and pool."""
        entries = self.entries
        return [
            e.scan.scan_id
            for before, e in zip(entries, entries[1:], strict=False)
            if e.totals["fail"] != before.totals["fail"] + e.new_count - e.resolved_count - e.unverified_count
        ]

    @cached_property
    def charts(self) -> dict[str, str]:
        entries = self.entries
        labels = [e.scan.started_at.strftime("%Y-%m-%d") for e in entries]
        series = {c.id: [score(e.controls.get(c.id, {})) for e in entries] for c in load_catalog()}
        return {
            "compliance": charts.drift_compliance(labels, series, [e.score for e in entries]),
            "image_age": charts.drift_image_age(
                labels,
                [e.image_age_median for e in entries],
                [e.image_age_p90 for e in entries],
                self.image_limit,
            ),
            "versions": charts.drift_versions(labels, [e.versions for e in entries]),
            "changes": charts.drift_new_resolved(
                labels[1:], [e.new_count for e in entries[1:]], [e.resolved_count for e in entries[1:]]
            ),
        }


def build_drift(con: duckdb.DuckDBPyConnection, scan: Scan, policy: Policy) -> Drift:
    """The drift of the scans up to `scan`, for its report. The scan's own findings, just evaluated on con (its
    model tables and `eval_findings` are still in place), are cached rather than evaluated again."""
    # Only earlier scans of the same scope: another tenant's fleet, or a subset of this one, is not drift.
    every = [s for s in list_scans(con) if (s.started_at, s.scan_id) <= (scan.started_at, scan.scan_id)]
    scopes = scan_scopes(con, every)
    every = [s for s in every if scopes[s.scan_id] == scopes[scan.scan_id]]
    limit = int(policy.thresholds.get("image_max_age_days", 30))
    if len(every) < 2:
        return Drift(scans=len(every), image_limit=limit)
    key = evaluator_key(policy)
    if scan.scan_id not in cached_scans(con, key):
        store_evaluation(con, scan.scan_id, policy, key)
    return Drift(scans=len(every), trend=build_trend(con, policy, scans=every, details=False), image_limit=limit)
