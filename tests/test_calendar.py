"""`auditor calendar`: a stored scan's windows, freezes and node-image cadence, written as iCalendar and read back
with the icalendar library; table and JSON show the same occurrences; the controls' model table agrees."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from auditor.cli import cli
from auditor.cli.views import calendar_rows
from auditor.maintenance_calendar import build_calendar, release_line, to_ical, to_json
from auditor.model import Model
from auditor.policy import default_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import SUB, cluster, maintenance_window, pool, store_scan

AUTO = "aksManagedAutoUpgradeSchedule"
NODE_OS = "aksManagedNodeOSUpgradeSchedule"
START = datetime(2026, 12, 14, tzinfo=UTC)  # a Monday
WEEKS = 3
HOSTILE = "prod\nEND:VEVENT\nEND:VCALENDAR\nBEGIN:VEVENT;x=1,2"


def _window(name: str, schedule: dict[str, Any], start: str, offset: str, **extra: Any) -> dict[str, Any]:
    config = maintenance_window(name, duration=4, schedule=schedule, start_time=start, utc_offset=offset)
    config["properties"]["maintenanceWindow"].update(extra)
    return config


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("calendar") / "a.duckdb"
    clusters = [
        cluster("india", tags={"environment": "prod"}, channel="stable", node_os="NodeImage"),
        cluster(
            "seattle",
            tags={"Environment": "staging"},
            pools=[
                pool("system"),
                pool("win", mode="User", os_type="Windows", image="AKSWindows-2022-containerd-20348.3300.261110"),
            ],
        ),
        cluster("hostile", tags={"environment": HOSTILE}),
        cluster("lost"),
        cluster("broken"),
    ]
    maintenance = {
        # Monday 01:00 at +05:30 = Sunday 19:30 UTC; a Christmas freeze in the offset's dates.
        "india": [
            _window(
                AUTO,
                {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Monday"}},
                "01:00",
                "+05:30",
                notAllowedDates=[{"start": "2026-12-24", "end": "2026-12-28"}],
            ),
            _window(NODE_OS, {"daily": {"intervalDays": 2}}, "03:00", "+05:30", startDate="2026-12-01"),
        ],
        # The last Friday of every month at 20:00 -08:00 = Saturday 04:00 UTC.
        "seattle": [
            _window(
                AUTO,
                {"relativeMonthly": {"intervalMonths": 1, "weekIndex": "Last", "dayOfWeek": "Friday"}},
                "20:00",
                "-08:00",
            )
        ],
        "hostile": [_window(AUTO, {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Wednesday"}}, "02:00", "+00:00")],
        "broken": [_window(AUTO, {"weekly": {"intervalWeeks": 9, "dayOfWeek": "Monday"}}, "02:00", "+00:00")],
    }
    bodies = clusters
    errors = [ErrorRow("maintenance_configurations", bodies[3]["id"], 403, "AuthorizationFailed", "denied")]
    scan_id = store_scan(db, bodies, maintenance=maintenance, errors=errors)
    return db, scan_id


def _calendar(scan: tuple[Path, str]) -> Any:
    db, scan_id = scan
    con = open_db(db)
    try:
        with Model(con, scan_id, default_policy()) as model:
            return build_calendar(model.cursor, START, START + timedelta(weeks=WEEKS))
    finally:
        con.close()


def _read_back(data: bytes) -> list[Any]:
    parsed = Calendar.from_ical(data)
    return [c for c in parsed.walk() if c.name == "VEVENT"]


def test_ics_reads_back_with_utc_instants(scan: tuple[Path, str]) -> None:
    events = _read_back(to_ical(_calendar(scan)))
    india = sorted(
        (e for e in events if "india · auto-upgrade window" in str(e["SUMMARY"])), key=lambda e: e.decoded("DTSTART")
    )
    # Mondays 01:00 at +05:30 are Sundays 19:30 UTC; Monday 12-28 is frozen; Monday 12-14's closed before the start.
    assert [e.decoded("DTSTART") for e in india] == [
        datetime(2026, 12, 20, 19, 30, tzinfo=UTC),
        datetime(2027, 1, 3, 19, 30, tzinfo=UTC),
    ]
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(hours=4) for e in india)
    assert all(e.decoded("DTSTART").utcoffset() == timedelta(0) for e in india)
    assert "DTSTART:20261220T193000Z" in to_ical(_calendar(scan)).decode()
    assert "(Monday 2026-12-21 01:00 UTC+05:30)" in str(india[0]["DESCRIPTION"])
    # The last Friday of the month, 20:00 at -08:00, is Saturday 04:00 UTC.
    seattle = [e for e in events if "seattle · auto-upgrade window" in str(e["SUMMARY"])]
    assert [e.decoded("DTSTART") for e in seattle] == [datetime(2026, 12, 26, 4, 0, tzinfo=UTC)]
    # Every other day from 2026-12-01, 03:00 at +05:30 = 21:30 UTC the evening before.
    node_os = sorted(e.decoded("DTSTART") for e in events if "india · node-os window" in str(e["SUMMARY"]))
    assert node_os[:3] == [
        datetime(2026, 12, 14, 21, 30, tzinfo=UTC),
        datetime(2026, 12, 16, 21, 30, tzinfo=UTC),
        datetime(2026, 12, 18, 21, 30, tzinfo=UTC),
    ]
    assert len(node_os) == 11


def test_freezes_exclude_occurrences_and_are_all_day_events(scan: tuple[Path, str]) -> None:
    events = _read_back(to_ical(_calendar(scan)))
    freeze = [e for e in events if "freeze" in str(e["SUMMARY"])]
    assert len(freeze) == 1
    assert freeze[0].decoded("DTSTART") == date(2026, 12, 24) and freeze[0].decoded("DTEND") == date(2026, 12, 29)
    assert "2026-12-23 18:30 to 2026-12-28 18:30 UTC" in str(freeze[0]["DESCRIPTION"])
    assert str(freeze[0]["TRANSP"]) == "TRANSPARENT"
    india = {e.decoded("DTSTART") for e in events if "india · auto-upgrade window" in str(e["SUMMARY"])}
    assert datetime(2026, 12, 27, 19, 30, tzinfo=UTC) not in india


def test_uids_are_stable_and_unique(scan: tuple[Path, str]) -> None:
    first, second = to_ical(_calendar(scan)), to_ical(_calendar(scan))
    assert first == second  # same scan, same bytes: a re-import updates instead of duplicating
    uids = [str(e["UID"]) for e in _read_back(first)]
    assert len(uids) == len(set(uids))
    config = f"/subscriptions/{SUB}/resourcegroups/rg1/providers/microsoft.containerservice/managedclusters/india"
    assert f"{config}/maintenanceconfigurations/aksmanagedautoupgradeschedule/occurrences/20261220T193000Z" in uids
    assert f"{config}/maintenanceconfigurations/aksmanagedautoupgradeschedule/notallowed/20261224-20261228" in uids
    # A later start keeps the UIDs of the occurrences both calendars show.
    db, scan_id = scan
    con = open_db(db)
    try:
        with Model(con, scan_id, default_policy()) as model:
            later = build_calendar(model.cursor, START + timedelta(days=7), START + timedelta(weeks=WEEKS))
    finally:
        con.close()
    later_uids = {e.uid for e in later.events if e.kind == "window"}
    assert later_uids and later_uids <= set(uids)


def test_events_name_cluster_subscription_environment_channel_and_kind(scan: tuple[Path, str]) -> None:
    events = _read_back(to_ical(_calendar(scan)))
    india = next(e for e in events if "india · auto-upgrade window" in str(e["SUMMARY"]))
    assert str(india["SUMMARY"]) == "india · auto-upgrade window (prod)"
    categories = [str(c) for c in india["CATEGORIES"].cats]
    assert categories == [
        "AKS maintenance",
        "auto-upgrade",
        "environment:prod",
        "channel:stable",
        "cluster:india",
        "subscription:Contoso Prod",
    ]
    description = str(india["DESCRIPTION"])
    for text in ("Cluster: india", f"Subscription: Contoso Prod ({SUB})", "Environment: prod", "Channel: stable", AUTO):
        assert text in description
    node_os = next(e for e in events if "india · node-os window" in str(e["SUMMARY"]))
    assert "channel:NodeImage" in [str(c) for c in node_os["CATEGORIES"].cats]
    seattle = next(e for e in events if "seattle" in str(e["SUMMARY"]))
    assert "environment:staging" in [str(c) for c in seattle["CATEGORIES"].cats]  # tag names are case-insensitive


def test_hostile_tag_values_cannot_break_the_file(scan: tuple[Path, str]) -> None:
    data = to_ical(_calendar(scan))
    parsed = Calendar.from_ical(data)
    assert len([c for c in parsed.walk() if c.name == "VCALENDAR"]) == 1
    hostile = [e for e in _read_back(data) if str(e["SUMMARY"]).startswith("hostile ·")]
    assert len(hostile) == WEEKS
    assert f"Environment: {HOSTILE}" in str(hostile[0]["DESCRIPTION"])
    assert f"environment:{HOSTILE}" in [str(c) for c in hostile[0]["CATEGORIES"].cats]


def test_node_image_cadence_events(scan: tuple[Path, str]) -> None:
    calendar = _calendar(scan)
    cadence = {e.image_line: e for e in calendar.events if e.kind == "node-image"}
    assert set(cadence) == {"AKSUbuntu-2204", "AKSWindows-2022"}
    ubuntu = cadence["AKSUbuntu-2204"]
    assert ubuntu.first_day is not None and START.date() <= ubuntu.first_day < (START + timedelta(weeks=WEEKS)).date()
    assert "AKSUbuntu-2204gen2containerd (5 pools)" in ubuntu.description
    assert "Regional rollout takes up to 14 days" in ubuntu.description
    events = {str(e["UID"]): e for e in _read_back(to_ical(calendar))}
    ics = events[ubuntu.uid]
    assert str(ics["STATUS"]) == "TENTATIVE" and ics.decoded("DTSTART") == ubuntu.first_day
    assert release_line("AKSUbuntu-2204gen2arm64containerd", ["AKSUbuntu-2204", "AKSUbuntu-1804"]) == "AKSUbuntu-2204"
    assert release_line("AKSWindows-2022-containerd", ["AKSWindows-2022", "AKSWindows-2019"]) == "AKSWindows-2022"
    assert release_line("custom", ["AKSUbuntu-2204"]) is None


def test_unreadable_windows_are_reported_not_dropped(scan: tuple[Path, str]) -> None:
    calendar = _calendar(scan)
    assert [(p["cluster"], p["configuration"]) for p in calendar.problems] == [("broken", AUTO)]
    assert "intervalWeeks 9 is outside 1..4" in calendar.problems[0]["problem"]
    assert json.loads(to_json(calendar))["problems"][0]["cluster"] == "broken"


def test_table_and_json_show_the_same_occurrences(scan: tuple[Path, str]) -> None:
    calendar = _calendar(scan)
    payload = json.loads(to_json(calendar))
    rows = calendar_rows(calendar)
    assert len(rows) == len(payload["events"]) == len(calendar.events)
    for row, event in zip(rows, payload["events"], strict=True):
        if event["starts"]:
            assert row[0] == datetime.fromisoformat(event["starts"]).strftime("%Y-%m-%d %H:%M")
        else:
            assert row[0] == event["first_day"]
        assert row[3] == event["cluster"]


def test_the_window_controls_read_the_same_occurrences(scan: tuple[Path, str]) -> None:
    """One expander: the model table the controls read holds exactly the calendar's window occurrences."""
    db, scan_id = scan
    con = open_db(db)
    try:
        with Model(con, scan_id, default_policy()) as prepared:
            calendar = build_calendar(prepared.cursor, START, START + timedelta(weeks=WEEKS))
            model = {
                (row[0], row[1], row[2].replace(tzinfo=UTC))
                for row in prepared.cursor.execute(
                    "SELECT c.name, o.kind, o.starts_at FROM maintenance_occurrences o "
                    "JOIN clusters c USING (cluster_id) WHERE o.ends_at > ? AND o.starts_at < ?",
                    [START.replace(tzinfo=None), (START + timedelta(weeks=WEEKS)).replace(tzinfo=None)],
                ).fetchall()
            }
            problems = prepared.cursor.execute("SELECT config_key, problem FROM maintenance_window_problems").fetchall()
    finally:
        con.close()
    shown = {(e.cluster, e.window_kind, e.starts) for e in calendar.events if e.kind == "window"}
    assert model == shown and len(shown) > 10
    assert problems == [("aksmanagedautoupgradeschedule", "weekly.intervalWeeks 9 is outside 1..4")]


def test_cli_formats_and_out_file(scan: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = scan
    runner = CliRunner()
    base = ["calendar", "--db", str(db), "--from", "2026-12-14", "--weeks", str(WEEKS)]
    out = tmp_path / "cal" / "maintenance.ics"
    written = runner.invoke(cli, [*base, "--format", "ics", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert written.stdout.strip() == str(out)
    assert len(_read_back(out.read_bytes())) == len(_calendar(scan).events)
    as_json = runner.invoke(cli, [*base, "--format", "json"])
    assert as_json.exit_code == 0
    assert len(json.loads(as_json.stdout)["events"]) == len(_calendar(scan).events)
    assert "broken" in as_json.stderr  # the unreadable window, on stderr
    table = runner.invoke(cli, [*base, "--format", "table"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "india" in table.stdout and "AKSUbuntu-2204" in table.stdout
    bad = runner.invoke(cli, [*base, "--weeks", "0"])
    assert bad.exit_code == 2
    missing = runner.invoke(cli, ["calendar", "--db", str(db), "--scan", "nope"])
    assert missing.exit_code == 1 and "no scan 'nope'" in missing.stderr


def test_report_has_the_maintenance_calendar_section(scan: tuple[Path, str]) -> None:
    from auditor.report.data import build_report
    from auditor.report.html import render_html_text

    db, scan_id = scan
    con = open_db(db)
    try:
        # The findings stay in DuckDB until the renderer reads them: render before the store closes.
        with build_report(con, scan_id, default_policy()) as data:
            html = render_html_text(data, "html")
    finally:
        con.close()
    # As of the scan (2026-11-24 06:00 UTC), not of the reading: Mondays 01:00 at +05:30 are Sundays 19:30 UTC.
    assert data.calendar is not None and data.calendar.start == datetime(2026, 11, 24, 6, tzinfo=UTC)
    assert list(data.calendar_load) == ["staging", "prod", HOSTILE]
    assert sum(map(sum, data.calendar_load["prod"])) > 0
    section = html.split('id="calendar"', 1)[1].split("</section>", 1)[0]
    assert 'alt="Clusters with a maintenance window open' in section and "data:image/svg+xml;base64," in section
    assert "Sun 2026-11-29 19:30" in section and "india" in section
    assert "broken/aksManagedAutoUpgradeSchedule" in section  # the unreadable window is named, not dropped
    assert "every week on Monday at 01:00 UTC+05:30" in section
