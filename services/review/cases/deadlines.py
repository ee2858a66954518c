"""Working-day arithmetic for reply windows and stage deadlines: weekends and configured public
holidays skipped."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


def add_working_days(start: date, days: int, *, holidays: Collection[date] = ()) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if current.weekday() not in WEEKEND and current not in holidays:
            remaining -= 1
    return current


def overdue_before(today: date, days: int, *, holidays: Collection[date] = ()) -> date:
    """The first day whose deadline of `days` working days has not yet passed today.

    A case last touched on day D is overdue today when its deadline, `days` working days
    after D, is already behind us. The deadline moves forward with D, so overdue is exactly
    "touched before the returned day", which a database index can answer for every case at
    once.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    touched_on = today
    while add_working_days(touched_on - timedelta(days=1), days, holidays=holidays) >= today:
        touched_on -= timedelta(days=1)
    return touched_on


def working_days_between(start: date, end: date, *, holidays: Collection[date] = ()) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() not in WEEKEND and current not in holidays:
            days += 1
    return days
