"""The probabilities a synthetic fleet is drawn from: one frozen FleetProfile for the generator and the evolution.

Weighted tables are ``(value, weight)`` pairs (weights need not sum to 1); per-hygiene tables are keyed by the
cluster's hygiene ("good", "fair", "poor"), per-environment ones by its environment tag ("prod", "staging",
"dev"). The defaults are what every generated fleet and every evolution used so far: changing one changes the
fleets a seed gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Weighted = tuple[tuple[Any, float], ...]


def _frozen(value: dict[str, Any]) -> Any:
    return field(default_factory=lambda: dict(value))


@dataclass(frozen=True)
class FleetProfile:
    """Every probability table of the generator (generator.py) and of the monthly evolution (evolve/)."""

    # ---------------------------------------------------------------- generation: subscriptions and clusters
    sub_kinds: Weighted = (("prod", 0.4), ("nonprod", 0.35), ("dev", 0.15), ("shared", 0.1))
    env_by_sub_kind: Mapping[str, Weighted] = _frozen(
        {
            "prod": (("prod", 0.85), ("staging", 0.1), ("dev", 0.05)),
            "nonprod": (("staging", 0.55), ("dev", 0.4), ("prod", 0.05)),
            "dev": (("dev", 0.9), ("staging", 0.1)),
            "shared": (("prod", 0.4), ("staging", 0.3), ("dev", 0.3)),
        }
    )
    hygiene_by_env: Mapping[str, Weighted] = _frozen(
        {
            "prod": (("good", 0.65), ("fair", 0.25), ("poor", 0.10)),
            "staging": (("good", 0.55), ("fair", 0.3), ("poor", 0.15)),
            "dev": (("good", 0.45), ("fair", 0.3), ("poor", 0.25)),
        }
    )
    # None means the key (or the whole autoUpgradeProfile) is absent
    upgrade_channel: Mapping[str, Weighted] = _frozen(
        {
            "good": (
                ("patch", 0.35),
                ("stable", 0.4),
                ("rapid", 0.08),
                ("node-image", 0.07),
                ("none", 0.05),
                (None, 0.05),
            ),
            "fair": (("none", 0.3), (None, 0.2), ("patch", 0.25), ("stable", 0.15), ("node-image", 0.1)),
            "poor": ((None, 0.45), ("none", 0.4), ("patch", 0.1), ("node-image", 0.05)),
        }
    )
    node_os_channel: Mapping[str, Weighted] = _frozen(
        {
            "good": (("NodeImage", 0.5), ("SecurityPatch", 0.4), ("None", 0.03), ("Unmanaged", 0.02), (None, 0.05)),
            "fair": (("NodeImage", 0.35), ("SecurityPatch", 0.15), ("Unmanaged", 0.25), ("None", 0.1), (None, 0.15)),
            "poor": (("Unmanaged", 0.35), ("None", 0.25), (None, 0.3), ("NodeImage", 0.1)),
        }
    )
    duration_hours: Mapping[str, Weighted] = _frozen(
        {
            "good": ((4, 0.45), (5, 0.1), (6, 0.25), (8, 0.15), (12, 0.05)),
            "fair": ((4, 0.15), (6, 0.2), (8, 0.3), (12, 0.2), (24, 0.15)),
            "poor": ((8, 0.2), (12, 0.2), (24, 0.6)),
        }
    )
    upgrade_settings_user: Weighted = (
        (None, 0.3),
        ({"maxSurge": "33%"}, 0.22),
        ({"maxSurge": "1"}, 0.12),
        ({"maxSurge": "10%", "maxUnavailable": "0"}, 0.1),
        ({"maxSurge": "33%", "drainTimeoutInMinutes": 30, "nodeSoakDurationInMinutes": 5}, 0.06),
        (
            {
                "maxSurge": "50%",
                "maxUnavailable": "0",
                "drainTimeoutInMinutes": 30,
                "undrainableNodeBehavior": "Cordon",
            },
            0.05,
        ),
        ({"maxSurge": "0", "maxUnavailable": "1"}, 0.07),
        ({"maxSurge": "0", "maxUnavailable": "10%"}, 0.04),
        ({"maxSurge": "0"}, 0.04),  # no surge and no unavailability: the upgrade cannot progress
    )
    upgrade_settings_system: Weighted = (
        (None, 0.35),
        ({"maxSurge": "33%"}, 0.25),
        ({"maxSurge": "1"}, 0.15),
        ({"maxSurge": "10%", "maxUnavailable": "0"}, 0.12),
        ({"maxSurge": "0", "maxUnavailable": "1"}, 0.06),  # takes a system node away during upgrades
        ({"maxSurge": "33%", "maxUnavailable": "10%"}, 0.04),
        ({"maxSurge": "0"}, 0.03),
    )
    start_hours: tuple[int, ...] = (0, 1, 2, 3, 4, 20, 21, 22, 23)
    history_days: int = 14  # Resource Graph keeps resourcechanges for 14 days

    # ---------------------------------------------------------------- generation: lifecycle quirks
    # (AKS-OVR-01, AKS-OS-01, AKS-UPG-01, AKS-WIN-03), drawn from a random stream of their own per cluster
    override: Weighted = (
        ("none", 0.9),
        ("in-force", 0.03),
        ("no-until", 0.01),
        ("ended-recently", 0.03),
        ("stale", 0.03),
    )
    vmas: float = 0.1  # of single-pool clusters: Availability Sets, retired on 30 September 2025
    annual: float = 0.3  # of Windows pools: Windows Server Annual Channel (retired on 15 May 2026)
    blue_green: Mapping[str, float] = _frozen({"prod": 0.12, "staging": 0.08, "dev": 0.03})  # of User pools
    future_start: float = 0.03  # of maintenance windows: startDate after as_of
    long_freeze: float = 0.04  # of maintenance windows: a freeze over 30 days
    keep_monthly_node_os: float = 0.3  # of monthly node OS windows (the rest become weekly, as most owners choose)

    # ---------------------------------------------------------------- evolution, per month
    # Monthly probabilities by diligence (good / fair / poor). Urgent: the minor has ended or ends within 60 days.
    manual_upgrade_urgent: Mapping[str, float] = _frozen({"good": 0.65, "fair": 0.35, "poor": 0.1})
    manual_upgrade_calm: Mapping[str, float] = _frozen({"good": 0.18, "fair": 0.07, "poor": 0.02})
    manual_image_update: Mapping[str, float] = _frozen({"good": 0.4, "fair": 0.15, "poor": 0.04})
    # manual upgrades that leave the pools behind
    control_plane_only: Mapping[str, float] = _frozen({"good": 0.05, "fair": 0.2, "poor": 0.35})
    finish_lagging_pools: Mapping[str, float] = _frozen({"good": 0.75, "fair": 0.45, "poor": 0.2})
    delete: Mapping[str, float] = _frozen({"prod": 0.01, "staging": 0.02, "dev": 0.04})
    new_clusters_per_month: float = 0.025
    upgrade_failure: float = 0.03
    # How often an automated channel gets its monthly upgrade through. Below 1: a window too short, a drain
    # blocked by a PodDisruptionBudget, no quota for surge nodes; careless owners leave such blockers for months.
    auto_runs: Mapping[str, float] = _frozen({"good": 0.92, "fair": 0.75, "poor": 0.3})
    # A production cluster's month in which the rings are skipped: whatever it moves to need not have run in a
    # lower ring first (a hotfix, a production maintenance window not staggered behind staging's).
    ring_lapse: float = 0.12
