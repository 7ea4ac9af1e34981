"""The emulator, exercised through the real Azure SDK clients over HTTPS (no SDK internals patched)."""

from __future__ import annotations

import copy
import http.client
import json
import socket
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from azure.mgmt.subscription import SubscriptionClient

from auditor.emulator import (
    EmulatorServer,
    Fleet,
    FleetError,
    fleet_from_azure_examples,
    load_fleet,
    write_fleet,
)
from auditor.emulator.faults import format_hms
from auditor.emulator.generator import generate_fleet

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "azure-examples"

SID = "00000000-0000-0000-0000-000000000000"
AS_OF = datetime(2026, 11, 24, tzinfo=UTC)


class StaticToken:
    """A TokenCredential that always returns the same bearer token."""

    def __init__(self, token: str = "emulator-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def example_body(relative: str) -> Any:
    return json.loads((EXAMPLES / "containerservice" / relative).read_text())["responses"]["200"]["body"]


def raw(response: Any, deserialized: Any, headers: Any) -> Any:
    """cls hook returning the wire JSON of a call."""
    return response.http_response.json()


def clients(server: EmulatorServer, subscription: str = SID, **kwargs: Any):
    options = {
        "base_url": server.endpoint,
        "connection_verify": str(server.ca_file),
        "retry_total": 0,
        **kwargs,
    }
    return (
        ContainerServiceClient(StaticToken(), subscription, **options),
        ResourceGraphClient(StaticToken(), **options),
        SubscriptionClient(StaticToken(), **options),
    )


def https_request(
    server: EmulatorServer,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
):
    context = ssl.create_default_context(cafile=str(server.ca_file))
    connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def example_fleet() -> dict[str, Any]:
    return fleet_from_azure_examples(EXAMPLES, extra_clusters=4)


@pytest.fixture(scope="module")
def server(example_fleet):
    with EmulatorServer(example_fleet, list_page_size=2, resource_graph_quota=None, rp_burst=None) as running:
        yield running
        assert running.handler_errors() == []


@pytest.fixture(scope="module")
def small_fleet() -> dict[str, Any]:
    return generate_fleet(clusters=12, subscriptions=3, seed=3, regions=2, as_of=AS_OF)


# ---------------------------------------------------------------------------- ARM reads


def test_managed_cluster_get_returns_the_example_body_unchanged(server, example_fleet):
    aks, _, _ = clients(server)
    wire = aks.managed_clusters.get("rg1", "clustername1", cls=raw)
    assert wire == example_body("ManagedClustersGet.json")
    model = aks.managed_clusters.get("RG1", "ClusterName1")  # ARM paths are case-insensitive
    assert model.name == "clustername1"
    assert model.agent_pool_profiles[0].node_image_version == "AKSUbuntu:1604:2020.03.11"
    premium = aks.managed_clusters.get("rg1", "clustername2")
    assert premium.support_plan == "AKSLongTermSupport" and premium.sku.tier == "Premium"


def test_cluster_lists_page_with_next_link(server):
    aks, _, _ = clients(server)
    before = server.counters()["managed_clusters"]
    names = [c.name for c in aks.managed_clusters.list()]
    assert names == [f"clustername{n}" for n in range(1, 6)]
    assert server.counters()["managed_clusters"] - before == 3  # 5 clusters, pages of 2
    assert [c.name for c in aks.managed_clusters.list_by_resource_group("rg1")] == names
    assert list(aks.managed_clusters.list_by_resource_group("rg-without-clusters")) == []


def test_agent_pools_and_pool_upgrade_profile(server):
    aks, _, _ = clients(server)
    pools = list(aks.agent_pools.list("rg1", "clustername1"))
    assert [p.name for p in pools] == ["nodepool1"]
    pool = aks.agent_pools.get("rg1", "clustername1", "nodepool1", cls=raw)
    assert pool["properties"]["nodeImageVersion"] == "AKSUbuntu:1604:2020.03.11"
    assert pool["properties"]["upgradeSettings"] == {"maxSurge": "33%"}
    profile = aks.agent_pools.get_upgrade_profile("rg1", "clustername1", "nodepool1", cls=raw)
    expected = example_body("AgentPoolsGetUpgradeProfile.json")
    assert profile["properties"]["latestNodeImageVersion"] == expected["properties"]["latestNodeImageVersion"]
    assert profile["properties"]["osType"] == "Linux"
    assert profile["name"] == "default" and profile["type"] == expected["type"]
    cluster_profile = aks.managed_clusters.get_upgrade_profile("rg1", "clustername1")
    assert cluster_profile.control_plane_profile.kubernetes_version == "1.9.6"


def test_maintenance_configurations_include_window_and_legacy_forms(server):
    aks, _, _ = clients(server)
    configs = list(aks.maintenance_configurations.list_by_managed_cluster("rg1", "clustername1"))
    assert [c.name for c in configs] == [
        "aksManagedNodeOSUpgradeSchedule",
        "aksManagedAutoUpgradeSchedule",
        "default",
    ]
    auto = aks.maintenance_configurations.get("rg1", "clustername1", "aksmanagedautoupgradeschedule", cls=raw)
    window_example = example_body("MaintenanceConfigurationsList_MaintenanceWindow.json")["value"][1]
    assert auto == window_example
    legacy = aks.maintenance_configurations.get("rg1", "clustername1", "default", cls=raw)
    assert legacy["properties"]["timeInWeek"] == [{"day": "Monday", "hourSlots": [1, 2]}]
    assert list(aks.maintenance_configurations.list_by_managed_cluster("rg1", "clustername3")) == []


def test_kubernetes_versions_envelope_is_values(server):
    aks, _, _ = clients(server)
    result = aks.managed_clusters.list_kubernetes_versions("location1")
    # KubernetesVersionListResult.values is the dict method, not the payload: index the mapping.
    assert callable(result.values)
    assert [v["version"] for v in result["values"]] == ["1.23", "1.24", "1.25", "1.26"]
    assert aks.managed_clusters.list_kubernetes_versions("location1", cls=raw) == example_body(
        "KubernetesVersions_List.json"
    )
    with pytest.raises(ResourceNotFoundError):
        aks.managed_clusters.list_kubernetes_versions("nowhere")


def test_unknown_resources_are_arm_404s(server):
    aks, _, _ = clients(server)
    with pytest.raises(ResourceNotFoundError) as caught:
        aks.managed_clusters.get("rg1", "missing")
    assert caught.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError):
        aks.agent_pools.get("rg1", "clustername1", "missing")
    other, _, _ = clients(server, subscription="11111111-1111-1111-1111-111111111111")
    with pytest.raises(ResourceNotFoundError) as caught:
        list(other.managed_clusters.list())
    assert caught.value.error.code == "SubscriptionNotFound"


def test_subscriptions_list_and_get(server):
    _, _, subscriptions = clients(server)
    listed = list(subscriptions.subscriptions.list())
    assert [s.subscription_id for s in listed] == [SID]
    assert subscriptions.subscriptions.get(SID).display_name == "API example subscription"


# ---------------------------------------------------------------------------- Resource Graph


def test_resource_graph_pages_with_skip_token(server):
    _, graph, _ = clients(server)
    query = (
        "Resources | where type =~ 'microsoft.containerservice/managedclusters'"
        " | project id, name, type, location, resourceGroup, subscriptionId, tags, sku, properties"
    )
    rows: list[dict[str, Any]] = []
    pages = 0
    token = None
    while True:
        response = graph.resources(
            QueryRequest(subscriptions=[SID], query=query, options=QueryRequestOptions(top=2, skip_token=token))
        )
        pages += 1
        assert response.total_records == 5
        assert response.result_truncated == "false"
        rows.extend(response.data)
        token = response.skip_token
        if not token:
            break
    assert pages == 3
    assert [r["name"] for r in rows] == [f"clustername{n}" for n in range(1, 6)]
    first = rows[0]
    assert list(first) == [
        "id",
        "name",
        "type",
        "location",
        "resourceGroup",
        "subscriptionId",
        "tags",
        "sku",
        "properties",
    ]
    assert first["type"] == "microsoft.containerservice/managedclusters"  # ARG lower-cases type
    assert first["properties"] == example_body("ManagedClustersGet.json")["properties"]


def test_resource_graph_table_format_and_skip(server):
    _, graph, _ = clients(server)
    response = graph.resources(
        QueryRequest(
            subscriptions=[SID],
            query="Resources | project id, name, tags",
            options=QueryRequestOptions(top=2, skip=3, result_format="table"),
        )
    )
    assert [c["name"] for c in response.data["columns"]] == ["id", "name", "tags"]
    assert [c["type"] for c in response.data["columns"]] == ["string", "string", "object"]
    assert [row[1] for row in response.data["rows"]] == ["clustername4", "clustername5"]
    assert response.count == 2 and response.skip_token is None


def test_resource_graph_rejects_bad_requests(server):
    _, graph, _ = clients(server)
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(subscriptions=[SID], query="securityresources | limit 1"))
    assert caught.value.status_code == 400
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(subscriptions=[SID], query="Resources | project n = name"))
    assert caught.value.status_code == 400
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(subscriptions=[SID], query="Resources", options=QueryRequestOptions(top=5000)))
    assert caught.value.status_code == 400


# ---------------------------------------------------------------------------- protocol and refusals


def test_writes_are_refused_and_counted(server):
    aks, _, _ = clients(server)
    before = server.counters()["writes_refused"]
    with pytest.raises(HttpResponseError) as caught:
        aks.managed_clusters.begin_delete("rg1", "clustername1")
    assert caught.value.status_code == 405
    assert "read-only" in caught.value.error.message
    with pytest.raises(HttpResponseError):
        aks.managed_clusters.list_cluster_user_credentials("rg1", "clustername1")  # a POST
    status, _, body = https_request(
        server,
        "PUT",
        f"/subscriptions/{SID}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/x?api-version=2026-08-01",
        {"Authorization": "Bearer t", "Content-Type": "application/json"},
        b"{}",
    )
    assert status == 405 and body["error"]["code"] == "MethodNotAllowed"
    assert server.counters()["writes_refused"] - before == 3
    assert aks.managed_clusters.get("rg1", "clustername1").name == "clustername1"  # still intact


def test_missing_bearer_token_is_401_with_arm_body(server):
    path = f"/subscriptions/{SID}/providers/Microsoft.ContainerService/managedClusters?api-version=2026-08-01"
    status, headers, body = https_request(server, "GET", path)
    assert status == 401
    assert body["error"]["code"] == "AuthenticationFailed"
    assert "Bearer" in headers["WWW-Authenticate"]
    status, _, _ = https_request(server, "GET", path, {"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401
    status, _, body = https_request(server, "GET", path.split("?")[0], {"Authorization": "Bearer t"})
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"


def test_keep_alive_and_low_latency_through_the_sdk(server):
    aks, _, _ = clients(server)
    aks.managed_clusters.get("rg1", "clustername1")  # warm up the TLS connection
    before = server.counters()
    calls = 50
    started = time.perf_counter()
    for _ in range(calls):
        aks.managed_clusters.get("rg1", "clustername1")
    per_call_ms = (time.perf_counter() - started) / calls * 1000
    after = server.counters()
    # Without TCP_NODELAY every keep-alive reply stalls ~40 ms (Nagle plus delayed ACKs).
    assert per_call_ms < 20, f"{per_call_ms:.1f} ms per call"
    assert after["connections"] == before["connections"]  # one kept-alive connection served all 50
    assert after["requests"] - before["requests"] == calls


def test_accepted_sockets_have_tcp_nodelay(server):
    aks, _, _ = clients(server)
    aks.managed_clusters.get("rg1", "clustername1")  # leaves a kept-alive connection open
    with server._connections_lock:
        connections = list(server._connections)
    assert connections
    for connection in connections:
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


# ---------------------------------------------------------------------------- quotas and faults


def test_resource_graph_user_quota_429_with_quota_headers(example_fleet):
    with EmulatorServer(example_fleet, resource_graph_quota=3, resource_graph_window_seconds=30) as emulator:
        _, graph, _ = clients(emulator)
        seen: list[dict[str, str]] = []
        hook = {"raw_response_hook": lambda response: seen.append(dict(response.http_response.headers))}
        for _ in range(3):
            graph.resources(QueryRequest(subscriptions=[SID], query="Resources"), **hook)
        assert [h["x-ms-user-quota-remaining"] for h in seen] == ["2", "1", "0"]
        with pytest.raises(HttpResponseError) as caught:
            graph.resources(QueryRequest(subscriptions=[SID], query="Resources"))
        response = caught.value.response
        assert response.status_code == 429
        assert caught.value.error.code == "RateLimiting"
        assert response.headers["x-ms-user-quota-remaining"] == "0"
        assert response.headers["x-ms-user-quota-resets-after"].startswith("00:00:")
        assert 1 <= int(response.headers["Retry-After"]) <= 30
        assert emulator.counters()["throttled_resource_graph"] == 1


def test_aks_rp_token_bucket_429_with_retry_after(example_fleet):
    with EmulatorServer(example_fleet, rp_burst=3, rp_refill_per_second=0.5) as emulator:
        aks, _, _ = clients(emulator)
        for _ in range(3):
            aks.managed_clusters.get("rg1", "clustername1")
        with pytest.raises(HttpResponseError) as caught:
            aks.managed_clusters.get("rg1", "clustername1")
        assert caught.value.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "2"
        assert emulator.counters()["throttled_rp"] == 1
        # Listing subscriptions is not an AKS resource-provider call.
        _, _, subscriptions = clients(emulator)
        assert list(subscriptions.subscriptions.list())


def test_throttle_storm_then_recovery(example_fleet):
    with EmulatorServer(example_fleet, storm_calls=2, storm_retry_after=3) as emulator:
        aks, _, _ = clients(emulator)
        for _ in range(2):
            with pytest.raises(HttpResponseError) as caught:
                aks.managed_clusters.get("rg1", "clustername1")
            assert caught.value.status_code == 429
            assert caught.value.response.headers["Retry-After"] == "3"
        assert aks.managed_clusters.get("rg1", "clustername1").name == "clustername1"
        assert emulator.counters()["throttled_storm"] == 2


def test_server_errors_are_seeded_and_arm_shaped(example_fleet):
    statuses = []
    for _ in range(2):
        with EmulatorServer(example_fleet, server_error_rate=0.5, seed=11) as emulator:
            aks, _, _ = clients(emulator)
            run = []
            for _ in range(12):
                try:
                    aks.managed_clusters.get("rg1", "clustername1")
                    run.append(200)
                except HttpResponseError as exc:
                    assert exc.error.code in ("InternalServerError", "ServiceUnavailable")
                    run.append(exc.status_code)
            statuses.append(run)
            assert emulator.counters()["server_errors"] == sum(1 for s in run if s != 200)
    assert statuses[0] == statuses[1]  # same seed, same sequence
    assert 200 in statuses[0] and {500, 503} & set(statuses[0])


def test_forbidden_subscriptions_403_and_resource_graph_omits_them(small_fleet):
    fleet = Fleet(small_fleet)
    forbidden, allowed, third = fleet.subscription_ids
    with EmulatorServer(small_fleet, forbidden_subscriptions=[forbidden]) as emulator:
        aks, graph, subscriptions = clients(emulator, subscription=forbidden)
        with pytest.raises(HttpResponseError) as caught:
            list(aks.managed_clusters.list())
        assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"
        with pytest.raises(HttpResponseError) as caught:
            graph.resources(QueryRequest(subscriptions=[forbidden], query="resources"))
        assert caught.value.status_code == 403
        both = graph.resources(
            QueryRequest(subscriptions=[forbidden, allowed], query="resources | project id, subscriptionId")
        )
        assert {row["subscriptionId"] for row in both.data} == {allowed}
        # The resources table holds the Fleet Manager fleets beside the clusters.
        assert both.total_records == len(fleet.clusters_in(allowed)) + len(fleet.fleet_manager.fleets_in(allowed))
        tenant_wide = graph.resources(QueryRequest(query="resources | project id, subscriptionId"))
        assert {row["subscriptionId"] for row in tenant_wide.data} == {allowed, third}
        # The subscription is still listed: the principal sees it but may not read AKS in it.
        assert forbidden in [s.subscription_id for s in subscriptions.subscriptions.list()]
        assert emulator.counters()["forbidden"] == 2


def test_management_groups_map_to_subscriptions(small_fleet):
    fleet = Fleet(small_fleet)
    production = set(small_fleet["managementGroups"]["contoso-production"])
    with EmulatorServer(small_fleet, resource_graph_quota=None) as emulator:
        _, graph, _ = clients(emulator)
        response = graph.resources(QueryRequest(management_groups=["contoso-root"], query="resources | project id"))
        assert response.total_records == len(fleet.clusters) + len(fleet.fleet_manager.fleets)
        response = graph.resources(
            QueryRequest(management_groups=["Contoso-Production"], query="resources | project subscriptionId")
        )
        assert {row["subscriptionId"] for row in response.data} <= production
        with pytest.raises(HttpResponseError) as caught:
            graph.resources(QueryRequest(management_groups=["no-such-group"], query="resources"))
        assert caught.value.status_code == 403


def test_truncated_results_have_no_skip_token(small_fleet):
    with EmulatorServer(small_fleet, truncate_results=True) as emulator:
        _, graph, _ = clients(emulator)
        response = graph.resources(QueryRequest(query="resources | project id", options=QueryRequestOptions(top=5)))
        assert response.result_truncated == "true"
        assert response.skip_token is None
        assert response.count == 5 and response.total_records == 12 + len(small_fleet["fleetManager"]["fleets"])
        assert emulator.counters()["truncated_results"] == 1


def test_timeouts_hang_past_the_client_timeout(example_fleet):
    with EmulatorServer(
        example_fleet, timeout_rate=1.0, timeout_seconds=5, timeout_kinds=["maintenance_configurations"]
    ) as emulator:
        aks, _, _ = clients(emulator)
        assert aks.managed_clusters.get("rg1", "clustername1").name == "clustername1"  # other kinds unaffected
        started = time.perf_counter()
        with pytest.raises((ServiceResponseError, ServiceRequestError)):
            list(aks.maintenance_configurations.list_by_managed_cluster("rg1", "clustername1", read_timeout=0.5))
        assert time.perf_counter() - started < 3
        assert emulator.counters()["timeouts"] == 1


def test_resource_changes_and_scheduled_events_tables(small_fleet):
    with EmulatorServer(small_fleet, resource_graph_quota=None) as emulator:
        _, graph, _ = clients(emulator)
        changes = graph.resources(
            QueryRequest(
                query="resourcechanges"
                " | where properties.targetResourceType =~ 'microsoft.containerservice/managedclusters'"
            )
        )
        assert changes.total_records == len(small_fleet["resourceChanges"])
        for row in changes.data:
            assert row["type"] == "microsoft.resources/changes"
            assert row["properties"]["targetResourceId"] in {c["id"] for c in small_fleet["managedClusters"]}
        events = graph.resources(
            QueryRequest(
                query="containerserviceeventresources"
                " | where type == 'microsoft.containerservice/managedclusters/scheduledevents'"
            )
        )
        assert events.total_records == len(small_fleet["scheduledEvents"])


# ---------------------------------------------------------------------------- fleet files and settings


def test_fleet_emulator_section_configures_behaviour(example_fleet, tmp_path):
    fleet = copy.deepcopy(example_fleet)
    fleet["emulator"] = {
        "listPageSize": 1,
        "latencyMs": [1, 2],
        "faults": {"forbiddenSubscriptions": [SID.upper()]},
    }
    path = write_fleet(fleet, tmp_path / "fleet.json")
    with EmulatorServer(load_fleet(path), forbidden_subscriptions=[]) as emulator:  # constructor overrides file
        assert emulator.behaviour.list_page_size == 1
        assert emulator.behaviour.latency_ms == (1.0, 2.0)
        assert emulator.behaviour.forbidden_subscriptions == frozenset()
    with EmulatorServer(load_fleet(path)) as emulator:
        assert emulator.behaviour.forbidden_subscriptions == frozenset({SID})
    fleet["emulator"] = {"faults": {"throttleStrom": {}}}
    with pytest.raises(FleetError, match="throttleStrom"):
        EmulatorServer(fleet)
    with pytest.raises(TypeError, match="not_a_knob"):
        EmulatorServer(example_fleet, not_a_knob=1)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.update(schema="other@1"), "schema"),
        (lambda f: f["managedClusters"][0].pop("location"), "missing 'location'"),
        (
            lambda f: f["managedClusters"].append(copy.deepcopy(f["managedClusters"][0])),
            "duplicate cluster id",
        ),
        (lambda f: f["kubernetesVersions"].update(location2={"value": []}), "values"),
        (lambda f: f["latestNodeImages"]["location1"].update(x="not-an-image"), "not a node image version"),
        (lambda f: f.update(extra=1), "unknown key"),
    ],
)
def test_bad_fleets_fail_with_one_line(example_fleet, mutate, message):
    fleet = copy.deepcopy(example_fleet)
    mutate(fleet)
    with pytest.raises(FleetError, match=message) as caught:
        Fleet(fleet, source="fleet.json")
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("fleet.json: ")


def test_unreadable_fleet_files(tmp_path):
    with pytest.raises(FleetError, match="cannot read"):
        load_fleet(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": ')
    with pytest.raises(FleetError, match=r"broken.json:1:\d+: not valid JSON"):
        load_fleet(broken)


def test_format_hms():
    assert format_hms(4.2) == "00:00:05"
    assert format_hms(3725) == "01:02:05"


def test_certificates_are_reused_from_a_state_dir(example_fleet, tmp_path):
    with EmulatorServer(example_fleet, state_dir=tmp_path) as first:
        ca = first.ca_file.read_bytes()
    with EmulatorServer(example_fleet, state_dir=tmp_path) as second:
        assert second.ca_file.read_bytes() == ca
        status, _, _ = https_request(
            second, "GET", "/subscriptions?api-version=2022-12-01", {"Authorization": "Bearer t"}
        )
        assert status == 200
    assert (tmp_path / "emulator-server-key.pem").stat().st_mode & 0o077 == 0


def test_serve_forever_prints_hints_and_stops_on_request(example_fleet, tmp_path):
    import io
    import threading

    from auditor.emulator import banner, serve_forever

    path = write_fleet(example_fleet, tmp_path / "fleet.json")
    out = io.StringIO()
    stop = threading.Event()
    started = threading.Event()
    servers: list[EmulatorServer] = []
    result: dict[str, dict[str, int]] = {}

    def ready(server: EmulatorServer) -> None:
        servers.append(server)
        out.write(banner(server))  # what `auditor emulator serve` prints here; serve_forever itself prints nothing
        started.set()

    def run() -> None:
        result["counters"] = serve_forever(
            path,
            port=0,
            state_dir=tmp_path / "state",
            quotas=False,
            forbidden=["x"],
            ready=ready,
            stop_event=stop,
        )

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(10)
    emulator = servers[0]
    assert emulator.behaviour.resource_graph_quota is None and emulator.behaviour.rp_burst is None
    aks, _, _ = clients(emulator)
    assert aks.managed_clusters.get("rg1", "clustername1").name == "clustername1"
    endpoint, ca_file = emulator.endpoint, str(emulator.ca_file)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    text = out.getvalue()
    assert endpoint in text and ca_file in text
    assert "export AUDITOR_ACCESS_TOKEN=" in text
    assert result["counters"]["managed_clusters"] == 1


def test_paths_are_percent_decoded_and_display_name_locations_normalised(tmp_path: Path) -> None:
    """The SDK percent-encodes path parameters: a region given by its display name ("Australia East") and a
    resource group with characters ARM allows ("rg (prod).1") reach the resources they name. A fleet assembled from
    exports may hold display-name locations: ARM and Resource Graph serve the region key ("australiaeast")."""
    from tests.emulated import arm_cluster, small_fleet

    odd = arm_cluster("odd", rg="rg (prod).1", location="Australia East")
    data = small_fleet([odd])
    data["kubernetesVersions"]["Australia East"] = data["kubernetesVersions"]["eastus"]
    with EmulatorServer(data, state_dir=tmp_path) as server:
        aks, graph, _ = clients(server, subscription="00000000-0000-0000-0000-000000000001")
        for region in ("Australia East", "australiaeast", "AustraliaEast"):
            versions = aks.managed_clusters.list_kubernetes_versions(region, cls=raw)
            assert [v["version"] for v in versions["values"]] == ["1.32", "1.33", "1.34", "1.30"], region
        served = aks.managed_clusters.get("rg (prod).1", "odd", cls=raw)
        assert served["location"] == "australiaeast"
        assert [p.name for p in aks.agent_pools.list("rg (prod).1", "odd")] == ["system"]
        rows = graph.resources(
            QueryRequest(
                subscriptions=["00000000-0000-0000-0000-000000000001"],
                query="resources | where type =~ 'microsoft.containerservice/managedclusters' | project id, location",
                options=QueryRequestOptions(result_format="objectArray"),
            )
        ).data
        assert {r["location"] for r in rows} == {"eastus", "australiaeast"}
    # The fleet file itself is left as written.
    assert odd["location"] == "Australia East"
