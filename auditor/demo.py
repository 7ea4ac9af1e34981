"""The demo, next to the emulator: generate a fleet, let it evolve month by month, scan each month through the
library against the emulator, then write the reports, the period report, the maintenance calendar and three
pre-flight gates. No Azure account needed. It never prints: each month's outcome and each gate go to callbacks."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from auditor import api, sql
from auditor.collect.clients import AzureClients, StaticTokenCredential
from auditor.emulator import EmulatorServer
from auditor.emulator.evolve import evolve_fleet, month_steps
from auditor.emulator.generator import generate_fleet
from auditor.emulator.scenarios import mid_upgrade
from auditor.emulator.workloads import kubernetes_sections
from auditor.errors import AuditorError
from auditor.maintenance_calendar import to_ical
from auditor.paths import output_directory
from auditor.policy import default_policy
from auditor.preflight import PreflightResult, read_cluster, run_preflight
from auditor.store import open_db
from auditor.vocabulary import ProgressHook, version_key

REPORTS = ("pdf", "html", "csv", "json")
WARMUP_MONTHS = 3
DB_NAME = "demo.duckdb"
ORIGIN = "demo"  # auditor_meta 'origin' of a store `auditor demo` created, and may therefore replace

MonthDone = Callable[[int, int, datetime, api.ScanOutcome], None]  # (number, months, moment, outcome)
GateDone = Callable[[str, str | None, PreflightResult], None]  # (cluster id, pool or None, result)


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote, and the outcome of each month's scan (oldest first)."""

    paths: tuple[Path, ...]
    scans: tuple[api.ScanOutcome, ...]

    @property
    def partial(self) -> bool:
        return any(s.partial for s in self.scans)


def run(
    out_dir: Path,
    *,
    clusters: int,
    subscriptions: int,
    seed: int,
    months: int = 6,
    formats: Sequence[str] = REPORTS,
    progress: ProgressHook | None = None,
    on_month: MonthDone | None = None,
    on_gate: GateDone | None = None,
) -> DemoResult:
    """Generate a fleet, let it evolve month by month, serve each month with the emulator and scan it (the last scan
    today), then write the reports of the latest scan, drift section included, and the period report over the
    months scanned.

    The demo keeps its scans in a store of its own, out_dir/demo.duckdb, never in `scan`'s default store. It is built
    beside under a temporary name and moved into place only once whole, and it replaces only a store that an
    earlier demo created (marked so in auditor_meta): a store holding anyone else's scans is never touched.
    """
    output_directory(out_dir)
    db_path = out_dir / DB_NAME
    _check_demo_database(db_path)
    building = out_dir / f".{DB_NAME}.building-{os.getpid()}"
    api.remove_store_files(building)
    now = datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    # The generated fleet lives a few unseen months first, so the scanned history starts from a fleet already
    # shaped by its owners' habits rather than by the generator's draw.
    start = month_steps(today, months + WARMUP_MONTHS, end=today)[0]
    base = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, as_of=start)
    history = evolve_fleet(base, months + WARMUP_MONTHS, seed, end=today)[WARMUP_MONTHS:]
    credential = StaticTokenCredential("demo-token")  # the emulator accepts any bearer token
    outcomes: list[api.ScanOutcome] = []
    try:
        for number, (moment, fleet) in enumerate(history, start=1):
            clock = None
            if number < len(history):
                # Each month's scan runs at this time of day; the last one runs now.
                began, scan_start = time.monotonic(), moment + (now - today)

                def clock(began: float = began, scan_start: datetime = scan_start) -> datetime:
                    return scan_start + timedelta(seconds=time.monotonic() - began)

            # What runs inside each cluster this month (evolution carries the ARM side only): the demo scans with
            # kubernetes against the emulator's API servers, through the kubeconfig the emulator writes. Every
            # context is granted, so blocking PDBs and node drift show, not access faults (tests cover those).
            fleet["kubernetes"] = kubernetes_sections(fleet["managedClusters"], seed, access_faults=False)
            with EmulatorServer(fleet, state_dir=out_dir / "emulator") as server:
                request = api.ScanRequest(
                    endpoint=server.endpoint,
                    ca_bundle=str(server.ca_file),
                    kubernetes=True,
                    kubeconfig=str(server.kubeconfig_file),
                )
                with api.open(building, create=True) as store:
                    outcome = store.scan(request, credential=credential, progress=progress, clock=clock)
            outcomes.append(outcome)
            if on_month is not None:
                on_month(number, len(history), moment, outcome)
        _mark_demo_database(building)
        _check_demo_database(db_path)  # again: another process may have put a store there meanwhile
        api.remove_store_files(db_path)
        os.replace(building, db_path)
    finally:
        api.remove_store_files(building)
    policy = api.load_policy(None)
    with api.open(db_path) as store:
        latest = store.resolve(outcomes[-1].scan_id)
        paths = list(store.report(latest, policy, list(formats), out_dir).written)
        if not paths:
            raise AuditorError("the demo wrote no report")
        # The period report over the months scanned (docs/period.md): patch latency, compliance shares, exceptions.
        paths += store.period_report(history[0][0].date(), today.date(), policy, list(formats), out_dir).paths
        paths.append(_demo_calendar(store, latest, out_dir))
    paths.append(_demo_preflight(history[-1][1], out_dir, credential=credential, on_gate=on_gate))
    return DemoResult(tuple(paths), tuple(outcomes))


def _demo_calendar(store: api.Store, scan: Any, out_dir: Path) -> Path:
    """The latest scan's maintenance calendar for the next eight weeks, as output/maintenance.ics."""
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    path = out_dir / "maintenance.ics"
    path.write_bytes(to_ical(store.calendar(scan, default_policy(), start, 8)))
    return path


def _demo_preflight(fleet: dict[str, Any], out_dir: Path, *, credential: Any, on_gate: GateDone | None) -> Path:
    """Three upgrade gates against the demo fleet served by the emulator, one cluster caught mid-upgrade: a User
    pool while its System pool still upgrades (blocked), a control plane with an available target (allowed), and a
    User pool of that cluster before its control plane moved (blocked). Written to output/preflight.json."""

    def modes(cluster: dict[str, Any]) -> set[str]:
        return {str(p.get("mode", "User")) for p in cluster.get("properties", {}).get("agentPoolProfiles", [])}

    candidates = [
        c
        for c in sorted(fleet["managedClusters"], key=lambda c: c["id"].lower())
        if {"System", "User"} <= modes(c)
        and c.get("properties", {}).get("provisioningState") == "Succeeded"
        and c.get("properties", {}).get("powerState", {}).get("code", "Running") == "Running"
    ]
    path = out_dir / "preflight.json"
    gates: list[dict[str, Any]] = []
    with EmulatorServer(fleet, state_dir=out_dir / "emulator") as server:
        clients = AzureClients(credential, endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        targets: dict[str, str] = {}
        for cluster in candidates:
            profile = read_cluster(clients, cluster["id"])["profile"].get("properties", {})
            upgrades = sorted(
                (str(u["kubernetesVersion"]) for u in profile.get("controlPlaneProfile", {}).get("upgrades", [])),
                key=version_key,
            )
            if upgrades:
                targets[cluster["id"]] = upgrades[0]
            if len(targets) == 2:
                break
    if len(targets) < 2:
        # A fleet this small has nothing to show: say so in the file rather than invent a cluster.
        note = "the demo fleet has no two running clusters with System and User pools and an available upgrade"
        path.write_text(json.dumps({"gates": [], "note": note}, indent=2) + "\n", encoding="utf-8")
        return path
    (busy, busy_target), (idle, idle_target) = list(targets.items())
    user_pool = {
        c["id"]: next(p["name"] for p in c["properties"]["agentPoolProfiles"] if p.get("mode") == "User")
        for c in candidates
        if c["id"] in targets
    }
    caught = mid_upgrade(fleet, busy, "system-pools", busy_target)
    with EmulatorServer(caught, state_dir=out_dir / "emulator") as server:
        for cluster_id, pool, target in (
            (busy, user_pool[busy], None),
            (idle, None, idle_target),
            (idle, user_pool[idle], idle_target),
        ):
            result = run_preflight(
                cluster_id,
                pool=pool,
                target=target,
                endpoint=server.endpoint,
                ca_bundle=str(server.ca_file),
                credential=credential,
            )
            gates.append(result.as_dict())
            if on_gate is not None:
                on_gate(cluster_id, pool, result)
    path.write_text(json.dumps({"gates": gates}, indent=2) + "\n", encoding="utf-8")
    return path


def _mark_demo_database(db_path: Path) -> None:
    con = open_db(db_path)
    try:
        sql.run(con, "library/demo_origin_mark.sql", origin=ORIGIN)
    finally:
        con.close()


def _check_demo_database(db_path: Path) -> None:
    """Refuse to go on when db_path exists and is not a store an earlier demo created."""
    if not db_path.exists():
        return
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            rows = sql.run(con, "library/demo_origin.sql").rows
        finally:
            con.close()
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:200]
        raise AuditorError(
            f"{db_path} exists and is not a demo store ({detail}): the demo will not replace it; choose another --out"
        ) from exc
    if not rows or rows[0][0] != ORIGIN:
        raise AuditorError(
            f"{db_path} exists and was not created by `auditor demo`: the demo will not replace it; "
            "choose another --out"
        )
