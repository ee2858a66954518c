"""Renewal reminders: a grant nearing its expiry is noted on its case once, however often the
job runs; a grant far from expiry, an expired one, and a refusal are not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.permissions.tasks import send_renewal_reminders
from services.review.settings import get_settings
from tests.factories import create_unit_with_members, unique_code
from tests.permission_factories import open_permission_case
from tests.review.steps import act, announced_statuses, assignee_of, execute, worker_ctx

pytestmark = pytest.mark.usefixtures("catalogue")

TODAY = datetime.now(UTC).date()


async def decided_case(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
) -> tuple[uuid.UUID, Any]:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_permission_case(sessionmaker, department=department)
    member = await assignee_of(unit, case_id, review_api)
    response = await act(review_api, case_id, "permission-decision", member, body)
    assert response.status_code == 200, response.text
    return case_id, member


async def reminders_on(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: Any
) -> tuple[list[str], Any]:
    case = (await review_api.get(f"/v1/cases/{case_id}/permission", headers=member.headers)).json()
    notes = [e["reason"] for e in case["history"] if e["reason"].startswith("renewal reminder")]
    return notes, case["decision"]["renewal_reminded_at"]


def grant(expires_in_days: int) -> dict[str, Any]:
    return {
        "decision": "granted",
        "reasons": "Awareness material.",
        "expires_on": (TODAY + timedelta(days=expires_in_days)).isoformat(),
    }


async def test_a_grant_nearing_expiry_is_reminded_once(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    window = get_settings().permission_renewal_reminder_days
    due, member = await decided_case(review_api, sessionmaker, grant(window - 1))
    distant, distant_member = await decided_case(review_api, sessionmaker, grant(window + 30))
    refused, refused_member = await decided_case(
        review_api, sessionmaker, {"decision": "refused", "reasons": "No purpose shown."}
    )
    expired, expired_member = await decided_case(review_api, sessionmaker, grant(5))
    # A grant that lapsed before anyone swept for it is past reminding.
    await execute(
        sessionmaker,
        "UPDATE review.permission_decision SET valid_from = :start, expires_on = :end "
        "WHERE case_id = :id",
        start=TODAY - timedelta(days=60),
        end=TODAY - timedelta(days=1),
        id=expired,
    )

    first = await send_renewal_reminders(worker_ctx(sessionmaker))
    second = await send_renewal_reminders(worker_ctx(sessionmaker))

    assert first >= 1 and second == 0
    notes, reminded_at = await reminders_on(review_api, due, member)
    assert len(notes) == 1 and str(TODAY + timedelta(days=window - 1)) in notes[0]
    assert reminded_at is not None
    # The department's portal is told once: the request's status becomes "renewal_due".
    assert (await announced_statuses(sessionmaker, due)).count("renewal_due") == 1
    for quiet in (distant, refused, expired):
        assert "renewal_due" not in await announced_statuses(sessionmaker, quiet)
    for case_id, who in (
        (distant, distant_member),
        (expired, expired_member),
    ):
        assert await reminders_on(review_api, case_id, who) == ([], None)
    refused_case = (
        await review_api.get(f"/v1/cases/{refused}/permission", headers=refused_member.headers)
    ).json()
    assert not [e for e in refused_case["history"] if "renewal" in e["reason"]]
