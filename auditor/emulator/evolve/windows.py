"""Occurrences of a maintenance window as the evolution schedules automatic upgrades in them (a simpler
expander than auditor.maintenance_windows: no freezes, monthly schedules every month)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.emulator.evolve.state import (
    month_length,
)
from auditor.emulator.generator import (
    WEEKDAYS,
)


def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    try:
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))
    except ValueError:
        return timedelta()


def window_moments(config: dict[str, Any] | None, after: datetime, until: datetime) -> list[datetime]:
    """Start times (UTC) of a maintenanceWindow configuration's occurrences in (after, until]."""
    window = ((config or {}).get("properties") or {}).get("maintenanceWindow")
    if not isinstance(window, dict):
        return []
    schedule = window.get("schedule") or {}
    hour, _, minute = str(window.get("startTime", "00:00")).partition(":")
    try:
        start_of_day = timedelta(hours=int(hour), minutes=int(minute or 0))
    except ValueError:
        start_of_day = timedelta()
    offset = _offset(str(window.get("utcOffset", "+00:00")))
    try:
        first_day = date.fromisoformat(str(window.get("startDate", "2000-01-01")))
    except ValueError:
        first_day = date(2000, 1, 1)
    moments: list[datetime] = []
    day = (after - timedelta(days=1)).date()
    while day <= until.date() + timedelta(days=1):
        if day >= first_day and _scheduled_on(schedule, day, first_day):
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + start_of_day - offset
            if after < moment <= until:
                moments.append(moment)
        day += timedelta(days=1)
    return moments


def _scheduled_on(schedule: dict[str, Any], day: date, first_day: date) -> bool:
    weekday = WEEKDAYS[(day.weekday() + 1) % 7]
    if "weekly" in schedule:
        weekly = schedule["weekly"] or {}
        interval = max(1, int(weekly.get("intervalWeeks", 1) or 1))
        return bool(weekday == weekly.get("dayOfWeek") and ((day - first_day).days // 7) % interval == 0)
    if "daily" in schedule:
        interval = max(1, int((schedule["daily"] or {}).get("intervalDays", 1) or 1))
        return (day - first_day).days % interval == 0
    if "absoluteMonthly" in schedule:
        return bool(day.day == int((schedule["absoluteMonthly"] or {}).get("dayOfMonth", 1) or 1))
    if "relativeMonthly" in schedule:
        relative = schedule["relativeMonthly"] or {}
        if weekday != relative.get("dayOfWeek"):
            return False
        index = str(relative.get("weekIndex", "First"))
        if index == "Last":
            return day.day + 7 > month_length(day.year, day.month)
        order = (
            ("First", "Second", "Third", "Fourth").index(index)
            if index in ("First", "Second", "Third", "Fourth")
            else 0
        )
        return (day.day - 1) // 7 == order
    return False
