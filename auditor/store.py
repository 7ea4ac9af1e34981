"""The DuckDB store: schema versioning, atomic scan commits and scan lookup."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from auditor import sql
from auditor.errors import StoreError
from auditor.paths import queries_dir
from auditor.safetext import MIN_LITERAL_SECRET, clean_message, redact_value

try:  # Unix: spools are locked by their owner, so stale ones are told apart by trying the lock
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

DEFAULT_DB = Path("output/auditor.duckdb")


def _migrations() -> list[str]:
    """The schema migrations, in order: names under queries/ for auditor.sql."""
    root = queries_dir()
    return [p.relative_to(root).as_posix() for p in sorted((root / "schema").glob("[0-9][0-9][0-9][0-9]_*.sql"))]


def schema_version() -> int:
    """The schema version this tool writes."""
    return len(_migrations())


# How long to wait for another process that holds the store (a scan committing, a report caching its
# findings) before giving up. Every holder keeps it seconds, not minutes: a scan holds it only to commit.
LOCK_WAIT_SECONDS = 300.0
_log = logging.getLogger(__name__)


def open_db(
    path: Path, *, create: bool = False, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """Open the store, creating or migrating it forward; refuse another tool's or a newer schema.

    read_only connections let other readers in at the same time (DuckDB's shared file lock); a store of an older
    schema is migrated first through a short read-write connection. While another process holds the store for
    writing, wait up to `wait` seconds for it (once, a line on stderr says so), then fail with one line.
    """
    if not create and not path.exists():
        raise StoreError(f"no database at {path}: run `auditor scan` (or `auditor demo`) first{_demo_hint(path)}")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    read_only = read_only and path.exists()
    con = _connect(path, read_only=read_only, wait=wait)
    try:
        _check_complete(con, path)
        _check_and_migrate(con, path, allow_migrate=not read_only)
    except _NeedsMigration:
        con.close()
        _connect_and_migrate(path, wait)
        con = _connect(path, read_only=True, wait=wait)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(unreadable_store(path, exc)) from exc
    except Exception:
        con.close()
        raise
    return con


def _demo_hint(path: Path) -> str:
    demo = path.with_name("demo.duckdb")
    if path.name != demo.name and demo.exists():
        return f" (the demo's scans are in {demo}: pass --db {demo} or set AUDITOR_DB)"
    return ""


def _connect_and_migrate(path: Path, wait: float) -> None:
    con = _connect(path, read_only=False, wait=wait)
    try:
        _check_and_migrate(con, path, allow_migrate=True)
    except duckdb.Error as exc:
        raise StoreError(unreadable_store(path, exc)) from exc
    finally:
        con.close()


class _NeedsMigration(Exception):
    """A read-only connection found an older schema."""


def _connect(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            text = " ".join(str(exc).split())
            if "conflicting lock" not in text.lower() and "could not set lock" not in text.lower():
                raise StoreError(unreadable_store(path, exc, opening=True)) from exc
            holder = re.search(r"\(PID (\d+)\)", text)
            who = f"process {holder.group(1)}" if holder else "another process"
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"{path} is in use by {who} (a scan committing, or a command caching findings); "
                    "retry when it has finished"
                ) from exc
            if not announced:
                _log.warning("waiting for %s: in use by %s", path, who)
                announced = True
            time.sleep(0.2)
        except duckdb.Error as exc:
            raise StoreError(unreadable_store(path, exc, opening=True)) from exc


def check_creatable(path: Path) -> None:
    """Fail now, before any work, when a store could not be created at path later (nothing is created here)."""
    parent = path.parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create a database at {path}: {parent} is not a writable directory")


# DuckDB's file: three 4 KiB headers, then blocks of `block_size` bytes.
_DUCKDB_HEADER_BYTES = 3 * 4096


def _check_complete(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a database file too short to hold the blocks DuckDB says are in use (cut by a copy, a transfer or a
    full disk) before anything reads a missing block or writes after it. Used blocks, not total ones: DuckDB
    trims free blocks off the end of the file, so only the used ones give a size the file must reach."""
    rows = sql.run(con, "store/database_size.sql").rows
    row = rows[0] if rows else None
    if not row or not row[0] or not path.is_file():
        return
    expected = _DUCKDB_HEADER_BYTES + int(row[0]) * int(row[1])
    size = path.stat().st_size
    if size < expected:
        raise StoreError(
            f"{path} is truncated ({size:,} bytes, but its {int(row[1]):,} blocks in use need {expected:,}): "
            "it was not modified; restore it from a backup or point --db at another file"
        )


def unreadable_store(path: Path | str, exc: BaseException, *, opening: bool = False) -> str:
    """One line for a database that DuckDB cannot read or write."""
    detail = clean_message(str(exc), limit=300)
    if isinstance(exc, duckdb.IOException) and "Could not read enough bytes" in str(exc):
        return f"{path} is truncated or damaged ({detail}): it was not modified; restore it from a backup"
    if opening:
        return f"cannot open {path} as a DuckDB database: {detail}"
    if "No space left on device" in str(exc):
        return f"no space left on the device holding {path}: free some space and run the command again ({detail})"
    return f"cannot use the database {path}: {detail}"


def _check_and_migrate(con: duckdb.DuckDBPyConnection, path: Path, *, allow_migrate: bool) -> None:
    tables = {row[0] for row in sql.run(con, "store/tables.sql")}
    if "auditor_meta" not in tables:
        if tables:
            raise StoreError(f"{path} is a DuckDB database but not an aks-upgrade-auditor store")
        current = 0
    else:
        rows = sql.run(con, "store/schema_version.sql").rows
        current = int(rows[0][0]) if rows else 0
    target = schema_version()
    if current > target:
        raise StoreError(
            f"{path} has schema version {current}, newer than this tool's {target}: upgrade aks-upgrade-auditor"
        )
    if current == target:
        return
    if not allow_migrate:
        raise _NeedsMigration()
    # Each migration runs in its own transaction: a failure leaves the store at the last good version.
    for number, migration in enumerate(_migrations()[current:], start=current + 1):
        con.begin()
        try:
            if number == 1:
                sql.run(con, "store/create_meta.sql")
            sql.run(con, migration)
            sql.run(con, "store/set_schema_version.sql", version=str(number))
            con.commit()
        except duckdb.Error as exc:
            con.rollback()
            raise StoreError(f"migrating {path} to schema version {number} failed: {exc}") from exc


@dataclass
class EvidenceRow:
    """One item Azure returned, as received."""

    kind: str
    scope: str
    request: str
    payload: Any


@dataclass
class ErrorRow:
    """One call that failed for good."""

    call: str
    scope: str
    status: int | None
    code: str | None
    message: str


@dataclass
class CoverageRow:
    """One subscription in a scan's scope and whether its managed clusters are all in the evidence."""

    subscription_id: str
    display_name: str | None
    in_scope_by: str
    listed: bool
    cluster_read: str
    graph_clusters: int
    arm_clusters: int | None
    missing_clusters: int | None
    status: str
    note: str


@dataclass
class ScanRecord:
    """Everything one scan gathered, written in one transaction."""

    scan_id: str
    started_at: datetime
    finished_at: datetime
    tool_version: str
    cloud: str
    endpoint: str
    scope: dict[str, Any]
    stats: dict[str, Any]
    evidence: EvidenceSpool | list[EvidenceRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "partial" if self.errors else "complete"

    def discard(self) -> None:
        """Drop the evidence spooled for a scan that will not be committed."""
        if isinstance(self.evidence, EvidenceSpool):
            self.evidence.discard()


SPOOL_PREFIX = "auditor-evidence-"
SPOOL_SUFFIX = ".ndjson"
# A spool of an older version (no owner lock) untouched this long belongs to no running scan.
LEGACY_SPOOL_AGE_S = 24 * 3600


class EvidenceSpool:
    """Evidence written to a temporary NDJSON file as it arrives, hashed on the way, bulk-loaded at commit.

    Keeps a scan's memory flat (payloads are not held) and turns the commit into one fast `read_json` insert.
    The file is named after its process and locked while open, so a later scan can tell a spool left behind by
    a killed one (kill -9, power loss) from a running scan's, and removes it.
    """

    def __init__(self, directory: Path | None = None, secrets: Sequence[str] = ()) -> None:
        folder = Path(directory or tempfile.gettempdir())
        remove_stale_spools(folder)
        # Created under a name no cleaner looks at, locked, then renamed: no other scan can find it unlocked.
        handle, name = tempfile.mkstemp(
            prefix=f"{SPOOL_PREFIX}{os.getpid()}-", suffix=SPOOL_SUFFIX + ".new", dir=folder
        )
        # The lock lives on its own descriptor: it is held from creation until discard(), through the commit
        # that reads the closed file.
        self._owner = _hold_lock(Path(name))
        self.path = Path(name[: -len(".new")])
        os.replace(name, self.path)
        self._file = os.fdopen(handle, "wb")
        self._digest = hashlib.sha256()
        self._lock = threading.Lock()
        # Literal secrets (the bearer token) that must never be stored, even when a payload echoes them.
        self.secrets = tuple(s for s in secrets if len(s) >= MIN_LITERAL_SECRET)
        self.count = 0
        self.kinds: dict[str, int] = {}

    def add(self, kind: str, scope: str, request: str, payload: Any) -> int:
        """Append one item; returns its sequence number.

        Raises UnicodeEncodeError, adding nothing, when a string holds a lone surrogate (no UTF-8 file can hold
        it): the caller decides what to store instead.
        """
        text = canonical_json(payload)
        if self.secrets and any(secret in text for secret in self.secrets):
            text = canonical_json(redact_value(payload, self.secrets))
        with self._lock:
            seq = self.count
            # Encoded before any state changes: an item that cannot be written leaves no trace in count or digest.
            digest_line = _digest_line(seq, kind, scope, request, text)
            line = json.dumps(
                {"seq": seq, "kind": kind, "scope": scope, "request": request, "payload": text}, ensure_ascii=False
            ).encode("utf-8")
            try:
                self._file.write(line + b"\n")
            except OSError as exc:
                raise StoreError(f"cannot write the evidence spool {self.path}: {exc.strerror or exc}") from exc
            self.count += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self._digest.update(digest_line)
        return seq

    def digest(self) -> str:
        """SHA-256 of everything added so far, in seq order."""
        with self._lock:
            return self._digest.hexdigest()

    def close(self) -> None:
        """Flush and close the file; it stays locked until discard() removes it."""
        with self._lock:
            if not self._file.closed:
                try:
                    self._file.close()
                except OSError as exc:
                    raise StoreError(f"cannot write the evidence spool {self.path}: {exc.strerror or exc}") from exc

    def discard(self) -> None:
        """Close and delete the spool file."""
        with contextlib.suppress(StoreError):
            self.close()
        self.path.unlink(missing_ok=True)
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None

    @classmethod
    def of(cls, rows: Iterable[EvidenceRow]) -> EvidenceSpool:
        """A spool holding these rows (tests and small callers)."""
        spool = cls()
        for row in rows:
            spool.add(row.kind, row.scope, row.request, row.payload)
        return spool


def _hold_lock(path: Path) -> int | None:
    """An exclusive lock on a new spool, held while the descriptor stays open (Unix; None elsewhere)."""
    if fcntl is None:
        return None
    handle = os.open(path, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def _spool_owner_alive(path: Path) -> bool:
    """Whether a running process still owns this spool file."""
    owner = path.name[len(SPOOL_PREFIX) :].split("-", 1)[0]
    if "-" not in path.name[len(SPOOL_PREFIX) :]:
        # Named by an older version, which neither locked it nor named its process: judge by age.
        return time.time() - path.stat().st_mtime < LEGACY_SPOOL_AGE_S
    if fcntl is not None:
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            return True  # gone already, or not ours to judge
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # locked: its scan is running
        finally:
            os.close(handle)
        return False
    if not owner.isdigit():
        return True
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_spools(directory: Path) -> list[Path]:
    """Delete evidence spools whose scan no longer runs (killed, crashed); returns what was removed."""
    removed: list[Path] = []
    for path in sorted(directory.glob(f"{SPOOL_PREFIX}*{SPOOL_SUFFIX}")):
        try:
            if not path.is_file() or _spool_owner_alive(path):
                continue
            path.unlink()
        except OSError:
            continue  # another scan removed it first, or it is not ours to remove
        removed.append(path)
    return removed


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no spaces: the form that is stored and hashed."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest_line(seq: int, kind: str, scope: str, request: str, payload: str) -> bytes:
    return f"{seq}\x1f{kind}\x1f{scope}\x1f{request}\x1f{payload}\x1e".encode()


def evidence_digest(rows: Iterable[tuple[int, str, str, str, str]]) -> str:
    """SHA-256 over (seq, kind, scope, request, payload) rows in seq order."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(_digest_line(*row))
    return digest.hexdigest()


def stored_evidence_digest(con: duckdb.DuckDBPyConnection, scan_id: str) -> str:
    """Recompute a stored scan's evidence digest from the evidence table."""
    digest = hashlib.sha256()
    for batch in sql.batches(con, "store/evidence_for_digest.sql", size=5000, scan_id=scan_id):
        for row in batch:
            digest.update(_digest_line(*row))
    return digest.hexdigest()


def write_scan(con: duckdb.DuckDBPyConnection, record: ScanRecord) -> str:
    """Store a whole scan atomically (one transaction) and return its evidence digest."""
    spool = record.evidence if isinstance(record.evidence, EvidenceSpool) else EvidenceSpool.of(record.evidence)
    try:
        spool.close()  # the last buffered evidence reaches the disk, or the disk is full: nothing to commit
    except StoreError:
        spool.discard()
        raise
    digest = spool.digest()
    errors = [
        {"seq": seq, "call": e.call, "scope": e.scope, "status": e.status, "code": e.code, "message": e.message}
        for seq, e in enumerate(record.errors)
    ]
    coverage = [asdict(c) for c in record.coverage]
    con.begin()
    try:
        if spool.count:
            sql.run(con, "store/insert_evidence.sql", scan_id=record.scan_id, spool_path=str(spool.path))
        if errors:
            sql.run(con, "store/insert_errors.sql", scan_id=record.scan_id, errors=errors)
        if coverage:
            sql.run(con, "store/insert_coverage.sql", scan_id=record.scan_id, coverage=coverage)
        sql.run(
            con,
            "store/insert_scan.sql",
            scan_id=record.scan_id,
            started_at=_utc_naive(record.started_at),
            finished_at=_utc_naive(record.finished_at),
            status=record.status,
            tool_version=record.tool_version,
            cloud=record.cloud,
            endpoint=record.endpoint,
            scope=canonical_json(record.scope),
            stats=canonical_json(record.stats),
            evidence_sha256=digest,
        )
        con.commit()
    except duckdb.Error as exc:
        rollback_quietly(con)
        raise StoreError(
            f"cannot store the scan in {database_path(con)}: {clean_message(str(exc), limit=300)}; "
            "nothing of it was stored and earlier scans are intact"
        ) from exc
    except BaseException:
        rollback_quietly(con)
        raise
    finally:
        spool.discard()
    return digest


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if DuckDB has not already aborted it (it does on an I/O error such as a
    full disk): the rollback's own failure must not hide the error that caused it."""
    with contextlib.suppress(duckdb.Error):
        con.rollback()


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file behind a connection, for messages."""
    try:
        rows = sql.run(con, "store/database_path.sql").rows
    except duckdb.Error:
        return "the database"
    return str(rows[0][0]) if rows and rows[0][0] else "the database"


@dataclass(frozen=True)
class Scan:
    """A committed scan, as listed in the `scans` table."""

    scan_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    tool_version: str
    cloud: str
    endpoint: str
    scope: dict[str, Any]
    stats: dict[str, Any]
    evidence_sha256: str


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _scan_from_row(row: Sequence[Any]) -> Scan:
    values = list(row)
    values[1] = values[1].replace(tzinfo=UTC)
    values[2] = values[2].replace(tzinfo=UTC)
    values[7] = json.loads(values[7])
    values[8] = json.loads(values[8])
    return Scan(*values)


@dataclass(frozen=True)
class ScanScope:
    """What a scan covered, as asked: every subscription a tenant's identity can read, named subscriptions, or
    management groups, in one cloud. Trends and new/resolved findings compare a scan only with earlier scans of the
    same scope: a scan of another tenant or of a subset is not "the fleet got better or worse"."""

    kind: str  # 'tenant' | 'subscriptions' | 'management_groups'
    cloud: str
    members: tuple[str, ...]  # tenant ids, subscription ids or management-group ids, lower case, sorted

    @property
    def scope_id(self) -> str:
        """A short stable id to select the scope by (`auditor trend --scope`)."""
        text = "\x1f".join((self.kind, self.cloud.lower(), *self.members))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def label(self) -> str:
        if self.kind == "subscriptions":
            shown = ", ".join(self.members[:3]) + (
                f" and {len(self.members) - 3} more" if len(self.members) > 3 else ""
            )
            return f"{len(self.members)} named subscription(s): {shown}"
        if self.kind == "management_groups":
            return f"management group(s) {', '.join(self.members)}"
        tenants = ", ".join(self.members) if self.members else "tenant not recorded"
        return f"every readable subscription of {tenants}" + ("" if self.cloud == "AzureCloud" else f" ({self.cloud})")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.scope_id, "kind": self.kind, "cloud": self.cloud, "members": list(self.members),
                "label": self.label}  # fmt: skip


def scan_scopes(con: duckdb.DuckDBPyConnection, scans: Sequence[Scan]) -> dict[str, ScanScope]:
    """The scope of each scan. Scans recorded before the scope kept its tenants get them from their evidence."""
    missing = [s.scan_id for s in scans if "tenants" not in s.scope]
    tenants: dict[str, list[str]] = {}
    if missing:
        rows = sql.run(con, "store/scan_tenants.sql", scan_ids=missing)
        tenants = {r[0]: list(r[1] or []) for r in rows}
    scopes = {}
    for scan in scans:
        scope = scan.scope
        requested = sorted(str(s).lower() for s in scope.get("requested_subscriptions") or [])
        groups = sorted(str(g).lower() for g in scope.get("management_groups") or [])
        if requested:
            kind, members = "subscriptions", requested
        elif groups:
            kind, members = "management_groups", groups
        else:
            kind = "tenant"
            members = sorted(scope["tenants"]) if "tenants" in scope else tenants.get(scan.scan_id, [])
        scopes[scan.scan_id] = ScanScope(kind, scan.cloud, tuple(members))
    return scopes


def list_scans(con: duckdb.DuckDBPyConnection) -> list[Scan]:
    """Every committed scan, oldest first."""
    return [_scan_from_row(r) for r in sql.run(con, "store/scans.sql")]


def resolve_scan(con: duckdb.DuckDBPyConnection, selector: str = "latest") -> Scan:
    """The scan named by id (or a unique id prefix), or the newest one for 'latest'."""
    if not selector.strip():
        raise StoreError("an empty scan id names no scan: give a scan id, a unique prefix of one, or 'latest'")
    if selector == "latest":
        latest = sql.run(con, "store/latest_scan.sql").rows
        if not latest:
            raise StoreError("the database holds no scan yet: run `auditor scan` first")
        return _scan_from_row(latest[0])
    rows = sql.run(con, "store/scans_by_prefix.sql", prefix=selector).rows
    exact = [r for r in rows if r[0] == selector]
    if exact:
        return _scan_from_row(exact[0])
    if len(rows) == 1:
        return _scan_from_row(rows[0])
    if not rows:
        raise StoreError(f"no scan '{selector}' in the database (see `auditor trend` for the scans it holds)")
    raise StoreError(f"scan id prefix '{selector}' is ambiguous: {len(rows)} scans match")
