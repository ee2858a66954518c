"""F2: SIGTERM to every process of the stack (APIs, workers and the outbox relays inside them)
in the middle of a burst of reports, then everything started again. The portal retries what
met the stop under the same Idempotency-Key: every acknowledged report has exactly one row, one
case and one "assigned" status back in intake; nothing is lost, nothing doubled. Two API
processes and two workers per service share the database and Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.faults.checker import Portal, assert_exactly_once, settle
from tests.stack import RunningStack, isolated_stack

pytestmark = pytest.mark.e2e
REPORTS = 60


@pytest.fixture(scope="module")
def stopped_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with isolated_stack(
        label="faults_f2",
        data_dir=tmp_path_factory.mktemp("faults_f2"),
        extra_env={"INTAKE_RATE_LIMIT_PER_MINUTE": "100000"},
        # Two uvicorn processes per API and two workers per service on one database and Redis.
        api_processes=2,
        workers=2,
    ) as stack:
        yield stack


def restart_everything(running: RunningStack) -> None:
    """SIGTERM to every process at once (SIGKILL after 10 s), then each started again."""
    running.stack.stop()
    for name in running.stack.names:
        running.stack.restart(name)
    running.stack.wait_ready(timeout=90)


async def test_sigterm_to_every_process_mid_burst_loses_and_doubles_nothing(
    stopped_stack: RunningStack,
) -> None:
    portal = Portal(stopped_stack.urls["intake"], stopped_stack.tokens["portal_health"])
    burst = portal.start(REPORTS, concurrency=8)
    # Let part of the burst through (and into the queue), then stop everything under it.
    await portal.acknowledged(REPORTS // 4)
    await asyncio.to_thread(restart_everything, stopped_stack)
    restarted = time.monotonic()
    await burst

    figures = await settle(stopped_stack.database_url, portal.submissions, since=restarted)
    assert_exactly_once(figures, label="F2 SIGTERM to every process", portal=portal)
    assert figures.acknowledged == figures.submitted, portal.answers()
