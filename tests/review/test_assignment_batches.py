"""Cases opened by messages are assigned after their message commits, in batches per unit, by
the same rule: each announcement keeps its own report's correlation id; a case whose worker
died before the assigner ran is not lost; a case nobody may take waits in the unit's queue.
(The concurrency test covers exactly once and the load rule across 4 workers.)"""

from __future__ import annotations

import uuid

from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.service import open_cases_for_report
from services.review.cases.tasks import assign_opened_cases, sweep_waiting_cases
from services.review.settings import get_settings
from shared.db import unit_of_work
from shared.messages import Envelope
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.factories import create_unit_with_members, report_received, unique_code
from tests.review.steps import worker_ctx
from tests.support import pump, run_workers


async def case_row(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> dict[str, object]:
    async with sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT state, assignee_id, awaiting_assignment_for FROM review.case "
                    "WHERE id = :id"
                ),
                {"id": case_id},
            )
        ).one()
        return dict(row._mapping)


async def open_without_assigner(
    sessionmaker: async_sessionmaker[AsyncSession], *, department: str, **report: str
) -> uuid.UUID:
    """A report's cases opened and committed as the consumer does, but its worker lost before
    the assigner ran."""
    async with unit_of_work(sessionmaker) as session:
        cases = await open_cases_for_report(
            session,
            report=report_received(department=department, **report),
            settings=get_settings(),
            correlation_id="lost-worker",
            assign_after_commit=True,
        )
    return cases[0].id


async def test_each_assignment_is_announced_under_its_own_reports_correlation_id(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    department = unique_code("DEPT")
    await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=2)
    settings = ServiceSettings()
    sent: dict[uuid.UUID, str] = {}
    for number in range(6):
        report = report_received(department=department)
        envelope = Envelope.wrap(report, producer="intake", correlation_id=f"report-{number}")
        sent[report.report_id] = envelope.correlation_id
        await queue.enqueue_job(
            envelope.type,
            envelope.model_dump(mode="json"),
            _job_id=job_id(settings, envelope.message_id, "review"),
            _queue_name=queue_name(settings, "review"),
        )

    await run_workers("review", queue, count=2)

    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT envelope->'payload'->>'submission_id' AS submission, "
                    "envelope->>'correlation_id' AS correlation_id "
                    "FROM review.outbox_message WHERE message_type = 'case.status_changed' "
                    "AND envelope->'payload'->>'status' = 'assigned' "
                    "AND envelope->'payload'->>'submission_id' = ANY(:submissions)"
                ),
                {"submissions": [str(report_id) for report_id in sent]},
            )
        ).all()
    assert {uuid.UUID(row.submission): row.correlation_id for row in rows} == sent
    assert len(rows) == len(sent)
    await pump(sessionmaker, queue)


async def test_a_case_whose_worker_died_before_the_assigner_is_assigned_by_the_next_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=2)
    case_id = await open_without_assigner(sessionmaker, department=department)
    waiting = await case_row(sessionmaker, case_id)
    assert waiting["assignee_id"] is None
    assert waiting["awaiting_assignment_for"] == "lost-worker"

    # The next message's assigner (any unit's) takes it.
    await assign_opened_cases(worker_ctx(sessionmaker)["resources"])

    assigned = await case_row(sessionmaker, case_id)
    assert assigned["state"] == "assigned"
    assert assigned["assignee_id"] in {member.id for member in unit.members}
    assert assigned["awaiting_assignment_for"] is None


async def test_the_waiting_case_sweep_also_takes_a_case_left_awaiting(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    case_id = await open_without_assigner(sessionmaker, department=department)

    await sweep_waiting_cases(worker_ctx(sessionmaker))

    assigned = await case_row(sessionmaker, case_id)
    assert assigned["assignee_id"] == unit.members[0].id
    assert assigned["awaiting_assignment_for"] is None


async def test_an_awaiting_case_nobody_may_take_waits_in_the_units_queue(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Bad input tried: a report whose subject works in the only member's office."""
    department = unique_code("DEPT")
    await create_unit_with_members(
        sessionmaker, jurisdiction=[department], member_count=1, member_offices=["Ward 7"]
    )
    case_id = await open_without_assigner(
        sessionmaker, department=department, subject_office="Ward 7"
    )

    await assign_opened_cases(worker_ctx(sessionmaker)["resources"])

    waiting = await case_row(sessionmaker, case_id)
    assert waiting["state"] == "received"
    assert waiting["assignee_id"] is None
    # The rule was applied: the assigner does not look at it again on every message.
    assert waiting["awaiting_assignment_for"] is None
