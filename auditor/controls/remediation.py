"""Remediation commands: a control's `az` template filled with one resource's values, safe to copy."""

from __future__ import annotations

import re
import shlex

# A pool the evidence names only by its place in agentPoolProfiles (queries/model/20_node_pools.sql): no name to use.
_UNNAMED_POOL = re.compile(r"^agentPoolProfiles\[\d+\]$")
_MISSING_VALUE = {
    "resource_group": "the evidence names no resource group",
    "cluster": "the evidence names no cluster",
    "pool": "the pool has no name in the evidence",
    "target": "the evidence gives no target to name",
}


def fill(template: str, values: dict[str, str | None]) -> str:
    """The template with the resource's values. Names are untrusted: each is shell-quoted, so a copied command
    cannot run anything else. A value the evidence lacks is never replaced by a placeholder: its option (with
    anything glued to the value, as in `-n {pool}2`) is left out and a trailing shell comment says which and why."""
    values = dict(values)
    pool = values.get("pool")
    if pool is not None and _UNNAMED_POOL.match(pool):
        values["pool"] = None
    command = template
    omitted: list[str] = []
    for name, value in values.items():
        if value or "{" + name + "}" not in command:
            continue
        flag = re.search(r"(\s+(--?[A-Za-z][\w-]*))?\s+\{" + name + r"\}[^\s{}]*", command)
        if flag:
            command = command[: flag.start()] + command[flag.end() :]
            omitted.append(f"{flag.group(2) or name} omitted: {_MISSING_VALUE[name]}")
    filled = command.format(**{k: shlex.quote(v) for k, v in values.items() if v})
    return filled + (f"  # {'; '.join(omitted)}" if omitted else "")
