"""AKS-ORD-01's rules one by one: each is a named row of its SQL (the `rules` list and a `rule_<name>` CTE), and for
each there is evidence that breaks it and no other, so that rule alone fires (the evidence names every broken rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.controls import Finding
from tests.evidence import cluster, pool
from tests.test_history import (
    NEW_IMAGE,
    OLD_IMAGE,
    at,
    change,
    change_row,
    control_plane_rows,
    findings_of,
    in_order_rows,
    pool_rows,
    store_history_scan,
    two_pools,
)

ROOT = Path(__file__).resolve().parent.parent
ORD_SQL = (ROOT / "queries" / "controls" / "AKS-ORD-01.sql").read_text(encoding="utf-8")
RULES_LIST = re.search(r"^WITH rules \(rule_number, rule, keeps\) AS \(\s*VALUES(.*?)^\),", ORD_SQL, re.S | re.M)
assert RULES_LIST, "AKS-ORD-01 lists its rules in a `rules` VALUES list"
RULES = re.findall(r"\(\d+, '([a-z_]+)', '", RULES_LIST.group(1))

History = Callable[[dict[str, Any]], list[dict[str, Any]]]

# Per rule: the cluster (keyword arguments of tests.evidence.cluster) and upgrade history that break it alone.
# Pool index 0 is the System pool 'system', index 1 the User pool 'apps'; the upgrade is 1.32.5 -> 1.33.2.
BREAKS: dict[str, tuple[dict[str, Any], History]] = {
    # The System pool reached 1.33.2 at minute 5, the control plane only at 12.
    "control_plane_first": (
        two_pools(channel="none"),
        lambda b: [
            *pool_rows(b, 0, at(0), at(5), "1.32.5", "1.33.2"),
            *control_plane_rows(b, at(1), at(12), "1.32.5", "1.33.2"),
            *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2"),
        ],
    ),
    # The control plane first, then the User pool, then the System pool.
    "system_pools_first": (
        two_pools(channel="none"),
        lambda b: [
            *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
            *pool_rows(b, 1, at(14), at(30), "1.32.5", "1.33.2"),
            *pool_rows(b, 0, at(31), at(50), "1.32.5", "1.33.2"),
        ],
    ),
    # The control plane's upgrade failed (it still runs 1.32.5), yet the System pool went to 1.33.2.
    "control_plane_failed_first": (
        {
            "channel": "none",
            "version": "1.32.5",
            "pools": [pool("system", version="1.33.2"), pool("apps", mode="User", version="1.32.5")],
        },
        lambda b: [
            change_row(b, at(0), {"properties.provisioningState": change("Succeeded", "Upgrading")}),
            change_row(b, at(10), {"properties.provisioningState": change("Upgrading", "Failed")}),
            *pool_rows(b, 0, at(20), at(30), "1.32.5", "1.33.2"),
        ],
    ),
    # The System pool's upgrade failed (it still runs 1.32.5), yet the User pool went to 1.33.2.
    "system_pool_failed_first": (
        {
            "channel": "none",
            "version": "1.33.2",
            "pools": [
                pool("system", version="1.32.5", image=OLD_IMAGE, provisioning_state="Failed"),
                pool("apps", mode="User", version="1.33.2", image=NEW_IMAGE),
            ],
        },
        lambda b: [
            *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
            *pool_rows(b, 0, at(15), at(30), "1.32.5", "1.33.2", fail=True),
            *pool_rows(b, 1, at(40), at(60), "1.32.5", "1.33.2"),
        ],
    ),
    # The User pool moved with the control plane; the System pool followed four days later, in a campaign of its own.
    "predecessor_in_later_campaign": (
        two_pools(channel="none"),
        lambda b: [
            *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
            *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2", image=None),
            *pool_rows(b, 0, at(4 * 1440), at(4 * 1440 + 20), "1.32.5", "1.33.2", image=None),
        ],
    ),
    # The control plane and the User pool moved; the System pool still runs 1.32.5 in this scan.
    "system_pool_left_behind": (
        {
            "channel": "none",
            "version": "1.33.2",
            "pools": [pool("system", version="1.32.5"), pool("apps", mode="User")],
        },
        lambda b: [
            *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
            *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2"),
        ],
    ),
}

# Two rules broken at once: the User pool ahead of the control plane while the System pool never moved.
TWO_BROKEN: tuple[dict[str, Any], History] = (
    {
        "channel": "none",
        "version": "1.33.2",
        "pools": [pool("system", version="1.32.5"), pool("apps", mode="User")],
    },
    lambda b: [
        *pool_rows(b, 1, at(0), at(5), "1.32.5", "1.33.2"),
        *control_plane_rows(b, at(1), at(12), "1.32.5", "1.33.2"),
    ],
)


def _name(rule: str) -> str:
    return rule.replace("_", "-")


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finding]:
    """AKS-ORD-01 over one scan: a cluster per rule that breaks it, one in order, one breaking two rules."""
    fleet: list[tuple[str, dict[str, Any], History]] = [
        (_name(rule), kwargs, history) for rule, (kwargs, history) in BREAKS.items()
    ]
    fleet.append(("in-order", two_pools(channel="none"), in_order_rows))
    fleet.append(("two-broken", *TWO_BROKEN))
    bodies = [cluster(name, **kwargs) for name, kwargs, _ in fleet]
    rows = [row for body, (_, _, history) in zip(bodies, fleet, strict=True) for row in history(body)]
    db = tmp_path_factory.mktemp("ord01") / "scan.duckdb"
    scan_id = store_history_scan(db, bodies, rows)
    return findings_of(db, scan_id, "AKS-ORD-01")


def test_the_rules_are_the_named_rows_of_the_sql() -> None:
    """Six rules, in the order docs/controls.md lists them; each is a `rule_<name>` CTE that feeds the verdict."""
    assert RULES == [
        "control_plane_first",
        "system_pools_first",
        "control_plane_failed_first",
        "system_pool_failed_first",
        "predecessor_in_later_campaign",
        "system_pool_left_behind",
    ]
    ctes = set(re.findall(r"^rule_([a-z_]+) AS \(", ORD_SQL, flags=re.MULTILINE)) - {"results"}
    assert ctes == set(RULES)
    for rule in RULES:
        assert f"SELECT * FROM rule_{rule}" in ORD_SQL, f"rule_{rule} is not part of the verdict"
    assert set(BREAKS) == set(RULES), "every rule has evidence that breaks it alone"


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_fires_alone(findings: dict[str, Finding], rule: str) -> None:
    finding = findings[_name(rule)]
    assert finding.status == "fail", f"{finding.message} [{finding.evidence}]"
    assert finding.evidence.endswith(f"; rule broken: {rule}"), finding.evidence


def test_a_campaign_in_order_breaks_no_rule(findings: dict[str, Finding]) -> None:
    finding = findings["in-order"]
    assert finding.status == "pass", finding.message
    assert "broken" not in finding.evidence


def test_every_broken_rule_is_named_in_the_rules_order(findings: dict[str, Finding]) -> None:
    finding = findings["two-broken"]
    assert finding.status == "fail", finding.message
    assert finding.evidence.endswith("; rules broken: control_plane_first, system_pool_left_behind"), finding.evidence
    # The message tells the first violation of the campaign.
    assert "user pool 'apps' reached 1.33.2" in finding.message and "before the control plane" in finding.message


def test_docs_give_each_rule_a_microsoft_source() -> None:
    """docs/controls.md has a row per rule in AKS-ORD-01's table, and each row cites a learn.microsoft.com page."""
    doc = (ROOT / "docs" / "controls.md").read_text(encoding="utf-8")
    section = doc.split("## AKS-ORD-01 — ", 1)[1].split("\n## ", 1)[0]
    for rule in RULES:
        (row,) = [line for line in section.splitlines() if line.startswith(f"  | `{rule}` |")]
        assert "https://learn.microsoft.com/" in row, rule
