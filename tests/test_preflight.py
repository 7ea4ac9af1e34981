"""`auditor preflight` through the real Azure SDK against the emulator: every step of the order AKS requires, a
cluster whose System pool is still upgrading, one whose control plane is behind, exit codes 0 / 3 / 1 / 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from auditor.cli import cli
from auditor.emulator.scenarios import mid_upgrade
from auditor.emulator.server import EmulatorServer
from auditor.errors import AuditorError
from tests.emulated import arm_cluster, small_fleet
from tests.evidence import SUB, pool, versions

TARGET = "1.34.2"
VERSIONS = versions({"1.33": ["KubernetesOfficial"], "1.34": ["KubernetesOfficial"]})
for patch in VERSIONS["values"][0]["patchVersions"].values():
    patch["upgrades"] = ["1.34.1", "1.34.2"]


def cid(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{name}"


def three_pools(name: str, **kwargs: Any) -> dict[str, Any]:
    return arm_cluster(
        name,
        pools=[pool("system"), pool("user1", mode="User"), pool("user2", mode="User")],
        **kwargs,
    )


def _fleet() -> dict[str, Any]:
    failed = three_pools("failedpool")
    failed["properties"]["agentPoolProfiles"][1]["provisioningState"] = "Failed"
    fleet = small_fleet(
        [
            three_pools("healthy"),
            three_pools("cp-upgrading"),
            three_pools("system-upgrading"),
            three_pools("user-upgrading"),
            three_pools("cp-done"),
            failed,
            three_pools("stopped", power="Stopped"),
        ]
    )
    fleet["kubernetesVersions"] = {"eastus": VERSIONS}
    for name, stage in (
        ("cp-upgrading", "control-plane"),
        ("system-upgrading", "system-pools"),
        ("user-upgrading", "user-pools"),
        ("cp-done", "pools-pending"),
    ):
        fleet = mid_upgrade(fleet, cid(name), stage, TARGET)
    return fleet


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    with EmulatorServer(_fleet(), state_dir=tmp_path_factory.mktemp("emu")) as server:
        yield server


def preflight(server: EmulatorServer, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["preflight", "--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file), *args],
        env={"AUDITOR_ACCESS_TOKEN": "test-token"},
    )


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_control_plane_of_a_healthy_cluster_may_be_upgraded(emulator: EmulatorServer) -> None:
    result = preflight(emulator, "--cluster", cid("healthy"), "--target-version", TARGET)
    assert result.exit_code == 0, result.output
    assert last_line(result) == f"allowed: the control plane of healthy may be upgraded to {TARGET} now"


def test_a_target_that_is_not_an_available_upgrade_blocks(emulator: EmulatorServer) -> None:
    result = preflight(emulator, "--cluster", cid("healthy"), "--target-version", "1.36.1")
    assert result.exit_code == 3
    assert "1.36.1 is not an available upgrade from 1.33.2 (available: 1.34.1, 1.34.2)" in last_line(result)
    assert "first: az aks get-upgrades -g rg1 -n healthy" in last_line(result)


def test_control_plane_behind_blocks_a_pool(emulator: EmulatorServer) -> None:
    result = preflight(emulator, "--cluster", cid("healthy"), "--pool", "user1", "--target-version", TARGET)
    assert result.exit_code == 3
    line = last_line(result)
    assert line.startswith(f"blocked: the control plane runs 1.33.2, behind the target {TARGET}")
    assert "first: upgrade the control plane first: az aks upgrade -g rg1 -n healthy --control-plane-only" in line


def test_system_pool_still_upgrading_blocks_user_pools_and_the_control_plane(emulator: EmulatorServer) -> None:
    user = preflight(emulator, "--cluster", cid("system-upgrading"), "--pool", "user1")
    assert user.exit_code == 3
    assert last_line(user).startswith(
        f"blocked: System pool(s) 'system' at 1.33.2 (Upgrading) not yet at {TARGET} and Succeeded"
    )
    assert "first: wait for the System pool upgrade to finish" in last_line(user)
    control_plane = preflight(emulator, "--cluster", cid("system-upgrading"))
    assert control_plane.exit_code == 3
    assert "pool(s) 'system' (Upgrading) are mid-operation" in last_line(control_plane)


def test_the_order_step_by_step(emulator: EmulatorServer) -> None:
    # Control plane upgrading: no pool may start.
    assert preflight(emulator, "--cluster", cid("cp-upgrading"), "--pool", "system").exit_code == 3
    # Control plane done: the System pool may go (to the control plane's version), a User pool may not yet.
    system = preflight(emulator, "--cluster", cid("cp-done"), "--pool", "system")
    assert system.exit_code == 0, system.output
    assert last_line(system) == f"allowed: pool 'system' of cp-done may be upgraded to {TARGET} now"
    user = preflight(emulator, "--cluster", cid("cp-done"), "--pool", "user1")
    assert user.exit_code == 3 and "System pool(s) 'system' at 1.33.2 (Succeeded)" in last_line(user)
    # System pools done, user1 upgrading: user2 waits for it; user1 itself is busy.
    other = preflight(emulator, "--cluster", cid("user-upgrading"), "--pool", "user2")
    assert other.exit_code == 3 and "pool(s) 'user1' (Upgrading) are mid-operation" in last_line(other)
    busy = preflight(emulator, "--cluster", cid("user-upgrading"), "--pool", "user1")
    assert busy.exit_code == 3 and "pool 'user1' is already Upgrading" in busy.stdout


def test_failed_and_stopped_clusters_block(emulator: EmulatorServer) -> None:
    failed = preflight(emulator, "--cluster", cid("failedpool"))
    assert failed.exit_code == 3 and "pool(s) 'user1' Failed" in last_line(failed)
    stopped = preflight(emulator, "--cluster", cid("stopped"))
    assert stopped.exit_code == 3 and "first: az aks start -g rg1 -n stopped" in last_line(stopped)


def test_json_gives_every_check_with_its_evidence(emulator: EmulatorServer) -> None:
    result = preflight(
        emulator,
        "--cluster",
        cid("system-upgrading"),
        "--pool",
        "user1",
        "--target-version",
        TARGET,
        "--format",
        "json",
    )
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["allowed"] is False and payload["step"] == "user-pool" and payload["target_version"] == TARGET
    checks = {c["name"]: c for c in payload["checks"]}
    assert set(checks) == {
        "cluster-running",
        "nothing-failed",
        "control-plane-ready",
        "system-pools-ready",
        "no-other-pool-upgrading",
        "pool-idle",
        "target-valid",
    }
    assert checks["control-plane-ready"]["status"] == "pass"
    assert checks["control-plane-ready"]["evidence"]["currentKubernetesVersion"] == TARGET
    assert checks["system-pools-ready"]["evidence"]["systemPools"] == {
        "system": {"version": "1.33.2", "state": "Upgrading"}
    }
    assert result.stderr.strip() == payload["verdict"]


def test_only_reads_are_sent(emulator: EmulatorServer) -> None:
    emulator.reset_counters()
    assert preflight(emulator, "--cluster", cid("healthy")).exit_code == 0
    counters = emulator.counters()
    assert counters["writes_refused"] == 0
    assert counters["managed_clusters"] == 1 and counters["agent_pools"] == 1
    assert counters["cluster_upgrade_profiles"] == 1


def test_errors_and_usage(emulator: EmulatorServer) -> None:
    missing = preflight(emulator, "--cluster", cid("nope"))
    assert missing.exit_code == 1 and "cannot read" in missing.stderr and "404" in missing.stderr
    no_pool = preflight(emulator, "--cluster", cid("healthy"), "--pool", "gpu")
    assert no_pool.exit_code == 1 and "has no agent pool 'gpu'" in no_pool.stderr
    malformed = preflight(emulator, "--cluster", "healthy")
    assert malformed.exit_code == 2 and "is not a managed cluster id" in malformed.stderr
    version = preflight(emulator, "--cluster", cid("healthy"), "--target-version", "1.34")
    assert version.exit_code == 2 and "is not X.Y.Z" in version.stderr


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(AuditorError):
        mid_upgrade(_fleet(), cid("healthy"), "halfway", TARGET)
