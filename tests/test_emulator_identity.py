"""The emulator's output is pinned: generated fleets, their monthly evolution and what a scan of one collects.

The digests were recorded on the code before the emulator was split along its concerns (server, generator,
evolution); a refactoring that changes a byte of a fleet, a snapshot, a served payload or the number of calls a
scan makes fails here. A deliberate change of the emulator's output re-records them (and says so in its commit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.emulator import write_fleet
from auditor.emulator.evolve import evolve_fleet
from auditor.emulator.generator import generate_fleet
from auditor.emulator.server import EmulatorServer

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)

# (seed, clusters, subscriptions, regions, kubernetes) -> SHA-256 of write_fleet's bytes
FLEETS: dict[tuple[int, int, int, Any, bool], str] = {
    (1, 40, 5, 2, False): "57e1b5431acc86a3ed3b0c48d567d5c1c73edf2fa299a9c029b1da81cf94f459",
    (7, 25, 3, 4, True): "87a0bbf73fe58c3238da9c8d8c25177c619a4197e92254f829df535f0f5bc2f1",
    (
        11,
        60,
        8,
        ("westeurope", "eastus", "japaneast"),
        False,
    ): "133fefd878f655863f4f25d8878eecde4a84ca980d072cc8e41db81316a6e09b",
    (11, 120, 12, 6, True): "f357c263ccef571535931aa62dba0a9098174da4c4aac9c70cc682fc5ec988c3",
}

# (seed, clusters, subscriptions, months) -> SHA-256 of every snapshot's write_fleet bytes, oldest first
EVOLUTIONS: dict[tuple[int, int, int, int], str] = {
    (1, 40, 5, 4): "6df9d448f2682658e5b3499cc824468df63d82f4a079e94fa5fe1e71d95b7fd6",
    (11, 80, 6, 6): "4928c8ce411d86c6206ae747883694d94720002e35ec054949493c2a2ba28dc8",
}

# What a scan of the seed-7 fleet collects (evidence rows sorted, so thread order does not matter), and the
# emulator's call counters afterwards (not the connection count: keep-alive reuse depends on thread timing).
SCAN_EVIDENCE = "43433a9e1803a453ac1786e2190f79c434d7d66979cdeb0ab673951e5b0e06b1"
SCAN_COUNTERS = {
    "subscriptions": 1,
    "resource_graph": 5,
    "managed_clusters": 3,
    "maintenance_configurations": 25,
    "kubernetes_versions": 4,
    "pool_upgrade_profiles": 14,
    "fleets": 2,
    "permissions": 3,
    "requests": 57,
}


def _fleet_digest(fleet: dict[str, Any], path: Path) -> str:
    write_fleet(fleet, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest_all(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


@pytest.mark.parametrize("key", list(FLEETS), ids=lambda key: f"seed{key[0]}-{key[1]}x{key[2]}")
def test_generated_fleet_bytes_are_unchanged(key: tuple[int, int, int, Any, bool], tmp_path: Path) -> None:
    seed, clusters, subscriptions, regions, kubernetes = key
    fleet = generate_fleet(
        clusters,
        subscriptions,
        seed,
        regions=regions if isinstance(regions, int) else list(regions),
        as_of=AS_OF,
        kubernetes=kubernetes,
    )
    assert fleet["fleetManager"]["fleets"]  # Fleet Manager content is drawn, so its bytes are pinned too
    assert _fleet_digest(fleet, tmp_path / "fleet.json") == FLEETS[key]


@pytest.mark.parametrize("key", list(EVOLUTIONS), ids=lambda key: f"seed{key[0]}-{key[3]}months")
def test_evolution_bytes_are_unchanged(key: tuple[int, int, int, int], tmp_path: Path) -> None:
    seed, clusters, subscriptions, months = key
    base = generate_fleet(clusters, subscriptions, seed, regions=3, as_of=AS_OF)
    parts = []
    for number, (moment, snapshot) in enumerate(evolve_fleet(base, months, seed)):
        path = write_fleet(snapshot, tmp_path / f"month-{number}.json")
        parts.append(moment.isoformat().encode() + path.read_bytes())
    assert _digest_all(parts) == EVOLUTIONS[key]


def test_a_scan_of_a_generated_fleet_collects_the_same_evidence_with_the_same_calls(tmp_path: Path) -> None:
    fleet = generate_fleet(25, 3, 7, regions=4, as_of=AS_OF)
    with EmulatorServer(fleet, state_dir=tmp_path / "emu") as server:
        clients = AzureClients(StaticTokenCredential("t"), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        record = run_scan(clients, ScanOptions(concurrency=4, clock=lambda: AS_OF))
        counters = {name: count for name, count in server.counters().items() if count and name != "connections"}
    spool = record.evidence
    try:
        spool.close()  # type: ignore[union-attr]
        lines = spool.path.read_bytes().splitlines()  # type: ignore[union-attr]
    finally:
        record.evidence.discard()  # type: ignore[union-attr]
    rows = sorted(
        json.dumps({k: v for k, v in json.loads(line).items() if k != "seq"}, sort_keys=True).encode() for line in lines
    )
    assert record.errors == []
    assert _digest_all(rows) == SCAN_EVIDENCE
    assert counters == SCAN_COUNTERS
