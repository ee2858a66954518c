"""Opening a report case with chosen rules, subject and evidence, and reading what review staged
for registry, for the charge tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.service import open_cases_for_report
from services.review.settings import get_settings
from shared.db import unit_of_work
from shared.messages import AllegedSubject, ReportedEvidence
from tests.factories import SeededMember, report_received
from tests.review.steps import clear_for_notice

SCREENSHOT = ReportedEvidence(
    kind="screenshot",
    url="https://facebook.example/posts/123",
    platform_post_id="123",
    author_handle="@kamran",
    description="Screenshot of the post with its comments",
    snapshot_file_id=uuid.uuid4(),
)
ARCHIVE = ReportedEvidence(kind="link", url="https://archive.example/123")


async def open_case_with(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    department: str,
    rules_alleged: tuple[str, ...] = ("CR1964-22",),
    group_administrator: bool = False,
    evidence: list[ReportedEvidence] | None = None,
    evidence_count: int | None = None,
) -> uuid.UUID:
    """review's effect of a report.received message about one subject: returns the case id."""
    report = report_received(department=department, rules_alleged=rules_alleged)
    subject = report.subjects[0].model_dump()
    report = report.model_copy(
        update={
            "subjects": [
                AllegedSubject(**{**subject, "is_group_administrator": group_administrator})
            ],
            "content_excerpt": "The hospital's oxygen plant failed because of the minister.",
            "content_url": "https://facebook.example/posts/123",
            "evidence": evidence,
            "evidence_count": len(evidence) if evidence is not None else (evidence_count or 0),
        }
    )
    async with unit_of_work(sessionmaker) as session:
        cases = await open_cases_for_report(
            session, report=report, settings=get_settings(), correlation_id="test"
        )
    return cases[0].id


async def staged_determination(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> dict[str, Any] | None:
    """The determination.recorded payload review staged for registry, if any."""
    async with sessionmaker() as session:
        payload = await session.scalar(
            text(
                "SELECT envelope->'payload' FROM review.outbox_message "
                "WHERE message_type = 'determination.recorded' "
                "AND envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
    return payload if payload is None else dict(payload)


SCREEN_PATH = "/v1/cases/{case_id}/screen"
# The protected-disclosure screen with the outcome 'proceed', every question answered no.
SCREEN = {
    **{
        question: {"answer": False, "note": "Nothing suggests it."}
        for question in ("whistleblowing", "public_interest", "private_capacity", "already_public")
    },
    "outcome": "proceed",
}


async def serve_notice(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    member: SeededMember,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """Serve the notice, as a member would: where the service has the protected-disclosure
    screen (branch dueprocess), its 'proceed' comes first, as serving a notice requires."""
    paths = (await review_api.get("/openapi.json")).json()["paths"]
    if SCREEN_PATH in paths:
        screened = await review_api.post(
            f"/v1/cases/{case_id}/screen", json=SCREEN, headers=member.headers
        )
        assert screened.status_code in (200, 409), screened.text
    await clear_for_notice(review_api, f"/v1/cases/{case_id}", member.headers)
    return await review_api.post(
        f"/v1/cases/{case_id}/notice", json=body or {}, headers=member.headers
    )
