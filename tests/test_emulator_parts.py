"""The emulator's parts on their own: the request guards in their order, the fleet profile, the wire factories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.emulator.arm_routes import route
from auditor.emulator.evolve import evolve_fleet
from auditor.emulator.faults import Behaviour, FaultPlan, TokenBucket, WindowQuota
from auditor.emulator.generator import generate_fleet
from auditor.emulator.guards import GuardContext, Request, pipeline
from auditor.emulator.profile import FleetProfile
from auditor.emulator.server import EmulatorServer
from auditor.emulator.transport import Reply

SID = "00000000-0000-0000-0000-000000000001"
CLUSTERS = f"/subscriptions/{SID}/providers/Microsoft.ContainerService/managedClusters"
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def guards(**behaviour: Any) -> tuple[list[Any], list[str]]:
    settings = Behaviour().with_overrides(behaviour)
    counted: list[str] = []
    context = GuardContext(
        behaviour=settings,
        faults=FaultPlan(settings),
        count=lambda *names: counted.extend(names),
        wait=lambda seconds: False,
        region_of=lambda _route: "eastus",
        graph_quota=WindowQuota(settings.resource_graph_quota, settings.resource_graph_window_seconds)
        if settings.resource_graph_quota
        else None,
        rp_bucket=TokenBucket(settings.rp_burst, settings.rp_refill_per_second) if settings.rp_burst else None,
    )
    return pipeline(context), counted


def first_refusal(
    method: str, path: str, authorization: str = "Bearer t", query: dict[str, str] | None = None, **behaviour: Any
) -> tuple[Reply | None, list[str]]:
    checks, counted = guards(**behaviour)
    request = Request(
        method, path, {"api-version": "2025-10-01"} if query is None else query, authorization, route(path)
    )
    for guard in checks:
        reply = guard(request)
        if reply is not None:
            return reply, counted
    return None, counted


def test_guards_run_in_azures_order() -> None:
    checks, _ = guards()
    assert [g.__qualname__.split(".")[0] for g in checks] == [
        "bearer_token",
        "read_only",
        "known_route",
        "api_version",
        "latency",
        "throttle_storm",
        "resource_graph_quota",
        "rp_token_bucket",
        "forbidden_subscription",
        "timeout",
        "injected_server_error",
    ]


def test_each_guard_refuses_what_it_owns_and_counts_it() -> None:
    # A write to an unknown path without a token: authentication answers first.
    reply, counted = first_refusal("DELETE", "/nowhere", authorization="")
    assert reply is not None and reply.status == 401 and counted == ["unauthorized"]
    # With a token, the write is refused before the path is looked up.
    reply, counted = first_refusal("DELETE", "/nowhere")
    assert reply is not None and reply.status == 405 and counted == ["writes_refused"]
    reply, counted = first_refusal("GET", "/nowhere")
    assert reply is not None and reply.status == 404 and counted == ["unknown", "not_found"]
    reply, counted = first_refusal("GET", CLUSTERS, query={})
    assert reply is not None and reply.body["error"]["code"] == "MissingApiVersionParameter"
    assert counted == ["managed_clusters", "bad_requests"]
    reply, counted = first_refusal("GET", CLUSTERS, storm_calls=1)
    assert reply is not None and reply.status == 429 and "throttled_storm" in counted
    reply, counted = first_refusal("GET", CLUSTERS, forbidden_subscriptions=[SID])
    assert reply is not None and reply.status == 403 and counted == ["managed_clusters", "forbidden"]
    permissions = f"/subscriptions/{SID}/providers/Microsoft.Authorization/permissions"
    assert first_refusal("GET", permissions, forbidden_subscriptions=[SID])[0] is None  # shows what is missing
    assert first_refusal("GET", permissions, hidden_subscriptions=[SID])[0] is not None
    reply, counted = first_refusal("GET", CLUSTERS, server_error_rate=1.0)
    assert reply is not None and reply.status in (500, 503) and counted[-1] == "server_errors"
    assert first_refusal("GET", CLUSTERS) == (None, ["managed_clusters"])


def test_the_resource_graph_quota_guard_adds_its_headers_to_the_answer() -> None:
    checks, _ = guards(resource_graph_quota=2)
    path = "/providers/Microsoft.ResourceGraph/resources"
    request = Request("POST", path, {"api-version": "2022-10-01"}, "Bearer t", route(path))
    assert all(guard(request) is None for guard in checks)
    assert request.reply_headers["x-ms-user-quota-remaining"] == "1"


def test_the_fleet_profile_drives_generation_and_evolution() -> None:
    default = generate_fleet(30, 8, 5, regions=2, as_of=AS_OF)
    kinds = {s["displayName"].split("-")[2] for s in default["subscriptions"]}
    assert len(kinds) > 1
    only_prod = generate_fleet(30, 8, 5, regions=2, as_of=AS_OF, profile=FleetProfile(sub_kinds=(("prod", 1.0),)))
    assert {s["displayName"].split("-")[2] for s in only_prod["subscriptions"]} == {"prod"}

    doomed = FleetProfile(delete={"prod": 1.0, "staging": 1.0, "dev": 1.0}, new_clusters_per_month=0.0)
    base = generate_fleet(30, 4, 5, regions=2, as_of=AS_OF)
    (_, first), (_, second) = evolve_fleet(base, 2, 5, profile=doomed)
    assert len(first["managedClusters"]) == 30
    assert len(second["managedClusters"]) < 30
    (_, _), (_, kept) = evolve_fleet(base, 2, 5)
    assert len(kept["managedClusters"]) > len(second["managedClusters"])


def test_routes_serve_the_wire_shapes_the_generator_writes(tmp_path: Any) -> None:
    fleet = generate_fleet(3, 1, 2, regions=1, as_of=AS_OF)
    cluster = fleet["managedClusters"][0]
    with EmulatorServer(fleet, state_dir=tmp_path) as server:
        routes = server.routes
        params = {"sid": cluster["id"].split("/")[2], "rg": cluster["id"].split("/")[4], "cluster": cluster["name"]}
        pool_name = cluster["properties"]["agentPoolProfiles"][0]["name"]
        pool = routes.actions["get_pool"]({**params, "pool": pool_name}, {}, None).body
        profile = routes.actions["cluster_upgrade_profile"](params, {}, None).body
    assert pool["id"] == f"{cluster['id']}/agentPools/{pool_name}"
    assert pool["type"] == "Microsoft.ContainerService/managedClusters/agentPools"
    assert "name" not in pool["properties"]
    assert profile["type"] == "Microsoft.ContainerService/managedClusters/upgradeprofiles"
    assert [p["name"] for p in profile["properties"]["agentPoolProfiles"]] == [
        p["name"] for p in cluster["properties"]["agentPoolProfiles"]
    ]
