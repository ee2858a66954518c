"""Bitemporal reads: every ledger query answers `as_of` a moment, as the registry stood then. A
record superseded at D shows as current before D and superseded from D on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.corrections import append_correction
from services.registry.ledger.errors import RecordAlreadySuperseded, ViolationNotFound
from services.registry.ledger.models import LedgerRecord
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import (
    append_entry,
    append_settled_violation,
    issue_reader,
    sanction_order,
)
from tests.registry.test_violations_api import assert_problem

INSTANT = timedelta(microseconds=1)


async def correct(
    sessionmaker: async_sessionmaker[AsyncSession], record: LedgerRecord, **changes: Any
) -> LedgerRecord:
    async with unit_of_work(sessionmaker) as session:
        return await append_correction(
            session,
            supersedes=record.id,
            reasons="Corrected on review of the file.",
            corrected_by=uuid.uuid4(),
            **changes,
        )


def moment(value: datetime) -> str:
    return value.isoformat()


async def test_a_record_superseded_at_d_is_current_before_d_and_superseded_after(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    original = await append_entry(sessionmaker, department=department)
    correction = await correct(sessionmaker, original, rules_cited=["CR1964-22"])
    d = correction.recorded_at
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))

    async def listed(**params: str) -> list[tuple[str, str, str | None]]:
        response = await registry_api.get("/v1/violations", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return [
            (item["id"], item["status"], item["superseded_by"]) for item in response.json()["items"]
        ]

    async def one(record: LedgerRecord, at: datetime | None) -> httpx.Response:
        params = {"as_of": moment(at)} if at else {}
        return await registry_api.get(f"/v1/violations/{record.id}", params=params, headers=auditor)

    for before_d in (original.recorded_at, d - INSTANT):
        assert await listed(as_of=moment(before_d)) == [(str(original.id), "current", None)]
        read = (await one(original, before_d)).json()
        assert (read["status"], read["superseded_by"]) == ("current", None)
        assert_problem(await one(correction, before_d), 404)
        assert await listed(as_of=moment(before_d), status="superseded") == []

    for from_d in (d, None):
        params = {"as_of": moment(from_d)} if from_d else {}
        assert await listed(**params) == [
            (str(original.id), "superseded", str(correction.id)),
            (str(correction.id), "current", None),
        ]
        read = (await one(original, from_d)).json()
        assert (read["status"], read["superseded_by"]) == ("superseded", str(correction.id))
        corrected = (await one(correction, from_d)).json()
        assert (corrected["record_kind"], corrected["supersedes_id"], corrected["status"]) == (
            "correction",
            str(original.id),
            "current",
        )
        assert corrected["rules_cited"] == ["CR1964-22"]
        assert corrected["employee_ref"] == original.employee_ref
        assert await listed(**params, status="current") == [(str(correction.id), "current", None)]

    # Before the violation was recorded, the registry knew nothing of it.
    before = original.recorded_at - INSTANT
    assert await listed(as_of=moment(before)) == []
    assert_problem(await one(original, before), 404)


async def test_pages_read_as_of_one_moment_ignore_later_records(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    first, second = [await append_entry(sessionmaker, department=department) for _ in range(2)]
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    page = (await registry_api.get("/v1/violations", params={"limit": 1}, headers=auditor)).json()
    assert [item["id"] for item in page["items"]] == [str(first.id)]
    # Recorded after the first page: not part of the registry as it stood then.
    late = await append_entry(sessionmaker, department=department)
    await correct(sessionmaker, second)
    rest = (
        await registry_api.get(
            "/v1/violations",
            params={"limit": 5, "after": page["next_cursor"], "as_of": page["as_of"]},
            headers=auditor,
        )
    ).json()
    assert [(item["id"], item["status"]) for item in rest["items"]] == [(str(second.id), "current")]
    now = (await registry_api.get("/v1/violations", headers=auditor)).json()
    assert str(late.id) in [item["id"] for item in now["items"]]


async def test_a_sanctions_history_as_of_a_moment(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=department)
    )
    path = f"/v1/violations/{violation.id}/sanctions"
    imposed = await registry_api.post(path, json=sanction_order(), headers=headers)
    assert imposed.status_code == 201, imposed.text
    sanction_id = imposed.json()["sanction_id"]
    stayed = await registry_api.post(
        path, json=sanction_order("stayed", sanction_id=sanction_id), headers=headers
    )
    assert stayed.status_code == 201, stayed.text
    imposed_at = datetime.fromisoformat(imposed.json()["events"][0]["recorded_at"])
    stayed_at = datetime.fromisoformat(stayed.json()["events"][1]["recorded_at"])

    async def history(at: datetime | None) -> dict[str, Any]:
        params = {"as_of": moment(at)} if at else {}
        response = await registry_api.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    assert (await history(imposed_at - INSTANT))["items"] == []
    between = (await history(stayed_at - INSTANT))["items"]
    assert [(s["state"], len(s["events"])) for s in between] == [("in_force", 1)]
    for after in (stayed_at, None):
        assert [(s["state"], len(s["events"])) for s in (await history(after))["items"]] == [
            ("stayed", 2)
        ]
    # The violation itself had not been recorded yet.
    early = await registry_api.get(
        path, params={"as_of": moment(violation.recorded_at - INSTANT)}, headers=headers
    )
    assert_problem(early, 404)


@pytest.mark.parametrize(
    "as_of",
    ["2026-11-23T10:00:00", "yesterday", "2026-13-01T00:00:00+00:00"],
    ids=["without a time zone", "not a timestamp", "no such month"],
)
@pytest.mark.parametrize(
    "path", ["/v1/violations", "/v1/violations/{id}", "/v1/violations/{id}/sanctions"]
)
async def test_as_of_must_be_a_timestamp_with_a_time_zone(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    as_of: str,
    path: str,
) -> None:
    auditor = bearer(await issue_reader(sessionmaker))
    response = await registry_api.get(
        path.format(id=uuid.uuid4()), params={"as_of": as_of}, headers=auditor
    )
    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["as_of"]


async def test_history_stays_linear(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    original = await append_entry(sessionmaker, department=unique_code("DEPT"))
    first = await correct(sessionmaker, original, employee_name="Sana Malick")
    # Tried: correcting the superseded version again, and correcting a cleared finding.
    with pytest.raises(RecordAlreadySuperseded, match=str(first.id)):
        await correct(sessionmaker, original)
    cleared = await append_entry(sessionmaker, record_kind="cleared_finding")
    with pytest.raises(ViolationNotFound):
        await correct(sessionmaker, cleared)
    # A correction of the correction carries the earlier correction's values forward.
    second = await correct(sessionmaker, first, platform="x")
    assert (second.supersedes_id, second.employee_name, second.platform) == (
        first.id,
        "Sana Malick",
        "x",
    )
