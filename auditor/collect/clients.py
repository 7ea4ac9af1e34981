"""Credentials and Azure SDK clients for one scan, built once and passed in."""

from __future__ import annotations

import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential

from auditor.errors import CollectionError, CredentialError, InputError

CLOUDS: dict[str, str] = {
    "AzureCloud": "https://management.azure.com",
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
}
TOKEN_ENV = "AUDITOR_ACCESS_TOKEN"  # noqa: S105 (the variable's name, not a secret)


class StaticTokenCredential(TokenCredential):
    """A bearer token given from outside (pipelines, proxies, the emulator)."""

    def __init__(self, token: str, source: str = TOKEN_ENV) -> None:
        check_token(token, source)
        self._token = token

    @property
    def secret(self) -> str:
        """The token itself, for redaction only: never print or store it."""
        return self._token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:  # never print the token
        return "StaticTokenCredential(<redacted>)"


def check_token(token: str, source: str = TOKEN_ENV) -> None:
    """Refuse a token that cannot be a bearer token: an embedded line break or control character would split
    the Authorization header (and land the token in an error line), a non-ASCII one cannot be sent at all.
    The message says where and what, never the token."""
    for position, char in enumerate(token, start=1):
        code = ord(char)
        if code < 0x21 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029):
            what = "a space" if char == " " else f"a control character (U+{code:04X})"
            raise CredentialError(
                f"{source} holds {what} at position {position} of {len(token)}: a bearer token is one line of "
                "printable ASCII; refusing to send it (check how the variable was set: a trailing CR from a "
                "Windows file is the usual cause)"
            )
        if code > 0x7E:
            raise CredentialError(
                f"{source} holds a non-ASCII character (U+{code:04X}) at position {position} of {len(token)}: "
                "a bearer token is printable ASCII; refusing to send it"
            )


def check_endpoint(endpoint: str) -> str:
    """An --endpoint as a base URL; a plain-HTTP or malformed one is an InputError (exit 2) saying which."""
    parsed = urlsplit(endpoint.strip())
    if parsed.scheme.lower() == "http":
        raise InputError(
            f"--endpoint {endpoint} is plain HTTP: the bearer token is only ever sent over HTTPS "
            "(azure-core refuses it); use https://"
        )
    if parsed.scheme.lower() != "https" or not parsed.hostname:
        raise InputError(f"--endpoint {endpoint!r} is not an HTTPS URL: give it as https://host[:port]")
    try:
        parsed.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise InputError(f"--endpoint {endpoint!r} has an invalid port") from None
    if parsed.query or parsed.fragment:
        raise InputError(f"--endpoint {endpoint!r} must not carry a query or a fragment")
    return endpoint.strip()


def check_ca_bundle(path: str) -> None:
    """A --ca-bundle must hold at least one PEM certificate; otherwise every call would fail with a TLS error."""
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError) as exc:
        raise InputError(f"--ca-bundle {path} holds no usable PEM CA certificate ({exc.__class__.__name__})") from None


def credential_message(message: str) -> str:
    """One line for a credential that yields no token: how to sign in, not the SDK's pages of attempts."""
    if "DefaultAzureCredential failed to retrieve a token" in message or "unavailable" in message.lower():
        return (
            "no Azure credential: sign in with `az login`, run with a managed identity or workload identity "
            "(AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE), a service principal "
            "(AZURE_CLIENT_SECRET), or set AUDITOR_ACCESS_TOKEN to a bearer token"
        )
    first = message.strip().splitlines()[0] if message.strip() else "no detail"
    return f"Azure sign-in failed: {first[:300]}"


def credential_from_environment() -> TokenCredential:
    """AUDITOR_ACCESS_TOKEN when set, DefaultAzureCredential otherwise."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return StaticTokenCredential(token)
    # Deferred for import cost: the Azure SDK loads only when this runs.
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


@dataclass
class AzureClients:
    """The SDK clients a scan uses, all pointed at one ARM endpoint."""

    credential: TokenCredential
    cloud: str = "AzureCloud"
    endpoint: str | None = None
    ca_bundle: str | None = None
    read_timeout: float = 30.0
    max_connections: int = 16  # kept-alive connections; match the scan's concurrency so none is thrown away
    _transport: Any = field(default=None, repr=False)
    _container_clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _fleet_clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.endpoint is not None:
            self.endpoint = check_endpoint(self.endpoint)
        if self.ca_bundle is not None:
            check_ca_bundle(self.ca_bundle)

    def secrets(self) -> tuple[str, ...]:
        """Literal secrets of this scan's credential, to redact from anything stored or printed."""
        secret = getattr(self.credential, "secret", None)
        return (secret,) if isinstance(secret, str) and secret else ()

    @property
    def base_url(self) -> str:
        return (self.endpoint or CLOUDS[self.cloud]).rstrip("/")

    def check_credential(self) -> None:
        """Ask the credential for a token before any call, so a missing login is one clear line, not an error per
        call (the token is not kept: the SDK clients ask again and the credential caches it)."""
        # Deferred for import cost: the Azure SDK loads only when this runs.
        from azure.core.exceptions import ClientAuthenticationError

        try:
            self.credential.get_token(f"{CLOUDS[self.cloud]}/.default")
        except ClientAuthenticationError as exc:
            raise CollectionError(credential_message(str(exc.message or exc))) from None

    def _kwargs(self) -> dict[str, Any]:
        arm = CLOUDS[self.cloud]
        kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "credential_scopes": [f"{arm}/.default"],
            # Retries, backoff and throttling belong to the scan's shared limiter, not to each client.
            "retry_total": 0,
            "connection_timeout": 10,
            "read_timeout": self.read_timeout,
        }
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        kwargs["transport"] = self._shared_transport()
        return kwargs

    def _shared_transport(self) -> Any:
        # One connection pool for every client: requests' default keeps 10 connections per host, so with more
        # calls in flight each extra one would pay a new TLS handshake.
        with self._lock:
            if self._transport is None:
                # Deferred for import cost: the Azure SDK's transport loads only when this runs.
                import requests
                from azure.core.pipeline.transport import RequestsTransport

                session = requests.Session()
                adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=self.max_connections)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                # The transport owns the TLS and timeout settings: clients' own keywords do not reach it.
                settings: dict[str, Any] = {"connection_timeout": 10, "read_timeout": self.read_timeout}
                if self.ca_bundle:
                    settings["connection_verify"] = self.ca_bundle
                self._transport = RequestsTransport(session=session, session_owner=False, **settings)
            return self._transport

    def subscriptions(self) -> Any:
        # Deferred for import cost: the Azure SDK loads only when this runs.
        from azure.mgmt.subscription import SubscriptionClient

        return SubscriptionClient(self.credential, **self._kwargs())

    def arm(self) -> Any:
        """An ARM pipeline for the reads no installed SDK has a method for (permissions, management-group
        descendants): the public `send_request` of a container-service client, with a path relative to the
        endpoint, through the same credential, TLS settings and connection pool as every other call. (Its
        subscription binding is unused: send_request sends the path as given.)"""
        return self.container_service("00000000-0000-0000-0000-000000000000")

    def resource_graph(self) -> Any:
        # Deferred for import cost: the Azure SDK loads only when this runs.
        from azure.mgmt.resourcegraph import ResourceGraphClient

        return ResourceGraphClient(self.credential, **self._kwargs())

    def container_service(self, subscription_id: str) -> Any:
        """One client per subscription (the SDK binds the subscription into every URL)."""
        with self._lock:
            client = self._container_clients.get(subscription_id)
        if client is None:
            # Deferred for import cost: the Azure SDK loads only when this runs.
            from azure.mgmt.containerservice import ContainerServiceClient

            client = ContainerServiceClient(self.credential, subscription_id, **self._kwargs())
            with self._lock:
                client = self._container_clients.setdefault(subscription_id, client)
        return client

    def fleet(self, subscription_id: str) -> Any:
        """Azure Kubernetes Fleet Manager client of one subscription (one per subscription, like AKS's)."""
        with self._lock:
            client = self._fleet_clients.get(subscription_id)
        if client is None:
            # Deferred for import cost: the Azure SDK loads only when this runs.
            from azure.mgmt.containerservicefleet import ContainerServiceFleetMgmtClient

            client = ContainerServiceFleetMgmtClient(self.credential, subscription_id, **self._kwargs())
            with self._lock:
                client = self._fleet_clients.setdefault(subscription_id, client)
        return client
