"""Shared fixtures: one demo store per test session (the README's usage lines and the determinism test use it)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database `auditor demo` writes with its defaults (60 clusters, 6 monthly scans), reports in JSON only.

    Tests read it; a test that writes must copy it first.
    """
    from auditor.demo import run

    out = tmp_path_factory.mktemp("demo")
    run(out, clusters=60, subscriptions=6, seed=7, formats=("json",))
    return out / "demo.duckdb"
