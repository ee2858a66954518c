"""POST /v1/violations/{id}/sanctions refused: each test says what bad input or state was
tried, and checks the problem names the field or the reason, and that nothing was appended."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.corrections import append_correction
from shared.db import unit_of_work
from tests.factories import unique_code
from tests.registry.factories import append_entry, append_settled_violation, days_ago
from tests.registry.sanction_steps import authority, impose, post, problem_fields
from tests.registry.test_violations_api import assert_problem


@pytest.mark.parametrize(
    ("path", "then", "why"),
    [
        (["quashed"], "spent", "a quashed sanction has no effect left"),
        (["quashed"], "stayed", "a quashed sanction has no effect left"),
        (["stayed"], "spent", "a stayed sanction is suspended"),
        ([], "expunged", "it is expunged only once spent or quashed"),
        (["spent", "expunged"], "quashed", "an expunged sanction is closed"),
    ],
    ids=[
        "spent-after-quashed",
        "stayed-after-quashed",
        "spent-while-stayed",
        "expunged-in-force",
        "quashed-after-expunged",
    ],
)
async def test_an_event_that_does_not_follow_from_the_state_is_refused_with_why(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    path: list[str],
    then: str,
    why: str,
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    sanction = await impose(registry_api, violation.id, headers)
    for event in path:
        response = await post(
            registry_api, violation.id, headers, event=event, sanction_id=sanction["sanction_id"]
        )
        assert response.status_code == 201, response.text
    refused = await post(
        registry_api, violation.id, headers, event=then, sanction_id=sanction["sanction_id"]
    )
    problem = assert_problem(refused, 409)
    assert problem["code"] == "sanction-event-not-allowed"
    assert f"cannot be {then}" in problem["detail"] and why in problem["detail"]
    # Nothing was appended for the refused event.
    listed = (
        await registry_api.get(f"/v1/violations/{violation.id}/sanctions", headers=headers)
    ).json()
    assert len(listed["items"][0]["events"]) == 1 + len(path)


@pytest.mark.parametrize(
    ("body", "fields", "code"),
    [
        # A penalty outside the catalogue: unknown, and a real one spelt in lower case.
        ({"penalty_code": "ED2020-FINE"}, ["penalty_code"], "penalty-not-in-catalogue"),
        ({"penalty_code": "ed2020-censure"}, ["penalty_code"], "penalty-not-in-catalogue"),
        # A time-bound penalty without its period; a period on one that is not time-bound.
        ({"penalty_code": "ED2020-WITHHOLD-PROMOTION"}, ["period_months"], "invalid-input"),
        (
            {"penalty_code": "ED2020-DISMISSAL", "period_months": 12},
            ["period_months"],
            "invalid-input",
        ),
        # An imposition without a penalty, or naming a sanction; a period of zero.
        ({"penalty_code": None}, ["penalty_code"], "invalid-input"),
        ({"sanction_id": str(uuid.uuid4())}, ["sanction_id"], "invalid-input"),
        (
            {"penalty_code": "ED2020-WITHHOLD-PROMOTION", "period_months": 0},
            ["period_months"],
            "invalid-input",
        ),
        # Server-owned and unknown fields; an order without a reference, a blank reason.
        ({"department": "OTHER"}, ["department"], "invalid-input"),
        ({"recorded_by_label": "someone else"}, ["recorded_by_label"], "invalid-input"),
        ({"order_reference": "   "}, ["order_reference"], "invalid-input"),
        ({"reasons": ""}, ["reasons"], "invalid-input"),
        ({"event": "revoked"}, ["event"], "invalid-input"),
        # An order dated in the future, or before the violation it sanctions.
        (
            {"order_date": (datetime.now(UTC).date() + timedelta(days=3)).isoformat()},
            ["order_date"],
            "invalid-input",
        ),
        ({"order_date": days_ago(61).isoformat()}, ["order_date"], "invalid-input"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
    fields: list[str],
    code: str,
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    problem = assert_problem(await post(registry_api, violation.id, headers, **body), 422)
    assert (problem["code"], problem_fields(problem)) == (code, fields)
    listed = (
        await registry_api.get(f"/v1/violations/{violation.id}/sanctions", headers=headers)
    ).json()
    assert listed["items"] == []


async def test_later_events_name_a_sanction_of_this_violation_and_keep_its_penalty(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    other = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    sanction = await impose(registry_api, violation.id, headers)
    elsewhere = await impose(registry_api, other.id, headers)
    for tried in (str(uuid.uuid4()), elsewhere["sanction_id"]):
        problem = assert_problem(
            await post(registry_api, violation.id, headers, event="stayed", sanction_id=tried),
            422,
        )
        assert (problem["code"], problem_fields(problem)) == ("unknown-sanction", ["sanction_id"])
    # Tried: a stay naming no sanction, and one that also names a penalty.
    missing = await post(registry_api, violation.id, headers, event="stayed")
    assert problem_fields(assert_problem(missing, 422)) == ["sanction_id"]
    with_penalty = await post(
        registry_api,
        violation.id,
        headers,
        event="stayed",
        sanction_id=sanction["sanction_id"],
        penalty_code="ED2020-CENSURE",
    )
    assert problem_fields(assert_problem(with_penalty, 422)) == ["penalty_code"]
    # Tried: an order dated before the sanction's latest order.
    earlier = await post(
        registry_api,
        violation.id,
        headers,
        event="stayed",
        sanction_id=sanction["sanction_id"],
        order_date=days_ago(11).isoformat(),
    )
    assert problem_fields(assert_problem(earlier, 422)) == ["order_date"]


async def test_a_duplicate_order_reference_for_the_violation_is_refused(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    other = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    sanction = await impose(registry_api, violation.id, headers, order_reference="SO(D)/5-1/2026")
    # Tried: the same order again, and for a stay, in another case and with spaces around it.
    for body in (
        {"order_reference": "SO(D)/5-1/2026"},
        {
            "event": "stayed",
            "sanction_id": sanction["sanction_id"],
            "order_reference": "  so(d)/5-1/2026 ",
        },
    ):
        problem = assert_problem(await post(registry_api, violation.id, headers, **body), 409)
        assert problem["code"] == "duplicate-order-reference"
        assert "SO(D)/5-1/2026" in problem["detail"] or "so(d)/5-1/2026" in problem["detail"]
    # One order may deal with several violations.
    await impose(registry_api, other.id, headers, order_reference="SO(D)/5-1/2026")


async def test_no_sanction_while_the_appeal_window_is_open(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    # Effective 40 days ago: the 30-day window's last day was 10 days ago.
    violation = await append_entry(sessionmaker, department=department, effective_on=days_ago(40))
    headers = await authority(sessionmaker, department)
    for tried in (days_ago(39), days_ago(10)):
        problem = assert_problem(
            await post(registry_api, violation.id, headers, order_date=tried.isoformat()), 409
        )
        assert problem["code"] == "appeal-window-open"
        assert f"runs until {days_ago(10)}" in problem["detail"]
        assert f"from {days_ago(9)}" in problem["detail"]
    await impose(registry_api, violation.id, headers, order_date=days_ago(9).isoformat())


async def test_the_violation_must_be_visible_and_current(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    elsewhere = await append_settled_violation(sessionmaker, department=unique_code("DEPT"))
    cleared = await append_settled_violation(
        sessionmaker, department=department, record_kind="cleared_finding"
    )
    headers = await authority(sessionmaker, department)
    # Tried: no such record, another department's violation, a cleared finding.
    for missing in (uuid.uuid4(), elsewhere.id, cleared.id):
        problem = assert_problem(await post(registry_api, missing, headers), 404)
        assert problem["code"] == "violation-not-found"
    assert_problem(
        await registry_api.get(f"/v1/violations/{elsewhere.id}/sanctions", headers=headers), 404
    )

    async with unit_of_work(sessionmaker) as session:
        correction = await append_correction(
            session,
            supersedes=violation.id,
            reasons="The employee's name was misspelt.",
            corrected_by=uuid.uuid4(),
            employee_name="Sana Malick",
        )
    problem = assert_problem(await post(registry_api, violation.id, headers), 409)
    assert problem["code"] == "violation-not-current"
    assert str(correction.id) in problem["detail"]
    # The current version takes the sanction.
    await impose(registry_api, correction.id, headers)
