"""A local HTTPS stand-in for the slice of ARM and Resource Graph the collectors use (read-only).

Real SDK clients talk to it unchanged: ``base_url=server.endpoint``, any static bearer token, and
``connection_verify=server.ca_file``. docs/emulator.md lists the routes, the behaviour knobs and the counters.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import re
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from auditor.emulator.certs import CertificatePaths, ensure_certificates
from auditor.emulator.faults import (
    CALL_KINDS,
    Behaviour,
    FaultPlan,
    TokenBucket,
    WindowQuota,
    behaviour_from_settings,
    format_hms,
)
from auditor.emulator.fleet import Fleet, as_fleet, load_fleet, normalise_location, resource_group_of
from auditor.emulator.fleet_manager import FLEET_TYPE, fleet_route, graph_row
from auditor.emulator.kubernetes import KUBECONFIG_FILE, KubernetesApi
from auditor.errors import AuditorError
from auditor.nodeimage import parse_node_image

DEFAULT_SERVE_PORT = 8443
DEFAULT_TOKEN_HINT = "emulator-token"  # noqa: S105 (any bearer token is accepted; this is only a hint)

# Outcome counters, beside one counter per call kind (CALL_KINDS).
OUTCOME_COUNTERS = (
    "connections",
    "requests",
    "writes_refused",
    "unauthorized",
    "throttled",
    "throttled_resource_graph",
    "throttled_rp",
    "throttled_storm",
    "server_errors",
    "forbidden",
    "timeouts",
    "truncated_results",
    "not_found",
    "bad_requests",
    "handler_errors",
    "client_disconnects",
    "tls_failures",
)
COUNTER_NAMES = (*CALL_KINDS, "unknown", *OUTCOME_COUNTERS)

_ARG_TABLES = ("resources", "resourcechanges", "containerserviceeventresources", "aksresources")
_ARG_CLUSTER_COLUMNS = (
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_MAX = 1000


@dataclass
class _Reply:
    """A response about to be written."""

    status: int
    body: Any
    headers: dict[str, str]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def _ok(body: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(200, body, headers or {})


@dataclass(frozen=True)
class _Route:
    """What a path addresses: call kind, handler name and the path parameters (original case)."""

    kind: str
    action: str
    params: dict[str, str]


def _route(path: str) -> _Route | None:
    # Clients percent-encode path parameters ("Australia%20East", "rg%281%29"): decode each segment after the split,
    # so an encoded '/' stays inside its segment.
    parts = [unquote(p) for p in path.split("/") if p]
    low = [p.lower() for p in parts]
    n = len(parts)
    if low == ["subscriptions"]:
        return _Route("subscriptions", "list_subscriptions", {})
    if n == 2 and low[0] == "subscriptions":
        return _Route("subscriptions", "get_subscription", {"sid": parts[1]})
    if low == ["providers", "microsoft.resourcegraph", "resources"]:
        return _Route("resource_graph", "resource_graph", {})
    if n == 5 and low[:3] == ["providers", "microsoft.management", "managementgroups"] and low[4] == "descendants":
        return _Route("management_groups", "descendants", {"group": parts[3]})
    if n < 5 or low[0] != "subscriptions":
        return None
    fleet_params = fleet_route(parts)
    if fleet_params is not None:
        return _Route("fleets", "fleet_read", fleet_params)
    sid = parts[1]
    if low[2:5] == ["providers", "microsoft.authorization", "permissions"] and n == 5:
        return _Route("permissions", "permissions", {"sid": sid})
    if low[2:5] == ["providers", "microsoft.containerservice", "managedclusters"] and n == 5:
        return _Route("managed_clusters", "list_clusters", {"sid": sid})
    if (
        n == 7
        and low[2:5] == ["providers", "microsoft.containerservice", "locations"]
        and low[6] == "kubernetesversions"
    ):
        return _Route("kubernetes_versions", "kubernetes_versions", {"sid": sid, "location": parts[5]})
    if (
        n < 7
        or low[2] != "resourcegroups"
        or low[4:7] != ["providers", "microsoft.containerservice", "managedclusters"]
    ):
        return None
    base = {"sid": sid, "rg": parts[3]}
    if n == 7:
        return _Route("managed_clusters", "list_clusters", base)
    base["cluster"] = parts[7]
    rest = low[8:]
    if not rest:
        return _Route("managed_clusters", "get_cluster", base)
    if rest == ["upgradeprofiles", "default"]:
        return _Route("cluster_upgrade_profiles", "cluster_upgrade_profile", base)
    if rest[0] == "agentpools":
        if len(rest) == 1:
            return _Route("agent_pools", "list_pools", base)
        pool = {**base, "pool": parts[9]}
        if len(rest) == 2:
            return _Route("agent_pools", "get_pool", pool)
        if rest[2:] == ["upgradeprofiles", "default"]:
            return _Route("pool_upgrade_profiles", "pool_upgrade_profile", pool)
        return None
    if rest[0] == "maintenanceconfigurations":
        if len(rest) == 1:
            return _Route("maintenance_configurations", "list_maintenance", base)
        if len(rest) == 2:
            return _Route("maintenance_configurations", "get_maintenance", {**base, "config": parts[9]})
    return None


def _encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _column_type(values: list[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        if isinstance(value, dict | list):
            return "object"
        return "string"
    return "string"


def _minor_of(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def _patch_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)


class _TLSServer(ThreadingHTTPServer):
    """ThreadingHTTPServer setting TCP_NODELAY on every accepted socket, with TLS in the worker thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst of concurrent clients then loses SYNs and waits out
    # the kernel's 1 s retransmit. Azure's front doors take any burst a client can make.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, emulator: EmulatorServer) -> None:
        self.ssl_context = context
        self.emulator = emulator
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        # http.server writes headers and body separately; without TCP_NODELAY, Nagle plus delayed ACKs
        # stall every keep-alive reply by ~40 ms (measured: 44.7 ms per call without it, 3.0 ms with it).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs here, in the connection's own thread, so a slow client never blocks accept().
        request.settimeout(30)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.emulator._count("tls_failures")
            return
        self.emulator._count("connections")
        self.emulator._track(tls)
        try:
            _Handler(tls, client_address, self)
        finally:
            self.emulator._untrack(tls)
            try:
                tls.close()
            except OSError:
                self.emulator._count("client_disconnects")

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Request handling errors are answered as 500 in EmulatorServer._handle; what reaches here failed
        # outside it (reading the request line, a reset connection): a disconnect is counted, anything
        # else is kept with its traceback in handler_errors().
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            self.emulator._count("client_disconnects")
        else:
            self.emulator._record_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the EmulatorServer; HTTP/1.1 keep-alive with Content-Length on every reply."""

    protocol_version = "HTTP/1.1"
    server_version = "aks-upgrade-auditor-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections close after this many seconds
    wbufsize = 64 * 1024  # headers and a small body leave in one write
    server: _TLSServer

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.server.emulator._handle(self, "GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "DELETE")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self.server.emulator._handle(self, "OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        # Access logs are replaced by counters(); errors are answered as ARM error bodies and counted.
        return


class EmulatorServer:
    """The emulator: start() it (or use it as a context manager); point SDK clients at .endpoint, .ca_file."""

    def __init__(
        self,
        fleet: Fleet | Mapping[str, Any],
        port: int = 0,
        state_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        **behaviour: Any,
    ) -> None:
        self.fleet = as_fleet(fleet)
        self.behaviour: Behaviour = behaviour_from_settings(
            self.fleet.emulator_settings, self.fleet.source
        ).with_overrides(behaviour)
        self.host = host
        self.port = port
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._certificates: CertificatePaths | None = None
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._counter_lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()
        self._errors: list[str] = []
        self._faults = FaultPlan(self.behaviour)
        self._arg_quota = (
            WindowQuota(self.behaviour.resource_graph_quota, self.behaviour.resource_graph_window_seconds)
            if self.behaviour.resource_graph_quota
            else None
        )
        self._rp_bucket = (
            TokenBucket(self.behaviour.rp_burst, self.behaviour.rp_refill_per_second)
            if self.behaviour.rp_burst
            else None
        )
        self._arg_rows = self._build_arg_rows()
        # Each cluster's Kubernetes API, on this same port, told apart by TLS SNI (auditor/emulator/kubernetes.py).
        self.kubernetes = KubernetesApi(self.fleet)
        self._kube_context: ssl.SSLContext | None = None
        self._kube_certificates: CertificatePaths | None = None
        self._kubeconfig: Path | None = None
        self._actions: dict[str, Callable[[dict[str, str], dict[str, str], Any], _Reply]] = {
            "list_subscriptions": self._list_subscriptions,
            "get_subscription": self._get_subscription,
            "resource_graph": self._resource_graph,
            "list_clusters": self._list_clusters,
            "get_cluster": self._get_cluster,
            "list_pools": self._list_pools,
            "get_pool": self._get_pool,
            "pool_upgrade_profile": self._pool_upgrade_profile,
            "cluster_upgrade_profile": self._cluster_upgrade_profile,
            "list_maintenance": self._list_maintenance,
            "get_maintenance": self._get_maintenance,
            "kubernetes_versions": self._kubernetes_versions,
            "fleet_read": self._fleet_read,
            "permissions": self._permissions,
            "descendants": self._descendants,
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> EmulatorServer:
        """Generate (or reuse) certificates, bind, and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        if self._state_dir is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="aks-emulator-")
            directory = Path(self._temp_dir.name)
        else:
            directory = self._state_dir
        self._certificates = ensure_certificates(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self._certificates.cert_file, self._certificates.key_file)
        if self.kubernetes.hosts:
            self._start_kubernetes(context, directory)
        self._stopping.clear()
        try:
            self._server = _TLSServer((self.host, self.port), context, self)
        except OSError as exc:
            if self._temp_dir is not None:
                self._temp_dir.cleanup()
                self._temp_dir = None
            raise AuditorError(_listen_failure(self.host, self.port, exc)) from exc
        self.port = self._server.server_address[1]
        if self.kubernetes.hosts and self._kube_certificates is not None:
            self._kubeconfig = self.kubernetes.write_kubeconfig(
                directory / KUBECONFIG_FILE, self.port, self._kube_certificates.ca_file
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="aks-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def _start_kubernetes(self, context: ssl.SSLContext, directory: Path) -> None:
        """A cluster CA and an API server certificate for the clusters' names; SNI picks it per connection."""
        from auditor.emulator.certs import generate_host_certificates

        self._kube_certificates = generate_host_certificates(
            directory / "kubernetes", "apiserver", self.kubernetes.certificate_names(), "aks-upgrade-auditor cluster CA"
        )
        kube_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        kube_context.minimum_version = ssl.TLSVersion.TLSv1_2
        kube_context.load_cert_chain(self._kube_certificates.cert_file, self._kube_certificates.key_file)
        self._kube_context = kube_context

        def choose(connection: Any, server_name: str | None, _: ssl.SSLContext) -> None:
            if server_name and self.kubernetes.serves(server_name):
                connection.context = kube_context
                connection.auditor_api_server = server_name.lower()

        context.sni_callback = choose

    @property
    def kubeconfig_file(self) -> Path:
        """The kubeconfig with one context per cluster's Kubernetes API (for `auditor scan --kubernetes`)."""
        if self._kubeconfig is None:
            raise RuntimeError("emulator not started, or its fleet has no cluster with an fqdn")
        return self._kubeconfig

    def kubernetes_counters(self) -> dict[str, int]:
        """Counters of the emulated Kubernetes API servers (auditor.emulator.kubernetes.COUNTER_NAMES)."""
        return self.kubernetes.counters()

    def stop(self) -> None:
        """Stop serving, close open connections and remove temporary certificates."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                # socket.socket.shutdown, not SSLSocket.shutdown: unblock readers without touching TLS state.
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                continue
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Base URL for the SDK clients, e.g. https://127.0.0.1:8443."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"https://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        """PEM file of the CA that signed the server certificate (for connection_verify / --ca-bundle)."""
        if self._certificates is None:
            raise RuntimeError("emulator not started")
        return self._certificates.ca_file

    def counters(self) -> dict[str, int]:
        """A snapshot of the call counters (every name in COUNTER_NAMES, zero included)."""
        with self._counter_lock:
            return {name: self._counters.get(name, 0) for name in COUNTER_NAMES}

    def reset_counters(self) -> None:
        """Zero every counter (the quotas and fault schedule keep their state)."""
        with self._counter_lock:
            self._counters.clear()

    def handler_errors(self) -> list[str]:
        """Tracebacks of handler failures that were answered with a 500 (empty when all is well)."""
        with self._counter_lock:
            return list(self._errors)

    # ----------------------------------------------------------------- plumbing

    def _count(self, *names: str) -> None:
        with self._counter_lock:
            for name in names:
                self._counters[name] += 1

    def _track(self, connection: ssl.SSLSocket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _untrack(self, connection: ssl.SSLSocket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def _record_error(self, text: str) -> None:
        with self._counter_lock:
            self._counters["handler_errors"] += 1
            self._errors.append(text)

    def _handle(self, handler: _Handler, method: str) -> None:
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length) if length > 0 else b""
            reply = self._process(handler, method, body)
            payload = json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self._count("client_disconnects")
            handler.close_connection = True
            return
        except Exception as exc:  # answered as an ARM 500 and kept in handler_errors(); never silent
            self._record_error(traceback.format_exc())
            reply = _error(500, "InternalServerError", f"emulator handler failed: {type(exc).__name__}: {exc}")
            payload = json.dumps(reply.body).encode("utf-8")
        if reply.status >= 400 and self.behaviour.error_body != "arm":
            payload = self._hostile_error(handler, reply)
        self._write(handler, method, reply, payload)

    def _hostile_error(self, handler: _Handler, reply: _Reply) -> bytes:
        """An error body as a gateway or proxy writes it (Behaviour.error_body); sets its Content-Type."""
        phrase = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else "Error"
        # Sorted by name, so a short excerpt of the echo still holds the Authorization header.
        echoed = sorted(f"{name}: {value}" for name, value in handler.headers.items())
        style = self.behaviour.error_body
        if style == "html":
            reply.headers["Content-Type"] = "text/html"
            text = (
                f"<html><head><title>{reply.status} {phrase}</title></head><body><center><h1>{reply.status} "
                f"{phrase}</h1></center><hr><center>emulated gateway</center></body></html>"
            )
        elif style == "echo-text":
            reply.headers["Content-Type"] = "text/plain; charset=utf-8"
            text = f"{reply.status} {phrase}\nRequest headers:\n" + "\n".join(echoed)
        elif isinstance(reply.body, dict) and reply.body.get("kind") == "Status":
            # echo-json from a Kubernetes API server: its Status message repeats the request headers.
            message = f"{reply.body.get('message', phrase)} Request headers: {'; '.join(echoed)}"
            status = {**reply.body, "message": message}
            return json.dumps(status, separators=(",", ":")).encode("utf-8")
        else:  # echo-json: an ARM error whose message repeats the request headers
            error = dict(reply.body.get("error") or {}) if isinstance(reply.body, dict) else {}
            error["message"] = f"{error.get('message', phrase)} Request headers: {'; '.join(echoed)}"
            return json.dumps({"error": error}, separators=(",", ":")).encode("utf-8")
        return text.encode("utf-8")

    def _write(self, handler: _Handler, method: str, reply: _Reply, payload: bytes) -> None:
        try:
            handler.send_response(reply.status)
            content_type = reply.headers.pop("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("x-ms-request-id", str(uuid.uuid4()))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(payload)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self._count("client_disconnects")
            handler.close_connection = True

    def _process(self, handler: _Handler, method: str, body: bytes) -> _Reply:
        url = urlsplit(handler.path)
        query = {key.lower(): value for key, value in parse_qsl(url.query, keep_blank_values=True)}
        api_server = getattr(handler.connection, "auditor_api_server", None)
        if api_server is not None:  # a cluster's Kubernetes API (SNI), not ARM
            latency = self._faults.latency_seconds()
            if latency:
                self._stopping.wait(latency)
            answer = self.kubernetes.handle(
                api_server, method, url.path, query, handler.headers.get("Authorization", "")
            )
            return _Reply(answer.status, answer.body, {})
        self._count("requests")
        token = self._bearer_token(handler.headers.get("Authorization", ""))
        if token is None:
            self._count("unauthorized")
            return _error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
                {
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common",'
                    ' error="invalid_token", error_description="The authentication failed."'
                },
            )
        route = _route(url.path)
        is_query = method == "POST" and route is not None and route.kind == "resource_graph"
        if method not in ("GET", "HEAD") and not is_query:
            self._count("writes_refused")
            return _error(
                405,
                "MethodNotAllowed",
                f"emulator is read-only: {method} {url.path} refused "
                "(only GET and the Resource Graph query POST are served)",
            )
        if route is None:
            self._count("unknown", "not_found")
            return _error(404, "ResourceNotFound", f"The emulator serves no resource at '{url.path}'.")
        self._count(route.kind)
        if "api-version" not in query:
            self._count("bad_requests")
            return _error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )

        latency = self._faults.latency_seconds()
        if latency:
            self._stopping.wait(latency)
        if self._faults.in_storm(route.kind):
            self._count("throttled", "throttled_storm")
            retry = str(self.behaviour.storm_retry_after)
            return _error(
                429,
                "TooManyRequests",
                "The request is being throttled (emulator 429 storm).",
                {"Retry-After": retry},
            )
        quota_headers: dict[str, str] = {}
        if route.kind == "resource_graph":
            if self._arg_quota is not None:
                decision = self._arg_quota.take(hashlib.sha256(token.encode()).hexdigest())
                quota_headers = {
                    "x-ms-user-quota-remaining": str(decision.remaining),
                    "x-ms-user-quota-resets-after": format_hms(decision.resets_after),
                }
                if not decision.allowed:
                    self._count("throttled", "throttled_resource_graph")
                    return _error(
                        429,
                        "RateLimiting",
                        f"Rate limit exceeded: {self.behaviour.resource_graph_quota} queries per "
                        f"{self.behaviour.resource_graph_window_seconds:g} s per user; retry after "
                        f"{decision.retry_after} s.",
                        {**quota_headers, "Retry-After": str(decision.retry_after)},
                    )
        elif route.kind not in ("subscriptions", "management_groups") and self._rp_bucket is not None:
            key = (route.params["sid"].lower(), self._region_of(route))
            decision = self._rp_bucket.take(key)
            if not decision.allowed:
                self._count("throttled", "throttled_rp")
                return _error(
                    429,
                    "TooManyRequests",
                    f"Too many requests for subscription '{key[0]}' in region '{key[1] or 'global'}'; "
                    f"retry after {decision.retry_after} s.",
                    {"Retry-After": str(decision.retry_after)},
                )
        if route.kind not in ("subscriptions", "resource_graph", "management_groups"):
            sid = route.params["sid"].lower()
            # A forbidden subscription's permissions answer (and show what is missing); a hidden one's do not.
            denied = sid in self.behaviour.hidden_subscriptions or (
                sid in self.behaviour.forbidden_subscriptions and route.kind != "permissions"
            )
            if denied:
                self._count("forbidden")
                action = {
                    "permissions": "Microsoft.Authorization/permissions/read",
                    "fleets": "Microsoft.ContainerService/fleets/read",
                }.get(route.kind, "Microsoft.ContainerService/managedClusters/read")
                return self._forbidden(f"/subscriptions/{sid}", action)
        if self._faults.times_out(route.kind):
            self._count("timeouts")
            # Hang past the client's read timeout; stop() cuts the wait short.
            self._stopping.wait(self.behaviour.timeout_seconds)
            return _error(504, "GatewayTimeout", "The gateway did not receive a response within the specified time.")
        injected = self._faults.server_error(route.kind)
        if injected is not None:
            self._count("server_errors")
            if injected == 503:
                return _error(
                    503,
                    "ServiceUnavailable",
                    "The service is temporarily unavailable (emulator fault).",
                    {"Retry-After": "1"},
                )
            return _error(500, "InternalServerError", "An internal server error occurred (emulator fault).")
        reply = self._actions[route.action](route.params, query, body if route.kind == "resource_graph" else None)
        reply.headers.update(quota_headers)
        if reply.status == 404:
            self._count("not_found")
        elif reply.status == 403:
            self._count("forbidden")
        elif reply.status == 400:
            self._count("bad_requests")
        return reply

    def _bearer_token(self, header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self.behaviour.token is not None and token != self.behaviour.token:
            return None
        return token

    def _region_of(self, route: _Route) -> str:
        if "location" in route.params:
            return normalise_location(route.params["location"])
        if route.kind == "fleets":
            fleet = self._fleet_for(route.params)
            return normalise_location(fleet["location"]) if fleet else ""
        cluster = self._cluster_for(route.params)
        return normalise_location(cluster["location"]) if cluster else ""

    def _forbidden(self, scope: str, action: str) -> _Reply:
        return _error(
            403,
            "AuthorizationFailed",
            "The client 'emulator-client' with object id '00000000-0000-0000-0000-000000000000' does not "
            f"have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. "
            "If access was recently granted, please refresh your credentials.",
        )

    # ----------------------------------------------------------------- ARM helpers

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> _Reply:
        offset = 0
        if "$skiptoken" in query:
            decoded = _decode_token(query["$skiptoken"])
            if decoded is None or not isinstance(decoded.get("o"), int) or decoded["o"] < 0:
                return _error(400, "InvalidSkipToken", "The $skipToken is not valid for this request.")
            offset = decoded["o"]
        size = self.behaviour.list_page_size
        page = items[offset : offset + size]
        body: dict[str, Any] = {"value": page}
        if offset + size < len(items):
            token = _encode_token({"o": offset + size})
            body["nextLink"] = f"{self.endpoint}{path}?api-version={query['api-version']}&$skipToken={token}"
        return _ok(body)

    def _path(self, params: dict[str, str], *tail: str) -> str:
        base = f"/subscriptions/{params['sid']}"
        if "rg" in params:
            base += f"/resourceGroups/{params['rg']}"
        base += "/providers/Microsoft.ContainerService/managedClusters"
        if tail:
            base += "/" + "/".join(tail)
        return base

    def _subscription_missing(self, sid: str) -> _Reply | None:
        if self.fleet.subscription(sid) is None:
            return _error(404, "SubscriptionNotFound", f"The subscription '{sid}' could not be found.")
        return None

    def _cluster_for(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "cluster" not in params:
            return None
        cluster_id = (
            f"/subscriptions/{params['sid']}/resourceGroups/{params['rg']}"
            f"/providers/Microsoft.ContainerService/managedClusters/{params['cluster']}"
        )
        return self.fleet.cluster(cluster_id)

    def _cluster_or_404(self, params: dict[str, str]) -> tuple[dict[str, Any] | None, _Reply | None]:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return None, missing
        cluster = self._cluster_for(params)
        if cluster is None:
            return None, _error(
                404,
                "ResourceNotFound",
                "The Resource 'Microsoft.ContainerService/managedClusters/"
                f"{params['cluster']}' under resource group '{params['rg']}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return cluster, None

    @staticmethod
    def _pool_resource(cluster: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        properties = {key: value for key, value in profile.items() if key != "name"}
        return {
            "id": f"{cluster['id']}/agentPools/{profile['name']}",
            "name": profile["name"],
            "type": "Microsoft.ContainerService/managedClusters/agentPools",
            "properties": properties,
        }

    @staticmethod
    def _find_pool(cluster: dict[str, Any], name: str) -> dict[str, Any] | None:
        wanted = name.lower()
        for profile in cluster.get("properties", {}).get("agentPoolProfiles", []):
            if profile["name"].lower() == wanted:
                return profile
        return None

    def _upgrades(self, location: str, current: str) -> list[dict[str, Any]]:
        """Upgrade targets for a version in a region, from the region's kubernetesVersions body."""
        body = self.fleet.kubernetes_versions(location) or {"values": []}
        current_minor = _minor_of(current)
        targets: list[dict[str, Any]] = []
        for entry in body.get("values", []):
            patches = entry.get("patchVersions") or {}
            if current in patches:
                preview = {
                    v: bool(e.get("isPreview")) for e in body.get("values", []) for v in (e.get("patchVersions") or {})
                }
                return [
                    {"kubernetesVersion": v, **({"isPreview": True} if preview.get(v) else {})}
                    for v in patches[current].get("upgrades", [])
                ]
        if current_minor is None:
            return targets
        for entry in body.get("values", []):
            for version in entry.get("patchVersions") or {}:
                minor = _minor_of(version)
                if minor is None:
                    continue
                newer = _patch_key(version) > _patch_key(current)
                if newer and minor[0] == current_minor[0] and minor[1] <= current_minor[1] + 1:
                    target: dict[str, Any] = {"kubernetesVersion": version}
                    if entry.get("isPreview"):
                        target["isPreview"] = True
                    targets.append(target)
        return sorted(targets, key=lambda t: _patch_key(t["kubernetesVersion"]))

    # ----------------------------------------------------------------- ARM actions

    def _list_subscriptions(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        hidden = self.behaviour.hidden_subscriptions
        visible = [s for s in self.fleet.subscriptions if str(s.get("subscriptionId", "")).lower() not in hidden]
        return self._page(visible, "/subscriptions", query)

    def _get_subscription(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        subscription = self.fleet.subscription(params["sid"])
        if subscription is None or params["sid"].lower() in self.behaviour.hidden_subscriptions:
            return _error(404, "SubscriptionNotFound", f"The subscription '{params['sid']}' could not be found.")
        return _ok(subscription)

    def _permissions(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        """What the caller may do at subscription scope (Permissions - List For Subscription, api 2022-04-01):
        Reader (`*/read`) on an ordinary subscription; on a forbidden one, a role that reads the subscription and
        its resource groups but no managed cluster."""
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        if params["sid"].lower() in self.behaviour.forbidden_subscriptions:
            actions = [
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ]
        else:
            actions = ["*/read"]
        return _ok({"value": [{"actions": actions, "notActions": [], "dataActions": [], "notDataActions": []}]})

    def _descendants(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        """The subscriptions under a management group (ManagementGroups_GetDescendants; nested groups are not
        modelled: the fleet maps a group to its subscriptions)."""
        group = params["group"]
        mapping = self.fleet.management_groups
        if mapping is None or group.lower() not in mapping:
            return self._forbidden(
                f"/providers/Microsoft.Management/managementGroups/{group}",
                "Microsoft.Management/managementGroups/read",
            )
        items = []
        for sid in mapping[group.lower()]:
            subscription = self.fleet.subscription(sid) or {}
            items.append(
                {
                    "id": f"/subscriptions/{sid}",
                    "type": "/subscriptions",
                    "name": sid,
                    "properties": {
                        "displayName": subscription.get("displayName", sid),
                        "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{group}"},
                    },
                }
            )
        return self._page(items, f"/providers/Microsoft.Management/managementGroups/{group}/descendants", query)

    def _list_clusters(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        clusters = self.fleet.clusters_in(params["sid"], params.get("rg"))
        return self._page(clusters, self._path(params), query)

    def _get_cluster(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, error = self._cluster_or_404(params)
        return error or _ok(cluster)

    def _list_pools(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or _error(404, "ResourceNotFound", "not found")
        pools = [self._pool_resource(cluster, p) for p in cluster.get("properties", {}).get("agentPoolProfiles", [])]
        return self._page(pools, self._path(params, params["cluster"], "agentPools"), query)

    def _pool_or_404(
        self, params: dict[str, str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, _Reply | None]:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return None, None, error
        profile = self._find_pool(cluster, params["pool"])
        if profile is None:
            return (
                cluster,
                None,
                _error(
                    404,
                    "ResourceNotFound",
                    "The Resource 'Microsoft.ContainerService/managedClusters/"
                    f"{params['cluster']}/agentPools/{params['pool']}' "
                    f"under resource group '{params['rg']}' was not found.",
                ),
            )
        return cluster, profile, None

    def _get_pool(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, profile, error = self._pool_or_404(params)
        if error or cluster is None or profile is None:
            return error or _error(404, "ResourceNotFound", "not found")
        return _ok(self._pool_resource(cluster, profile))

    def _pool_upgrade_profile(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, profile, error = self._pool_or_404(params)
        if error or cluster is None or profile is None:
            return error or _error(404, "ResourceNotFound", "not found")
        current = profile.get("currentOrchestratorVersion") or profile.get("orchestratorVersion") or ""
        own_image = profile.get("nodeImageVersion")
        latest = own_image
        parsed = parse_node_image(own_image) if own_image else None
        if parsed is not None:
            latest = self.fleet.latest_node_image(cluster["location"], parsed.family) or own_image
        properties: dict[str, Any] = {
            "kubernetesVersion": current,
            "osType": profile.get("osType", "Linux"),
            "upgrades": self._upgrades(cluster["location"], current),
        }
        if latest:
            properties["latestNodeImageVersion"] = latest
        return _ok(
            {
                "id": f"{cluster['id']}/agentPools/{profile['name']}/upgradeprofiles/default",
                "name": "default",
                "type": "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
                "properties": properties,
            }
        )

    def _cluster_upgrade_profile(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or _error(404, "ResourceNotFound", "not found")
        properties = cluster.get("properties", {})
        current = properties.get("currentKubernetesVersion") or properties.get("kubernetesVersion") or ""
        pools = []
        for profile in properties.get("agentPoolProfiles", []):
            version = profile.get("currentOrchestratorVersion") or profile.get("orchestratorVersion") or ""
            pools.append(
                {
                    "name": profile["name"],
                    "kubernetesVersion": version,
                    "osType": profile.get("osType", "Linux"),
                    "upgrades": self._upgrades(cluster["location"], version),
                }
            )
        return _ok(
            {
                "id": f"{cluster['id']}/upgradeprofiles/default",
                "name": "default",
                "type": "Microsoft.ContainerService/managedClusters/upgradeprofiles",
                "properties": {
                    "controlPlaneProfile": {
                        "kubernetesVersion": current,
                        "name": None,
                        "osType": "Linux",
                        "upgrades": self._upgrades(cluster["location"], current),
                    },
                    "agentPoolProfiles": pools,
                },
            }
        )

    def _list_maintenance(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or _error(404, "ResourceNotFound", "not found")
        configs = self.fleet.maintenance_configurations(cluster["id"])
        return self._page(configs, self._path(params, params["cluster"], "maintenanceConfigurations"), query)

    def _get_maintenance(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or _error(404, "ResourceNotFound", "not found")
        wanted = params["config"].lower()
        for config in self.fleet.maintenance_configurations(cluster["id"]):
            if config["name"].lower() == wanted:
                return _ok(config)
        return _error(
            404,
            "NotFound",
            f"Maintenance configuration '{params['config']}' of managed cluster '{params['cluster']}' was not found.",
        )

    def _kubernetes_versions(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        versions = self.fleet.kubernetes_versions(params["location"])
        if versions is None:
            return _error(
                404,
                "LocationNotFound",
                f"The location '{params['location']}' is not available for resource type 'managedClusters'.",
            )
        return _ok(versions)

    # ----------------------------------------------------------------- Fleet Manager (read only)

    def _fleet_for(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "fleet" not in params:
            return None
        fleet_id = (
            f"/subscriptions/{params['sid']}/resourceGroups/{params['rg']}"
            f"/providers/Microsoft.ContainerService/fleets/{params['fleet']}"
        )
        return self.fleet.fleet_manager.fleet(fleet_id)

    def _fleet_read(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        data = self.fleet.fleet_manager
        base = f"/subscriptions/{params['sid']}"
        if "rg" in params:
            base += f"/resourceGroups/{params['rg']}"
        base += "/providers/Microsoft.ContainerService/fleets"
        if "fleet" not in params:
            return self._page(data.fleets_in(params["sid"], params.get("rg")), base, query)
        fleet = self._fleet_for(params)
        if fleet is None:
            return _error(
                404,
                "ResourceNotFound",
                f"The Resource '{FLEET_TYPE}/{params['fleet']}' under resource group '{params['rg']}' was not found.",
            )
        if "collection" not in params:
            return _ok(fleet)
        items = data.collection(fleet["id"], params["collection"])
        if items is None:
            return _error(404, "ResourceNotFound", f"The emulator serves no fleet collection '{params['collection']}'.")
        if "child" not in params:
            return self._page(items, f"{base}/{params['fleet']}/{params['collection']}", query)
        for item in items:
            if item["name"].lower() == params["child"].lower():
                return _ok(item)
        return _error(
            404,
            "ResourceNotFound",
            f"'{params['collection']}/{params['child']}' of fleet '{params['fleet']}' was not found.",
        )

    # ----------------------------------------------------------------- Resource Graph

    def _build_arg_rows(self) -> dict[str, list[dict[str, Any]]]:
        tenant = self.fleet.tenant_id
        clusters = []
        for cluster in self.fleet.clusters:
            properties = cluster.get("properties", {})
            clusters.append(
                {
                    "id": cluster["id"],
                    "name": cluster["name"],
                    # Resource Graph lower-cases type and resourceGroup, unlike ARM.
                    "type": cluster["type"].lower(),
                    "tenantId": tenant,
                    "kind": cluster.get("kind", ""),
                    "location": cluster["location"],
                    "resourceGroup": resource_group_of(cluster["id"]).lower(),
                    "subscriptionId": cluster["id"].split("/")[2],
                    "managedBy": cluster.get("managedBy", ""),
                    "sku": cluster.get("sku"),
                    "plan": cluster.get("plan"),
                    "properties": properties,
                    "tags": cluster.get("tags") or {},
                    "identity": cluster.get("identity"),
                    "zones": cluster.get("zones"),
                    "extendedLocation": cluster.get("extendedLocation"),
                }
            )
        fleet_manager = self.fleet.fleet_manager
        return {
            "resources": clusters + [graph_row(f, tenant) for f in fleet_manager.fleets],
            "aksresources": [graph_row(item, tenant) for _, item in fleet_manager.children],
            "resourcechanges": sorted(self.fleet.resource_changes, key=lambda r: r["id"].lower()),
            "containerserviceeventresources": sorted(self.fleet.scheduled_events, key=lambda r: r["id"].lower()),
        }

    def _arg_scope(self, request: dict[str, Any]) -> tuple[set[str] | None, _Reply | None]:
        known = set(self.fleet.subscription_ids)
        forbidden = self.behaviour.forbidden_subscriptions
        requested: set[str]
        subscriptions = request.get("subscriptions") or []
        groups = request.get("managementGroups") or []
        if subscriptions:
            requested = {str(s).lower() for s in subscriptions}
            scope = "/subscriptions/" + ",".join(sorted(requested))
        elif groups:
            mapping = self.fleet.management_groups
            requested = set()
            for group in groups:
                if mapping is None:
                    requested |= known
                elif str(group).lower() in mapping:
                    requested |= set(mapping[str(group).lower()])
            scope = "/providers/Microsoft.Management/managementGroups/" + ",".join(str(g) for g in groups)
        else:
            requested = set(known)
            scope = "/"
        allowed = (requested & known) - forbidden - self.behaviour.hidden_subscriptions
        if (requested and not allowed) or (not requested and (subscriptions or groups)):
            return None, self._forbidden(scope, "Microsoft.ResourceGraph/resources/read")
        return allowed, None

    def _resource_graph(self, params: dict[str, str], query: dict[str, str], body: Any) -> _Reply:
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            return _error(400, "BadRequest", f"The request body is not valid JSON: {exc.msg}")
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return _error(400, "BadRequest", "The request body must be an object with a 'query' string.")
        text: str = request["query"]
        table, projection, limit, problem = _parse_kql(text)
        if problem:
            return _error(400, "InvalidQuery", problem)
        options = request.get("options") or {}
        top = options.get("$top", _TOP_MAX)
        skip = options.get("$skip", 0)
        if not isinstance(top, int) or not 1 <= top <= _TOP_MAX:
            return _error(400, "BadRequest", f"$top must be an integer between 1 and {_TOP_MAX}.")
        if not isinstance(skip, int) or skip < 0:
            return _error(400, "BadRequest", "$skip must be a non-negative integer.")
        result_format = str(options.get("resultFormat", "objectArray"))
        if result_format not in ("objectArray", "table"):
            return _error(400, "BadRequest", "resultFormat must be 'objectArray' or 'table'.")
        allowed, denial = self._arg_scope(request)
        if denial is not None or allowed is None:
            return denial or _error(403, "AuthorizationFailed", "no subscriptions in scope")
        types = _kql_types(text)
        lagging = self.behaviour.graph_lag_clusters
        rows = [
            r
            for r in self._arg_rows[table]
            if _row_subscription(r) in allowed
            and (types is None or str(r.get("type", "")).lower() in types)
            and not (lagging and str(r.get("id", "")).lower() in lagging)
        ]
        # Injected rows are served verbatim; only a row that names a type the query's `where type` stage
        # excludes is left out (so hostile cluster rows do not reach the Fleet queries as fleets).
        extra = [
            row
            for extra_table, row in self.behaviour.extra_graph_rows
            if extra_table == table
            and (
                types is None
                or not isinstance(row, dict)
                or not isinstance(row.get("type"), str)
                or row["type"].lower() in types
            )
        ]
        verbatim = {id(row) for row in extra}
        rows = [*rows, *extra]
        if limit is not None:
            rows = rows[:limit]
        fingerprint = hashlib.sha256(
            json.dumps([text, sorted(allowed), result_format], separators=(",", ":")).encode()
        ).hexdigest()[:16]
        offset = skip
        if options.get("$skipToken"):
            decoded = _decode_token(str(options["$skipToken"]))
            if decoded is None or decoded.get("q") != fingerprint or not isinstance(decoded.get("o"), int):
                return _error(400, "InvalidSkipToken", "The $skipToken does not belong to this query.")
            offset = decoded["o"]
        page = rows[offset : offset + top]
        has_more = offset + top < len(rows)
        truncated = has_more and self.behaviour.truncate_results
        columns = projection or (list(_ARG_CLUSTER_COLUMNS) if table == "resources" else _row_columns(rows))
        shaped = [row if id(row) in verbatim else {column: row.get(column) for column in columns} for row in page]
        data: Any
        if result_format == "table":
            cells = [[r.get(column) if isinstance(r, dict) else None for column in columns] for r in shaped]
            data = {
                "columns": [
                    {"name": column, "type": _column_type([row[i] for row in cells])}
                    for i, column in enumerate(columns)
                ],
                "rows": cells,
            }
        else:
            data = shaped
        response: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": data,
            "facets": [],
            "resultTruncated": "true" if truncated else "false",
        }
        if truncated:
            self._count("truncated_results")
        elif has_more:
            response["$skipToken"] = _encode_token({"q": fingerprint, "o": offset + top})
        return _ok(response)


def _listen_failure(host: str, port: int, exc: OSError) -> str:
    """One line for a port the emulator cannot listen on."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is already in use (another emulator?); "
            "choose another with --port, or --port 0 for any free port"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need privileges); choose --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def _row_subscription(row: dict[str, Any]) -> str:
    sid = row.get("subscriptionId")
    if isinstance(sid, str) and sid:
        return sid.lower()
    parts = str(row.get("id", "")).split("/")
    return parts[2].lower() if len(parts) > 2 else ""


def _row_columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def _kql_stages(text: str) -> list[str]:
    """The query split on '|' with // comments removed, both outside string literals."""
    stages: list[str] = []
    current: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            current.append(char)
            if char == "\\" and index + 1 < len(text):
                current.append(text[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            current.append(" ")
            continue
        elif char == "|":
            stages.append("".join(current))
            current = []
        else:
            current.append(" " if char in "\r\n\t" else char)
        index += 1
    stages.append("".join(current))
    return stages


_TYPE_EQUALS = re.compile(r"^where\s+type\s*(?:=~|==)\s*'([^']*)'\s*$", re.IGNORECASE)
_TYPE_IN = re.compile(r"^where\s+type\s+in~?\s*\(([^)]*)\)\s*$", re.IGNORECASE)


def _kql_types(text: str) -> set[str] | None:
    """The resource types a `where type =~ 'x'` / `where type in~ ('x', 'y')` stage keeps (lower case); None when
    the query has no such stage. Other `where` stages are not evaluated."""
    types: set[str] | None = None
    for stage in (s.strip() for s in _kql_stages(text)):
        equals = _TYPE_EQUALS.match(stage)
        listed = _TYPE_IN.match(stage)
        if equals:
            found = {equals.group(1).lower()}
        elif listed:
            found = {v.strip().strip("'\"").lower() for v in listed.group(1).split(",") if v.strip()}
        else:
            continue
        types = found if types is None else types & found
    return types


def _parse_kql(text: str) -> tuple[str, list[str] | None, int | None, str | None]:
    """Table, plain projection and limit of a minimal KQL query; the last item is an error message or None."""
    stages = [stage.strip() for stage in _kql_stages(text)]
    first = stages[0].split()[0].lower() if stages and stages[0] else ""
    if first in _ARG_TABLES:
        table = first
        rest = stages[1:]
        if len(stages[0].split()) > 1:
            return table, None, None, f"unsupported text after the table name: {stages[0]!r}"
    elif first in ("where", "project", "limit", "take", "extend", "order", "sort", ""):
        # The 2019-04-01 examples omit the table: Resources is implied.
        table, rest = "resources", [s for s in stages if s]
    else:
        return (
            "",
            None,
            None,
            (f"the emulator serves the tables {', '.join(_ARG_TABLES)}; the query starts with {first!r}"),
        )
    projection: list[str] | None = None
    limit: int | None = None
    for stage in rest:
        words = stage.split(None, 1)
        if not words:
            continue
        operator = words[0].lower()
        argument = words[1] if len(words) > 1 else ""
        if operator == "project":
            columns = [c.strip() for c in argument.split(",") if c.strip()]
            bad = [c for c in columns if not _IDENTIFIER.match(c)]
            if bad or not columns:
                return (
                    table,
                    None,
                    None,
                    (
                        "the emulator supports only plain column names in project (project raw "
                        "columns and shape them in SQL): "
                        f"{', '.join(bad) or '(none)'}"
                    ),
                )
            projection = columns
        elif operator in ("limit", "take"):
            if not argument.strip().isdigit():
                return table, None, None, f"{operator} needs a number, got {argument!r}"
            limit = int(argument)
        # where/extend/order and the rest are accepted and ignored: rows are filtered by table and scope only.
    return table, projection, limit, None


def serve_forever(
    fleet: Fleet | Mapping[str, Any] | Path | None = None,
    *,
    port: int = DEFAULT_SERVE_PORT,
    state_dir: Path | None = None,
    latency_ms: float | tuple[float, float] | None = None,
    quotas: bool = True,
    forbidden: Sequence[str] = (),
    error_rate: float | None = None,
    out: TextIO | None = None,
    ready: Callable[[EmulatorServer], None] | None = None,
    stop_event: threading.Event | None = None,
    **behaviour: Any,
) -> dict[str, int]:
    """Serve a fleet until Ctrl-C/SIGTERM or stop_event, printing endpoint, CA and hints; returns counters.

    fleet is a Fleet, a fleet dict, a fleet file, or None for a generated default fleet (100 clusters, 10
    subscriptions, seed 1). The convenience options map onto behaviour knobs (docs/emulator.md): latency_ms,
    quotas=False (no Resource Graph quota, no AKS token bucket), forbidden (forbidden_subscriptions) and
    error_rate (server_error_rate); any other knob can be passed by name.
    """
    out = out or sys.stdout
    if fleet is None:
        from auditor.emulator.generator import generate_fleet

        loaded = as_fleet(generate_fleet(clusters=100, subscriptions=10, seed=1, regions=5, kubernetes=True))
    elif isinstance(fleet, Path):
        loaded = load_fleet(fleet)
    else:
        loaded = as_fleet(fleet)
    options = dict(behaviour)
    if latency_ms is not None:
        options["latency_ms"] = latency_ms
    if not quotas:
        options["resource_graph_quota"] = None
        options["rp_burst"] = None
    if forbidden:
        options["forbidden_subscriptions"] = list(forbidden)
    if error_rate is not None:
        options["server_error_rate"] = error_rate
    stop = stop_event or threading.Event()
    previous: Any = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = EmulatorServer(loaded, port=port, state_dir=state_dir, **options)
    try:
        server.start()
        token = server.behaviour.token or DEFAULT_TOKEN_HINT
        print(
            f"AKS emulator serving {len(loaded.clusters)} clusters "
            f"in {len(loaded.subscriptions)} subscriptions\n"
            f"  endpoint: {server.endpoint}\n"
            f"  CA file:  {server.ca_file}\n"
            f"  export AUDITOR_ACCESS_TOKEN={token}\n"
            f"  auditor scan --endpoint {server.endpoint} --ca-bundle {server.ca_file}\n"
            + (
                f"  kubeconfig: {server.kubeconfig_file} ({len(server.kubernetes.hosts)} Kubernetes API servers)\n"
                f"  auditor scan --endpoint {server.endpoint} --ca-bundle {server.ca_file} "
                f"--kubernetes --kubeconfig {server.kubeconfig_file}\n"
                if server.kubernetes.hosts
                else ""
            )
            + "Press Ctrl-C to stop.",
            file=out,
            flush=True,
        )
        if ready is not None:
            ready(server)
        try:
            while not stop.wait(0.5):
                continue
        except KeyboardInterrupt:
            stop.set()
        return server.counters()
    finally:
        server.stop()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def wait_until_listening(endpoint: str, timeout: float = 5.0) -> None:
    """Block until a TCP connection to endpoint succeeds (for scripts that start serve in a subprocess)."""
    parsed = urlsplit(endpoint)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 443), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
