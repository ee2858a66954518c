"""Permission cases over HTTP: opened from a request and assigned by the load rule (the applicant
is the subject for conflicts), decided once by the assignee only, with the decision's shape
checked, sent to registry and announced to the portal; the due-process steps refuse them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.permission_factories import open_permission_case
from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    act,
    announced_statuses,
    assignee_of,
    case_row,
    findings_on,
)

pytestmark = pytest.mark.usefixtures("catalogue")

TODAY = datetime.now(UTC).date()
NEXT_YEAR = (TODAY + timedelta(days=365)).isoformat()


def decision(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "decision": "granted_with_conditions",
        "reasons": "Awareness material only; no official information.",
        "conditions": ["No patient photographs", "No comment on departmental policy"],
        "expires_on": NEXT_YEAR,
    }
    body.update(overrides)
    return body


async def decided_messages(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope->'payload' FROM review.outbox_message "
                "WHERE message_type = 'permission.decided' "
                "AND envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
        return [payload for (payload,) in rows]


async def new_permission_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    review_api: httpx.AsyncClient,
    **options: Any,
) -> tuple[Any, uuid.UUID, Any]:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_permission_case(sessionmaker, department=department, **options)
    return unit, case_id, await assignee_of(unit, case_id, review_api)


async def test_a_permission_case_is_assigned_and_announced(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await new_permission_case(sessionmaker, review_api)

    response = await review_api.get(f"/v1/cases/{case_id}/permission", headers=member.headers)

    assert response.status_code == 200, response.text
    case = response.json()
    assert case["state"] == "assigned" and case["assignee_id"] == str(member.id)
    assert case["permission_kind"] == "personal"
    assert case["applicant"]["name"] == "Ayesha Khan"
    assert case["decision"] is None
    assert [event["to_state"] for event in case["history"]] == ["received", "assigned"]
    assert await announced_statuses(sessionmaker, case_id) == ["assigned"]
    # The chair sees it too; the case list shows it as any case.
    chair_view = await review_api.get(f"/v1/cases/{case_id}/permission", headers=unit.chair.headers)
    assert chair_view.status_code == 200
    listed = (await review_api.get("/v1/cases", headers=member.headers)).json()["items"]
    assert [item["kind"] for item in listed] == ["permission"]


async def test_nobody_decides_a_request_from_their_own_office(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    office = f"Office {department}"
    unit = await create_unit_with_members(
        sessionmaker, jurisdiction=[department], member_offices=[office, "Elsewhere"]
    )

    case_id = await open_permission_case(
        sessionmaker, department=department, applicant_office=office
    )

    assert (await assignee_of(unit, case_id, review_api)) == unit.members[1]


async def test_the_assignee_grants_with_conditions_once_and_registry_is_told(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await new_permission_case(sessionmaker, review_api)
    body = decision()

    response = await act(review_api, case_id, "permission-decision", member, body)

    assert response.status_code == 200, response.text
    case = response.json()
    assert case["state"] == "determined"
    assert case["decision"]["decision"] == "granted_with_conditions"
    assert case["decision"]["conditions"] == body["conditions"]
    # valid_from defaults to the (UTC) day the decision was made.
    assert case["decision"]["valid_from"] == case["decision"]["decided_at"][:10]
    assert case["decision"]["expires_on"] == NEXT_YEAR
    assert [event["to_state"] for event in case["history"]] == [
        "received",
        "assigned",
        "in_review",
        "determined",
    ]
    assert await announced_statuses(sessionmaker, case_id) == ["assigned", "determined"]
    [message] = await decided_messages(sessionmaker, case_id)
    assert message["decision"] == "granted_with_conditions"
    assert message["kind"] == "personal"
    assert message["applicant"]["name"] == "Ayesha Khan"
    assert message["conditions"] == body["conditions"]
    assert message["expires_on"] == NEXT_YEAR
    assert message["decided_by"] == str(member.id)

    # A second decision, even a different one, is refused and changes nothing.
    again = await act(
        review_api,
        case_id,
        "permission-decision",
        member,
        decision(decision="refused", conditions=None, expires_on=None),
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "permission-already-decided"
    assert len(await decided_messages(sessionmaker, case_id)) == 1
    assert (await case_row(sessionmaker, case_id))["state"] == "determined"


async def test_an_official_account_is_refused_with_reasons(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await new_permission_case(
        sessionmaker, review_api, kind="official_account"
    )

    response = await act(
        review_api,
        case_id,
        "permission-decision",
        member,
        {"decision": "refused", "reasons": "Only one moderator for a complaints account."},
    )

    assert response.status_code == 200, response.text
    assert response.json()["decision"]["expires_on"] is None
    [message] = await decided_messages(sessionmaker, case_id)
    assert message["decision"] == "refused"
    assert message["kind"] == "official_account"
    assert message["account_purpose"] == "complaints"
    assert [m["employee_ref"] for m in message["moderators"]] == ["EMP-MOD-1"]
    assert message["applicant"] is None and message["expires_on"] is None


async def test_only_the_assignee_decides(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await new_permission_case(sessionmaker, review_api)
    colleague = next(m for m in unit.members if m != member)

    chair = await act(review_api, case_id, "permission-decision", unit.chair, decision())
    stranger = await act(review_api, case_id, "permission-decision", colleague, decision())

    assert chair.status_code == 403 and chair.json()["code"] == "not-assignee"
    assert stranger.status_code == 404
    assert (await case_row(sessionmaker, case_id))["state"] == "assigned"
    assert await decided_messages(sessionmaker, case_id) == []


YESTERDAY = (TODAY - timedelta(days=1)).isoformat()
BAD_DECISIONS: list[tuple[str, dict[str, Any], str]] = [
    ("decision not offered", decision(decision="maybe"), "decision"),
    ("no reasons", {k: v for k, v in decision().items() if k != "reasons"}, "reasons"),
    ("blank reasons", decision(reasons="  "), "reasons"),
    ("conditional grant without conditions", decision(conditions=None), "conditions"),
    ("conditional grant with empty conditions", decision(conditions=[]), "conditions"),
    ("plain grant with conditions", decision(decision="granted"), "conditions"),
    (
        "grant without expiry",
        decision(decision="granted", conditions=None, expires_on=None),
        "expires_on",
    ),
    (
        "expiry before start",
        decision(valid_from=NEXT_YEAR, expires_on=TODAY.isoformat()),
        "expires_on",
    ),
    ("expiry on the start day", decision(valid_from=NEXT_YEAR, expires_on=NEXT_YEAR), "expires_on"),
    ("expiry already past", decision(valid_from="2020-01-01", expires_on=YESTERDAY), "expires_on"),
    ("expiry not a date", decision(expires_on="next year"), "expires_on"),
    ("refusal with expiry", decision(decision="refused", conditions=None), "expires_on"),
    (
        "refusal with a start",
        decision(decision="refused", conditions=None, expires_on=None, valid_from=NEXT_YEAR),
        "valid_from",
    ),
    ("refusal with conditions", decision(decision="refused", expires_on=None), "conditions"),
    ("unknown field", decision(countersigned_by=str(uuid.uuid4())), "countersigned_by"),
]


@pytest.mark.parametrize(
    ("case", "body", "field"), BAD_DECISIONS, ids=[c[0] for c in BAD_DECISIONS]
)
async def test_a_bad_decision_gets_422_naming_the_field_and_changes_nothing(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: dict[str, Any],
    field: str,
) -> None:
    _, case_id, member = await new_permission_case(sessionmaker, review_api)

    response = await act(review_api, case_id, "permission-decision", member, body)

    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}, response.text
    assert (await case_row(sessionmaker, case_id))["state"] == "assigned"
    assert await decided_messages(sessionmaker, case_id) == []
    assert await announced_statuses(sessionmaker, case_id) == ["assigned"]


async def test_due_process_steps_refuse_a_permission_case_and_decisions_a_report_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await new_permission_case(sessionmaker, review_api)

    for step, body in (
        ("notice", NOTICE),
        ("reply", REPLY),
        ("hearing", HEARING),
        (
            "determination",
            findings_on(
                [{"id": str(uuid.uuid4()), "number": 1, "evidence": [1], "withdrawn_at": None}]
            ),
        ),
        ("dismissal", {"reasons": "Nothing to answer."}),
    ):
        response = await act(review_api, case_id, step, member, body)
        assert response.status_code == 409, (step, response.text)
        assert response.json()["code"] == "not-a-due-process-case"
        assert "permission-decision" in response.json()["detail"]
    countersign = await act(review_api, case_id, "countersign", unit.chair)
    assert countersign.status_code == 409
    assert (await case_row(sessionmaker, case_id))["state"] == "assigned"

    report_department = unique_code("DEPT")
    report_unit = await create_unit_with_members(sessionmaker, jurisdiction=[report_department])
    report_case = await open_report_case(sessionmaker, department=report_department)
    investigator = await assignee_of(report_unit, report_case, review_api)
    refused = await act(review_api, report_case, "permission-decision", investigator, decision())
    assert refused.status_code == 409
    assert refused.json()["code"] == "not-a-permission-case"
    read = await review_api.get(f"/v1/cases/{report_case}/permission", headers=investigator.headers)
    assert read.status_code == 409
    assert (await case_row(sessionmaker, report_case))["state"] == "assigned"
