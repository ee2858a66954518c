"""Retention by outcome, end to end over the registry's HTTP API: a dry run lists what is due
and changes nothing; a run purges exactly that, records the purge in the ledger and leaves the
chain intact; a second run purges nothing more; a record not yet due is untouched; and the
database refuses any other change, while a superuser's change to a purged row is still named
by verify.

Each test works in a department of its own, with an auditor bound to it, so that runs of one
test never reach the records of another."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.entries import AppealOutcomeEntry
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_record
from services.registry.retention import service as retention_service
from services.registry.retention.tasks import apply_retention_policy
from services.registry.settings import get_settings
from shared.consumer import WorkerResources
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import append_entry, days_ago, issue_reader
from tests.registry.sanction_steps import impose

APPEND_ONLY_TRIGGER = "ledger_record_append_only"
POLICY = {"cleared_days": 365}


@dataclass
class Department:
    code: str
    auditor: dict[str, str]
    cleared: LedgerRecord
    set_aside_violation: LedgerRecord
    set_aside: LedgerRecord
    recent: LedgerRecord


async def cleared_long_ago(
    sessionmaker: async_sessionmaker[AsyncSession], *, department: str, days: int = 400
) -> LedgerRecord:
    return await append_entry(
        sessionmaker,
        record_kind="cleared_finding",
        department=department,
        effective_on=days_ago(days),
    )


async def set_aside_long_ago(
    sessionmaker: async_sessionmaker[AsyncSession], *, department: str
) -> tuple[LedgerRecord, LedgerRecord]:
    """A violation, and the appeal outcome that set it aside 400 days ago."""
    violation = await append_entry(sessionmaker, department=department, effective_on=days_ago(500))
    return violation, await set_aside(sessionmaker, violation)


async def set_aside(
    sessionmaker: async_sessionmaker[AsyncSession], violation: LedgerRecord
) -> LedgerRecord:
    """The appeal outcome that set the violation aside 400 days ago."""
    department = violation.department
    assert violation.employee_ref and violation.employee_name and violation.rules_cited
    assert violation.platform and violation.reported_at
    async with unit_of_work(sessionmaker) as session:
        outcome = await append_record(
            session,
            entry=AppealOutcomeEntry(
                appeal_outcome="set_aside",
                violation_id=violation.id,
                supersedes_id=violation.id,
                case_id=violation.case_id,
                submission_id=violation.submission_id,
                department=department,
                employee_ref=violation.employee_ref,
                employee_name=violation.employee_name,
                rules_cited=list(violation.rules_cited),
                platform=violation.platform,
                reasons="The appellate authority found the post was not the employee's.",
                determined_by=uuid.uuid4(),
                effective_on=days_ago(400),
                reported_at=violation.reported_at,
                decided_at=violation.recorded_at,
            ),
        )
    return outcome


@pytest.fixture
async def department(sessionmaker: async_sessionmaker[AsyncSession]) -> Department:
    code = unique_code("RET")
    cleared = await cleared_long_ago(sessionmaker, department=code)
    violation, outcome = await set_aside_long_ago(sessionmaker, department=code)
    recent = await cleared_long_ago(sessionmaker, department=code, days=30)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor", organisation_code=code))
    return Department(code, auditor, cleared, violation, outcome, recent)


async def stored(
    sessionmaker: async_sessionmaker[AsyncSession], record_id: uuid.UUID
) -> dict[str, Any]:
    async with sessionmaker() as session:
        row = (
            (
                await session.execute(
                    LedgerRecord.__table__.select().where(LedgerRecord.id == record_id)
                )
            )
            .mappings()
            .one()
        )
    return dict(row)


async def preview(api: httpx.AsyncClient, auditor: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/retention/preview", headers=auditor, json=POLICY | body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def verify(api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> Any:
    auditor = bearer(await issue_reader(sessionmaker))
    response = await api.get("/v1/audit/verify", headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_dry_run_lists_what_is_due_and_changes_nothing(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    answer = await preview(registry_api, department.auditor)

    assert (answer["case_count"], answer["record_count"]) == (2, 3)
    assert answer["by_outcome"] == {"cleared_finding": 1, "set_aside": 1}
    listed = {case["case_id"]: case for case in answer["cases"]}
    assert set(listed) == {str(department.cleared.case_id), str(department.set_aside.case_id)}
    assert set(listed[str(department.set_aside.case_id)]["record_ids"]) == {
        str(department.set_aside_violation.id),
        str(department.set_aside.id),
    }
    assert str(department.recent.case_id) not in listed
    # Ids and counts only: no name, employee number or reasons.
    for record in (department.cleared, department.set_aside_violation):
        for personal in (record.employee_ref, record.employee_name, record.reasons):
            assert personal is not None and personal not in str(answer)
    assert (await stored(sessionmaker, department.cleared.id))["employee_name"] is not None
    assert (await preview(registry_api, department.auditor))["digest"] == answer["digest"]


async def test_a_run_purges_what_the_preview_listed_and_records_the_purge(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    answer = await preview(registry_api, department.auditor)
    employee_ref = department.set_aside_violation.employee_ref
    record_reader = bearer(
        await issue_reader(
            sessionmaker, role="competent_authority", organisation_code=department.code
        )
    )
    before = await registry_api.get(
        f"/v1/employees/{employee_ref}/record", headers=record_reader, params={"reason": "Audit"}
    )
    assert before.status_code == 200, before.text

    run = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": answer["digest"]},
    )

    assert run.status_code == 201, run.text
    result = run.json()
    assert (result["case_count"], result["record_count"]) == (2, 3)
    # The set-aside violation reads as purged; its employee's record no longer holds it.
    violation = await registry_api.get(
        f"/v1/violations/{department.set_aside_violation.id}", headers=record_reader
    )
    assert violation.status_code == 200, violation.text
    read = violation.json()
    assert read["personal_data"] == "purged"
    assert (read["employee_ref"], read["employee_name"], read["reasons"]) == (None, None, None)
    assert read["rules_cited"] == department.set_aside_violation.rules_cited
    after = await registry_api.get(
        f"/v1/employees/{employee_ref}/record", headers=record_reader, params={"reason": "Audit"}
    )
    assert after.status_code == 404, after.text
    for record in (department.cleared, department.set_aside_violation, department.set_aside):
        row = await stored(sessionmaker, record.id)
        assert row["employee_ref"] is None and row["personal_salt"] is None
        assert row["content_hash"] == record.content_hash
    # Not yet due: untouched.
    recent = await stored(sessionmaker, department.recent.id)
    assert recent["employee_name"] == department.recent.employee_name
    # The purge is in the ledger: one record per case, naming its records and the policy.
    purges = [await stored(sessionmaker, uuid.UUID(i)) for i in result["purge_record_ids"]]
    assert {p["record_kind"] for p in purges} == {"retention_purge"}
    assert {p["case_id"] for p in purges} == {
        department.cleared.case_id,
        department.set_aside.case_id,
    }
    named = {record_id for p in purges for record_id in p["purged_record_ids"]}
    assert named == {
        department.cleared.id,
        department.set_aside_violation.id,
        department.set_aside.id,
    }
    assert all(p["retention_policy"]["cleared_days"] == 365 for p in purges)
    assert all(p["recorded_by_label"] for p in purges)
    verification = await verify(registry_api, sessionmaker)
    assert verification["status"] == "intact", verification

    # Applying again purges nothing more: nothing is due, and the old preview is refused.
    again = await preview(registry_api, department.auditor)
    assert (again["case_count"], again["record_count"]) == (0, 0)
    second = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": again["digest"]},
    )
    assert second.status_code == 201, second.text
    assert (second.json()["record_count"], second.json()["purge_record_ids"]) == (0, [])
    replayed = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": answer["digest"]},
    )
    assert replayed.status_code == 409
    assert replayed.json()["code"] == "retention-preview-outdated"


async def test_a_run_on_an_outdated_preview_is_refused_and_purges_nothing(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    """Bad input tried: a preview digest from before another case became due."""
    answer = await preview(registry_api, department.auditor)
    await cleared_long_ago(sessionmaker, department=department.code)

    run = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": answer["digest"]},
    )

    assert run.status_code == 409, run.text
    assert run.headers["content-type"].startswith("application/problem+json")
    assert (await stored(sessionmaker, department.cleared.id))["employee_ref"] is not None


@pytest.mark.parametrize(
    "body",
    [{"preview_digest": "not a digest"}, {}, {"preview_digest": "0" * 64, "cleared_days": -1}],
    ids=["malformed-digest", "no-digest", "negative-days"],
)
async def test_a_run_with_bad_input_is_refused_naming_the_field(
    registry_api: httpx.AsyncClient, department: Department, body: dict[str, Any]
) -> None:
    """Bad input tried: a malformed or missing preview digest, a negative period."""
    response = await registry_api.post("/v1/retention/runs", headers=department.auditor, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


async def test_retention_is_for_auditors_only(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    dashboard = bearer(
        await issue_reader(sessionmaker, role="dashboard", organisation_code=department.code)
    )
    response = await registry_api.post("/v1/retention/preview", headers=dashboard, json={})
    assert response.status_code == 403


async def test_the_database_lets_only_a_purge_through(
    sessionmaker: async_sessionmaker[AsyncSession], department: Department
) -> None:
    """Bad changes tried: a purge without the transaction's say-so, a purge that also changes
    another column, and a purge that keeps a personal field."""
    record_id = department.cleared.id
    purge = "employee_ref = NULL, employee_name = NULL, reasons = NULL, personal_salt = NULL"
    for say_so, assignments in (
        (False, purge),
        (True, purge + ", department = 'ELSEWHERE'"),
        (True, "employee_ref = NULL, personal_salt = NULL"),
    ):
        async with sessionmaker() as session:
            if say_so:
                await session.execute(text("SET LOCAL registry.retention_purge = 'on'"))
            with pytest.raises(DBAPIError):
                await session.execute(
                    text(f"UPDATE registry.ledger_record SET {assignments} WHERE id = :id"),
                    {"id": record_id},
                )
            await session.rollback()
    assert (await stored(sessionmaker, record_id))["employee_ref"] is not None


async def change_behind_the_ledgers_back(
    sessionmaker: async_sessionmaker[AsyncSession], *, record_id: uuid.UUID, assignments: str
) -> None:
    """What someone with the superuser's password could do: switch the trigger off."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(f"ALTER TABLE registry.ledger_record DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        )
        await session.execute(
            text(f"UPDATE registry.ledger_record SET {assignments} WHERE id = :id"),
            {"id": record_id},
        )
        await session.execute(
            text(f"ALTER TABLE registry.ledger_record ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        )


async def test_a_superusers_change_to_a_purged_record_is_named_by_verify(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    answer = await preview(registry_api, department.auditor)
    run = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": answer["digest"]},
    )
    assert run.status_code == 201, run.text
    purged = department.set_aside_violation
    await change_behind_the_ledgers_back(
        sessionmaker, record_id=purged.id, assignments="platform = 'x'"
    )
    try:
        verification = await verify(registry_api, sessionmaker)
        assert verification["status"] == "broken"
        assert verification["first_broken"]["id"] == str(purged.id)
        assert "content" in verification["first_broken"]["reason"]
    finally:
        # The run's database is shared by every test: put the record back as it was.
        await change_behind_the_ledgers_back(
            sessionmaker, record_id=purged.id, assignments=f"platform = '{purged.platform}'"
        )
    assert (await verify(registry_api, sessionmaker))["status"] == "intact"


async def test_the_daily_job_applies_the_configured_policy(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
) -> None:
    resources = WorkerResources(
        service="registry", settings=get_settings(), sessionmaker=sessionmaker
    )

    outcome = await apply_retention_policy({"resources": resources})

    assert outcome.startswith("purged")
    assert (await stored(sessionmaker, department.cleared.id))["personal_salt"] is None
    assert (await stored(sessionmaker, department.recent.id))["personal_salt"] is not None
    assert await apply_retention_policy({"resources": resources}) == "purged 0 records of 0 cases"
    assert (await verify(registry_api, sessionmaker))["status"] == "intact"


async def test_a_set_aside_cases_sanction_events_lose_their_reasons_too(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    code = unique_code("RET")
    violation = await append_entry(sessionmaker, department=code, effective_on=days_ago(500))
    authority = bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=code)
    )
    sanction = await impose(
        registry_api, violation.id, authority, order_date=days_ago(450).isoformat()
    )
    await set_aside(sessionmaker, violation)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor", organisation_code=code))

    answer = await preview(registry_api, auditor)
    [case] = answer["cases"]
    assert sanction["sanction_id"] in case["record_ids"]
    run = await registry_api.post(
        "/v1/retention/runs", headers=auditor, json=POLICY | {"preview_digest": answer["digest"]}
    )

    assert run.status_code == 201, run.text
    sanctions = await registry_api.get(
        f"/v1/violations/{violation.id}/sanctions", headers=authority
    )
    assert sanctions.status_code == 200, sanctions.text
    [event] = sanctions.json()["items"][0]["events"]
    assert event["reasons"] is None
    assert event["order_reference"] == sanction["events"][0]["order_reference"]


async def test_a_run_purges_in_chunks_every_record_listed(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: Department,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first run may purge more records than one statement binds: it purges them in chunks
    (here of one record) and every one of them is purged."""
    monkeypatch.setattr(retention_service, "PURGE_CHUNK", 1)
    answer = await preview(registry_api, department.auditor)

    run = await registry_api.post(
        "/v1/retention/runs",
        headers=department.auditor,
        json=POLICY | {"preview_digest": answer["digest"]},
    )

    assert run.status_code == 201, run.text
    assert run.json()["record_count"] == 3
    for record in (department.cleared, department.set_aside_violation, department.set_aside):
        assert (await stored(sessionmaker, record.id))["personal_salt"] is None
