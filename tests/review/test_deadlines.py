"""Reply windows count working days: weekends and public holidays do not count."""

from __future__ import annotations

from datetime import date

import pytest

from services.review.cases.deadlines import add_working_days


def test_weekends_are_skipped() -> None:
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(friday, 14) == date(2026, 12, 10)


def test_holidays_are_skipped() -> None:
    monday = date(2026, 12, 21)
    christmas = date(2026, 12, 25)
    assert add_working_days(monday, 4, holidays={christmas}) == date(2026, 12, 28)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 20), -1)
