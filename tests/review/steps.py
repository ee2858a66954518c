"""Driving a case through the procedure over HTTP, and reading what the tests check directly in
review's tables (its state, holder and announcements), for the review tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.settings import ReviewSettings, get_settings
from shared.consumer import WorkerResources
from tests.factories import (
    SeededMember,
    SeededUnit,
    create_unit_with_members,
    open_report_case,
    unique_code,
)


def screen_body(outcome: str = "proceed", reasons: str | None = None) -> dict[str, Any]:
    """The protected-disclosure screen, every question answered no with a note."""
    body: dict[str, Any] = {
        question: {"answer": False, "note": f"Nothing suggests {question.replace('_', ' ')}."}
        for question in ("whistleblowing", "public_interest", "private_capacity", "already_public")
    }
    body["outcome"] = outcome
    if reasons is not None:
        body["reasons"] = reasons
    return body


SCREEN = screen_body()
NOTICE = {"allegations": "Rule 22."}
REPLY = {"statement": "My reply."}
HEARING = {"waived": True, "reason": "The employee asked for no hearing."}
PENALTY = "ED2020-CENSURE"


def findings_on(
    charges: list[dict[str, Any]], *, finding: str = "violation", reasons: str = "Embarrassing."
) -> dict[str, Any]:
    """A determination on these standing charges (as the case's page lists them): each proved
    on all its evidence with the censure recommended (`violation`), or each not proved
    (`cleared`)."""
    proved = finding == "violation"
    return {
        "reasons": reasons,
        "charges": [
            {
                "charge_id": charge["id"],
                "finding": "proved" if proved else "not_proved",
                "reasons": f"Charge {charge['number']} {'is' if proved else 'is not'} made out.",
                "evidence_relied_on": charge["evidence"] if proved else [],
            }
            for charge in charges
            if charge["withdrawn_at"] is None
        ],
        **({"recommended_penalty": PENALTY} if proved else {}),
    }


async def determination_body(
    http: httpx.AsyncClient,
    case_url: str,
    headers: dict[str, str],
    *,
    finding: str = "violation",
    reasons: str = "Embarrassing.",
) -> dict[str, Any]:
    """`findings_on` the standing charges of the case at `case_url`, read as its member."""
    response = await http.get(case_url, headers=headers)
    assert response.status_code == 200, response.text
    return findings_on(response.json()["charges"], finding=finding, reasons=reasons)


async def determine(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    member: SeededMember,
    *,
    finding: str = "violation",
    reasons: str = "Embarrassing.",
) -> httpx.Response:
    """Record a determination with a finding on every standing charge (`findings_on`)."""
    body = await determination_body(
        review_api, f"/v1/cases/{case_id}", member.headers, finding=finding, reasons=reasons
    )
    return await act(review_api, case_id, "determination", member, body)


# The steps in order, each with the state it leaves the case in; the determination's body
# (None) is made from the case's charges when it is taken.
PROCEDURE: tuple[tuple[str, dict[str, Any] | None, str], ...] = (
    ("screen", SCREEN, "in_review"),
    ("notice", NOTICE, "notice_issued"),
    ("reply", REPLY, "reply_received"),
    ("hearing", HEARING, "hearing_concluded"),
    ("determination", None, "determined"),
)


def clearances_for(case: dict[str, Any]) -> dict[str, Any] | None:
    """The clearance for disclosure of every item the case's standing charges rely on that is
    not yet cleared (as the case's page lists them), each confirmed free of identifying details
    and its snapshot reviewed; None when there is nothing to clear."""
    relied_on = {
        number
        for charge in case["charges"]
        if charge["withdrawn_at"] is None
        for number in charge["evidence"]
    }
    items = [
        {
            "number": item["number"],
            "decision": "no_identifying_details",
            **({"snapshot_reviewed": True} if item["snapshot_file_id"] else {}),
        }
        for item in case["evidence"]
        if item["number"] in relied_on and item["disclosure"] != "cleared"
    ]
    return {"items": items} if items else None


async def clear_for_notice(http: httpx.AsyncClient, case_url: str, headers: dict[str, str]) -> None:
    """What a member does before serving the notice: clear for disclosure each item the
    charges rely on. Best effort: whoever may not (another member, the chair, a case past its
    notice) is refused here and then by the notice itself, which the test checks."""
    read = await http.get(case_url, headers=headers)
    if read.status_code != 200:
        return
    body = clearances_for(read.json())
    if body is not None:
        await http.post(f"{case_url}/evidence/clearances", json=body, headers=headers)


async def act(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    step: str,
    member: SeededMember,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """Take a step as `member`; the notice as a member serves it, the evidence its charges
    rely on cleared for disclosure first (`clear_for_notice`)."""
    if step == "notice":
        await clear_for_notice(review_api, f"/v1/cases/{case_id}", member.headers)
    return await review_api.post(f"/v1/cases/{case_id}/{step}", json=body, headers=member.headers)


async def screen_to_proceed(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember
) -> None:
    """The protected-disclosure screen with the outcome 'proceed': what a notice needs."""
    response = await act(review_api, case_id, "screen", member, SCREEN)
    assert response.status_code == 200, response.text


async def assignee_of(
    unit: SeededUnit, case_id: uuid.UUID, review_api: httpx.AsyncClient
) -> SeededMember:
    for member in unit.members:
        if (
            await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)
        ).status_code == 200:
            return member
    raise AssertionError("nobody in the unit sees the case")


async def take_case_to(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember, state: str
) -> dict[str, Any]:
    """Take the steps of the procedure until the case is in `state`; returns the case."""
    for step, body, reached in PROCEDURE:
        if body is None:
            response = await determine(review_api, case_id, member)
        else:
            response = await act(review_api, case_id, step, member, body)
        assert response.status_code == 200, (step, response.text)
        if reached == state:
            case: dict[str, Any] = response.json()
            return case
    raise AssertionError(f"the procedure does not pass through {state}")


async def read_case(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember
) -> dict[str, Any]:
    response = await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def case_row(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> dict[str, Any]:
    async with sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT state, assignee_id, updated_at FROM review.case WHERE id = :id"),
                {"id": case_id},
            )
        ).one()
    return dict(row._mapping)


async def announced_statuses(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[str]:
    """The statuses review has announced to the portal for this case, in order."""
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope->'payload'->>'status' FROM review.outbox_message "
                "WHERE message_type = 'case.status_changed' "
                "AND envelope->'payload'->>'case_id' = :id ORDER BY created_at"
            ),
            {"id": str(case_id)},
        )
        return [status for (status,) in rows]


async def execute(sessionmaker: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> None:
    """A direct change to review's tables: how tests move a date into the past."""
    async with sessionmaker() as session, session.begin():
        await session.execute(text(sql), params)


def worker_ctx(
    sessionmaker: async_sessionmaker[AsyncSession], settings: ReviewSettings | None = None
) -> dict[str, Any]:
    """What arq hands a review job: the worker's resources."""
    return {
        "resources": WorkerResources(
            service="review", settings=settings or get_settings(), sessionmaker=sessionmaker
        )
    }


async def assigned_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[SeededUnit, uuid.UUID, SeededMember]:
    """A new unit over a new department, a case opened there, and the member it went to."""
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    return unit, case_id, await assignee_of(unit, case_id, review_api)
