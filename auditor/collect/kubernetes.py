"""Evidence from inside each cluster (opt-in, `auditor scan --kubernetes`): PodDisruptionBudgets, the workloads
they can select (Deployments, StatefulSets, ReplicaSets) and nodes, read with the official `kubernetes` client.

A cluster is read through the kubeconfig context whose API server (the host of `server`, or `tls-server-name`)
is the cluster's `fqdn` or `privateFQDN`. Per cluster, one paged list (`limit`/`continue`) per resource kind:
the calls per cluster do not grow with the number of PDBs or workloads. Only list calls (GET) are sent.
The kubeconfig's credentials stay inside the kubernetes client: evidence names the context and user, never a
token, and error messages are built from status codes and Status messages, never from request headers.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.collect.base import ClusterRef, Inventory, Task
from auditor.collect.context import RETRIABLE_STATUS, CollectContext
from auditor.collect.limiter import ScanCancelled
from auditor.errors import CollectionError
from auditor.safetext import clean_message

ACCESS_CALL = "kubernetes"  # collection errors about reaching a cluster at all (no context, 401, unreachable)
CONTEXT_KIND = "k8s_context"  # which kubeconfig context and user read the cluster
DEFAULT_PAGE_SIZE = 500
MAX_PAGES = 1000  # a server that keeps answering `continue` past this is not listing, it is looping


@dataclass(frozen=True)
class ResourceList:
    """One list call of the Kubernetes API, all namespaces, and the evidence kind it is stored as."""

    kind: str  # evidence kind and call name
    list_kind: str  # e.g. NodeList
    api_version: str
    path: str
    method: Callable[[Any], Callable[..., Any]]  # ApiClient -> the generated list method


def _core(api: Any) -> Any:
    # Deferred for import cost: the Kubernetes client loads only when this runs.
    from kubernetes.client import CoreV1Api

    return CoreV1Api(api)


def _policy(api: Any) -> Any:
    # Deferred for import cost: the Kubernetes client loads only when this runs.
    from kubernetes.client import PolicyV1Api

    return PolicyV1Api(api)


def _apps(api: Any) -> Any:
    # Deferred for import cost: the Kubernetes client loads only when this runs.
    from kubernetes.client import AppsV1Api

    return AppsV1Api(api)


RESOURCES: tuple[ResourceList, ...] = (
    ResourceList("k8s_nodes", "NodeList", "v1", "/api/v1/nodes", lambda api: _core(api).list_node),
    ResourceList(
        "k8s_pod_disruption_budgets",
        "PodDisruptionBudgetList",
        "policy/v1",
        "/apis/policy/v1/poddisruptionbudgets",
        lambda api: _policy(api).list_pod_disruption_budget_for_all_namespaces,
    ),
    ResourceList(
        "k8s_deployments",
        "DeploymentList",
        "apps/v1",
        "/apis/apps/v1/deployments",
        lambda api: _apps(api).list_deployment_for_all_namespaces,
    ),
    ResourceList(
        "k8s_stateful_sets",
        "StatefulSetList",
        "apps/v1",
        "/apis/apps/v1/statefulsets",
        lambda api: _apps(api).list_stateful_set_for_all_namespaces,
    ),
    ResourceList(
        "k8s_replica_sets",
        "ReplicaSetList",
        "apps/v1",
        "/apis/apps/v1/replicasets",
        lambda api: _apps(api).list_replica_set_for_all_namespaces,
    ),
)
EVIDENCE_KINDS = (CONTEXT_KIND, *(r.kind for r in RESOURCES))


@dataclass(frozen=True)
class KubeContext:
    """A kubeconfig context as far as matching needs it (no credential)."""

    name: str
    cluster: str
    user: str
    server: str
    tls_server_name: str = ""

    @property
    def hosts(self) -> frozenset[str]:
        """The API server names this context reaches: the server URL's host and its TLS server name."""
        names = {_host(self.server), self.tls_server_name.strip().rstrip(".").lower()}
        return frozenset(n for n in names if n)

    @property
    def admin(self) -> bool:
        """Whether the user looks like `az aks get-credentials --admin` (clusterAdmin_<group>_<cluster>)."""
        return self.user.lower().startswith("clusteradmin")


def without_userinfo(url: str) -> str:
    """The URL without a `user:password@` part, so a server URL can be stored and shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable server URL)"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def default_kubeconfig() -> str:
    """$KUBECONFIG (paths separated by the OS path separator), else ~/.kube/config, as kubectl does."""
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


@dataclass
class KubernetesClients:
    """The contexts of a kubeconfig (one file or a KUBECONFIG list, merged as kubectl does), matched to clusters
    by API server name; builds one kubernetes ApiClient per cluster read. Never writes the kubeconfig back."""

    source: str
    contexts: tuple[KubeContext, ...]
    page_size: int = DEFAULT_PAGE_SIZE
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    _config: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_kubeconfig(cls, path: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE) -> KubernetesClients:
        """Read a kubeconfig (default: $KUBECONFIG or ~/.kube/config); CollectionError in one line if unusable."""
        # Deferred for import cost: the Kubernetes client and PyYAML load only when this runs.
        import yaml
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.kube_config import KubeConfigMerger

        source = path or default_kubeconfig()
        existing = [p for p in source.split(os.pathsep) if p and Path(p).expanduser().is_file()]
        if not existing:
            raise CollectionError(
                f"no kubeconfig at {source}: run `az aks get-credentials` for the clusters to read, "
                "or pass --kubeconfig FILE"
            )
        try:
            merged = KubeConfigMerger(os.pathsep.join(existing)).config
        except yaml.MarkedYAMLError as exc:
            # Not str(exc): PyYAML quotes the offending line, which may hold a token.
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise CollectionError(f"cannot read kubeconfig {source}: {exc.problem or 'not YAML'}{where}") from None
        except (yaml.YAMLError, ConfigException, OSError, UnicodeDecodeError) as exc:
            raise CollectionError(f"cannot read kubeconfig {source}: {clean_message(str(exc), limit=300)}") from exc
        if merged is None:
            raise CollectionError(f"kubeconfig {source} holds no configuration")
        try:
            contexts = _contexts(merged.value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CollectionError(f"kubeconfig {source} is malformed: {exc}") from exc
        return cls(source=source, contexts=contexts, page_size=page_size, _config=merged)

    def secrets(self) -> tuple[str, ...]:
        """Literal credentials of the kubeconfig's users (tokens, passwords, client keys, auth-provider tokens, the
        contents of token files), to redact from anything stored or printed, as the ARM token is."""
        if self._config is None:
            return ()
        found: set[str] = set()

        def walk(item: Any, key: str = "") -> None:
            item = getattr(item, "value", item)
            if isinstance(item, dict):
                for name, child in item.items():
                    walk(child, str(name))
            elif isinstance(item, list):
                for child in item:
                    walk(child, key)
            elif isinstance(item, str) and item.strip():
                lowered = key.lower()
                if lowered == "tokenfile":
                    with contextlib.suppress(OSError, UnicodeDecodeError):
                        found.add(Path(item).expanduser().read_text(encoding="utf-8").strip())
                elif any(word in lowered for word in _SECRET_KEY_WORDS):
                    found.add(item.strip())

        config = getattr(self._config, "value", self._config)
        for user in (config.get("users") or []) if isinstance(config, dict) else []:
            body = getattr(user, "value", user)
            if isinstance(body, dict):
                walk(body.get("user"))
        return tuple(sorted(s for s in found if s))

    def match(self, cluster: ClusterRef) -> tuple[KubeContext, str] | None:
        """The context reaching this cluster's API server and the name it matched on; user contexts before
        cluster-admin ones, then by context name, so the choice is the same on every run."""
        wanted = [(cluster.fqdn, "fqdn"), (cluster.private_fqdn, "privateFQDN")]
        candidates: list[tuple[KubeContext, str]] = []
        for name, via in wanted:
            host = name.strip().rstrip(".").lower()
            if host:
                candidates += [(c, via) for c in self.contexts if host in c.hosts]
        if not candidates:
            return None
        return min(candidates, key=lambda pair: (pair[0].admin, pair[0].name, pair[1]))

    def api_client(self, context: KubeContext) -> Any:
        """An ApiClient for one context: TLS and credentials as the kubeconfig says, retries left to the scan."""
        # Deferred for import cost: the Kubernetes client loads only when this runs.
        from kubernetes.client import ApiClient, Configuration
        from kubernetes.config.kube_config import KubeConfigLoader

        configuration = Configuration()
        # The loader writes inline certificates to shared temporary files and may run an exec plugin
        # (kubelogin): one context at a time.
        with self._lock:
            KubeConfigLoader(config_dict=self._config, active_context=context.name, config_base_path=None).load_and_set(
                configuration
            )
        configuration.retries = False  # retries and backoff belong to the scan's limiter
        configuration.connection_pool_maxsize = 1  # one cluster is read by one worker at a time
        return ApiClient(configuration=configuration)


# Keys of a kubeconfig user whose values are credentials (token, password, client-key-data, access-token,
# id-token, refresh-token, client-secret, ...).
_SECRET_KEY_WORDS = ("token", "password", "secret", "key-data")


def _contexts(config: dict[str, Any]) -> tuple[KubeContext, ...]:
    def plain(item: Any) -> dict[str, Any]:
        value = getattr(item, "value", item)
        if not isinstance(value, dict):
            raise ValueError("an entry of clusters, contexts or users is not a mapping")
        return value

    clusters = {str(c["name"]): plain(c).get("cluster") or {} for c in (plain(x) for x in config.get("clusters") or [])}
    contexts: list[KubeContext] = []
    for entry in (plain(x) for x in config.get("contexts") or []):
        body = entry.get("context") or {}
        cluster = clusters.get(str(body.get("cluster", "")))
        if not isinstance(cluster, dict) or not cluster.get("server"):
            continue  # a context without a reachable cluster entry cannot match any API server
        contexts.append(
            KubeContext(
                name=str(entry["name"]),
                cluster=str(body.get("cluster", "")),
                user=str(body.get("user", "")),
                server=str(cluster["server"]),
                tls_server_name=str(cluster.get("tls-server-name") or ""),
            )
        )
    return tuple(sorted(contexts, key=lambda c: c.name))


class _Failed(Exception):
    """A Kubernetes call that failed for good; `fatal` when nothing else of the cluster can be read either."""

    def __init__(self, status: int | None, code: str, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fatal = status, code, message, fatal


class KubernetesCollector:
    """Nodes, PDBs and workloads of every cluster a kubeconfig context reaches: one task per cluster, run
    concurrently by the scan's workers through the shared limiter (one bucket per API server)."""

    kind = "kubernetes"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        kube = ctx.kubernetes
        if not isinstance(kube, KubernetesClients):
            return []
        return [
            Task(partial(self._one, ctx, kube, cluster), ("kubernetes", cluster.cluster_id))
            for cluster in inventory.clusters
        ]

    def _one(self, ctx: CollectContext, kube: KubernetesClients, cluster: ClusterRef) -> None:
        scope = cluster.cluster_id
        if cluster.stopped:
            return  # its control plane is deallocated: nothing to read, and nothing failed (the model says why)
        matched = kube.match(cluster)
        if matched is None:
            names = " or ".join(n for n in (cluster.fqdn, cluster.private_fqdn) if n) or "(the cluster has no fqdn)"
            ctx.fail(
                ACCESS_CALL,
                scope,
                None,
                "NoKubeconfigContext",
                f"no context of kubeconfig {kube.source} has the API server {names}",
            )
            return
        context, via = matched
        try:
            api = kube.api_client(context)
        except Exception as exc:  # a broken context (missing CA file, failing exec plugin): this cluster only
            ctx.fail(
                ACCESS_CALL,
                scope,
                None,
                "KubeconfigError",
                f"context {context.name}: {type(exc).__name__}: {_line(exc)}",
            )
            return
        try:
            ctx.record(
                CONTEXT_KIND,
                scope,
                f"kubeconfig {kube.source}",
                {
                    "context": context.name,
                    "cluster": context.cluster,
                    "user": context.user,
                    "server": without_userinfo(context.server),
                    "tlsServerName": context.tls_server_name or None,
                    "matchedOn": via,
                },
            )
            for resource in RESOURCES:
                try:
                    self._list(ctx, kube, api, cluster, context, resource)
                except _Failed as failure:
                    ctx.fail(
                        ACCESS_CALL if failure.fatal else resource.kind,
                        scope,
                        failure.status,
                        failure.code,
                        f"{resource.path} via context {context.name}: {failure.message}",
                    )
                    if failure.fatal:
                        return
        finally:
            api.close()

    def _list(
        self,
        ctx: CollectContext,
        kube: KubernetesClients,
        api: Any,
        cluster: ClusterRef,
        context: KubeContext,
        resource: ResourceList,
    ) -> None:
        method = resource.method(api)
        items: list[Any] = []
        envelope: dict[str, Any] = {}
        token: str | None = None
        pages = 0
        restarted = False
        while True:
            kwargs: dict[str, Any] = {
                "limit": kube.page_size,
                "_preload_content": False,
                "_request_timeout": (kube.connect_timeout, kube.read_timeout),
            }
            if token:
                kwargs["_continue"] = token
            try:
                body = self._call(ctx, cluster.cluster_id, resource.kind, partial(method, **kwargs))
            except _Failed as failure:
                # An expired continue token (410): a consistent list must start over, once.
                if failure.status == 410 and token and not restarted:
                    restarted, token, items, pages = True, None, [], 0
                    continue
                raise
            pages += 1
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise _Failed(None, "MalformedResponse", f"page {pages} is not a {resource.list_kind}", fatal=False)
            if not envelope:
                envelope = {k: v for k, v in body.items() if k != "items"}
            items.extend(body["items"])
            page_metadata = body.get("metadata")
            token = str(page_metadata.get("continue") or "") or None if isinstance(page_metadata, dict) else None
            if not token:
                break
            if pages >= MAX_PAGES:
                raise _Failed(None, "TooManyPages", f"still paging after {pages} pages", fatal=False)
        metadata = dict(envelope.get("metadata") or {}) if isinstance(envelope.get("metadata"), dict) else {}
        metadata.pop("continue", None)
        metadata.pop("remainingItemCount", None)
        envelope["metadata"] = metadata
        envelope.setdefault("kind", resource.list_kind)
        envelope.setdefault("apiVersion", resource.api_version)
        envelope["items"] = items
        ctx.record(
            resource.kind,
            cluster.cluster_id,
            f"GET {without_userinfo(context.server).rstrip('/')}{resource.path}?limit={kube.page_size} "
            f"({pages} page(s))",
            envelope,
        )

    def _call(self, ctx: CollectContext, cluster_id: str, kind: str, operation: Callable[[], Any]) -> Any:
        """One list page through the limiter with bounded retries; the parsed JSON body, or _Failed."""
        # Deferred for import cost: the Kubernetes client loads only when this runs.
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, NameResolutionError, NewConnectionError, SSLError, TimeoutError

        settings = ctx.limiter.settings
        failure = _Failed(None, "NoAttempt", "no attempt made", fatal=True)
        for attempt in range(settings.max_attempts):
            if ctx.limiter.stopped:
                raise ScanCancelled()
            ctx.limiter.acquire_kubernetes(cluster_id)
            ctx.count_call(kind)
            retry_after: float | None = None
            try:
                response = operation()
                data = response.data
                try:
                    return json.loads(data)
                except (TypeError, ValueError) as exc:
                    raise _Failed(
                        None, "MalformedResponse", f"the body is not JSON ({type(exc).__name__})", fatal=False
                    ) from exc
            except ApiException as exc:
                status = int(exc.status) if exc.status else None
                failure = _Failed(status, _reason(exc), _status_message(exc), fatal=status == 401)
                if status not in RETRIABLE_STATUS:
                    break
                retry_after = _retry_after(exc)
            except SSLError as exc:  # a certificate that does not match: waiting will not change it
                failure = _Failed(None, "TLSError", _line(exc), fatal=True)
                break
            except NameResolutionError as exc:
                failure = _Failed(None, "NameResolutionFailed", _line(exc), fatal=True)
                break
            except NewConnectionError as exc:
                failure = _Failed(None, "ConnectionError", _line(exc), fatal=True)
                if attempt + 1 >= settings.max_connect_attempts:
                    break
            except TimeoutError as exc:
                failure = _Failed(None, "Timeout", _line(exc), fatal=True)
                if attempt + 1 >= settings.max_connect_attempts:
                    break
            except HTTPError as exc:
                failure = _Failed(None, "ConnectionError", f"{type(exc).__name__}: {_line(exc)}", fatal=True)
                if attempt + 1 >= settings.max_connect_attempts:
                    break
            if attempt + 1 < settings.max_attempts:
                ctx.count_retry(kind)
                ctx.limiter.sleep(ctx.limiter.backoff(attempt, retry_after))
        raise failure


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]


def _reason(exc: Any) -> str:
    body = _status_body(exc)
    reason = body.get("reason") if body else None
    return str(reason or exc.reason or "HTTPError")


def _status_body(exc: Any) -> dict[str, Any] | None:
    raw = getattr(exc, "body", None)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _status_message(exc: Any) -> str:
    """The Kubernetes Status message of an error answer (what kubectl prints), else its HTTP reason."""
    body = _status_body(exc)
    message = body.get("message") if body else None
    text = str(message or exc.reason or "no message")
    return " ".join(f"{exc.status or ''} {text}".split())[:500]


def _retry_after(exc: Any) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
