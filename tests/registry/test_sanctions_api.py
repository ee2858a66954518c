"""POST and GET /v1/violations/{id}/sanctions when all goes well: a competent authority imposes
and follows a sanction through its life, each event attributed to its credential and chained in
the ledger; who may do what; keyset pages. Refusals: test_sanction_refusals_api.py."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.models import LedgerRecord
from services.registry.readers.models import ReaderCredential
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import (
    append_settled_violation,
    days_ago,
    issue_reader,
    sanction_order,
)
from tests.registry.sanction_steps import authority, impose, post
from tests.registry.test_violations_api import assert_problem


async def test_an_authority_imposes_a_sanction_attributed_to_its_credential(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    token = await issue_reader(
        sessionmaker, role="competent_authority", organisation_code=department
    )
    order = sanction_order(order_reference="SO(D)/17-3/2026")
    response = await registry_api.post(
        f"/v1/violations/{violation.id}/sanctions", json=order, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    sanction = response.json()
    assert sanction["violation_id"] == str(violation.id)
    assert (sanction["state"], sanction["penalty_code"], sanction["period_months"]) == (
        "in_force",
        "ED2020-CENSURE",
        None,
    )
    assert sanction["penalty_catalogue_version"] == 1
    [event] = sanction["events"]
    assert event["id"] == sanction["sanction_id"]
    assert (event["event"], event["order_reference"], event["order_date"]) == (
        "imposed",
        "SO(D)/17-3/2026",
        order["order_date"],
    )
    async with sessionmaker() as session:
        credential = await session.scalar(
            select(ReaderCredential).where(ReaderCredential.key_id == token.split(".")[0])
        )
        stored = await session.get_one(LedgerRecord, uuid.UUID(event["id"]))
    assert credential is not None
    assert event["recorded_by_id"] == str(credential.id)
    assert event["recorded_by_label"] == credential.label
    assert (stored.record_kind, stored.department, stored.case_id) == (
        "sanction_event",
        department,
        violation.case_id,
    )
    # The event carries no copy of the employee's personal data: it points at the violation.
    assert (stored.employee_ref, stored.employee_name, stored.violation_id) == (
        None,
        None,
        violation.id,
    )

    listed = await registry_api.get(
        f"/v1/violations/{violation.id}/sanctions", headers=bearer(token)
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [sanction]


async def test_a_sanction_is_stayed_varied_spent_and_expunged(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    sanction = await impose(
        registry_api,
        violation.id,
        headers,
        penalty_code="ED2020-WITHHOLD-INCREMENT",
        period_months=24,
        order_date=days_ago(25).isoformat(),
    )
    steps: list[tuple[dict[str, Any], str, int | None]] = [
        ({"event": "stayed"}, "stayed", 24),
        (
            {"event": "varied", "penalty_code": "ED2020-WITHHOLD-INCREMENT", "period_months": 12},
            "in_force",
            12,
        ),
        ({"event": "varied", "penalty_code": "ED2020-CENSURE"}, "in_force", None),
        ({"event": "spent"}, "spent", None),
        ({"event": "expunged"}, "expunged", None),
    ]
    for day, (body, state, period) in enumerate(steps):
        response = await post(
            registry_api,
            violation.id,
            headers,
            sanction_id=sanction["sanction_id"],
            order_date=days_ago(20 - day).isoformat(),
            **body,
        )
        assert response.status_code == 201, (body, response.text)
        assert (response.json()["state"], response.json()["period_months"]) == (state, period)
    history = (
        await registry_api.get(f"/v1/violations/{violation.id}/sanctions", headers=headers)
    ).json()
    [listed] = history["items"]
    assert [event["event"] for event in listed["events"]] == [
        "imposed",
        "stayed",
        "varied",
        "varied",
        "spent",
        "expunged",
    ]
    assert (listed["state"], listed["penalty_code"]) == ("expunged", "ED2020-CENSURE")
    sequences = [event["sequence"] for event in listed["events"]]
    assert sequences == sorted(sequences)


async def test_only_a_competent_authority_records_and_dashboards_do_not_read(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    path = f"/v1/violations/{violation.id}/sanctions"
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    dashboard = bearer(await issue_reader(sessionmaker, role="dashboard"))
    for headers in (auditor, dashboard):
        problem = assert_problem(await post(registry_api, violation.id, headers), 403)
        assert problem["code"] == "role-not-allowed"
    assert_problem(await registry_api.get(path, headers=dashboard), 403)
    assert_problem(await post(registry_api, violation.id, {}), 401)
    assert (await registry_api.get(path, headers=auditor)).status_code == 200
    # An authority bound to no department may sanction in any.
    await impose(registry_api, violation.id, await authority(sessionmaker, None))


async def test_sanctions_come_in_keyset_pages_in_the_order_imposed(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    imposed = [(await impose(registry_api, violation.id, headers))["sanction_id"] for _ in range(3)]
    path = f"/v1/violations/{violation.id}/sanctions"
    first = (await registry_api.get(path, params={"limit": 2}, headers=headers)).json()
    assert [item["sanction_id"] for item in first["items"]] == imposed[:2]
    assert first["next_cursor"] == first["items"][1]["events"][0]["sequence"]
    second = (
        await registry_api.get(
            path,
            params={"limit": 2, "after": first["next_cursor"], "as_of": first["as_of"]},
            headers=headers,
        )
    ).json()
    assert [item["sanction_id"] for item in second["items"]] == imposed[2:]
    assert second["next_cursor"] is None


async def test_sanction_events_are_chained_and_a_tampered_one_is_named(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    violation = await append_settled_violation(sessionmaker, department=department)
    headers = await authority(sessionmaker, department)
    sanction = await impose(registry_api, violation.id, headers)
    auditor = bearer(await issue_reader(sessionmaker))
    assert (await registry_api.get("/v1/audit/verify", headers=auditor)).json()[
        "status"
    ] == "intact"

    async def set_penalty(code: str) -> None:
        # What a superuser could do: switch the append-only trigger off and rewrite the order.
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                text("ALTER TABLE registry.ledger_record DISABLE TRIGGER ledger_record_append_only")
            )
            await session.execute(
                text("UPDATE registry.ledger_record SET penalty_code = :code WHERE id = :id"),
                {"code": code, "id": uuid.UUID(sanction["sanction_id"])},
            )
            await session.execute(
                text("ALTER TABLE registry.ledger_record ENABLE TRIGGER ledger_record_append_only")
            )

    await set_penalty("ED2020-DISMISSAL")
    try:
        verification = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
        assert verification["status"] == "broken"
        assert verification["first_broken"]["id"] == sanction["sanction_id"]
        assert "content" in verification["first_broken"]["reason"]
    finally:
        # The run's database is shared by every test: put the record back as it was.
        await set_penalty("ED2020-CENSURE")
    restored = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
    assert restored["status"] == "intact"
