"""Words in messages and reports: "1 day", never "1 days"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from auditor.paths import queries_dir
from tests.evidence import AS_OF, cluster, pool, store_scan
from tests.library import evaluate_scan

FAMILY = "AKSUbuntu-2204gen2containerd"


def test_days_text_macro() -> None:
    con = duckdb.connect()
    con.execute((queries_dir() / "model" / "05_text.sql").read_text(encoding="utf-8"))
    assert [con.execute("SELECT days_text(?)", [n]).fetchone()[0] for n in (-2, -1, 0, 1, 2, 31)] == [  # type: ignore[index]
        "-2 days",
        "-1 day",
        "0 days",
        "1 day",
        "2 days",
        "31 days",
    ]


def test_a_one_day_old_image_is_one_day_old(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    yesterday = f"{FAMILY}-{(AS_OF - timedelta(days=1)):%Y%m.%d}.0"
    day_before = f"{FAMILY}-{(AS_OF - timedelta(days=2)):%Y%m.%d}.0"
    store_scan(
        db,
        [cluster("c1", pools=[pool("system", image=day_before)])],
        latest_images={("eastus", FAMILY): yesterday},
    )
    messages = {f.control_id: f.message for f in evaluate_scan(db, "latest", None)}
    assert "is 2 days old" in messages["AKS-IMG-01"]
    assert "1 day newer)" in messages["AKS-IMG-02"]
    assert not any("1 days" in m for m in messages.values())
