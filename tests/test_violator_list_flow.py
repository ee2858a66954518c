"""An MTI's violator list in one process: the institution posts it to intake, each accepted row
opens one institutional-finding case in review for the unit covering the institution, and each
row's status on intake follows its case. A rejected row opens nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    unique_code,
    violator_row,
)
from tests.support import pump

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_each_accepted_row_becomes_one_case_for_confirmation(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    institution = unique_code("MTI")
    mti = bearer(
        await create_client(
            sessionmaker,
            organisation_code=institution,
            organisation_kind="institution",
            scopes=("violator-lists:write", "status:read"),
        )
    )
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[institution])
    rows = [
        violator_row(1),
        violator_row(2, notice_and_reply_on_record=True),
        # Tried: a rule not in the catalogue; the row is rejected and opens nothing.
        violator_row(3, rule="NO-SUCH-RULE"),
    ]
    posted = await intake_api.post(
        "/v1/violator-lists", json={"batch_key": uuid.uuid4().hex, "rows": rows}, headers=mti
    )
    assert posted.status_code == 201, posted.text
    batch = posted.json()
    assert (batch["accepted"], batch["rejected"]) == (2, 1)

    await pump(sessionmaker, queue)

    cases: list[dict[str, Any]] = []
    for member in unit.members:
        listed = await review_api.get("/v1/cases", headers=member.headers)
        for item in listed.json()["items"]:
            read = await review_api.get(f"/v1/cases/{item['id']}", headers=member.headers)
            cases.append(read.json())
    assert len(cases) == 2
    assert {case["kind"] for case in cases} == {"institutional_finding"}
    findings = {case["institutional_finding"]["row_number"]: case for case in cases}
    assert set(findings) == {1, 2}
    assert findings[2]["institutional_finding"]["notice_and_reply_on_record"] is True
    assert findings[1]["institutional_finding"]["institution"] == institution
    assert findings[1]["state"] == "assigned"

    entries = await intake_api.get(f"/v1/violator-lists/{batch['id']}/entries", headers=mti)
    assert entries.status_code == 200, entries.text
    assert sorted(entry["row_number"] for entry in entries.json()["items"]) == [1, 2]
    # Each entry's status follows its case; who reviews it is never shown.
    assert {entry["status"] for entry in entries.json()["items"]} == {"assigned"}
    assert "assignee" not in entries.text
