"""The emulator's request pipeline: small guards run in order before an ARM route answers.

Each guard looks at a Request and either answers it (a 401, 405, 404, 400, 429, 403, 504 or injected 5xx, as
Azure writes them) or lets it through (None); each counts what it refused. The order is Azure's: authentication,
the read-only method check, the route, the api-version, then latency, throttling, authorization and faults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from auditor.emulator.arm_routes import Route
from auditor.emulator.faults import Behaviour, FaultPlan, TokenBucket, WindowQuota, format_hms
from auditor.emulator.transport import Reply, arm_error, arm_forbidden


@dataclass
class Request:
    """An ARM request on its way through the guards; guards fill in the token and the reply headers."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str
    route: Route | None
    token: str = ""
    reply_headers: dict[str, str] = field(default_factory=dict)  # added to the route's reply (quota headers)

    def routed(self) -> Route:
        """The route (the known_route guard has refused every request without one)."""
        if self.route is None:
            raise RuntimeError(f"no route for {self.path}: the known_route guard must run first")
        return self.route


Guard = Callable[[Request], Reply | None]


@dataclass(frozen=True)
class GuardContext:
    """What the guards read and count: the behaviour knobs, the fault schedule, the quotas and the server."""

    behaviour: Behaviour
    faults: FaultPlan
    count: Callable[..., None]
    wait: Callable[[float], bool]  # sleeps, cut short when the server stops
    region_of: Callable[[Route], str]
    graph_quota: WindowQuota | None
    rp_bucket: TokenBucket | None


def pipeline(ctx: GuardContext) -> list[Guard]:
    """The guards in the order Azure applies them."""
    return [
        bearer_token(ctx),
        read_only(ctx),
        known_route(ctx),
        api_version(ctx),
        latency(ctx),
        throttle_storm(ctx),
        resource_graph_quota(ctx),
        rp_token_bucket(ctx),
        forbidden_subscription(ctx),
        timeout(ctx),
        injected_server_error(ctx),
    ]


def bearer_token(ctx: GuardContext) -> Guard:
    """401 without a bearer token (or with another token than the one the behaviour requires)."""

    def guard(request: Request) -> Reply | None:
        scheme, _, token = request.authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and (ctx.behaviour.token is None or token == ctx.behaviour.token):
            request.token = token
            return None
        ctx.count("unauthorized")
        return arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
            {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common",'
                ' error="invalid_token", error_description="The authentication failed."'
            },
        )

    return guard


def read_only(ctx: GuardContext) -> Guard:
    """405 for every write: only GET/HEAD and the Resource Graph query POST are served."""

    def guard(request: Request) -> Reply | None:
        route = request.route
        is_query = request.method == "POST" and route is not None and route.kind == "resource_graph"
        if request.method in ("GET", "HEAD") or is_query:
            return None
        ctx.count("writes_refused")
        return arm_error(
            405,
            "MethodNotAllowed",
            f"emulator is read-only: {request.method} {request.path} refused "
            "(only GET and the Resource Graph query POST are served)",
        )

    return guard


def known_route(ctx: GuardContext) -> Guard:
    """ARM's 404 for a path the emulator does not serve; counts the call kind of one it does."""

    def guard(request: Request) -> Reply | None:
        if request.route is None:
            ctx.count("unknown", "not_found")
            return arm_error(404, "ResourceNotFound", f"The emulator serves no resource at '{request.path}'.")
        ctx.count(request.route.kind)
        return None

    return guard


def api_version(ctx: GuardContext) -> Guard:
    """400 without ?api-version=, as ARM answers."""

    def guard(request: Request) -> Reply | None:
        if "api-version" in request.query:
            return None
        ctx.count("bad_requests")
        return arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )

    return guard


def latency(ctx: GuardContext) -> Guard:
    """The configured network latency (never answers)."""

    def guard(request: Request) -> Reply | None:
        seconds = ctx.faults.latency_seconds()
        if seconds:
            ctx.wait(seconds)
        return None

    return guard


def throttle_storm(ctx: GuardContext) -> Guard:
    """429 with Retry-After during a throttle storm."""

    def guard(request: Request) -> Reply | None:
        if not ctx.faults.in_storm(request.routed().kind):
            return None
        ctx.count("throttled", "throttled_storm")
        return arm_error(
            429,
            "TooManyRequests",
            "The request is being throttled (emulator 429 storm).",
            {"Retry-After": str(ctx.behaviour.storm_retry_after)},
        )

    return guard


def resource_graph_quota(ctx: GuardContext) -> Guard:
    """Resource Graph's per-user window quota: quota headers on every answer, 429 when spent."""

    def guard(request: Request) -> Reply | None:
        if request.routed().kind != "resource_graph" or ctx.graph_quota is None:
            return None
        decision = ctx.graph_quota.take(hashlib.sha256(request.token.encode()).hexdigest())
        request.reply_headers = {
            "x-ms-user-quota-remaining": str(decision.remaining),
            "x-ms-user-quota-resets-after": format_hms(decision.resets_after),
        }
        if decision.allowed:
            return None
        ctx.count("throttled", "throttled_resource_graph")
        return arm_error(
            429,
            "RateLimiting",
            f"Rate limit exceeded: {ctx.behaviour.resource_graph_quota} queries per "
            f"{ctx.behaviour.resource_graph_window_seconds:g} s per user; retry after "
            f"{decision.retry_after} s.",
            {**request.reply_headers, "Retry-After": str(decision.retry_after)},
        )

    return guard


def rp_token_bucket(ctx: GuardContext) -> Guard:
    """The AKS resource provider's token bucket per subscription and region: 429 with Retry-After when empty."""

    def guard(request: Request) -> Reply | None:
        route = request.routed()
        if route.kind in ("subscriptions", "management_groups", "resource_graph") or ctx.rp_bucket is None:
            return None
        key = (route.params["sid"].lower(), ctx.region_of(route))
        decision = ctx.rp_bucket.take(key)
        if decision.allowed:
            return None
        ctx.count("throttled", "throttled_rp")
        return arm_error(
            429,
            "TooManyRequests",
            f"Too many requests for subscription '{key[0]}' in region '{key[1] or 'global'}'; "
            f"retry after {decision.retry_after} s.",
            {"Retry-After": str(decision.retry_after)},
        )

    return guard


def forbidden_subscription(ctx: GuardContext) -> Guard:
    """403 in a forbidden or hidden subscription (a forbidden one still answers its permissions call)."""

    def guard(request: Request) -> Reply | None:
        route = request.routed()
        if route.kind in ("subscriptions", "resource_graph", "management_groups"):
            return None
        sid = route.params["sid"].lower()
        denied = sid in ctx.behaviour.hidden_subscriptions or (
            sid in ctx.behaviour.forbidden_subscriptions and route.kind != "permissions"
        )
        if not denied:
            return None
        ctx.count("forbidden")
        action = {
            "permissions": "Microsoft.Authorization/permissions/read",
            "fleets": "Microsoft.ContainerService/fleets/read",
        }.get(route.kind, "Microsoft.ContainerService/managedClusters/read")
        return arm_forbidden(f"/subscriptions/{sid}", action)

    return guard


def timeout(ctx: GuardContext) -> Guard:
    """A scheduled timeout: hang past the client's read timeout (stop() cuts the wait short), then 504."""

    def guard(request: Request) -> Reply | None:
        if not ctx.faults.times_out(request.routed().kind):
            return None
        ctx.count("timeouts")
        ctx.wait(ctx.behaviour.timeout_seconds)
        return arm_error(504, "GatewayTimeout", "The gateway did not receive a response within the specified time.")

    return guard


def injected_server_error(ctx: GuardContext) -> Guard:
    """A scheduled 500 or 503 (with Retry-After)."""

    def guard(request: Request) -> Reply | None:
        injected = ctx.faults.server_error(request.routed().kind)
        if injected is None:
            return None
        ctx.count("server_errors")
        if injected == 503:
            return arm_error(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable (emulator fault).",
                {"Retry-After": "1"},
            )
        return arm_error(500, "InternalServerError", "An internal server error occurred (emulator fault).")

    return guard
