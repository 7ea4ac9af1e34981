"""Remediation commands: a control's `az` template filled with one resource's values, safe to copy.

`fill` is the definition. Evaluation fills the commands of every failing finding in SQL
(queries/evaluate/finish.sql): `compile_template` turns a template into what `fill` makes of it for each
combination of missing values, as literal text around the values to insert, and SQL joins the pieces with each
value quoted by the `shell_quote` macro (queries/evaluate/setup.sql, the same rule as `shlex.quote`).
"""

from __future__ import annotations

import re
import shlex
from functools import cache

FIELDS = ("resource_group", "cluster", "pool", "target")
# A pool the evidence names only by its place in agentPoolProfiles (queries/model/20_node_pools.sql): no name to use.
# ASCII digits and a full match, as the SQL side (queries/evaluate/finish.sql) reads it.
_UNNAMED_POOL = re.compile(r"agentPoolProfiles\[[0-9]+\]")
_MISSING_VALUE = {
    "resource_group": "the evidence names no resource group",
    "cluster": "the evidence names no cluster",
    "pool": "the pool has no name in the evidence",
    "target": "the evidence gives no target to name",
}
# Stand-ins for the values while a template is compiled: word characters only, so shlex.quote leaves them as they are.
_SLOT = "AUDITORSLOT{}X"
_SLOTS = re.compile(r"AUDITORSLOT([0-9])X")
# The values queries/evaluate/finish.sql inserts into one command, at most.
MAX_VALUES = 6


def fill(template: str, values: dict[str, str | None]) -> str:
    """The template with the resource's values. Names are untrusted: each is shell-quoted, so a copied command
    cannot run anything else. A value the evidence lacks is never replaced by a placeholder: its option (with
    anything glued to the value, as in `-n {pool}2`) is left out and a trailing shell comment says which and why."""
    values = dict(values)
    pool = values.get("pool")
    if pool is not None and _UNNAMED_POOL.fullmatch(pool):
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


@cache
def compile_template(template: str) -> tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]:
    """What `fill` makes of the template for each set of missing values: (mask, literals, fields) where bit i of
    mask set means FIELDS[i] is missing, and the command is literals[0], the first field's value quoted,
    literals[1], ... (one literal more than fields)."""
    if _SLOTS.search(template):
        raise ValueError(f"remediation template holds the compiler's stand-in text: {template!r}")
    compiled = []
    for mask in range(1 << len(FIELDS)):
        stand_ins: dict[str, str | None] = {
            name: None if mask & (1 << index) else _SLOT.format(index) for index, name in enumerate(FIELDS)
        }
        pieces = _SLOTS.split(fill(template, stand_ins))
        if len(pieces) // 2 > MAX_VALUES:
            raise ValueError(f"remediation template inserts more than {MAX_VALUES} values: {template!r}")
        compiled.append((mask, tuple(pieces[0::2]), tuple(FIELDS[int(index)] for index in pieces[1::2])))
    return tuple(compiled)
