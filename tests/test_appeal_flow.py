"""An appeal end to end, in one process over the real HTTP apps, queue and database: a report
becomes a recorded violation; the unit's secretary records the employee's appeal; the appellate
authority sets the finding aside; registry appends the appeal outcome that supersedes the
violation, so no sanction can follow; the portal's status follows every step, to closed."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer, create_client, create_unit_with_members, unique_code
from tests.registry.factories import issue_reader
from tests.registry.sanction_steps import authority, post
from tests.review.appeal_steps import add_unit_member
from tests.review.steps import take_case_to
from tests.support import pump
from tests.test_flow import submit, the_assigned_case

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_a_violation_set_aside_on_appeal_is_superseded_in_the_registry(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    report_id = await submit(intake_api, portal)
    await pump(sessionmaker, queue)

    case, investigator = await the_assigned_case(review_api, unit)
    await take_case_to(review_api, case["id"], investigator, "determined")
    countersigned = await review_api.post(
        f"/v1/cases/{case['id']}/countersign", headers=unit.chair.headers
    )
    assert countersigned.status_code == 200, countersigned.text
    await pump(sessionmaker, queue)

    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    [violation] = (await registry_api.get("/v1/violations", headers=auditor)).json()["items"]
    assert violation["status"] == "current"

    filed = await review_api.post(
        f"/v1/cases/{case['id']}/appeal",
        json={"grounds": "The post was not mine.", "filed_on": date.today().isoformat()},
        headers=secretary.headers,
    )
    assert filed.status_code == 201, filed.text
    # The investigator may not decide the appeal against their own finding.
    own = await review_api.post(
        f"/v1/cases/{case['id']}/appeal-decision",
        json={"outcome": "set_aside", "reasons": "On reflection."},
        headers=investigator.headers,
    )
    assert own.status_code == 403 and own.json()["code"] == "separation-of-duties"
    decided = await review_api.post(
        f"/v1/cases/{case['id']}/appeal-decision",
        json={"outcome": "set_aside", "reasons": "The account was shown to be an impostor's."},
        headers=appellate.headers,
    )
    assert decided.status_code == 200, decided.text
    await pump(sessionmaker, queue)

    listed = (await registry_api.get("/v1/violations", headers=auditor)).json()["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(violation["id"], "superseded")]
    current = await registry_api.get(
        "/v1/violations", params={"status": "current"}, headers=auditor
    )
    assert current.json()["items"] == []
    refused = await post(
        registry_api,
        violation["id"],
        await authority(sessionmaker, department),
        order_date=date.today().isoformat(),
    )
    assert refused.status_code == 409 and refused.json()["code"] == "violation-not-current"
    verify = await registry_api.get(
        "/v1/audit/verify", headers=bearer(await issue_reader(sessionmaker))
    )
    assert verify.json()["status"] == "intact"

    status = (await intake_api.get(f"/v1/reports/{report_id}", headers=bearer(portal))).json()
    # The appeal's outcome recorded, nothing more can follow: review closes the case.
    assert [e["status"] for e in status["status_history"]][-5:] == [
        "recorded",
        "appealed",
        "appeal_decided",
        "recorded",
        "closed",
    ]
    assert status["status"] == "closed"
    final_case = await review_api.get(f"/v1/cases/{case['id']}", headers=unit.chair.headers)
    assert final_case.json()["state"] == "closed"
