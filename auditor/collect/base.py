"""The one interface every collector implements, and the inventory they share."""

from __future__ import annotations

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


Task = Callable[[], None]


class Collector(Protocol):
    """One source of evidence: it yields independent calls that record evidence and errors in the context."""

    kind: str

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> Iterable[Task]: ...
