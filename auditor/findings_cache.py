"""The findings cache: evaluations kept once computed, keyed by scan and evaluator (docs/trend.md).

Evaluating a 10,000-cluster scan takes seconds, so evaluating 24 scans on every `auditor trend` would take
minutes. Findings are therefore kept once evaluated, in the `evaluations` and `findings` tables (migration
0003), keyed by scan and by an evaluator key: a SHA-256 over the cache format, the tool version, the policy, the
model and control queries, the bundled AKS catalog and the evaluating code. A cached evaluation is read only
under the very key it was written with, so a changed policy, catalog, query or tool never reads stale findings:
the scan is evaluated again. Scans are immutable once committed, so nothing else can make a cached evaluation
stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from auditor import sql
from auditor.controls.evaluate import evaluate
from auditor.errors import AuditorError
from auditor.model import Model
from auditor.paths import queries_dir
from auditor.policy import Policy
from auditor.store import Scan, rollback_quietly
from auditor.version import __version__
from auditor.vocabulary import ProgressHook

# Bump when what is cached changes shape or meaning: every cached evaluation is then recomputed.
CACHE_FORMAT = "2"
# Evaluations kept per scan (other policies, other tool versions); older ones go when a scan is cached.
KEEP_EVALUATORS = 4
_PACKAGE = Path(__file__).resolve().parent
# The code that decides findings (ledger.py, the upgrade ledger when present, feeds AKS-ORD-01/AKS-RNG-01).
_CODE = (
    "controls/__init__.py",
    "controls/catalog.py",
    "controls/evaluate.py",
    "controls/finding.py",
    "controls/remediation.py",
    "model/__init__.py",
    "model/functions.py",
    "model/params.py",
    "model/windows.py",
    "nodeimage.py",
    "kubelabels.py",  # the label selector semantics behind AKS-PDB-01
    "policy.py",
    "ledger.py",
    "findings_cache.py",
    "catalog/__init__.py",
    "maintenance_windows.py",
)
# The query directories evaluation reads (the model, the controls and their metadata, the upgrade ledger); the
# collection queries, the schema, the framework mappings and the read side's queries cannot change a finding.
_EVALUATED = ("model", "controls", "history", "ledger", "shape", "evaluate")


@cache
def _static_digest() -> str:
    """SHA-256 over the queries, the bundled catalog data and the evaluating code (fixed for a process)."""
    digest = hashlib.sha256()
    root = queries_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] in _EVALUATED)
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted((_PACKAGE / "catalog" / "data").glob("*")):
        digest.update(b"catalog/" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _CODE:
        path = _PACKAGE / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def evaluator_key(policy: Policy) -> str:
    """The cache key of evaluations under this policy with this tool, catalog and queries."""
    text = "\0".join((CACHE_FORMAT, __version__, policy.sha256, _static_digest()))
    return hashlib.sha256(text.encode()).hexdigest()


def store_evaluation(con: duckdb.DuckDBPyConnection, scan_id: str, policy: Policy, key: str | None = None) -> None:
    """Cache the evaluation of scan_id just made on con: its findings are read from `eval_findings` there, in SQL
    (the model tables on con must still be that scan's)."""
    row = sql.run(con, "findings_cache/check_scan.sql").rows
    if len(row) != 1 or row[0][0] != scan_id:
        raise AuditorError(f"internal: the model tables are not those of scan {scan_id}")
    key = key or evaluator_key(policy)
    subscriptions, clusters, pools, median, p90 = sql.run(con, "findings_cache/stats.sql").one()
    versions = dict(sql.run(con, "findings_cache/versions.sql").rows)
    findings = int(sql.run(con, "findings_cache/count.sql").scalar())
    con.begin()
    try:
        sql.run(con, "findings_cache/delete.sql", scan_id=scan_id, evaluator=key)
        if findings:
            sql.run(con, "findings_cache/insert_keys.sql")
            sql.run(con, "findings_cache/insert_findings.sql", scan_id=scan_id, evaluator=key)
        sql.run(
            con,
            "findings_cache/insert_evaluation.sql",
            scan_id=scan_id,
            evaluator=key,
            policy_sha256=policy.sha256,
            policy_source=policy.source,
            tool_version=__version__,
            evaluated_at=datetime.now(UTC).replace(tzinfo=None),
            findings=findings,
            subscriptions=subscriptions,
            clusters=clusters,
            pools=pools,
            versions=json.dumps(versions),
            image_age_median=median,
            image_age_p90=p90,
        )
        sql.run(con, "findings_cache/prune.sql", scan_id=scan_id, keep=KEEP_EVALUATORS)
        con.commit()
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise


def cached_scans(con: duckdb.DuckDBPyConnection, key: str) -> set[str]:
    """Scans with a usable evaluation under this key: only if the scan's evidence is still what was evaluated
    (scans are immutable once committed; this is belt and braces)."""
    return {row[0] for row in sql.run(con, "findings_cache/cached_scans.sql", evaluator=key)}


# The progress stage of evaluating the scans the cache lacks.
EVALUATING = "evaluating scans (kept for next time)"


def ensure_cached(
    con: duckdb.DuckDBPyConnection, scans: Sequence[Scan], policy: Policy, progress: ProgressHook | None = None
) -> str:
    """Evaluate and cache every scan not yet cached under this policy; returns the evaluator key."""
    key = evaluator_key(policy)
    cached = cached_scans(con, key)
    missing = [s for s in scans if s.scan_id not in cached]
    if progress and missing:
        progress(EVALUATING, 0, len(missing))
    for number, scan in enumerate(missing, start=1):
        # Each scan's model on a cursor of its own: its tables never meet another scan's, nor the caller's.
        with Model(con, scan.scan_id, policy) as model:
            evaluate(model)
            store_evaluation(model.cursor, scan.scan_id, policy, key)
        if progress:
            progress(EVALUATING, number, len(missing))
    return key
