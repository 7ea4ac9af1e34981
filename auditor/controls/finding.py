"""A finding: one verdict of one control on one resource, and the digest over a list of them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Finding:
    """One verdict of one control on one resource."""

    control_id: str
    status: str
    severity: str
    resource_id: str
    node_pool: str | None
    message: str
    title: str = ""
    cluster: str = ""
    subscription_id: str = ""
    subscription_name: str = ""
    resource_group: str = ""
    location: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    evidence: str = ""
    remediation: str = ""
    waiver: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: Sequence[Any], load: Callable[[str], Any] = json.loads) -> Finding:
        """A finding from a query row holding its fields in field order, tags and waiver as JSON text (`load` parses
        them: a caller reading many rows may pass one that parses each distinct text once)."""
        (control_id, status, severity, resource_id, node_pool, message, title, cluster, subscription_id,
         subscription_name, resource_group, location, tags, evidence, remediation, waiver) = row  # fmt: skip
        return cls(
            control_id,
            status,
            severity,
            resource_id,
            node_pool,
            message,
            title,
            cluster,
            subscription_id,
            subscription_name,
            resource_group,
            location,
            load(tags),
            evidence,
            remediation,
            load(waiver) if waiver is not None else None,
        )


def findings_digest(findings: Iterable[Finding]) -> str:
    """SHA-256 over the findings in a canonical order and form."""
    ordered = sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or ""))
    text = json.dumps([f.as_dict() for f in ordered], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
