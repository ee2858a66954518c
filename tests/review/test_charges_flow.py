"""Charges end to end: a portal's report crosses the queue to review, where its charges are
drafted (the group administrator's liability its own); the notice and its disclosure bundle
show nothing of the reporter; the findings per charge reach registry, whose violation cites the
rules of the proved charges."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.registry.factories import issue_reader
from tests.review.charge_steps import serve_notice
from tests.review.steps import HEARING, REPLY, act, assignee_of
from tests.support import pump

pytestmark = pytest.mark.usefixtures("catalogue")

REPORTER = {"employee_ref": "EMP-WHISTLE-7731", "name": "Naila Qureshi", "office": "Vigilance Cell"}


async def test_a_reports_charges_go_through_notice_and_finding_to_the_registry(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    body = report_body(
        reporter=REPORTER,
        rules_alleged=["CR1964-22", "NOTIF-MISLEADING-INFORMATION"],
    )
    body["subjects"][0]["is_group_administrator"] = True
    body["evidence"][0]["captured_by"] = REPORTER["name"]
    submitted = await intake_api.post("/v1/reports", json=body, headers=bearer(portal))
    assert submitted.status_code == 202, submitted.text
    await pump(sessionmaker, queue)

    async with sessionmaker() as session:
        case_id = await session.scalar(
            text("SELECT id FROM review.case WHERE submission_id = :id"),
            {"id": submitted.json()["id"]},
        )
        reporter_refs = (
            await session.execute(
                text("SELECT reporter_ref, reporter_office_ref FROM review.case WHERE id = :id"),
                {"id": case_id},
            )
        ).one()
    member = await assignee_of(unit, case_id, review_api)
    case = (await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)).json()
    assert [(c["rule"], c["basis"]) for c in case["charges"]] == [
        ("CR1964-22", "alleged"),
        ("NOTIF-MISLEADING-INFORMATION", "alleged"),
        ("NOTIF-GROUP-ADMINISTRATOR", "group_administrator"),
    ]
    assert [item["number"] for item in case["evidence"]] == [1, 2]

    served = await serve_notice(review_api, case_id, member)
    assert served.status_code == 200, served.text
    bundle = await review_api.get(f"/v1/cases/{case_id}/notice/bundle", headers=member.headers)
    assert bundle.status_code == 200, bundle.text
    disclosed = served.text + bundle.text
    for identifying in (*REPORTER.values(), *reporter_refs):
        assert identifying not in disclosed, identifying

    for step, step_body in (("reply", REPLY), ("hearing", HEARING)):
        assert (await act(review_api, case_id, step, member, step_body)).status_code == 200
    rule22, misleading, admin = case["charges"]

    def finding(charge: dict[str, Any], value: str) -> dict[str, Any]:
        relied = [1] if value == "proved" else []
        return {
            "charge_id": charge["id"],
            "finding": value,
            "reasons": "As the evidence shows.",
            "evidence_relied_on": relied,
        }

    determined = await act(
        review_api,
        case_id,
        "determination",
        member,
        {
            "reasons": "The post embarrasses the government; nothing in it is shown false.",
            "charges": [
                finding(rule22, "proved"),
                finding(misleading, "not_proved"),
                finding(admin, "proved"),
            ],
            "recommended_penalty": "ED2020-WITHHOLD-INCREMENT",
        },
    )
    assert determined.status_code == 200, determined.text
    assert (await act(review_api, case_id, "countersign", unit.chair)).status_code == 200
    await pump(sessionmaker, queue)

    auditor = await issue_reader(sessionmaker, organisation_code=department)
    violations = (await registry_api.get("/v1/violations", headers=bearer(auditor))).json()
    assert [v["rules_cited"] for v in violations["items"]] == [
        ["CR1964-22", "NOTIF-GROUP-ADMINISTRATOR"]
    ]
    recorded = (await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)).json()
    assert recorded["state"] == "recorded"
