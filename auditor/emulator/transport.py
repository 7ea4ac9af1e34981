"""The emulator's HTTPS transport: a threading TLS server, its request handler, and the reply helpers.

The transport knows nothing of ARM: a Host (the EmulatorServer) answers each request and keeps the counters.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl
import sys
import traceback
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from auditor.emulator.faults import Behaviour


@dataclass
class Reply:
    """A response about to be written."""

    status: int
    body: Any
    headers: dict[str, str]


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def ok(body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(200, body, headers or {})


def arm_forbidden(scope: str, action: str) -> Reply:
    """ARM's 403 for a principal without the action at the scope."""
    return arm_error(
        403,
        "AuthorizationFailed",
        "The client 'emulator-client' with object id '00000000-0000-0000-0000-000000000000' does not "
        f"have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. "
        "If access was recently granted, please refresh your credentials.",
    )


class Host(Protocol):
    """What the transport needs from the server it carries: an answer per request, counters, connections."""

    behaviour: Behaviour

    def respond(self, handler: Handler, method: str, body: bytes) -> Reply: ...

    def count(self, *names: str) -> None: ...

    def track(self, connection: ssl.SSLSocket) -> None: ...

    def untrack(self, connection: ssl.SSLSocket) -> None: ...

    def record_error(self, text: str) -> None: ...


class TLSServer(ThreadingHTTPServer):
    """ThreadingHTTPServer setting TCP_NODELAY on every accepted socket, with TLS in the worker thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst of concurrent clients then loses SYNs and waits out
    # the kernel's 1 s retransmit. Azure's front doors take any burst a client can make.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, host: Host) -> None:
        self.ssl_context = context
        self.host = host
        super().__init__(address, Handler)

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
            self.host.count("tls_failures")
            return
        self.host.count("connections")
        self.host.track(tls)
        try:
            Handler(tls, client_address, self)
        finally:
            self.host.untrack(tls)
            try:
                tls.close()
            except OSError:
                self.host.count("client_disconnects")

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Request handling errors are answered as 500 in _serve; what reaches here failed
        # outside it (reading the request line, a reset connection): a disconnect is counted, anything
        # else is kept with its traceback in handler_errors().
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            self.host.count("client_disconnects")
        else:
            self.host.record_error(traceback.format_exc())


class Handler(BaseHTTPRequestHandler):
    """Hands every request to the EmulatorServer; HTTP/1.1 keep-alive with Content-Length on every reply."""

    protocol_version = "HTTP/1.1"
    server_version = "aks-upgrade-auditor-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections close after this many seconds
    wbufsize = 64 * 1024  # headers and a small body leave in one write
    server: TLSServer

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        _serve(self.server.host, self, "GET")

    def do_HEAD(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "HEAD")

    def do_POST(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "DELETE")

    def do_OPTIONS(self) -> None:  # noqa: N802
        _serve(self.server.host, self, "OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        # Access logs are replaced by counters(); errors are answered as ARM error bodies and counted.
        return


def _serve(host: Host, handler: Handler, method: str) -> None:
    """Read one request, let the host answer it, write the reply (a failure is a 500, counted, never silent)."""
    try:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        reply = host.respond(handler, method, body)
        payload = json.dumps(reply.body, separators=(",", ":")).encode("utf-8")
    except (ConnectionError, ssl.SSLError, TimeoutError):
        host.count("client_disconnects")
        handler.close_connection = True
        return
    except Exception as exc:  # answered as an ARM 500 and kept in handler_errors(); never silent
        host.record_error(traceback.format_exc())
        reply = arm_error(500, "InternalServerError", f"emulator handler failed: {type(exc).__name__}: {exc}")
        payload = json.dumps(reply.body).encode("utf-8")
    if reply.status >= 400 and host.behaviour.error_body != "arm":
        payload = _hostile_error(host.behaviour.error_body, handler, reply)
    _write(host, handler, method, reply, payload)


def _hostile_error(style: str, handler: Handler, reply: Reply) -> bytes:
    """An error body as a gateway or proxy writes it (Behaviour.error_body); sets its Content-Type."""
    phrase = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else "Error"
    # Sorted by name, so a short excerpt of the echo still holds the Authorization header.
    echoed = sorted(f"{name}: {value}" for name, value in handler.headers.items())
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


def _write(host: Host, handler: Handler, method: str, reply: Reply, payload: bytes) -> None:
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
        host.count("client_disconnects")
        handler.close_connection = True


def listen_failure(host: str, port: int, exc: OSError) -> str:
    """One line for a port the emulator cannot listen on."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is already in use (another emulator?); "
            "choose another with --port, or --port 0 for any free port"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need privileges); choose --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
