"""A burst of report.received messages taken by several review workers at once: what the
concurrency test checks and what the V1 benchmark times."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import Envelope
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.factories import report_received
from tests.support import run_workers


@dataclass(frozen=True)
class AssignmentBurst:
    seconds: float
    jobs_done: int
    # Per case: its report, its investigator, how many times it was assigned.
    cases: list[tuple[uuid.UUID, uuid.UUID | None, int]]
    sent: set[uuid.UUID]

    @property
    def load(self) -> Counter[uuid.UUID | None]:
        return Counter(assignee for _, assignee, _ in self.cases)


async def assignment_burst(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    *,
    department: str,
    cases: int,
    workers: int,
) -> AssignmentBurst:
    """Queue `cases` reports for the department, then run `workers` review workers together
    until the queue is empty; the time covers the workers only."""
    settings = ServiceSettings()
    reports = [report_received(department=department) for _ in range(cases)]
    for report in reports:
        envelope = Envelope.wrap(report, producer="intake", correlation_id="assignment-burst")
        await queue.enqueue_job(
            envelope.type,
            envelope.model_dump(mode="json"),
            _job_id=job_id(settings, envelope.message_id, "review"),
            _queue_name=queue_name(settings, "review"),
        )
    started = time.perf_counter()
    done = await run_workers("review", queue, count=workers)
    seconds = time.perf_counter() - started
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT c.submission_id, c.assignee_id, "
                    "(SELECT count(*) FROM review.case_event e WHERE e.case_id = c.id "
                    " AND e.to_state = 'assigned' AND e.from_state IS DISTINCT FROM e.to_state) AS assignments "
                    "FROM review.case c WHERE c.department = :department"
                ),
                {"department": department},
            )
        ).all()
    return AssignmentBurst(
        seconds=seconds,
        jobs_done=done,
        cases=[(row.submission_id, row.assignee_id, row.assignments) for row in rows],
        sent={report.report_id for report in reports},
    )
