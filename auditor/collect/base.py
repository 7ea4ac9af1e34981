"""The one interface every collector implements, and the inventory they share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from auditor.collect.context import CollectContext


@dataclass(frozen=True)
class ClusterRef:
    """What later collectors need to know of a cluster found by Resource Graph."""

    cluster_id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    pools: tuple[tuple[str, str], ...]  # (pool name, nodeImageVersion)


@dataclass
class Inventory:
    """Grows stage by stage: subscriptions, then clusters, then per-cluster and per-region evidence."""

    subscriptions: list[str] = field(default_factory=list)
    management_groups: list[str] = field(default_factory=list)
    clusters: list[ClusterRef] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # Calls planned per AKS bucket (subscription, region): lets per-region calls go to the least loaded one.
    bucket_load: Counter[tuple[str, str]] = field(default_factory=Counter)
    # The population to prove (auditor/collect/coverage.py): every subscription the listing showed (id -> its
    # displayName, state, tenantId), the subscriptions in scope and why, and what the per-subscription checks found.
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    scope_by: dict[str, str] = field(default_factory=dict)
    cluster_read: dict[str, bool] = field(default_factory=dict)  # absent: the permissions call failed
    arm_clusters: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (lower id, name); absent: failed
    list_refused: set[str] = field(default_factory=set)  # the managed-cluster list answered 401/403

    def least_loaded(self, candidates: Iterable[ClusterRef]) -> ClusterRef:
        """The candidate whose (subscription, region) bucket has the fewest planned calls; plans one more."""
        chosen = min(candidates, key=lambda c: (self.bucket_load[(c.subscription_id, c.location)], c.cluster_id))
        self.bucket_load[(chosen.subscription_id, chosen.location)] += 1
        return chosen


@dataclass(frozen=True)
class Task:
    """One independent call (or chain of calls) and the AKS bucket it spends, for fair scheduling."""

    run: Callable[[], None]
    bucket: tuple[str, str] = ("", "")  # (subscription, region); empty for Resource Graph and ARM-wide calls

    def __call__(self) -> None:
        self.run()


class Collector(Protocol):
    """One source of evidence: it yields independent calls that record evidence and errors in the context."""

    kind: str

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> Iterable[Task]: ...
