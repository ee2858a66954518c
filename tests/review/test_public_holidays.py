"""Configured public holidays count like weekends: a notice's reply date and a stage's deadline
both skip them (REVIEW_PUBLIC_HOLIDAYS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.app import create_app
from services.review.cases.deadlines import WEEKEND, add_working_days
from services.review.cases.tasks import sweep_deadlines
from services.review.settings import ReviewSettings, current_settings
from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.review.steps import (
    NOTICE,
    act,
    assignee_of,
    execute,
    read_case,
    screen_to_proceed,
    worker_ctx,
)
from tests.support import api_client

pytestmark = pytest.mark.usefixtures("catalogue")


def working_days_after(start: date, count: int) -> list[date]:
    days: list[date] = []
    current = start
    while len(days) < count:
        current += timedelta(days=1)
        if current.weekday() not in WEEKEND:
            days.append(current)
    return days


async def test_a_notices_reply_date_skips_public_holidays(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    today = datetime.now(UTC).date()
    # Three holidays inside the fourteen working days after today.
    holidays = frozenset(working_days_after(today, 3))
    settings = ReviewSettings(public_holidays=holidays)
    app = create_app()
    app.dependency_overrides[current_settings] = lambda: settings
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    async with api_client(app) as review_api:
        member = await assignee_of(unit, case_id, review_api)
        await screen_to_proceed(review_api, case_id, member)
        served = await act(review_api, case_id, "notice", member, NOTICE)
        assert served.status_code == 200, served.text
        due = (await read_case(review_api, case_id, member))["notice"]["reply_due_on"]
    window = settings.default_reply_window_working_days
    assert date.fromisoformat(due) == add_working_days(today, window, holidays=holidays)
    assert date.fromisoformat(due) > add_working_days(today, window)


async def test_a_stage_deadline_skips_public_holidays(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    today = datetime.now(UTC).date()
    # Untouched for four working days: past the three allowed an assigned case, unless two of
    # those days were public holidays.
    four_working_days_ago = today
    counted = 0
    while counted < 4:
        four_working_days_ago -= timedelta(days=1)
        if four_working_days_ago.weekday() not in WEEKEND:
            counted += 1
    holidays = frozenset(
        day
        for day in (four_working_days_ago + timedelta(days=n) for n in range(1, 8))
        if day.weekday() not in WEEKEND and day < today
    )
    await execute(
        sessionmaker,
        "UPDATE review.case SET updated_at = :at WHERE id = :id",
        at=datetime.combine(four_working_days_ago, datetime.min.time(), tzinfo=UTC),
        id=case_id,
    )

    await sweep_deadlines(worker_ctx(sessionmaker, ReviewSettings(public_holidays=holidays)))
    history = (await read_case(review_api, case_id, unit.chair))["history"]
    assert not any(event["reason"].startswith("escalated") for event in history)

    await sweep_deadlines(worker_ctx(sessionmaker))
    history = (await read_case(review_api, case_id, unit.chair))["history"]
    assert sum(event["reason"].startswith("escalated") for event in history) == 1
