"""A worker killed with SIGKILL mid-burst loses nothing and doubles nothing: its jobs rerun
once arq's in-progress key expires (job_timeout + 10 s), and the inbox makes any rerun of an
already committed effect a no-op."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from shared.settings import to_plain_url
from tests.factories import bearer, report_body
from tests.stack import RunningStack, isolated_stack

pytestmark = pytest.mark.e2e
REPORTS = 40


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # A short job timeout so the rerun of a killed worker's jobs comes within the test's time.
    with isolated_stack(
        label="faults",
        data_dir=tmp_path_factory.mktemp("faults"),
        extra_env={"JOB_TIMEOUT_SECONDS": "3", "RELAY_RESEND_AFTER_SECONDS": "5"},
    ) as stack:
        yield stack


async def cases_per_report(database_url: str, report_ids: list[str]) -> dict[str, int]:
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT submission_id::text AS id, count(*) AS cases FROM review.case "
            "WHERE submission_id::text = ANY($1::text[]) GROUP BY submission_id",
            report_ids,
        )
    finally:
        await connection.close()
    return {row["id"]: row["cases"] for row in rows}


async def test_killing_the_review_worker_mid_burst_loses_and_doubles_nothing(
    crash_stack: RunningStack,
) -> None:
    stack, urls, tokens = crash_stack.stack, crash_stack.urls, crash_stack.tokens
    async with httpx.AsyncClient(timeout=10) as http:

        async def submit() -> str:
            response = await http.post(
                f"{urls['intake']}/v1/reports",
                json=report_body(),
                headers=bearer(tokens["portal_health"]),
            )
            assert response.status_code == 202, response.text
            report_id: str = response.json()["id"]
            return report_id

        first = await asyncio.gather(*(submit() for _ in range(REPORTS // 2)))
        stack.kill("review-worker-1")  # SIGKILL, wherever it is
        second = await asyncio.gather(*(submit() for _ in range(REPORTS // 2)))
        await asyncio.sleep(0.5)
        stack.restart("review-worker-1")
        acknowledged = first + second

    # job_timeout (3 s) + 10 s for a killed job's in-progress key, plus the restarted worker's
    # start-up, with room for a loaded machine: the wait ends as soon as every case is there.
    deadline = time.monotonic() + 90
    while True:
        counts = await cases_per_report(crash_stack.database_url, acknowledged)
        if len(counts) == len(acknowledged) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    lost = [report for report in acknowledged if report not in counts]
    doubled = {report: n for report, n in counts.items() if n != 1}
    assert lost == [] and doubled == {}, (lost, doubled)
