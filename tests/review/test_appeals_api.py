"""Appeals over review's HTTP API: the unit's secretary (or chair) records the employee's
appeal within the window; an appellate authority of the unit, never the investigator nor the
countersigning chair, decides it; the decision goes to registry through the outbox."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import SeededMember
from tests.review.appeal_steps import add_unit_member, recorded_violation_case
from tests.review.steps import (
    announced_statuses,
    assigned_case,
    case_row,
    execute,
    take_case_to,
)

pytestmark = pytest.mark.usefixtures("catalogue")

GROUNDS = "The post was a private message forwarded without my consent."


def appeal_body(**overrides: Any) -> dict[str, Any]:
    return {"grounds": GROUNDS, "filed_on": date.today().isoformat(), **overrides}


async def file(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember, **body: Any
) -> httpx.Response:
    return await review_api.post(
        f"/v1/cases/{case_id}/appeal", json=appeal_body(**body), headers=member.headers
    )


async def decide(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember, body: dict[str, Any]
) -> httpx.Response:
    return await review_api.post(
        f"/v1/cases/{case_id}/appeal-decision", json=body, headers=member.headers
    )


async def appeal_rows(sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID) -> int:
    async with sessionmaker() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM review.appeal WHERE case_id = :id"), {"id": case_id}
                )
            ).scalar_one()
        )


async def appeal_decided_messages(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope->'payload' FROM review.outbox_message "
                "WHERE message_type = 'appeal.decided' "
                "AND envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
        return [payload for (payload,) in rows]


async def test_secretary_files_and_appellate_authority_sets_aside(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, investigator = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    # The appellate authority sees a case only once it is under appeal.
    case_url = f"/v1/cases/{case_id}"
    assert (await review_api.get(case_url, headers=appellate.headers)).status_code == 404

    filed = await file(review_api, case_id, secretary)
    assert filed.status_code == 201, filed.text
    assert filed.json()["state"] == "appealed"
    assert filed.json()["grounds"] == GROUNDS
    assert filed.json()["outcome"] is None

    # Under appeal, it reads the whole record it decides on: finding, reasons, history.
    listed = await review_api.get("/v1/cases", headers=appellate.headers)
    assert [item["id"] for item in listed.json()["items"]] == [str(case_id)]
    record = await review_api.get(case_url, headers=appellate.headers)
    assert record.status_code == 200, record.text
    assert record.json()["determination"]["finding"] == "violation"
    decided = await decide(
        review_api,
        case_id,
        appellate,
        {"outcome": "set_aside", "reasons": "The message was not published by the employee."},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "appeal_decided"
    assert decided.json()["outcome"] == "set_aside"
    assert decided.json()["decided_by"] == str(appellate.id)

    assert (await case_row(sessionmaker, case_id))["state"] == "appeal_decided"
    statuses = await announced_statuses(sessionmaker, case_id)
    assert statuses[-2:] == ["appealed", "appeal_decided"]
    [message] = await appeal_decided_messages(sessionmaker, case_id)
    assert message["outcome"] == "set_aside"
    assert message["decided_by"] == str(appellate.id)
    # Any member of the unit may read the appeal back; the chair too.
    read = await review_api.get(f"/v1/cases/{case_id}/appeal", headers=unit.chair.headers)
    assert read.status_code == 200 and read.json()["outcome"] == "set_aside"
    # A second decision is refused: the appeal was decided.
    again = await decide(review_api, case_id, appellate, {"outcome": "upheld", "reasons": "x"})
    assert again.status_code == 409
    assert len(await appeal_decided_messages(sessionmaker, case_id)) == 1


async def test_modified_decision_restates_the_rules(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    # The chair may record the appeal as well as the secretary.
    assert (await file(review_api, case_id, unit.chair)).status_code == 201
    decided = await decide(
        review_api,
        case_id,
        appellate,
        {
            "outcome": "modified",
            "reasons": "The finding stands on rule 22 alone.",
            "rules_cited": ["CR1964-22"],
            "finding": "Embarrassing, but no official information was shared.",
        },
    )
    assert decided.status_code == 200, decided.text
    [message] = await appeal_decided_messages(sessionmaker, case_id)
    assert message["modified_rules_cited"] == ["CR1964-22"]
    assert message["modified_finding"].startswith("Embarrassing")


async def test_an_appeal_outside_the_window_is_refused_naming_it(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    # The finding became final 31 days ago; the window is 30 days.
    await execute(
        sessionmaker,
        "UPDATE review.determination SET countersigned_at = now() - interval '31 days' "
        "WHERE case_id = :id",
        id=case_id,
    )
    late = await file(review_api, case_id, secretary)
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "appeal-gate"
    assert "appeal window closed" in late.json()["detail"]
    # Filed on the window's last day, it is in time.
    last_day = (date.today() - timedelta(days=1)).isoformat()
    in_time = await file(review_api, case_id, secretary, filed_on=last_day)
    assert in_time.status_code == 201, in_time.text


async def test_only_a_recorded_violation_can_be_appealed(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A case only determined (not countersigned, not recorded) cannot be appealed.
    unit, case_id, investigator = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, investigator, "determined")
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    early = await file(review_api, case_id, secretary)
    assert early.status_code == 409 and early.json()["code"] == "appeal-gate"
    assert "final violation finding" in early.json()["detail"]
    # A decision with no appeal filed is refused too.
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    undecidable = await decide(
        review_api, case_id, appellate, {"outcome": "upheld", "reasons": "x"}
    )
    assert undecidable.status_code == 409 and undecidable.json()["code"] == "appeal-gate"
    assert await appeal_rows(sessionmaker, case_id) == 0


async def test_an_appeal_is_filed_once(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    assert (await file(review_api, case_id, secretary)).status_code == 201
    second = await file(review_api, case_id, secretary)
    assert second.status_code == 409 and "not already appealed" in second.json()["detail"]
    assert await appeal_rows(sessionmaker, case_id) == 1


async def test_separation_of_duties_refuses_the_investigator_and_the_chair(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, investigator = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    assert (await file(review_api, case_id, secretary)).status_code == 201
    body = {"outcome": "set_aside", "reasons": "I was wrong."}

    by_investigator = await decide(review_api, case_id, investigator, body)
    assert by_investigator.status_code == 403
    assert by_investigator.json()["code"] == "separation-of-duties"
    assert "investigator" in by_investigator.json()["detail"]

    by_chair = await decide(review_api, case_id, unit.chair, body)
    assert by_chair.status_code == 403
    assert by_chair.json()["code"] == "separation-of-duties"
    assert "countersigned" in by_chair.json()["detail"]

    # The secretary is no earlier decider, but no appellate authority either.
    by_secretary = await decide(review_api, case_id, secretary, body)
    assert by_secretary.status_code == 403
    assert by_secretary.json()["code"] == "not-appellate-authority"

    assert (await case_row(sessionmaker, case_id))["state"] == "appealed"
    assert await appeal_decided_messages(sessionmaker, case_id) == []


async def test_who_may_record_an_appeal_and_which_unit(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, investigator = await recorded_violation_case(review_api, sessionmaker)
    # The investigator (an ordinary member) may not record an appeal.
    refused = await file(review_api, case_id, investigator)
    assert refused.status_code == 403 and refused.json()["code"] == "not-appeal-clerk"
    # Another unit's appellate authority does not see the case at all.
    other_unit, _, _ = await recorded_violation_case(review_api, sessionmaker)
    outsider = await add_unit_member(sessionmaker, other_unit, "appellate_authority")
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    assert (await file(review_api, case_id, secretary)).status_code == 201
    hidden = await decide(review_api, case_id, outsider, {"outcome": "upheld", "reasons": "x"})
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("no reasons", {"outcome": "upheld"}),
        ("blank reasons", {"outcome": "upheld", "reasons": "   "}),
        ("an unknown outcome", {"outcome": "quashed", "reasons": "x"}),
        ("an unknown field", {"outcome": "upheld", "reasons": "x", "sanction": "none"}),
        (
            "rules on an upheld finding",
            {"outcome": "upheld", "reasons": "x", "rules_cited": ["CR1964-22"]},
        ),
        ("a modified finding restating nothing", {"outcome": "modified", "reasons": "x"}),
        (
            "a rule never alleged",
            {"outcome": "modified", "reasons": "x", "rules_cited": ["CR1964-99"]},
        ),
    ],
)
async def test_bad_decisions_are_refused_and_store_nothing(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    what: str,
    body: dict[str, Any],
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    assert (await file(review_api, case_id, secretary)).status_code == 201

    refused = await decide(review_api, case_id, appellate, body)
    assert refused.status_code == 422, (what, refused.text)
    assert refused.json()["errors"], what
    assert (await case_row(sessionmaker, case_id))["state"] == "appealed"
    assert await appeal_decided_messages(sessionmaker, case_id) == []
    read = await review_api.get(f"/v1/cases/{case_id}/appeal", headers=secretary.headers)
    assert read.json()["outcome"] is None


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("no grounds", {"filed_on": date.today().isoformat()}),
        ("no date filed", {"grounds": GROUNDS}),
        (
            "a date filed in the future",
            appeal_body(filed_on=(date.today() + timedelta(days=5)).isoformat()),
        ),
        ("a date filed before the finding", appeal_body(filed_on="2020-01-01")),
        ("an unknown field", appeal_body(hearing_requested=True)),
    ],
)
async def test_bad_appeals_are_refused_and_store_nothing(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    what: str,
    body: dict[str, Any],
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    none_yet = await review_api.get(f"/v1/cases/{case_id}/appeal", headers=secretary.headers)
    assert none_yet.status_code == 404 and none_yet.json()["code"] == "appeal-not-found"
    refused = await review_api.post(
        f"/v1/cases/{case_id}/appeal", json=body, headers=secretary.headers
    )
    assert refused.status_code == 422, (what, refused.text)
    assert refused.json()["errors"], what
    assert await appeal_rows(sessionmaker, case_id) == 0
    assert (await case_row(sessionmaker, case_id))["state"] == "recorded"
