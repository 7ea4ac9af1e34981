"""The library calls the tests make most often, each one line over auditor.api (docs/library.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor import api
from auditor.controls import Finding
from auditor.signing import SigningKey


def write_reports(
    db: Path,
    selector: str,
    policy_path: Path | None,
    formats: Sequence[str],
    out_dir: Path,
    *,
    sign_key: SigningKey | None = None,
) -> list[Path]:
    """One scan's reports, their manifest and attestation (what `auditor report` writes), in the order written."""
    policy = api.load_policy(policy_path)
    with api.open(db) as store:
        return list(store.report(store.resolve(selector), policy, list(formats), out_dir, sign_key=sign_key).written)


def scan_and_store(
    db: Path, *, credential: Any = None, clock: Callable[[], datetime] | None = None, **request: Any
) -> api.ScanOutcome:
    """Collect one scan into the store at db (created if missing); `request` holds ScanRequest's fields."""
    with api.open(db, create=True) as store:
        return store.scan(api.ScanRequest(**request), credential=credential, clock=clock)


def evaluate_scan(db: Path, selector: str, policy_path: Path | None) -> list[Finding]:
    """One scan's findings under a policy file (the defaults for None), in canonical order."""
    policy = api.load_policy(policy_path)
    with api.open(db, read_only=True) as store, store.evaluate(store.resolve(selector), policy) as evaluation:
        return evaluation.findings()
