"""What every collector shares during a scan: clients, limiter, evidence and error sinks, counters."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineResponse

from auditor.collect.clients import AzureClients
from auditor.collect.limiter import Limiter, ScanCancelled
from auditor.safetext import clean_message, has_surrogates, one_line, redact, replace_surrogates
from auditor.store import ErrorRow, EvidenceSpool


class SecretHolder(Protocol):
    """Clients that hold credentials to redact (the Kubernetes clients of a --kubernetes scan)."""

    def secrets(self) -> tuple[str, ...]: ...


T = TypeVar("T")
RETRIABLE_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Bucket:
    """Which quota a call spends: the Resource Graph user quota, or an AKS (subscription, region) bucket."""

    kind: str  # "graph" | "aks" | "arm"
    subscription_id: str = ""
    region: str = ""


GRAPH = Bucket("graph")
ARM = Bucket("arm")


class CallFailed(Exception):
    """A call that failed for good; it has already been recorded as a collection error."""

    def __init__(self, error: ErrorRow):
        super().__init__(error.message)
        self.error = error


@dataclass
class CollectContext:
    """Shared state of one scan; thread-safe."""

    clients: AzureClients
    limiter: Limiter
    evidence: EvidenceSpool = field(init=False)
    errors: list[ErrorRow] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    on_call: Callable[[str], None] | None = None
    # The Kubernetes clients when the scan reads inside clusters (--kubernetes); typed by what the context needs of
    # them, so the context does not import the collector that uses it.
    kubernetes: SecretHolder | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # The kubeconfig's credentials too (--kubernetes): an API server or proxy may echo them in an error body.
        kube_secrets = self.kubernetes.secrets() if self.kubernetes is not None else ()
        self.secrets = (*self.clients.secrets(), *kube_secrets)
        self.evidence = EvidenceSpool(secrets=self.secrets)

    def record(self, kind: str, scope: str, request: str, payload: Any) -> None:
        """Keep one item Azure returned, as received; text that no UTF-8 file can hold (a lone surrogate
        escape) is kept with U+FFFD in its place and recorded as a collection error."""
        try:
            self.evidence.add(kind, scope, request, payload)
            return
        except UnicodeEncodeError:
            pass
        payload, paths = replace_surrogates(payload)
        scope_fixed, request_fixed = (replace_surrogates(text)[0] for text in (scope, request))
        self.evidence.add(kind, scope_fixed, request_fixed, payload)
        where = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        if has_surrogates(scope) or has_surrogates(request):
            where = ", ".join(x for x in ("its identity", where) if x)
        self.fail(
            kind,
            scope_fixed,
            None,
            "MalformedText",
            f"{kind} {scope_fixed}: a string that is not valid Unicode (a lone surrogate escape) at {where}; "
            "stored with U+FFFD in its place",
        )

    def fail(self, call: str, scope: str, status: int | None, code: str | None, message: str) -> ErrorRow:
        """Record a call that failed for good: every field cleaned of secrets, controls and invalid text."""
        error = ErrorRow(
            clean_message(call, limit=200),
            clean_message(scope, self.secrets, limit=1000),
            status,
            clean_message(code, self.secrets, limit=200) if code else None,
            clean_message(message, self.secrets, limit=2000),
        )
        with self._lock:
            self.errors.append(error)
        return error

    def count_call(self, kind: str) -> None:
        """Count one call sent (collectors that do not go through `call`, e.g. the Kubernetes one)."""
        with self._lock:
            self.calls[kind] += 1
        if self.on_call is not None:
            self.on_call(kind)

    def count_retry(self, kind: str) -> None:
        """Count one retry of a call of this kind."""
        with self._lock:
            self.retries[kind] += 1

    def call(self, kind: str, scope: str, bucket: Bucket, operation: Callable[..., T]) -> T:
        """Run one read call through the limiter with bounded retries; raise CallFailed when it fails for good.

        `operation` receives `raw_response_hook` to pass to the SDK, so quota headers are seen.
        """
        settings = self.limiter.settings
        last: tuple[int | None, str | None, str] = (None, None, "no attempt made")
        for attempt in range(settings.max_attempts):
            if self.limiter.stopped:
                raise ScanCancelled()
            self._acquire(bucket)
            with self._lock:
                self.calls[kind] += 1
            if self.on_call is not None:
                self.on_call(kind)
            try:
                return operation(raw_response_hook=self._hook(bucket))
            except ClientAuthenticationError as exc:
                last = (_status(exc), "AuthenticationFailed", _describe(exc, self.secrets))
                break
            except HttpResponseError as exc:
                status = _status(exc)
                last = (status, _code(exc), _describe(exc, self.secrets))
                if status not in RETRIABLE_STATUS:
                    break
                retry_after = _retry_after(exc) if status in (429, 503) else None
                if status == 429 and bucket.kind == "aks":
                    self.limiter.block_aks(bucket.subscription_id, bucket.region, retry_after or 1.0)
            except (ServiceRequestError, ServiceResponseError) as exc:
                retry_after = None
                transport = "Timeout" if isinstance(exc, ServiceResponseError) else transport_code(exc)
                last = (None, transport, _describe(exc, self.secrets))
                if transport in FATAL_TRANSPORT_CODES:
                    break  # retrying cannot help: the certificate or the URL is wrong
                if not isinstance(exc, ServiceResponseError) and attempt + 1 >= settings.max_connect_attempts:
                    break
            except Exception as exc:  # a payload the SDK cannot read: evidence is missing, say why
                last = (None, "MalformedResponse", f"{type(exc).__name__}: {_describe(exc, self.secrets)}")
                break
            if attempt + 1 < settings.max_attempts:
                with self._lock:
                    self.retries[kind] += 1
                self.limiter.sleep(self.limiter.backoff(attempt, retry_after))
        status, code, message = last
        raise CallFailed(self.fail(kind, scope, status, code, message))

    def _acquire(self, bucket: Bucket) -> None:
        if bucket.kind == "graph":
            self.limiter.acquire_graph()
        elif bucket.kind == "aks":
            self.limiter.acquire_aks(bucket.subscription_id, bucket.region)

    def _hook(self, bucket: Bucket) -> Callable[[PipelineResponse[Any, Any]], None]:
        def hook(response: PipelineResponse[Any, Any]) -> None:
            if bucket.kind == "graph":
                headers = response.http_response.headers
                self.limiter.observe_graph_quota(
                    headers.get("x-ms-user-quota-remaining"), headers.get("x-ms-user-quota-resets-after")
                )

        return hook


# Transport failures that no retry can fix, named so the scan can say what to do about them.
FATAL_TRANSPORT_CODES = ("CertificateUntrusted", "TLSError", "NonTLSEndpoint", "HostNotFound")


def transport_code(exc: Exception) -> str:
    """What kind of connection failure this is, from azure-core's wrapping of the requests/urllib3 error."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "CertificateUntrusted"
    if "non-TLS protected" in text:
        return "NonTLSEndpoint"
    if "Failed to resolve" in text or "Name or service not known" in text or "getaddrinfo failed" in text:
        return "HostNotFound"
    if "[SSL" in text or "SSLError" in text or "TLS" in text:
        return "TLSError"
    if "Connection refused" in text:
        return "ConnectionRefused"
    return "ConnectionError"


def _status(exc: HttpResponseError) -> int | None:
    return exc.status_code if exc.status_code else None


def _code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else (exc.reason or None)


def _retry_after(exc: HttpResponseError) -> float | None:
    response = exc.response
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


_TAG = re.compile(r"<[^>]*>")


def _describe(exc: Exception, secrets: tuple[str, ...]) -> str:
    """What went wrong, in words: the ARM error message, or what a body that is not ARM JSON held.

    A body is redacted before it is shortened, so no cut can leave part of a token unrecognised; the message is
    cleaned again (secrets, controls, length) in CollectContext.fail.
    """
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None)
    if message:
        return str(message)
    response = getattr(exc, "response", None)
    if isinstance(exc, HttpResponseError) and response is not None:
        try:
            body = response.text()
        except Exception:  # an undecodable body: say so rather than fail while describing a failure
            body = ""
        content_type = (response.headers.get("Content-Type") or "no content type").split(";")[0]
        status = f"HTTP {response.status_code} {response.reason or ''}".strip()
        if not body.strip():
            return f"{status} with an empty body"
        try:
            json.loads(body)
        except ValueError:
            text = one_line(redact(_TAG.sub(" ", body), secrets), 300)
            return f"{status}; the body is not JSON ({content_type}, {len(body)} characters): {text}"
        return f"{status}; the JSON body is not an ARM error: {one_line(redact(body, secrets), 300)}"
    return str(exc).split("\nContent:", 1)[0]
