"""`scan --kubernetes`: the official kubernetes client over HTTPS against the emulator's API servers, into DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import CoreV1Api, PolicyV1Api
from kubernetes.client.exceptions import ApiException

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.base import ClusterRef
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.context import CollectContext
from auditor.collect.kubernetes import (
    RESOURCES,
    KubeContext,
    KubernetesClients,
    KubernetesCollector,
    ResourceList,
    without_userinfo,
)
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.controls import evaluate_scan
from auditor.emulator.kubernetes import node_name
from auditor.emulator.server import EmulatorServer
from auditor.errors import CollectionError
from auditor.policy import default_policy
from auditor.store import open_db, write_scan
from tests.emulated import arm_cluster, small_fleet
from tests.evidence import pool

TOKEN = "arm-token-never-stored"  # noqa: S105
SHOP = "shop"


def fast_limiter() -> Limiter:
    return Limiter(LimiterSettings(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.02, max_retry_after_s=0.05))


def with_fqdn(body: dict[str, Any], fqdn: str | None = None, private: str | None = None) -> dict[str, Any]:
    if fqdn:
        body["properties"]["fqdn"] = fqdn
    if private:
        body["properties"]["privateFQDN"] = private
    return body


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": SHOP, "uid": f"uid-{name}"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}},
        },
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }


def budget(name: str, app: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": SHOP}, "spec": {"selector": {"matchLabels": {"app": app}}, **spec}}


GOOD_POOLS = [pool("system"), {**pool("user", mode="User"), "count": 5}]
GOOD_ID = arm_cluster("good")["id"]
QUARANTINED_NODE = node_name(GOOD_ID, "user", "Linux", 4)


def kube_fleet() -> dict[str, Any]:
    """The tests' small fleet, every cluster with an API server name, plus clusters for each way in-cluster
    reading can go: private (privateFQDN only), no context, 401, nodes forbidden, unreachable, stopped, no fqdn."""
    fleet = small_fleet(
        [
            arm_cluster("private"),
            arm_cluster("nocontext"),
            arm_cluster("refuses"),
            arm_cluster("nodesforbidden"),
            arm_cluster("offline"),
            arm_cluster("sleeping", power="Stopped"),
            arm_cluster("nofqdn"),
        ]
    )
    for body in fleet["managedClusters"]:
        name = body["name"]
        if name == "good":
            body["properties"]["agentPoolProfiles"] = GOOD_POOLS
        if name == "private":
            with_fqdn(body, private="private-dns-1.privatelink.eastus.azmk8s.io")
        elif name != "nofqdn":
            with_fqdn(body, f"{name}-dns-1.hcp.eastus.azmk8s.io")
    good_id = next(c["id"] for c in fleet["managedClusters"] if c["name"] == "good").lower()
    ids = {c["name"]: c["id"].lower() for c in fleet["managedClusters"]}
    fleet["kubernetes"] = {
        good_id: {
            "deployments": [deployment("api", 3), deployment("web", 2)],
            "podDisruptionBudgets": [
                budget("api-pdb", "api", maxUnavailable=0),
                budget("web-pdb", "web", maxUnavailable=1),
            ],
            "nodePatches": {
                QUARANTINED_NODE: {
                    "metadata": {"labels": {"kubernetes.azure.com/upgrade-status": "Quarantined"}},
                    "spec": {"unschedulable": True},
                }
            },
        },
        ids["nocontext"]: {"access": "no-context"},
        ids["refuses"]: {"access": "unauthorized"},
        ids["nodesforbidden"]: {"forbiddenResources": ["nodes"]},
        ids["offline"]: {"access": "unreachable"},
    }
    return fleet


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    with EmulatorServer(kube_fleet(), state_dir=tmp_path_factory.mktemp("emu")) as server:
        yield server


def kubeconfig_tokens(server: EmulatorServer) -> list[str]:
    config = yaml.safe_load(server.kubeconfig_file.read_text())
    return [u["user"]["token"] for u in config["users"]]


def scan(server: EmulatorServer, db: Path, *, page_size: int = 500, limiter: Limiter | None = None) -> str:
    clients = AzureClients(StaticTokenCredential(TOKEN), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
    kube = KubernetesClients.from_kubeconfig(str(server.kubeconfig_file), page_size=page_size)
    record = run_scan(clients, ScanOptions(concurrency=4), limiter=limiter or fast_limiter(), kubernetes=kube)
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id


@pytest.fixture(scope="module")
def scanned(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("scan") / "a.duckdb"
    before = emulator.kubernetes_counters()
    scan_id = scan(emulator, db)
    after = emulator.kubernetes_counters()
    con = open_db(db)
    try:
        names = dict(
            con.execute("SELECT e.scope, e.payload->>'$.name' FROM evidence e WHERE kind = 'cluster'").fetchall()
        )
        kinds: dict[str, set[str]] = {}
        for scope, kind in con.execute("SELECT scope, kind FROM evidence WHERE kind LIKE 'k8s%'").fetchall():
            kinds.setdefault(names[scope], set()).add(kind)
        errors = {
            (names[scope], call, code): message
            for scope, call, code, message in con.execute(
                "SELECT scope, call, code, message FROM collection_errors WHERE scan_id = ?", [scan_id]
            ).fetchall()
        }
        stats = json.loads(con.execute("SELECT stats FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0])
        findings = {(f.control_id, f.cluster, f.node_pool): f for f in evaluate_scan(con, scan_id, default_policy())}
        dump = "\n".join(
            str(row)
            for table in ("evidence", "collection_errors", "scans")
            for row in con.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        )
    finally:
        con.close()
    requests = after["requests"] - before["requests"]
    return {
        "db": db,
        "kinds": kinds,
        "errors": errors,
        "stats": stats,
        "findings": findings,
        "dump": dump,
        "requests": requests,
    }


ALL_KINDS = {"k8s_context", *(r.kind for r in RESOURCES)}


def test_every_reachable_cluster_is_read_with_constant_calls(scanned: dict[str, Any]) -> None:
    kinds = scanned["kinds"]
    for name in ("good", "old", "other-sub", "private"):
        assert kinds[name] == ALL_KINDS, name
    assert kinds["nodesforbidden"] == ALL_KINDS - {"k8s_nodes"}
    for name in ("nocontext", "refuses", "offline", "sleeping", "nofqdn"):
        assert name not in kinds or kinds[name] <= {"k8s_context"}, name
    calls = scanned["stats"]["calls"]
    # One list per resource kind per cluster: 6 clusters answer (private, the three granted, nodesforbidden
    # answers 4 lists and a 403), the refusing one stops at its first 401, the offline one after its connect
    # attempts; none of it depends on how many PDBs, workloads or nodes a cluster holds.
    assert calls["k8s_pod_disruption_budgets"] == 5 and calls["k8s_deployments"] == 5
    assert scanned["stats"]["stage_seconds"]["kubernetes"] > 0


def test_clusters_that_cannot_be_read_are_collection_errors(scanned: dict[str, Any]) -> None:
    errors = scanned["errors"]
    assert ("nocontext", "kubernetes", "NoKubeconfigContext") in errors
    assert "nocontext-dns-1.hcp.eastus.azmk8s.io" in errors[("nocontext", "kubernetes", "NoKubeconfigContext")]
    assert ("nofqdn", "kubernetes", "NoKubeconfigContext") in errors
    assert ("refuses", "kubernetes", "Unauthorized") in errors
    assert ("offline", "kubernetes", "ConnectionError") in errors
    assert "nodes is forbidden" in errors[("nodesforbidden", "k8s_nodes", "Forbidden")]
    assert not any(name == "sleeping" for name, _, _ in errors)  # stopped: nothing to read, nothing failed
    assert not any(name in ("good", "private", "old") for name, _, _ in errors)


def test_controls_judge_what_was_read_and_say_unknown_for_the_rest(scanned: dict[str, Any]) -> None:
    findings = scanned["findings"]
    pdb = findings[("AKS-PDB-01", "good", None)]
    assert pdb.status == "fail"
    assert "shop/api-pdb (Deployment/api (3/3 ready)): maxUnavailable 0 allows no eviction" in pdb.message
    assert findings[("AKS-PDB-01", "private", None)].status == "pass"  # matched through privateFQDN
    for name, says in (
        ("nocontext", "NoKubeconfigContext"),
        ("nofqdn", "the cluster has no fqdn"),
        ("refuses", "401"),
        ("offline", "ConnectionError"),
        ("sleeping", "stopped"),
    ):
        finding = findings[("AKS-PDB-01", name, None)]
        assert finding.status == "unknown" and says in finding.message, (name, finding.message)
        assert findings[("AKS-NOD-01", name, "system")].status == "unknown"
    assert findings[("AKS-PDB-01", "nodesforbidden", None)].status == "pass"
    assert findings[("AKS-NOD-01", "nodesforbidden", "system")].status == "unknown"
    nodes = findings[("AKS-NOD-01", "good", "user")]
    assert nodes.status == "fail" and "1 quarantined" in nodes.message and QUARANTINED_NODE in nodes.message
    assert findings[("AKS-NOD-01", "good", "system")].status == "pass"


def test_tokens_never_reach_the_database(emulator: EmulatorServer, scanned: dict[str, Any]) -> None:
    tokens = kubeconfig_tokens(emulator)
    assert tokens
    for token in [*tokens, TOKEN]:
        assert token not in scanned["dump"]
    # The context evidence names the context and user, and nothing of the credential.
    assert "clusterUser_rg1_good" in scanned["dump"]


def test_lists_are_paged_with_limit_and_continue(emulator: EmulatorServer, tmp_path: Path) -> None:
    scan_id = scan(emulator, tmp_path / "paged.duckdb", page_size=2)
    con = open_db(tmp_path / "paged.duckdb")
    try:
        nodes = con.execute(
            "SELECT request, payload FROM evidence e WHERE kind = 'k8s_nodes' AND scope ILIKE '%/good' AND scan_id = ?",
            [scan_id],
        ).fetchone()
        calls = json.loads(con.execute("SELECT stats FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0])["calls"]
    finally:
        con.close()
    payload = json.loads(nodes[1])
    assert len(payload["items"]) == 8  # 3 system + 5 user nodes, gathered over 4 pages of 2
    assert "(4 page(s))" in nodes[0] and "continue" not in payload["metadata"]
    assert payload["kind"] == "NodeList" and payload["apiVersion"] == "v1"
    assert calls["k8s_nodes"] > 8  # more than one call per cluster once pages are small


def test_the_emulator_api_refuses_writes_and_serves_reads(emulator: EmulatorServer) -> None:
    kube = KubernetesClients.from_kubeconfig(str(emulator.kubeconfig_file))
    context = next(c for c in kube.contexts if c.name == "good")
    api = kube.api_client(context)
    try:
        before = emulator.kubernetes_counters()["writes_refused"]
        with pytest.raises(ApiException) as refused:
            PolicyV1Api(api).create_namespaced_pod_disruption_budget(SHOP, budget("x", "x", maxUnavailable=1))
        assert refused.value.status == 405
        with pytest.raises(ApiException) as deleted:
            CoreV1Api(api).delete_node(QUARANTINED_NODE)
        assert deleted.value.status == 405
        assert emulator.kubernetes_counters()["writes_refused"] == before + 2
        node = CoreV1Api(api).read_node(QUARANTINED_NODE)
        assert node.metadata.labels["kubernetes.azure.com/upgrade-status"] == "Quarantined"
        budgets = PolicyV1Api(api).list_namespaced_pod_disruption_budget(SHOP, limit=1)
        assert [b.metadata.name for b in budgets.items] == ["api-pdb"] and budgets.metadata._continue
        rest = PolicyV1Api(api).list_namespaced_pod_disruption_budget(
            SHOP, limit=1, _continue=budgets.metadata._continue
        )
        assert [b.metadata.name for b in rest.items] == ["web-pdb"] and not rest.metadata._continue
        with pytest.raises(ApiException) as bad:
            CoreV1Api(api).list_node(_continue="not-a-token")
        assert bad.value.status == 400
        with pytest.raises(ApiException) as unsupported:
            CoreV1Api(api).list_node(label_selector="a=b")
        assert unsupported.value.status == 400
        with pytest.raises(ApiException) as missing:
            CoreV1Api(api).read_node("aks-nope")
        assert missing.value.status == 404
    finally:
        api.close()


def test_kubeconfig_follows_each_cluster_access(emulator: EmulatorServer) -> None:
    config = yaml.safe_load(emulator.kubeconfig_file.read_text())
    contexts = {c["name"] for c in config["contexts"]}
    assert {"good", "private", "refuses", "offline", "nodesforbidden"} <= contexts
    assert "nocontext" not in contexts and "nofqdn" not in contexts
    servers = {c["name"]: c["cluster"] for c in config["clusters"]}
    assert servers["private"]["tls-server-name"] == "private-dns-1.privatelink.eastus.azmk8s.io"
    assert servers["good"]["server"] == emulator.endpoint
    assert servers["offline"]["server"] != emulator.endpoint
    assert oct(emulator.kubeconfig_file.stat().st_mode & 0o777) == "0o600"


def test_kubeconfig_reads_from_a_relative_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` serves from `output/emulator`, a relative directory: the kubeconfig still names a CA that exists."""
    monkeypatch.chdir(tmp_path)
    with EmulatorServer(kube_fleet(), state_dir=Path("output") / "emulator") as server:
        config = yaml.safe_load(server.kubeconfig_file.read_text())
        monkeypatch.chdir(tmp_path.parent)  # a reader elsewhere: the CA path must not depend on the working directory
        cas = {Path(c["cluster"]["certificate-authority"]) for c in config["clusters"]}
        assert cas and all(ca.is_absolute() and ca.is_file() for ca in cas)
        kube = KubernetesClients.from_kubeconfig(str(tmp_path / server.kubeconfig_file))
        api = kube.api_client(next(c for c in kube.contexts if c.name == "good"))
        try:
            assert CoreV1Api(api).read_node(QUARANTINED_NODE).metadata.name == QUARANTINED_NODE
        finally:
            api.close()


def ref(name: str, fqdn: str = "", private: str = "") -> ClusterRef:
    return ClusterRef(
        f"/subscriptions/s/resourceGroups/g/providers/x/{name}", name, "s", "g", "eastus", (), fqdn, private
    )


def test_contexts_match_by_api_server_name_users_before_admins() -> None:
    contexts = (
        KubeContext("z-admin", "c1", "clusterAdmin_g_a", "https://A-dns.hcp.eastus.azmk8s.io:443"),
        KubeContext("z-user", "c1", "clusterUser_g_a", "https://a-dns.hcp.eastus.azmk8s.io:443/"),
        KubeContext("tunnel", "c2", "u", "https://127.0.0.1:6443", "b.privatelink.eastus.azmk8s.io"),
    )
    kube = KubernetesClients(source="test", contexts=contexts)
    matched = kube.match(ref("a", fqdn="a-dns.hcp.eastus.azmk8s.io."))
    assert matched is not None and matched[0].name == "z-user" and matched[1] == "fqdn"
    private = kube.match(ref("b", private="B.privatelink.eastus.azmk8s.io"))
    assert private is not None and private[0].name == "tunnel" and private[1] == "privateFQDN"
    assert kube.match(ref("c", fqdn="c-dns.hcp.eastus.azmk8s.io")) is None
    assert kube.match(ref("d")) is None


def test_unusable_kubeconfigs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="no kubeconfig at"):
        KubernetesClients.from_kubeconfig(str(tmp_path / "missing"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("clusters: [\n")
    with pytest.raises(CollectionError, match="cannot read kubeconfig"):
        KubernetesClients.from_kubeconfig(str(broken))


def test_each_api_server_has_its_own_rate_bucket() -> None:
    """client-go's default client-side limit per cluster: a burst, then calls spaced by the refill rate."""
    waits: list[float] = []
    limiter = Limiter(LimiterSettings(kubernetes_burst=2, kubernetes_qps=5), sleep=waits.append)
    for _ in range(5):
        limiter.acquire_kubernetes("/subscriptions/s/cluster-a")
    limiter.acquire_kubernetes("/subscriptions/s/cluster-b")
    assert len(waits) == 3 and all(w > 0 for w in waits)  # cluster-b's first call did not wait


def test_an_expired_continue_token_restarts_the_list_once() -> None:
    """A 410 on a continued page means the snapshot expired: the list starts over, and is stored whole."""
    pages = {
        None: {"metadata": {"continue": "t1"}, "items": [{"metadata": {"name": "a"}}]},
        "t1": ApiException(status=410, reason="Gone"),
    }
    seen: list[str | None] = []

    class Page:
        def __init__(self, body: dict[str, Any]) -> None:
            self.data = json.dumps(body).encode()

    def method(**kwargs: Any) -> Page:
        token = kwargs.get("_continue")
        seen.append(token)
        answer = pages[token]
        if isinstance(answer, Exception):
            pages["t1"] = {"metadata": {}, "items": [{"metadata": {"name": "b"}}]}  # served after the restart
            raise answer
        return Page(answer)

    resource = ResourceList("k8s_nodes", "NodeList", "v1", "/api/v1/nodes", lambda api: method)
    ctx = CollectContext(clients=AzureClients(StaticTokenCredential("t")), limiter=fast_limiter())
    kube = KubernetesClients(source="test", contexts=())
    cluster = ref("a", fqdn="a")
    KubernetesCollector()._list(ctx, kube, None, cluster, KubeContext("a", "a", "u", "https://a"), resource)
    ctx.evidence.close()
    rows = [json.loads(line)["payload"] for line in ctx.evidence.path.read_text().splitlines()]
    ctx.evidence.discard()
    assert seen == [None, "t1", None, "t1"]
    assert [i["metadata"]["name"] for i in json.loads(rows[0])["items"]] == ["a", "b"]


def auditor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_cli_scan_with_kubernetes_reports_blocking_pdbs_without_tokens(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "cli.duckdb"
    env = {"AUDITOR_ACCESS_TOKEN": TOKEN}
    base = ["scan", "--db", str(db), "--endpoint", emulator.endpoint, "--ca-bundle", str(emulator.ca_file)]
    refused = auditor(*base, "--kubeconfig", str(emulator.kubeconfig_file), env=env)
    assert refused.returncode == 2 and "--kubernetes" in refused.stderr
    missing = auditor(*base, "--kubernetes", env={**env, "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)})
    assert missing.returncode == 1 and "no kubeconfig at" in missing.stderr and "Traceback" not in missing.stderr
    scanned = auditor(*base, "--kubernetes", "--kubeconfig", str(emulator.kubeconfig_file), env=env)
    assert scanned.returncode == 0, scanned.stderr
    assert "k8s_pod_disruption_budgets" in scanned.stderr and "partial" in scanned.stderr
    out = tmp_path / "out"
    reported = auditor("report", "--db", str(db), "--format", "html,pdf,csv,json", "--out", str(out))
    assert reported.returncode == 0, reported.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Blocking disruption budgets" in html
    assert "kubectl --context good -n shop get pdb api-pdb" in html
    assert "kubectl --context good -n shop patch pdb api-pdb --type merge -p" in html
    from pypdf import PdfReader

    pdf_text = "\n".join(page.extract_text() for page in PdfReader(str(out / "report.pdf")).pages)
    assert "Blocking disruption budgets" in pdf_text and "api-pdb" in pdf_text
    outputs = [scanned.stdout, scanned.stderr, reported.stdout, reported.stderr]
    outputs += [p.read_bytes().decode("latin-1") for p in out.iterdir() if p.is_file()]
    for token in kubeconfig_tokens(emulator):
        assert not any(token in text for text in outputs)


def test_stored_server_urls_carry_no_credentials() -> None:
    assert (
        without_userinfo("https://user:secret@a.hcp.eastus.azmk8s.io:443/x") == "https://a.hcp.eastus.azmk8s.io:443/x"
    )
    assert without_userinfo("https://a.hcp.eastus.azmk8s.io") == "https://a.hcp.eastus.azmk8s.io"


def test_report_commands_quote_names_from_the_cluster() -> None:
    from auditor.report.kubernetes import _with_commands

    pdb = {
        "context": "ctx; rm -rf ~",
        "namespace": "shop",
        "name": "api$(id)",
        "max_unavailable": "0",
        "min_available": None,
        "workload_count": 1,
        "expected": 3,
        "healthy": 3,
        "workloads": "Deployment/api (3/3 ready)",
    }
    shown = _with_commands(pdb)
    assert shown["show"] == "kubectl --context 'ctx; rm -rf ~' -n shop get pdb 'api$(id)'"
    assert shown["fix_command"].endswith("""patch pdb 'api$(id)' --type merge -p '{"spec":{"maxUnavailable":1}}'""")
    single = _with_commands({**pdb, "max_unavailable": None, "min_available": "1", "expected": 1})
    assert single["fix_command"] == "kubectl --context 'ctx; rm -rf ~' -n shop scale deployment/api --replicas=2"


def test_kubeconfig_tokens_echoed_by_an_api_server_are_redacted(tmp_path: Path) -> None:
    """An API server (or a proxy before it) that repeats the request headers, Authorization included, in its error
    Status: the message is stored, the kubeconfig's token is not (nor anywhere else in the store)."""
    with EmulatorServer(kube_fleet(), state_dir=tmp_path / "emu", error_body="echo-json") as server:
        tokens = kubeconfig_tokens(server)
        kube = KubernetesClients.from_kubeconfig(str(server.kubeconfig_file))
        assert set(tokens) <= set(kube.secrets())  # redacted literally, not only by the Bearer pattern
        db = tmp_path / "echo.duckdb"
        scan(server, db)
    con = open_db(db)
    try:
        refused = con.execute(
            "SELECT e.message FROM collection_errors e JOIN evidence c ON c.scope = e.scope AND c.kind = 'cluster' "
            "WHERE c.payload->>'$.name' = 'refuses' AND e.call = 'kubernetes'"
        ).fetchone()
        dump = "\n".join(
            str(row)
            for table in ("evidence", "collection_errors", "scans")
            for row in con.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        )
    finally:
        con.close()
    assert refused is not None and "Request headers" in refused[0] and "<redacted>" in refused[0], refused
    for token in tokens:
        assert token not in dump


def test_a_kubeconfig_yaml_error_does_not_quote_the_file(tmp_path: Path) -> None:
    """PyYAML quotes the offending line in its errors; a kubeconfig's line may hold a token."""
    secret = "kubeconfig-token-7f3e9a1c55"
    broken = tmp_path / "kubeconfig"
    broken.write_text(f"apiVersion: v1\nusers:\n- name: u\n  user:\n    token: {secret} : oops\n", encoding="utf-8")
    with pytest.raises(CollectionError) as raised:
        KubernetesClients.from_kubeconfig(str(broken))
    message = str(raised.value)
    assert "cannot read kubeconfig" in message and "line 5" in message
    assert secret not in message
