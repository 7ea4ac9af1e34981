"""A local HTTPS stand-in for the slice of ARM and Resource Graph the collectors use (read-only).

Real SDK clients talk to it unchanged: ``base_url=server.endpoint``, any static bearer token, and
``connection_verify=server.ca_file``. docs/emulator.md lists the routes, the behaviour knobs and the counters.
The server composes the transport (transport.py), the request guards (guards.py), the ARM routes
(arm_routes.py) and Resource Graph (kql.py).
"""

from __future__ import annotations

import signal
import socket
import ssl
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from auditor.emulator.arm_routes import ArmRoutes, route
from auditor.emulator.certs import CertificatePaths, ensure_certificates, generate_host_certificates
from auditor.emulator.faults import (
    CALL_KINDS,
    Behaviour,
    FaultPlan,
    TokenBucket,
    WindowQuota,
    behaviour_from_settings,
)
from auditor.emulator.fleet import Fleet, as_fleet, load_fleet
from auditor.emulator.generator import generate_fleet
from auditor.emulator.guards import GuardContext, Request, pipeline
from auditor.emulator.kql import ResourceGraph
from auditor.emulator.kubernetes import KUBECONFIG_FILE, KubernetesApi
from auditor.emulator.transport import Handler, Reply, TLSServer, listen_failure
from auditor.errors import AuditorError

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
        self._server: TLSServer | None = None
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
        # Each cluster's Kubernetes API, on this same port, told apart by TLS SNI (auditor/emulator/kubernetes.py).
        self.kubernetes = KubernetesApi(self.fleet)
        self._kube_context: ssl.SSLContext | None = None
        self._kube_certificates: CertificatePaths | None = None
        self._kubeconfig: Path | None = None
        self.routes = ArmRoutes(
            self.fleet, self.behaviour, lambda: self.endpoint, ResourceGraph(self.fleet, self.behaviour, self.count)
        )
        self._guards = pipeline(
            GuardContext(
                behaviour=self.behaviour,
                faults=self._faults,
                count=self.count,
                wait=self._stopping.wait,
                region_of=self.routes.region_of,
                graph_quota=self._arg_quota,
                rp_bucket=self._rp_bucket,
            )
        )

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
            self._server = TLSServer((self.host, self.port), context, self)
        except OSError as exc:
            if self._temp_dir is not None:
                self._temp_dir.cleanup()
                self._temp_dir = None
            raise AuditorError(listen_failure(self.host, self.port, exc)) from exc
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

    # ----------------------------------------------------------------- the transport's host

    def count(self, *names: str) -> None:
        """Add one to each named counter."""
        with self._counter_lock:
            for name in names:
                self._counters[name] += 1

    def track(self, connection: ssl.SSLSocket) -> None:
        """Remember an open connection (stop() closes it)."""
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: ssl.SSLSocket) -> None:
        """Forget a closed connection."""
        with self._connections_lock:
            self._connections.discard(connection)

    def record_error(self, text: str) -> None:
        """Keep a handler failure's traceback (handler_errors())."""
        with self._counter_lock:
            self._counters["handler_errors"] += 1
            self._errors.append(text)

    def respond(self, handler: Handler, method: str, body: bytes) -> Reply:
        """The answer to one request: a cluster's Kubernetes API (by SNI), or ARM through the guards."""
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
            return Reply(answer.status, answer.body, {})
        self.count("requests")
        request = Request(method, url.path, query, handler.headers.get("Authorization", ""), route(url.path))
        for guard in self._guards:
            refusal = guard(request)
            if refusal is not None:
                return refusal
        served = request.routed()
        reply = self.routes.actions[served.action](
            served.params, query, body if served.kind == "resource_graph" else None
        )
        reply.headers.update(request.reply_headers)
        if reply.status == 404:
            self.count("not_found")
        elif reply.status == 403:
            self.count("forbidden")
        elif reply.status == 400:
            self.count("bad_requests")
        return reply


def banner(server: EmulatorServer) -> str:
    """What `auditor emulator serve` prints once the server listens: the fleet, endpoint, CA file and the lines to
    scan it with."""
    token = server.behaviour.token or DEFAULT_TOKEN_HINT
    text = (
        f"AKS emulator serving {len(server.fleet.clusters)} clusters in {len(server.fleet.subscriptions)} "
        "subscriptions\n"
        f"  endpoint: {server.endpoint}\n"
        f"  CA file:  {server.ca_file}\n"
        f"  export AUDITOR_ACCESS_TOKEN={token}\n"
        f"  auditor scan --endpoint {server.endpoint} --ca-bundle {server.ca_file}\n"
    )
    if server.kubernetes.hosts:
        text += (
            f"  kubeconfig: {server.kubeconfig_file} ({len(server.kubernetes.hosts)} Kubernetes API servers)\n"
            f"  auditor scan --endpoint {server.endpoint} --ca-bundle {server.ca_file} "
            f"--kubernetes --kubeconfig {server.kubeconfig_file}\n"
        )
    return text + "Press Ctrl-C to stop."


def serve_forever(
    fleet: Fleet | Mapping[str, Any] | Path | None = None,
    *,
    port: int = DEFAULT_SERVE_PORT,
    state_dir: Path | None = None,
    latency_ms: float | tuple[float, float] | None = None,
    quotas: bool = True,
    forbidden: Sequence[str] = (),
    error_rate: float | None = None,
    ready: Callable[[EmulatorServer], None] | None = None,
    stop_event: threading.Event | None = None,
    **behaviour: Any,
) -> dict[str, int]:
    """Serve a fleet until Ctrl-C/SIGTERM or stop_event; returns counters. Prints nothing: `ready(server)` is
    called once it listens (the command line prints `banner(server)` there).

    fleet is a Fleet, a fleet dict, a fleet file, or None for a generated default fleet (100 clusters, 10
    subscriptions, seed 1). The convenience options map onto behaviour knobs (docs/emulator.md): latency_ms,
    quotas=False (no Resource Graph quota, no AKS token bucket), forbidden (forbidden_subscriptions) and
    error_rate (server_error_rate); any other knob can be passed by name.
    """
    if fleet is None:
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
