"""Resource Graph for the emulator: a minimal KQL reader (table, `where type`, project, limit), scope by
subscription or management group, paging by $top/$skip/$skipToken, and the objectArray/table formats."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from auditor.emulator.faults import Behaviour
from auditor.emulator.fleet import Fleet, resource_group_of
from auditor.emulator.fleet_manager import graph_row
from auditor.emulator.transport import Reply, arm_error, arm_forbidden, ok

ARG_TABLES = ("resources", "resourcechanges", "containerserviceeventresources", "aksresources")
ARG_CLUSTER_COLUMNS = (
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
TOP_MAX = 1000


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def column_type(values: list[Any]) -> str:
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


def row_subscription(row: dict[str, Any]) -> str:
    sid = row.get("subscriptionId")
    if isinstance(sid, str) and sid:
        return sid.lower()
    parts = str(row.get("id", "")).split("/")
    return parts[2].lower() if len(parts) > 2 else ""


def row_columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def kql_stages(text: str) -> list[str]:
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


def kql_types(text: str) -> set[str] | None:
    """The resource types a `where type =~ 'x'` / `where type in~ ('x', 'y')` stage keeps (lower case); None when
    the query has no such stage. Other `where` stages are not evaluated."""
    types: set[str] | None = None
    for stage in (s.strip() for s in kql_stages(text)):
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


def parse_kql(text: str) -> tuple[str, list[str] | None, int | None, str | None]:
    """Table, plain projection and limit of a minimal KQL query; the last item is an error message or None."""
    stages = [stage.strip() for stage in kql_stages(text)]
    first = stages[0].split()[0].lower() if stages and stages[0] else ""
    if first in ARG_TABLES:
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
            (f"the emulator serves the tables {', '.join(ARG_TABLES)}; the query starts with {first!r}"),
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


class ResourceGraph:
    """The Resource Graph tables of a fleet, and the query endpoint over them."""

    def __init__(self, fleet: Fleet, behaviour: Behaviour, count: Callable[..., None]) -> None:
        self.fleet = fleet
        self.behaviour = behaviour
        self._count = count
        self._rows_by_table = self._rows()

    def _rows(self) -> dict[str, list[dict[str, Any]]]:
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

    def _scope(self, request: dict[str, Any]) -> tuple[set[str] | None, Reply | None]:
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
            return None, arm_forbidden(scope, "Microsoft.ResourceGraph/resources/read")
        return allowed, None

    def query(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            return arm_error(400, "BadRequest", f"The request body is not valid JSON: {exc.msg}")
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return arm_error(400, "BadRequest", "The request body must be an object with a 'query' string.")
        text: str = request["query"]
        table, projection, limit, problem = parse_kql(text)
        if problem:
            return arm_error(400, "InvalidQuery", problem)
        options = request.get("options") or {}
        top = options.get("$top", TOP_MAX)
        skip = options.get("$skip", 0)
        if not isinstance(top, int) or not 1 <= top <= TOP_MAX:
            return arm_error(400, "BadRequest", f"$top must be an integer between 1 and {TOP_MAX}.")
        if not isinstance(skip, int) or skip < 0:
            return arm_error(400, "BadRequest", "$skip must be a non-negative integer.")
        result_format = str(options.get("resultFormat", "objectArray"))
        if result_format not in ("objectArray", "table"):
            return arm_error(400, "BadRequest", "resultFormat must be 'objectArray' or 'table'.")
        allowed, denial = self._scope(request)
        if denial is not None or allowed is None:
            return denial or arm_error(403, "AuthorizationFailed", "no subscriptions in scope")
        types = kql_types(text)
        lagging = self.behaviour.graph_lag_clusters
        rows = [
            r
            for r in self._rows_by_table[table]
            if row_subscription(r) in allowed
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
            decoded = decode_token(str(options["$skipToken"]))
            if decoded is None or decoded.get("q") != fingerprint or not isinstance(decoded.get("o"), int):
                return arm_error(400, "InvalidSkipToken", "The $skipToken does not belong to this query.")
            offset = decoded["o"]
        page = rows[offset : offset + top]
        has_more = offset + top < len(rows)
        truncated = has_more and self.behaviour.truncate_results
        columns = projection or (list(ARG_CLUSTER_COLUMNS) if table == "resources" else row_columns(rows))
        shaped = [row if id(row) in verbatim else {column: row.get(column) for column in columns} for row in page]
        data: Any
        if result_format == "table":
            cells = [[r.get(column) if isinstance(r, dict) else None for column in columns] for r in shaped]
            data = {
                "columns": [
                    {"name": column, "type": column_type([row[i] for row in cells])} for i, column in enumerate(columns)
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
            response["$skipToken"] = encode_token({"q": fingerprint, "o": offset + top})
        return ok(response)
