"""AKS maintenance windows (aksManagedAutoUpgradeSchedule, aksManagedNodeOSUpgradeSchedule) parsed from their wire
JSON and expanded into occurrences in UTC: the one expander behind `auditor calendar`, the model's
`maintenance_occurrences` table and the window controls.

Schema (MaintenanceConfiguration.tsp, ENUMS.md): ``maintenanceWindow`` holds ``schedule`` (exactly one of
``daily {intervalDays 1..7}``, ``weekly {intervalWeeks 1..4, dayOfWeek}``, ``absoluteMonthly {intervalMonths 1..6,
dayOfMonth 1..31}``, ``relativeMonthly {intervalMonths 1..6, weekIndex, dayOfWeek}``), ``durationHours`` (4..24,
default 24), ``utcOffset`` (``±HH:MM``, default ``+00:00``), ``startDate``, ``startTime`` (``HH:MM``) and
``notAllowedDates [{start, end}]``.

Semantics (docs/calendar.md has the sources):

- ``startTime``, ``startDate`` and ``notAllowedDates`` are read in the fixed ``utcOffset``; there is no daylight
  saving. Monday 01:00 at +05:30 is Sunday 19:30 UTC.
- The window is inactive before ``startDate``. Intervals count from the first occurrence on or after it: a weekly
  schedule's first occurrence is the first ``dayOfWeek`` on or after ``startDate``, then every ``intervalWeeks``
  weeks (Azure/AKS#5720); a monthly one's is the first matching day on or after ``startDate``, then every
  ``intervalMonths`` months. Without ``startDate`` an interval above 1 has no known phase: it is counted from
  1970-01-01 and the occurrence says so (``phase_assumed``).
- ``relativeMonthly`` ``First``..``Fourth`` is the n-th ``dayOfWeek`` of the month, ``Last`` the last one.
- ``absoluteMonthly`` on a day the month lacks (31 in April) has no occurrence that month (Microsoft does not
  document it; RFC 5545 ``BYMONTHDAY`` skips such months too).
- A not-allowed date span blocks from ``start`` 00:00 to the end of ``end`` in the offset (inclusive): an
  occurrence starting inside it is left out; one that starts before it and runs into it ends where the freeze
  begins (AKS starts no new work then).
"""

from __future__ import annotations

import calendar as _calendar
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

AUTO_UPGRADE = "aksManagedAutoUpgradeSchedule"
NODE_OS_UPGRADE = "aksManagedNodeOSUpgradeSchedule"
# What each managed configuration schedules, in words (planned-maintenance.md).
WINDOW_KINDS = {AUTO_UPGRADE.lower(): "auto-upgrade", NODE_OS_UPGRADE.lower(): "node-os"}

SCHEDULE_KINDS = ("daily", "weekly", "absoluteMonthly", "relativeMonthly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_INDEXES = ("First", "Second", "Third", "Fourth", "Last")
# Allowed ranges of the schedule fields (MaintenanceConfiguration.tsp).
_INTERVALS = {
    "daily": ("intervalDays", 1, 7),
    "weekly": ("intervalWeeks", 1, 4),
    "absoluteMonthly": ("intervalMonths", 1, 6),
    "relativeMonthly": ("intervalMonths", 1, 6),
}
DEFAULT_DURATION_HOURS = 24
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_EPOCH = date(1970, 1, 1)  # the phase of an interval when startDate is absent


class WindowError(ValueError):
    """A maintenanceWindow that cannot be expanded; the message says which field and why."""


@dataclass(frozen=True)
class Freeze:
    """One notAllowedDates span: local dates (inclusive) and the UTC instants it blocks."""

    first_day: date
    last_day: date
    starts: datetime  # UTC, first_day 00:00 in the window's offset
    ends: datetime  # UTC, the day after last_day 00:00 in the offset (exclusive)


@dataclass(frozen=True)
class Occurrence:
    """One opening of a window: UTC instants, and the local start in the window's own offset."""

    starts: datetime  # UTC
    ends: datetime  # UTC (exclusive); earlier than starts + duration when a freeze cuts it short
    local_start: datetime  # in the window's fixed offset
    clipped: bool = False  # ends at the start of a not-allowed span
    phase_assumed: bool = False  # interval > 1 without startDate: the phase is a guess

    @property
    def hours(self) -> float:
        return (self.ends - self.starts).total_seconds() / 3600


@dataclass(frozen=True)
class MaintenanceWindow:
    """A parsed maintenanceWindow."""

    schedule: str  # one of SCHEDULE_KINDS
    interval: int
    day_of_week: int | None  # 0 = Monday (weekly, relativeMonthly)
    day_of_month: int | None  # absoluteMonthly
    week_index: str | None  # relativeMonthly: First..Fourth, Last
    start_date: date | None
    start_time: time
    utc_offset: timedelta
    duration_hours: int
    duration_defaulted: bool
    not_allowed: tuple[tuple[date, date], ...] = ()

    @property
    def tz(self) -> timezone:
        return timezone(self.utc_offset)

    @property
    def offset_text(self) -> str:
        minutes = int(self.utc_offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    @property
    def phase_assumed(self) -> bool:
        return self.start_date is None and self.interval > 1

    @property
    def period(self) -> timedelta:
        """The longest time between two consecutive occurrences when nothing is frozen."""
        if self.schedule == "daily":
            return timedelta(days=self.interval)
        if self.schedule == "weekly":
            return timedelta(weeks=self.interval)
        # A monthly day can move by up to a week month to month (relativeMonthly), and a skipped short month
        # (absoluteMonthly 31) doubles the gap: bound it generously.
        return timedelta(days=31 * self.interval + 31)

    def describe(self) -> str:
        """The schedule in words: 'every 2 weeks on Friday at 00:00 UTC+05:30 for 8 h'."""
        every = {1: ""}.get(self.interval, f"{self.interval} ")
        if self.schedule == "daily":
            what = f"every {every}day" + ("s" if self.interval > 1 else "")
        elif self.schedule == "weekly":
            what = f"every {every}week" + ("s" if self.interval > 1 else "")
            what += f" on {WEEKDAYS[self.day_of_week or 0]}"
        elif self.schedule == "absoluteMonthly":
            what = f"every {every}month" + ("s" if self.interval > 1 else "") + f" on day {self.day_of_month}"
        else:
            what = f"every {every}month" + ("s" if self.interval > 1 else "")
            what += f" on the {(self.week_index or '').lower()} {WEEKDAYS[self.day_of_week or 0]}"
        text = f"{what} at {self.start_time:%H:%M} UTC{self.offset_text} for {self.duration_hours} h"
        if self.start_date:
            text += f", from {self.start_date.isoformat()}"
        return text


# ------------------------------------------------------------------------------------------------ parsing


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise WindowError(f"{field} must be a string, not {type(value).__name__}")
    return value.strip()


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WindowError(f"{field} must be an integer")
    try:
        number = int(value)
    except ValueError as exc:
        raise WindowError(f"{field} {value!r} is not an integer") from exc
    if not low <= number <= high:
        raise WindowError(f"{field} {number} is outside {low}..{high}")
    return number


def _day(value: Any, field: str) -> date:
    text = _text(value, field)
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError as exc:
        raise WindowError(f"{field} {text!r} is not a date (YYYY-MM-DD)") from exc


def _weekday(value: Any, field: str) -> int:
    text = _text(value, field)
    for number, name in enumerate(WEEKDAYS):
        if text.lower() == name.lower():
            return number
    raise WindowError(f"{field} {text!r} is not a day of the week")


def parse_window(payload: Any) -> MaintenanceWindow:
    """A maintenanceWindow object (wire JSON) as a MaintenanceWindow; WindowError names what is wrong."""
    if not isinstance(payload, Mapping):
        raise WindowError("maintenanceWindow is not an object")
    schedule = payload.get("schedule")
    if not isinstance(schedule, Mapping):
        raise WindowError("schedule is missing")
    # The SDK and the CLI print the unused kinds as null: only the ones holding an object count.
    kinds = [k for k in SCHEDULE_KINDS if isinstance(schedule.get(k), Mapping)]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none of daily, weekly, absoluteMonthly, relativeMonthly"
        raise WindowError(f"schedule must hold exactly one kind, found {found}")
    kind = kinds[0]
    body: Mapping[str, Any] = schedule[kind]
    interval_field, low, high = _INTERVALS[kind]
    if body.get(interval_field) is None:
        raise WindowError(f"{kind}.{interval_field} is missing")
    interval = _integer(body.get(interval_field), f"{kind}.{interval_field}", low, high)
    day_of_week = day_of_month = None
    week_index = None
    if kind in ("weekly", "relativeMonthly"):
        day_of_week = _weekday(body.get("dayOfWeek"), f"{kind}.dayOfWeek")
    if kind == "absoluteMonthly":
        day_of_month = _integer(body.get("dayOfMonth"), "absoluteMonthly.dayOfMonth", 1, 31)
    if kind == "relativeMonthly":
        index = _text(body.get("weekIndex"), "relativeMonthly.weekIndex")
        matched = [w for w in WEEK_INDEXES if w.lower() == index.lower()]
        if not matched:
            raise WindowError(f"relativeMonthly.weekIndex {index!r} is not one of {', '.join(WEEK_INDEXES)}")
        week_index = matched[0]
    start_time_text = _text(payload.get("startTime"), "startTime") if payload.get("startTime") is not None else ""
    clock = _TIME.match(start_time_text)
    if not clock or int(clock[1]) > 23 or int(clock[2]) > 59:
        raise WindowError(f"startTime {start_time_text or 'missing'!r} is not HH:MM between 00:00 and 23:59")
    offset_text = payload.get("utcOffset")
    offset_text = "+00:00" if offset_text in (None, "") else _text(offset_text, "utcOffset")
    offset = _OFFSET.match(offset_text)
    if not offset or int(offset[2]) > 14 or int(offset[3]) > 59:
        raise WindowError(f"utcOffset {offset_text!r} is not ±HH:MM")
    sign = -1 if offset[1] == "-" else 1
    utc_offset = sign * timedelta(hours=int(offset[2]), minutes=int(offset[3]))
    raw_duration = payload.get("durationHours")
    duration = DEFAULT_DURATION_HOURS if raw_duration is None else _integer(raw_duration, "durationHours", 4, 24)
    start_date = None if payload.get("startDate") in (None, "") else _day(payload.get("startDate"), "startDate")
    spans: list[tuple[date, date]] = []
    raw_spans = payload.get("notAllowedDates") or []
    if not isinstance(raw_spans, list):
        raise WindowError("notAllowedDates must be a list")
    for number, span in enumerate(raw_spans):
        if not isinstance(span, Mapping):
            raise WindowError(f"notAllowedDates[{number}] is not an object")
        first = _day(span.get("start"), f"notAllowedDates[{number}].start")
        last = _day(span.get("end"), f"notAllowedDates[{number}].end")
        if last < first:
            raise WindowError(f"notAllowedDates[{number}] ends ({last}) before it starts ({first})")
        spans.append((first, last))
    return MaintenanceWindow(
        schedule=kind,
        interval=interval,
        day_of_week=day_of_week,
        day_of_month=day_of_month,
        week_index=week_index,
        start_date=start_date,
        start_time=time(int(clock[1]), int(clock[2])),
        utc_offset=utc_offset,
        duration_hours=duration,
        duration_defaulted=raw_duration is None,
        not_allowed=tuple(sorted(spans)),
    )


# ------------------------------------------------------------------------------------------------ expansion


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _day_in_month(window: MaintenanceWindow, year: int, month: int) -> date | None:
    """The schedule's day in one month, or None when the month has no such day."""
    days = _calendar.monthrange(year, month)[1]
    if window.schedule == "absoluteMonthly":
        day = window.day_of_month or 1
        return date(year, month, day) if day <= days else None
    weekday = window.day_of_week or 0
    if window.week_index == "Last":
        last = date(year, month, days)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    nth = WEEK_INDEXES.index(window.week_index or "First")
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * nth)


def _first_day(window: MaintenanceWindow) -> date:
    """The first occurrence's local date: on or after startDate (or the epoch, when it is absent)."""
    anchor = window.start_date or _EPOCH
    if window.schedule == "daily":
        return anchor
    if window.schedule == "weekly":
        return anchor + timedelta(days=((window.day_of_week or 0) - anchor.weekday()) % 7)
    year, month = anchor.year, anchor.month
    for _ in range(24):  # a day 29..31 is found within a year; a weekday within a month
        day = _day_in_month(window, year, month)
        if day is not None and day >= anchor:
            return day
        year, month = _add_months(year, month, 1)
    raise WindowError("no occurrence within two years of startDate")  # unreachable for valid days


def _days_between(window: MaintenanceWindow, first: date, since: date) -> Iterator[date]:
    """Local occurrence dates of the schedule from the one at or just before `since`, onwards (unbounded)."""
    if window.schedule in ("daily", "weekly"):
        step = window.interval * (1 if window.schedule == "daily" else 7)
        skip = max(0, (since - first).days // step - 1)
        day = first + timedelta(days=skip * step)
        while True:
            yield day
            day += timedelta(days=step)
    months_since = (since.year - first.year) * 12 + since.month - first.month
    k = max(0, months_since // window.interval - 1)
    while True:
        year, month = _add_months(first.year, first.month, k * window.interval)
        found = first if k == 0 else _day_in_month(window, year, month)
        if found is not None:
            yield found
        k += 1


def freezes(window: MaintenanceWindow) -> list[Freeze]:
    """Every not-allowed span with the UTC instants it blocks."""
    tz = window.tz
    return [
        Freeze(
            first,
            last,
            datetime.combine(first, time(0), tz).astimezone(UTC),
            datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC),
        )
        for first, last in window.not_allowed
    ]


def occurrences(window: MaintenanceWindow, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences that are open at some instant of [start, end) (aware datetimes), oldest first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    tz = window.tz
    duration = timedelta(hours=window.duration_hours)
    blocked = freezes(window)
    first = _first_day(window)
    # Local dates whose windows can reach into [start, end): from a day before `start - duration` on.
    since = (start - duration).astimezone(tz).date() - timedelta(days=1)
    found: list[Occurrence] = []
    for day in _days_between(window, first, since):
        local = datetime.combine(day, window.start_time, tz)
        begins = local.astimezone(UTC)
        if begins >= end:
            break
        if day < first:
            continue
        finishes = begins + duration
        clipped = False
        if any(f.first_day <= day <= f.last_day for f in blocked):
            continue
        for freeze in blocked:
            if begins < freeze.starts < finishes:
                finishes, clipped = freeze.starts, True
        if finishes <= start:
            continue
        found.append(Occurrence(begins, finishes, local, clipped, window.phase_assumed))
    return found


def previous_occurrence(window: MaintenanceWindow, before: datetime, limit_days: int = 800) -> Occurrence | None:
    """The last occurrence that began before `before` (searched back up to limit_days), None when there was none."""
    low = before - timedelta(days=limit_days)
    step = window.period * 2
    end = before
    while end > low:
        begin = max(low, end - step)
        found = [o for o in occurrences(window, begin, end) if o.starts < before]
        if found:
            return found[-1]
        end = begin
    return None


@lru_cache(maxsize=4096)
def _cached(payload_key: str) -> MaintenanceWindow | WindowError:
    try:
        return parse_window(json.loads(payload_key))
    except WindowError as exc:
        return exc


def parse_cached(payload_json: str) -> MaintenanceWindow:
    """parse_window over a JSON text, memoised: a fleet repeats the same few windows many times."""
    result = _cached(payload_json)
    if isinstance(result, WindowError):
        raise result
    return result


def window_kind(config_name: str) -> str | None:
    """'auto-upgrade' or 'node-os' for the two managed configurations (any case), None otherwise."""
    return WINDOW_KINDS.get(config_name.lower())


def configuration_id(cluster_id: str, config_name: str) -> str:
    """The configuration's ARM id, built from the cluster's: payload ids are not reliable (the 2026-05-01 list
    example gives both items the id of 'default')."""
    return f"{cluster_id}/maintenanceConfigurations/{config_name}"
