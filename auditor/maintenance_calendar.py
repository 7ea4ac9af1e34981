"""The ops calendar of a scan: every maintenance window occurrence, every freeze and the next expected node-image
release per image family, as events in UTC; written as iCalendar (RFC 5545, with the `icalendar` library), a table
or JSON. docs/calendar.md describes the semantics and their sources.

Windows are expanded by auditor.maintenance_windows, the expander the window controls read through the model
(auditor/model/windows.py): the calendar and the controls cannot disagree about when a window opens.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from auditor import sql
from auditor.catalog import load_node_images
from auditor.maintenance_windows import (
    MaintenanceWindow,
    WindowError,
    configuration_id,
    freezes,
    occurrences,
    parse_window,
    window_kind,
)
from auditor.model import Model
from auditor.store import open_db, resolve_scan

PRODUCT_ID = "-//aks-upgrade-auditor//maintenance calendar//EN"
# A release line is still shipping when its last catalogued release is this close to the catalog's newest one.
ACTIVE_LINE_DAYS = 90
# Releases whose intervals give a line's cadence (the median of the last ones: robust to one hotfix or one gap).
CADENCE_RELEASES = 9
# Azure's safe deployment: a release reaches every region within about two weeks (planned-maintenance.md).
ROLLOUT_DAYS = 14
KINDS = ("window", "freeze", "node-image")


@dataclass(frozen=True)
class CalendarEvent:
    """One event of the calendar. Timed events have UTC instants; all-day ones (freezes, node images) dates."""

    uid: str
    kind: str  # window | freeze | node-image
    summary: str
    description: str
    categories: tuple[str, ...]
    starts: datetime | None = None  # UTC (timed events)
    ends: datetime | None = None
    first_day: date | None = None  # all-day events (inclusive)
    last_day: date | None = None
    cluster: str = ""
    cluster_id: str = ""
    subscription_id: str = ""
    subscription: str = ""
    resource_group: str = ""
    environment: str = ""
    channel: str = ""
    window_kind: str = ""  # auto-upgrade | node-os
    configuration: str = ""
    local_start: str = ""  # ISO 8601 in the window's own offset
    schedule: str = ""
    clipped: bool = False
    phase_assumed: bool = False
    image_line: str = ""

    @property
    def sort_key(self) -> tuple[str, str]:
        moment = self.starts.isoformat() if self.starts else f"{self.first_day}T00:00:00+00:00"
        return moment, self.uid

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("starts", "ends", "first_day", "last_day"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["categories"] = list(self.categories)
        return data


@dataclass
class MaintenanceCalendar:
    """The events of one scan over [start, until), and what could not be expanded."""

    scan_id: str
    scan_started_at: datetime
    start: datetime
    until: datetime
    events: list[CalendarEvent] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def windows(self) -> list[CalendarEvent]:
        return [e for e in self.events if e.kind == "window"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "scan_started_at": self.scan_started_at.isoformat(),
            "from": self.start.isoformat(),
            "until": self.until.isoformat(),
            "events": [e.as_dict() for e in self.events],
            "problems": self.problems,
            "notes": self.notes,
        }


# ------------------------------------------------------------------------------------------------ building


def _tag(tags: dict[str, Any], name: str) -> str:
    """A tag's value by case-insensitive name ('' when absent)."""
    wanted = name.lower()
    for key, value in tags.items():
        if str(key).lower() == wanted:
            return "" if value is None else str(value)
    return ""


def _window_events(
    cluster: dict[str, Any], config_name: str, window: MaintenanceWindow, start: datetime, until: datetime
) -> list[CalendarEvent]:
    kind = window_kind(config_name) or ""
    config_id = configuration_id(cluster["cluster_id"], config_name)
    channel = cluster["upgrade_channel"] if kind == "auto-upgrade" else cluster["node_os_channel"]
    subscription = cluster["subscription_name"] or cluster["subscription_id"]
    environment = cluster["environment"]
    env_text = environment or "untagged"
    schedule = window.describe()
    categories = (
        "AKS maintenance",
        kind,
        f"environment:{env_text}",
        f"channel:{channel}",
        f"cluster:{cluster['name']}",
        f"subscription:{subscription}",
    )
    common = {
        "cluster": cluster["name"],
        "cluster_id": cluster["cluster_id"],
        "subscription_id": cluster["subscription_id"],
        "subscription": subscription,
        "resource_group": cluster["resource_group"],
        "environment": environment,
        "channel": channel,
        "window_kind": kind,
        "configuration": config_name,
        "schedule": schedule,
    }
    lines = [
        f"Cluster: {cluster['name']} (resource group {cluster['resource_group']})",
        f"Subscription: {subscription} ({cluster['subscription_id']})",
        f"Environment: {env_text}",
        f"Channel: {channel}",
        f"Window: {config_name} ({kind}), {schedule}",
        f"Configuration: {config_id}",
    ]
    events: list[CalendarEvent] = []
    for occurrence in occurrences(window, start, until):
        notes = []
        if occurrence.clipped:
            notes.append("ends early: a not-allowed date span begins")
        if occurrence.phase_assumed:
            notes.append("no startDate: the weeks or months it falls in are assumed")
        description = "\n".join(
            [
                f"Opens {occurrence.starts:%Y-%m-%d %H:%M} UTC ({occurrence.local_start:%A %Y-%m-%d %H:%M} "
                f"UTC{window.offset_text}), closes {occurrence.ends:%Y-%m-%d %H:%M} UTC",
                *lines,
                *(f"Note: {n}" for n in notes),
            ]
        )
        events.append(
            CalendarEvent(
                uid=f"{config_id.lower()}/occurrences/{occurrence.starts:%Y%m%dT%H%M%SZ}",
                kind="window",
                summary=f"{cluster['name']} · {kind} window ({env_text})",
                description=description,
                categories=categories,
                starts=occurrence.starts,
                ends=occurrence.ends,
                local_start=occurrence.local_start.isoformat(),
                clipped=occurrence.clipped,
                phase_assumed=occurrence.phase_assumed,
                **common,
            )
        )
    for freeze in freezes(window):
        if freeze.ends <= start or freeze.starts >= until:
            continue
        events.append(
            CalendarEvent(
                uid=f"{config_id.lower()}/notallowed/{freeze.first_day:%Y%m%d}-{freeze.last_day:%Y%m%d}",
                kind="freeze",
                summary=f"{cluster['name']} · {kind} freeze ({env_text})",
                description="\n".join(
                    [
                        f"No {kind} maintenance from {freeze.first_day} to {freeze.last_day} (inclusive, "
                        f"UTC{window.offset_text}): {freeze.starts:%Y-%m-%d %H:%M} to {freeze.ends:%Y-%m-%d %H:%M} UTC",
                        *lines,
                    ]
                ),
                categories=(*categories[:1], "freeze", *categories[1:]),
                first_day=freeze.first_day,
                last_day=freeze.last_day,
                **common,
            )
        )
    return events


def release_line(image_family: str, lines: Iterable[str]) -> str | None:
    """The catalog's release line of a fleet image family: the longest line name it starts with
    (AKSUbuntu-2204gen2containerd -> AKSUbuntu-2204)."""
    matches = [line for line in lines if image_family.lower().startswith(line.lower())]
    return max(matches, key=lambda line: (len(line), line)) if matches else None


def _cadence_events(
    pools: list[tuple[str, int]], start: datetime, until: datetime
) -> tuple[list[CalendarEvent], list[str]]:
    """The next expected release of each release line the fleet's pools run, from the catalog's observed cadence."""
    by_line: dict[str, list[date]] = defaultdict(list)
    for release in load_node_images():
        by_line[release.family].append(release.release_date)
    if not by_line:
        return [], ["the bundled catalog lists no node-image release"]
    newest = max(max(days) for days in by_line.values())
    used: dict[str, dict[str, int]] = defaultdict(dict)
    unmatched: set[str] = set()
    for family, count in pools:
        line = release_line(family, by_line)
        if line is None:
            unmatched.add(family)
        else:
            used[line][family] = used[line].get(family, 0) + count
    events: list[CalendarEvent] = []
    notes = [f"image family {f} matches no release line of the bundled catalog" for f in sorted(unmatched)]
    for line in sorted(used):
        days = sorted(set(by_line[line]))
        last = days[-1]
        if (newest - last).days > ACTIVE_LINE_DAYS:
            notes.append(f"{line}: no release since {last} (the catalog's newest is {newest}): the line looks retired")
            continue
        recent = days[-CADENCE_RELEASES:]
        intervals = [(b - a).days for a, b in zip(recent, recent[1:], strict=False)]
        if not intervals:
            notes.append(f"{line}: one release only, no cadence")
            continue
        cadence = max(1, round(statistics.median(intervals)))
        expected = last + timedelta(days=cadence)
        while expected < start.date():
            expected += timedelta(days=cadence)
        if datetime(expected.year, expected.month, expected.day, tzinfo=UTC) >= until:
            continue
        families = ", ".join(f"{f} ({n} pool{'s' if n != 1 else ''})" for f, n in sorted(used[line].items()))
        events.append(
            CalendarEvent(
                uid=f"node-image/{line.lower()}/{expected:%Y%m%d}",
                kind="node-image",
                summary=f"{line} node image expected",
                description="\n".join(
                    [
                        f"Next {line} node image expected about {expected} (informational).",
                        f"Observed cadence: a release every {cadence} day(s) (median of the last {len(intervals)} "
                        f"intervals in the bundled catalog; last catalogued release {last}).",
                        f"Regional rollout takes up to {ROLLOUT_DAYS} days: expect it in every region by about "
                        f"{expected + timedelta(days=ROLLOUT_DAYS)}.",
                        f"Fleet pools on this line: {families}",
                    ]
                ),
                categories=("AKS maintenance", "node-image", f"image:{line}"),
                first_day=expected,
                last_day=expected,
                image_line=line,
            )
        )
    return events, notes


def build_calendar(
    con: duckdb.DuckDBPyConnection, start: datetime, until: datetime, *, environment_tag: str = "environment"
) -> MaintenanceCalendar:
    """The calendar of the scan whose model tables are on `con` (the cursor of an auditor.model.Model)."""
    if start.tzinfo is None or until.tzinfo is None:
        raise ValueError("start and until must be timezone-aware")
    scan_rows = sql.run(con, "calendar/scan.sql").rows
    scan_row = scan_rows[0] if scan_rows else None
    if scan_row is None:
        raise ValueError("no scan is prepared on this connection")
    calendar = MaintenanceCalendar(scan_row[0], scan_row[1].replace(tzinfo=UTC), start, until)
    clusters: dict[str, dict[str, Any]] = {}
    for row in sql.run(con, "calendar/clusters.sql"):
        tags = json.loads(row[5] or "{}")
        clusters[row[0]] = {
            "cluster_id": row[0],
            "name": row[1] or "",
            "subscription_id": row[2] or "",
            "subscription_name": row[3] or "",
            "resource_group": row[4] or "",
            "environment": _tag(tags if isinstance(tags, dict) else {}, environment_tag),
            "upgrade_channel": row[6] or "none",
            "node_os_channel": row[7],
        }
    for cluster_id, config_name, window_json in sql.run(con, "calendar/windows.sql"):
        if window_kind(config_name or "") is None or cluster_id not in clusters:
            continue
        try:
            window = parse_window(json.loads(window_json))
        except WindowError as exc:
            calendar.problems.append(
                {
                    "cluster": clusters[cluster_id]["name"],
                    "cluster_id": cluster_id,
                    "configuration": config_name,
                    "problem": str(exc),
                }
            )
            continue
        calendar.events.extend(_window_events(clusters[cluster_id], config_name, window, start, until))
    pools = [(str(family), int(count)) for family, count in sql.run(con, "calendar/image_families.sql")]
    cadence, notes = _cadence_events(pools, start, until)
    calendar.events.extend(cadence)
    calendar.notes.extend(notes)
    calendar.events.sort(key=lambda e: e.sort_key)
    return calendar


def calendar_start(first_day: date | None = None) -> datetime:
    """Where a calendar begins: midnight UTC of `first_day`, or now (to the minute) when no day is given."""
    if first_day is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    return datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)


def calendar_of_scan(db_path: Any, scan_selector: str, policy: Any, start: datetime, weeks: int) -> MaintenanceCalendar:
    """Open the database, prepare the model of the chosen scan and build its calendar over `weeks` from `start`."""

    con = open_db(db_path, read_only=True)
    try:
        scan = resolve_scan(con, scan_selector)
        with Model(con, scan.scan_id, policy) as model:
            return build_calendar(
                model.cursor, start, start + timedelta(weeks=weeks), environment_tag=str(policy.thresholds["ring_tag"])
            )
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------ writing


def to_ical(calendar: MaintenanceCalendar) -> bytes:
    """The calendar as an iCalendar (RFC 5545) file: UTC instants, all-day freezes and node images, stable UIDs."""
    # Deferred for import cost: icalendar loads only when this runs.
    from icalendar import Calendar, Event

    ics = Calendar()
    ics.add("prodid", PRODUCT_ID)
    ics.add("version", "2.0")
    ics.add("calscale", "GREGORIAN")
    ics.add("method", "PUBLISH")
    ics.add("x-wr-calname", f"AKS maintenance (scan {calendar.scan_id})")
    ics.add("x-wr-timezone", "UTC")
    # DTSTAMP is the scan's start: the same scan gives the same file, byte for byte.
    stamp = calendar.scan_started_at
    for item in calendar.events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        if item.starts is not None and item.ends is not None:
            event.add("dtstart", item.starts)
            event.add("dtend", item.ends)
        elif item.first_day is not None and item.last_day is not None:
            event.add("dtstart", item.first_day)
            event.add("dtend", item.last_day + timedelta(days=1))  # DTEND of an all-day event is exclusive
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("categories", list(item.categories))
        event.add("transp", "OPAQUE" if item.kind == "window" else "TRANSPARENT")
        event.add("status", "TENTATIVE" if item.kind == "node-image" else "CONFIRMED")
        event.add("class", "PRIVATE")
        ics.add_component(event)
    document: bytes = ics.to_ical()
    return document


def to_json(calendar: MaintenanceCalendar) -> str:
    return json.dumps(calendar.as_dict(), indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ views

REPORT_CHART_DAYS = 28
REPORT_TABLE_DAYS = 14
UNTAGGED = "(untagged)"


def weekly_load(calendar: MaintenanceCalendar, order: Iterable[str] = ()) -> dict[str, list[list[int]]]:
    """Per environment, 7 x 24 counts (Monday first, UTC hours): the clusters with a window open at some time of that
    weekday and hour during the calendar's period. Environments follow `order` (the ring order), then by name."""
    seen: dict[str, list[list[set[str]]]] = {}
    for event in calendar.windows():
        if event.starts is None or event.ends is None:
            continue
        grid = seen.setdefault(event.environment or UNTAGGED, [[set() for _ in range(24)] for _ in range(7)])
        hour = event.starts.replace(minute=0, second=0, microsecond=0)
        while hour < event.ends:
            grid[hour.weekday()][hour.hour].add(event.cluster_id)
            hour += timedelta(hours=1)
    rank = {name.lower(): i for i, name in enumerate(order)}
    names = sorted(seen, key=lambda n: (n == UNTAGGED, rank.get(n.lower(), len(rank)), n.lower(), n))
    return {name: [[len(cell) for cell in row] for row in seen[name]] for name in names}


def upcoming(calendar: MaintenanceCalendar, days: int = REPORT_TABLE_DAYS) -> list[CalendarEvent]:
    """The events that begin within `days` of the calendar's start (and windows already open then)."""
    horizon = calendar.start + timedelta(days=days)
    return [
        e
        for e in calendar.events
        if (e.starts is not None and e.starts < horizon)
        or (
            e.first_day is not None
            and datetime(e.first_day.year, e.first_day.month, e.first_day.day, tzinfo=UTC) < horizon
        )
    ]
