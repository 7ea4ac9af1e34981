"""The report's order of the findings taken from DuckDB (report.data.report_order) is Python's sort by _sort_key,
ties in canonical order; names DuckDB might lower-case otherwise are sorted by Python."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.controls import Finding
from auditor.report.data import _sort_key, report_order
from tests.test_findings_digest_sql import PLAIN, _table


def _canonical(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or ""))


@pytest.mark.parametrize("accent", ["", "İ", "Éé"])
def test_report_order_is_pythons(accent: str) -> None:
    base = PLAIN[1]
    findings = _canonical(
        [
            replace(
                base,
                control_id=control,
                resource_id=f"/r/{n}",
                cluster=cluster,
                subscription_name=sub,
                resource_group=group,
                node_pool=pool,
                message=f"m{n}",
            )  # fmt: skip
            for n, (control, cluster, sub, group, pool) in enumerate(
                [
                    ("AKS-B", "b", "Sub", "rg", None),
                    ("AKS-A", "B", "sub", "RG", "p1"),
                    ("AKS-A", "a" + accent, "sub", "rg", None),
                    ("AKS-A", "A", "Sub", "rg", ""),
                    ("AKS-A", "a", "sub", "Rg", None),  # ties with the one above but for case: canonical order
                    ("AKS-A", "c", "", "", "p2"),
                    ("AKS-A", "c", "", "", "P2"),
                ]
            )
        ]
    )
    # The table holds them in canonical order, as evaluate() leaves it; report_order reads only the order.
    ordered = report_order(_table(findings), findings)
    assert ordered == sorted(findings, key=_sort_key)
    assert [f.message for f in ordered] == [f.message for f in sorted(findings, key=_sort_key)]
