"""Working-day arithmetic for reply windows: weekends and configured public holidays skipped."""

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
