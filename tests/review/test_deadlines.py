"""Reply windows and stage deadlines count working days: weekends and public holidays do not
count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.deadlines import add_working_days, overdue_before


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


def test_a_case_touched_before_the_cutoff_is_overdue() -> None:
    wednesday = date(2026, 11, 25)
    # Two working days from Monday end on Wednesday: not yet past. From the Friday before, the
    # deadline was Tuesday, and the weekend counts for nothing.
    assert overdue_before(wednesday, 2) == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 23), 2) == wednesday
    assert add_working_days(date(2026, 11, 22), 2) < wednesday


def test_a_holiday_gives_a_case_one_more_day() -> None:
    monday = date(2026, 12, 28)
    christmas = date(2026, 12, 25)
    assert overdue_before(monday, 1) == date(2026, 12, 25)
    assert overdue_before(monday, 1, holidays={christmas}) == date(2026, 12, 24)


@given(
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=30),
    touched_back=st.integers(min_value=0, max_value=60),
)
def test_overdue_means_exactly_that_the_deadline_has_passed(
    today: date, days: int, touched_back: int
) -> None:
    touched_on = today - timedelta(days=touched_back)
    deadline_passed = add_working_days(touched_on, days) < today
    assert (touched_on < overdue_before(today, days)) == deadline_passed
