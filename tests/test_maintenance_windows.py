"""The maintenance-window expander: schema, fixed UTC offsets, intervals, startDate, not-allowed dates, errors.
Payloads are Azure's own examples (tests/fixtures/azure-examples) where one exists."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.maintenance_windows import (
    WindowError,
    configuration_id,
    freezes,
    occurrences,
    parse_window,
    previous_occurrence,
    window_kind,
)

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "azure-examples" / "containerservice"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def window(schedule: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"schedule": schedule, "startTime": "01:00", "durationHours": 4, **fields}


def starts(payload: dict[str, Any], begin: datetime, end: datetime) -> list[str]:
    return [f"{o.starts:%Y-%m-%d %H:%M %a}" for o in occurrences(parse_window(payload), begin, end)]


def test_monday_0100_at_plus_0530_is_sunday_1930_utc() -> None:
    payload = window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Monday"}}, utcOffset="+05:30")
    found = occurrences(parse_window(payload), utc(2026, 11, 20), utc(2026, 12, 5))
    assert [f"{o.starts:%Y-%m-%d %H:%M %A}" for o in found] == ["2026-11-22 19:30 Sunday", "2026-11-29 19:30 Sunday"]
    assert [o.local_start.isoformat() for o in found] == ["2026-11-23T01:00:00+05:30", "2026-11-30T01:00:00+05:30"]
    assert all(o.ends - o.starts == timedelta(hours=4) for o in found)


def test_negative_offsets_move_to_the_next_utc_day() -> None:
    # Saturday 20:00 at -08:00 is Sunday 04:00 UTC.
    payload = window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Saturday"}}, startTime="20:00", utcOffset="-08:00")
    assert starts(payload, utc(2026, 11, 28), utc(2026, 12, 3)) == ["2026-11-29 04:00 Sun"]


def test_azure_example_every_three_days_at_minus_0700() -> None:
    body = json.loads((EXAMPLES / "MaintenanceConfigurationsGet_MaintenanceWindow.json").read_text())
    payload = body["responses"]["200"]["body"]["properties"]["maintenanceWindow"]
    # startDate 2023-01-01, 09:30 at -07:00 = 16:30 UTC, every 3 days, 4 hours; 2023-02-18..25 not allowed.
    found = occurrences(parse_window(payload), utc(2023, 1, 1), utc(2023, 1, 8))
    assert [o.starts for o in found] == [utc(2023, 1, 1, 16, 30), utc(2023, 1, 4, 16, 30), utc(2023, 1, 7, 16, 30)]
    assert found[0].ends == utc(2023, 1, 1, 20, 30)
    february = occurrences(parse_window(payload), utc(2023, 2, 14), utc(2023, 3, 1))
    assert [o.local_start.date().isoformat() for o in february] == ["2023-02-15", "2023-02-27"]


def test_azure_example_quarterly_on_the_15th_with_freezes() -> None:
    body = json.loads((EXAMPLES / "MaintenanceConfigurationsList_MaintenanceWindow.json").read_text())
    items = {i["name"]: i for i in body["responses"]["200"]["body"]["value"]}
    payload = items["aksManagedAutoUpgradeSchedule"]["properties"]["maintenanceWindow"]
    parsed = parse_window(payload)
    assert parsed.describe() == "every 3 months on day 15 at 08:30 UTC+00:00 for 5 h, from 2023-01-01"
    assert starts(payload, utc(2023, 1, 1), utc(2024, 2, 1)) == [
        "2023-01-15 08:30 Sun",
        "2023-04-15 08:30 Sat",
        "2023-07-15 08:30 Sat",
        "2023-10-15 08:30 Sun",
        "2024-01-15 08:30 Mon",
    ]
    assert [(f.first_day, f.last_day) for f in freezes(parsed)] == [
        (date(2023, 2, 18), date(2023, 2, 25)),
        (date(2023, 12, 23), date(2024, 1, 5)),
    ]


def test_not_allowed_dates_apply_the_offset() -> None:
    """The spec's own example: +02:00 and 2022-12-23..2023-01-03 block 2022-12-22 22:00 to 2023-01-03 22:00 UTC."""
    payload = window(
        {"daily": {"intervalDays": 1}},
        utcOffset="+02:00",
        notAllowedDates=[{"start": "2022-12-23", "end": "2023-01-03"}],
    )
    (freeze,) = freezes(parse_window(payload))
    assert (freeze.starts, freeze.ends) == (utc(2022, 12, 22, 22), utc(2023, 1, 3, 22))
    days = starts(payload, utc(2022, 12, 21), utc(2023, 1, 6))
    # Local 01:00 at +02:00 is 23:00 UTC the day before; local dates 12-23..01-03 are left out.
    assert days == [
        "2022-12-20 23:00 Tue",
        "2022-12-21 23:00 Wed",
        "2023-01-03 23:00 Tue",
        "2023-01-04 23:00 Wed",
        "2023-01-05 23:00 Thu",
    ]


def test_a_window_running_into_a_freeze_ends_where_it_begins() -> None:
    payload = window(
        {"daily": {"intervalDays": 1}},
        startTime="22:00",
        durationHours=6,
        notAllowedDates=[{"start": "2026-12-24", "end": "2026-12-26"}],
    )
    found = occurrences(parse_window(payload), utc(2026, 12, 22), utc(2026, 12, 28))
    by_day = {o.local_start.date(): o for o in found}
    # 12-21's window is still open at the start; 12-24..26 are frozen; 12-23's runs into the freeze.
    assert sorted(by_day) == [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 27)]
    assert by_day[date(2026, 12, 23)].clipped and by_day[date(2026, 12, 23)].ends == utc(2026, 12, 24)
    assert not by_day[date(2026, 12, 22)].clipped and by_day[date(2026, 12, 22)].hours == 6


def test_weekly_interval_counts_from_the_first_day_of_week_on_or_after_start_date() -> None:
    # Azure/AKS#5720: every 2 weeks on Sunday from Tuesday 2026-04-14 first opens Sunday 2026-04-19.
    payload = window({"weekly": {"intervalWeeks": 2, "dayOfWeek": "Sunday"}}, startDate="2026-04-14")
    assert starts(payload, utc(2026, 4, 1), utc(2026, 5, 20)) == [
        "2026-04-19 01:00 Sun",
        "2026-05-03 01:00 Sun",
        "2026-05-17 01:00 Sun",
    ]
    # Far from the start date the phase holds: 2026-04-19 + 36 weeks.
    assert starts(payload, utc(2026, 12, 20), utc(2027, 1, 5)) == ["2026-12-27 01:00 Sun"]


def test_relative_monthly_nth_and_last_weekday() -> None:
    first = window({"relativeMonthly": {"intervalMonths": 1, "weekIndex": "First", "dayOfWeek": "Monday"}})
    last = window({"relativeMonthly": {"intervalMonths": 1, "weekIndex": "Last", "dayOfWeek": "Friday"}})
    fourth = window({"relativeMonthly": {"intervalMonths": 2, "weekIndex": "Fourth", "dayOfWeek": "Tuesday"}})
    span = (utc(2026, 9, 1), utc(2026, 12, 31))
    assert starts({**first, "startDate": "2026-09-01"}, *span) == [
        "2026-09-07 01:00 Mon",
        "2026-10-05 01:00 Mon",
        "2026-11-02 01:00 Mon",
        "2026-12-07 01:00 Mon",
    ]
    assert starts({**last, "startDate": "2026-09-01"}, *span) == [
        "2026-09-25 01:00 Fri",
        "2026-10-30 01:00 Fri",
        "2026-11-27 01:00 Fri",
        "2026-12-25 01:00 Fri",
    ]
    assert starts({**fourth, "startDate": "2026-09-01"}, *span) == ["2026-09-22 01:00 Tue", "2026-11-24 01:00 Tue"]


def test_absolute_monthly_skips_months_without_the_day() -> None:
    payload = window({"absoluteMonthly": {"intervalMonths": 1, "dayOfMonth": 31}}, startDate="2026-01-05")
    assert [s[:10] for s in starts(payload, utc(2026, 1, 1), utc(2026, 8, 1))] == [
        "2026-01-31",
        "2026-03-31",
        "2026-05-31",
        "2026-07-31",
    ]


def test_interval_months_count_from_the_first_occurrence() -> None:
    # Start 2026-01-20, day 15: January's 15th is before the start, so February opens first, then every 3 months.
    payload = window({"absoluteMonthly": {"intervalMonths": 3, "dayOfMonth": 15}}, startDate="2026-01-20")
    assert [s[:10] for s in starts(payload, utc(2026, 1, 1), utc(2027, 1, 1))] == [
        "2026-02-15",
        "2026-05-15",
        "2026-08-15",
        "2026-11-15",
    ]


def test_nothing_before_start_date_and_phase_flags() -> None:
    dated = window({"daily": {"intervalDays": 2}}, startDate="2026-12-10")
    assert starts(dated, utc(2026, 12, 1), utc(2026, 12, 15)) == [
        "2026-12-10 01:00 Thu",
        "2026-12-12 01:00 Sat",
        "2026-12-14 01:00 Mon",
    ]
    undated = occurrences(parse_window(window({"daily": {"intervalDays": 2}})), utc(2026, 12, 1), utc(2026, 12, 5))
    assert undated and all(o.phase_assumed for o in undated)
    every_week = occurrences(
        parse_window(window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Friday"}})),
        utc(2026, 12, 1),
        utc(2026, 12, 9),
    )
    assert every_week and not any(o.phase_assumed for o in every_week)


def test_an_open_window_at_the_start_is_included() -> None:
    payload = window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Saturday"}}, startTime="23:00", durationHours=8)
    found = occurrences(parse_window(payload), utc(2026, 12, 6, 2), utc(2026, 12, 7))
    assert [o.starts for o in found] == [utc(2026, 12, 5, 23)]


def test_previous_occurrence_and_defaults() -> None:
    parsed = parse_window({"schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Friday"}}, "startTime": "03:00"})
    assert parsed.duration_hours == 24 and parsed.duration_defaulted and parsed.offset_text == "+00:00"
    previous = previous_occurrence(parsed, utc(2026, 12, 4, 3))
    assert previous is not None and previous.starts == utc(2026, 11, 27, 3)
    assert (
        previous_occurrence(
            parse_window(window({"daily": {"intervalDays": 1}}, startDate="2026-12-01")), utc(2026, 12, 1)
        )
        is None
    )


def test_cli_style_nulls_and_case_are_accepted() -> None:
    payload = {
        "schedule": {
            "absoluteMonthly": None,
            "daily": None,
            "relativeMonthly": None,
            "weekly": {"intervalWeeks": 1, "dayOfWeek": "monday"},
        },
        "startTime": "09:00",
        "utcOffset": None,
        "durationHours": 4,
    }
    assert parse_window(payload).describe() == "every week on Monday at 09:00 UTC+00:00 for 4 h"


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ({"startTime": "01:00"}, "schedule is missing"),
        (window({"daily": {"intervalDays": 1}, "weekly": {"intervalWeeks": 1, "dayOfWeek": "Monday"}}), "exactly one"),
        (window({"weekly": {"intervalWeeks": 5, "dayOfWeek": "Monday"}}), "intervalWeeks 5 is outside 1..4"),
        (window({"weekly": {"intervalWeeks": 1, "dayOfWeek": "Funday"}}), "not a day of the week"),
        (window({"daily": {"intervalDays": 0}}), "outside 1..7"),
        (window({"daily": {}}), "intervalDays is missing"),
        (window({"relativeMonthly": {"intervalMonths": 1, "weekIndex": "Fifth", "dayOfWeek": "Monday"}}), "weekIndex"),
        (window({"daily": {"intervalDays": 1}}, startTime="24:00"), "startTime"),
        (window({"daily": {"intervalDays": 1}}, utcOffset="+5:30"), "utcOffset"),
        (window({"daily": {"intervalDays": 1}}, durationHours=2), "durationHours 2 is outside 4..24"),
        (window({"daily": {"intervalDays": 1}}, startDate="next week"), "startDate"),
        (
            window({"daily": {"intervalDays": 1}}, notAllowedDates=[{"start": "2026-12-31", "end": "2026-12-01"}]),
            "ends",
        ),
        (window({"daily": {"intervalDays": True}}), "integer"),
        ("not an object", "not an object"),
    ],
)
def test_bad_windows_say_what_is_wrong(payload: Any, complaint: str) -> None:
    with pytest.raises(WindowError) as raised:
        parse_window(payload)
    assert complaint in str(raised.value)


def test_names_and_ids() -> None:
    assert window_kind("AKSMANAGEDAUTOUPGRADESCHEDULE") == "auto-upgrade"
    assert window_kind("aksManagedNodeOSUpgradeSchedule") == "node-os"
    assert window_kind("default") is None
    assert configuration_id("/subscriptions/s/rg/c", "aksManagedAutoUpgradeSchedule").endswith(
        "/c/maintenanceConfigurations/aksManagedAutoUpgradeSchedule"
    )
