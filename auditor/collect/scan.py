"""Run every collector in stages and return the whole scan, ready to commit."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.collect.aks import (
    KubernetesVersionsCollector,
    MaintenanceConfigurationsCollector,
    PoolUpgradeProfilesCollector,
)
from auditor.collect.base import Collector, Inventory, Task
from auditor.collect.clients import AzureClients, credential_message
from auditor.collect.context import CallFailed, CollectContext
from auditor.collect.coverage import CoverageCollector, ManagementGroupSubscriptionsCollector, coverage_stats
from auditor.collect.fleet import FleetGatesCollector, FleetResourcesCollector, FleetsCollector
from auditor.collect.kubernetes import KubernetesClients, KubernetesCollector
from auditor.collect.limiter import Limiter
from auditor.collect.resource_graph import (
    ManagedClustersCollector,
    ResourceChangesCollector,
    ScheduledEventsCollector,
)
from auditor.collect.subscriptions import SubscriptionsCollector
from auditor.errors import AuditorError, CollectionError
from auditor.store import CoverageRow, ScanRecord
from auditor.version import __version__
from auditor.vocabulary import ProgressHook

# Each stage needs what the one before found: subscriptions, then clusters, then per-cluster/region calls.
STAGES: tuple[tuple[str, tuple[Collector, ...]], ...] = (
    ("subscriptions", (SubscriptionsCollector(), ManagementGroupSubscriptionsCollector())),
    (
        "clusters",
        (
            ManagedClustersCollector(),
            ResourceChangesCollector(),
            ScheduledEventsCollector(),
            FleetsCollector(),
            FleetResourcesCollector(),
        ),
    ),
    # Maintenance first: its per-cluster load decides which bucket the per-region calls go through. The two
    # coverage calls per subscription spend no AKS regional bucket, so they ride along while the details wait on
    # theirs; they are reconciled with Resource Graph once the stage is done.
    (
        "details",
        (
            MaintenanceConfigurationsCollector(),
            KubernetesVersionsCollector(),
            PoolUpgradeProfilesCollector(),
            FleetGatesCollector(),
            CoverageCollector(),
        ),
    ),
    # Inside the clusters (opt-in: only when the scan has a kubeconfig); one task per cluster.
    ("kubernetes", (KubernetesCollector(),)),
)


@dataclass
class ScanOptions:
    """What to scan and how hard to push."""

    subscriptions: Sequence[str] = ()
    management_groups: Sequence[str] = ()
    concurrency: int = 16
    all_pool_profiles: bool = False
    graph_page_size: int = 1000  # Resource Graph's maximum $top
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def new_scan_id(started_at: datetime) -> str:
    """Sortable, unique scan id: UTC time plus a random suffix."""
    return started_at.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def run_scan(
    clients: AzureClients,
    options: ScanOptions,
    *,
    limiter: Limiter | None = None,
    progress: ProgressHook | None = None,
    kubernetes: KubernetesClients | None = None,
) -> ScanRecord:
    """Collect every source in scope; failures become collection errors, never silent gaps.

    With `kubernetes` (a kubeconfig's contexts), each cluster a context reaches is also read from inside.
    """
    started_at = options.clock()
    began = time.monotonic()
    clients.max_connections = max(clients.max_connections, options.concurrency)
    ctx = CollectContext(clients=clients, limiter=limiter or Limiter(), kubernetes=kubernetes)
    stage_seconds: dict[str, float] = {}
    inventory = Inventory(
        subscriptions=[s.lower() for s in options.subscriptions],
        management_groups=list(options.management_groups),
        options={"all_pool_profiles": options.all_pool_profiles, "graph_page_size": options.graph_page_size},
    )
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="collect")
    coverage: list[CoverageRow] = []
    try:
        for stage, collectors in STAGES:
            tasks: list[Task] = [t for c in collectors for t in c.tasks(ctx, inventory)]
            stage_began = time.monotonic()
            _run_stage(ctx, pool, stage, tasks, progress)
            if tasks:
                stage_seconds[stage] = round(time.monotonic() - stage_began, 3)
            if stage == "subscriptions":
                _check_reachable(ctx, inventory, options)
                _scope(inventory, options)
                _check_unreadable_scope(inventory, options)
            elif stage == "clusters":
                _check_listed(ctx, inventory)
            elif stage == "details":
                coverage = CoverageCollector().reconcile(ctx, inventory)
    except BaseException:
        # Ctrl-C, SIGTERM or a failure: wake sleeping workers, drop queued calls instead of finishing them,
        # and leave nothing behind.
        ctx.limiter.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        ctx.evidence.discard()
        raise
    pool.shutdown(wait=True)
    finished_at = options.clock()
    stats: dict[str, Any] = {
        "calls": dict(sorted(ctx.calls.items())),
        "retries": dict(sorted(ctx.retries.items())),
        "errors": len(ctx.errors),
        "subscriptions": ctx.evidence.kinds.get("subscription", 0),
        "clusters": len(inventory.clusters),
        "seconds": round(time.monotonic() - began, 3),
        "concurrency": options.concurrency,
        "stage_seconds": stage_seconds,
        "coverage": coverage_stats(coverage),
    }
    scope: dict[str, Any] = {
        # What was asked for decides which earlier scans this one is compared with (auditor.store.ScanScope).
        "kind": "subscriptions"
        if options.subscriptions
        else ("management_groups" if options.management_groups else "tenant"),
        "tenants": sorted(
            {str(meta["tenantId"]).lower() for meta in inventory.listed.values() if meta.get("tenantId")}
            if not options.subscriptions
            else {
                str(inventory.listed[sid]["tenantId"]).lower()
                for sid in inventory.scope_by
                if sid in inventory.listed and inventory.listed[sid].get("tenantId")
            }
        ),
        "subscriptions": sorted(inventory.subscriptions),
        "management_groups": list(options.management_groups),
        "requested_subscriptions": sorted(s.lower() for s in options.subscriptions),
    }
    if kubernetes is not None:
        # The scan read inside the clusters: without this the in-cluster controls say it was never asked for.
        scope["kubernetes"] = {"kubeconfig": kubernetes.source}
    return ScanRecord(
        scan_id=new_scan_id(started_at),
        started_at=started_at,
        finished_at=finished_at,
        tool_version=__version__,
        cloud=clients.cloud,
        endpoint=clients.base_url,
        scope=scope,
        stats=stats,
        evidence=ctx.evidence,
        errors=ctx.errors,
        coverage=coverage,
    )


def _scope(inventory: Inventory, options: ScanOptions) -> None:
    """Which subscriptions the population must cover, and why: the ones named, the ones under the management
    groups (their descendants, already gathered), or every enabled subscription the identity can list."""
    if options.subscriptions:
        for sid in options.subscriptions:
            inventory.scope_by.setdefault(sid.lower(), "subscription")
    elif not options.management_groups:
        for sid in inventory.subscriptions:
            inventory.scope_by.setdefault(sid, "listing")


def interleave(tasks: list[Task]) -> list[Task]:
    """Round-robin across AKS buckets, fullest first: a hot bucket's backlog starts at once and never queues
    ahead of calls that could run now, so workers sleep on a bucket only when nothing else is left."""
    queues: dict[tuple[str, str], list[Task]] = {}
    for task in tasks:
        queues.setdefault(task.bucket, []).append(task)
    ordered_queues = sorted(queues.values(), key=len, reverse=True)
    ordered: list[Task] = []
    for round_index in range(len(ordered_queues[0]) if ordered_queues else 0):
        ordered.extend(q[round_index] for q in ordered_queues if round_index < len(q))
    return ordered


def _run_stage(
    ctx: CollectContext, pool: ThreadPoolExecutor, stage: str, tasks: list[Task], progress: ProgressHook | None
) -> None:
    total = len(tasks)
    if progress:
        progress(stage, 0, total)
    futures = [pool.submit(task) for task in interleave(tasks)]
    for done, future in enumerate(as_completed(futures), start=1):
        try:
            future.result()
        except CallFailed:
            pass  # already a collection_errors row
        except AuditorError:
            raise  # the scan itself cannot go on (the evidence spool cannot be written)
        except Exception as exc:
            # One item the collector could not handle must not lose every other one: it becomes a row.
            ctx.fail(stage, "collector", None, "CollectorFailed", f"{type(exc).__name__}: {exc}")
        if progress:
            progress(stage, done, total)


def _check_reachable(ctx: CollectContext, inventory: Inventory, options: ScanOptions) -> None:
    """With nothing listed and the listing failed in transport, there is no scan to make: say why in one line."""
    listed = ctx.evidence.kinds.get("subscription", 0) > 0
    if listed:
        return
    failures = [e for e in ctx.errors if e.call == "subscription" and e.scope == "tenant"]
    url = ctx.clients.base_url
    if failures and failures[-1].status is None:
        raise CollectionError(_transport_message(url, failures[-1].code, failures[-1].message))
    if failures and failures[-1].status == 401:
        raise CollectionError(f"{url} refused the credential: {failures[-1].message}")
    if not options.subscriptions and not options.management_groups:
        if failures:
            raise CollectionError(f"cannot list subscriptions at {url}: {failures[-1].message}")
        raise CollectionError("the credential can read no subscription: nothing to scan")
    if failures:
        # Explicit scope given: scan it even though the listing failed; the failure stays recorded.
        inventory.subscriptions = [s.lower() for s in options.subscriptions]


def _transport_message(url: str, code: str | None, message: str) -> str:
    """One line that says what went wrong on the way to the endpoint and what to do."""
    if code == "CertificateUntrusted":
        reason = message.split("certificate verify failed:")[-1].split("(_ssl")[0].strip() or "not trusted"
        return (
            f"the TLS certificate of {url} is not trusted ({reason}): pass --ca-bundle with the CA that signed it "
            "(the emulator prints its CA file when it starts)"
        )
    if code == "NonTLSEndpoint":
        return f"{url} is plain HTTP: the bearer token is only ever sent over HTTPS; use an https:// endpoint"
    if code == "HostNotFound":
        return f"cannot reach {url}: the host name does not resolve (check --endpoint or the network's DNS)"
    if code == "TLSError":
        return f"cannot reach {url}: the TLS handshake failed ({message[:200]}); is it an HTTPS endpoint?"
    if code == "ConnectionRefused":
        return f"cannot reach {url}: connection refused (nothing listens there; is the emulator running?)"
    if code == "AuthenticationFailed":
        return credential_message(message)
    return f"cannot reach {url}: {message}"


def _check_unreadable_scope(inventory: Inventory, options: ScanOptions) -> None:
    """Subscriptions were asked for by id and the listing shows none of them readable: nothing to store. (Some
    of them missing is a partial scan: each one a coverage row, auditor/collect/coverage.py.)"""
    if not options.subscriptions or options.management_groups or inventory.subscriptions:
        return
    missing = sorted({s.lower() for s in options.subscriptions})
    raise CollectionError(
        f"none of the requested subscriptions can be read with this credential ({', '.join(missing[:5])}"
        f"{' and more' if len(missing) > 5 else ''}): nothing was scanned or stored"
    )


def _check_listed(ctx: CollectContext, inventory: Inventory) -> None:
    """No cluster row came back and the Resource Graph listing failed for good: an empty scan stored as `latest`
    would pass every gate on nothing, so the scan stops here, storing nothing."""
    if ctx.evidence.kinds.get("cluster", 0) or inventory.clusters:
        return
    # Calls that failed, not answers that were incomplete (truncated) or held unusable rows (kept as evidence).
    failures = [
        e for e in ctx.errors if e.call == "resource_graph" and e.code not in ("ResultTruncated", "MalformedRow")
    ]
    if not failures:
        return  # the query answered: the scope holds no usable cluster row
    scope = ", ".join(inventory.management_groups) or f"{len(inventory.subscriptions)} subscription(s)"
    status = f"HTTP {failures[-1].status}" if failures[-1].status else failures[-1].code or "error"
    raise CollectionError(
        f"Resource Graph could not list the clusters of {scope} ({status}: {failures[-1].message}): nothing was stored"
    )
