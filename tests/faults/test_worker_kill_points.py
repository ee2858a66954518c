"""F1: a worker of each service (intake, review, registry) killed with SIGKILL mid-burst, once
just before its commit and once just after it (before arq marks the job done), at the same
deterministic point every run (tests/faults/kill_points.py).

Each service runs two workers. Each test swaps one of them for one that dies at the point at
the third message of the type it consumes in the flow (intake: case.status_changed, review:
report.received, registry: determination.recorded), sends a burst of reports through intake
and a burst of determinations to registry's queue, and starts each killed worker again as soon
as it died (as a supervisor would). Then, for each service:

- exactly one effect per submission: each acknowledged report has one row, one case and one
  "assigned" status back in intake; each determination one ledger record and one record.created
  announced, and the ledger's chain verifies;
- the killed job ran again within job_timeout + 10 s of the kill (arq's result for it says when
  the rerun started; 2 s more are allowed for a worker's poll on a busy machine), and the rerun
  did what the point implies: applied the effect (killed before the commit, nothing was
  committed) or found the message in the inbox (killed after).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job

from shared.devstack import REPO_ROOT
from shared.devstack.supervisor import ProcessSpec
from shared.messages import SERVICES, Envelope, Service
from shared.queue import deserialize_job, serialize_job
from shared.settings import to_plain_url
from tests.faults.checker import Portal, assert_exactly_once, settle
from tests.faults.kill_points import KILL_POINTS, KillPoint
from tests.registry.factories import determination
from tests.stack import RunningStack, isolated_stack

pytestmark = pytest.mark.e2e
JOB_TIMEOUT_SECONDS = 3
REPORTS = 40
DETERMINATIONS = 40
KILL_AT_MESSAGE = 3
# Allowed past job_timeout + 10 s for the worker to poll and claim the job on a busy machine.
POLL_TOLERANCE_SECONDS = 2
# What each service's worker consumes in this burst, and dies at.
CONSUMED: dict[Service, str] = {
    "intake": "case.status_changed",
    "review": "report.received",
    "registry": "determination.recorded",
}
# What the rerun of the killed job returns (the consumer's outcome, kept as arq's result).
RERUN_OUTCOME: dict[KillPoint, str] = {"before-commit": "processed", "after-commit": "duplicate"}


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # A short job timeout, so a killed job is rerun (job_timeout + 10 s) within the test.
    with isolated_stack(
        label="faults_f1",
        data_dir=tmp_path_factory.mktemp("faults_f1"),
        extra_env={
            "JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_SECONDS),
            "RELAY_RESEND_AFTER_SECONDS": "5",
            "INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
        },
        # Two workers per service: one is swapped for a doomed one, the other carries on.
        workers=2,
    ) as stack:
        yield stack


@pytest.fixture
async def queue(crash_stack: RunningStack) -> AsyncIterator[ArqRedis]:
    redis = await create_pool(
        RedisSettings.from_dsn(crash_stack.env["REDIS_URL"]),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
    try:
        yield redis
    finally:
        await redis.aclose()


def queue_of(running: RunningStack, service: Service) -> str:
    return f"{running.env['QUEUE_PREFIX']}:{service}"


def doomed_worker(
    running: RunningStack, service: Service, point: KillPoint, record: Path
) -> ProcessSpec:
    return ProcessSpec(
        name=f"{service}-worker-{point}",
        argv=[
            sys.executable,
            "-m",
            "shared.worker_main",
            f"tests.faults.kill_points.{service.capitalize()}WorkerSettings",
        ],
        env={
            **running.env,
            "FAULT_KILL_POINT": point,
            "FAULT_KILL_MESSAGE_TYPE": CONSUMED[service],
            "FAULT_KILL_AT_MESSAGE": str(KILL_AT_MESSAGE),
            "FAULT_KILL_RECORD": str(record),
        },
        cwd=REPO_ROOT,
    )


def wait_until_exited(running: RunningStack, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while running.stack.is_running(name):
        assert time.monotonic() < deadline, f"{name} still running"
        time.sleep(0.05)


def wait_until_working(running: RunningStack, name: str, timeout: float = 90) -> None:
    """Until arq says the worker is polling (its log's "Starting worker for ...")."""
    assert running.stack.log_dir is not None
    log = running.stack.log_dir / f"{name}.log"
    deadline = time.monotonic() + timeout
    while "Starting worker for" not in (log.read_text() if log.exists() else ""):
        assert running.stack.is_running(name), running.stack.log_tail(name)
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.1)


@dataclass(frozen=True)
class Doomed:
    point: KillPoint
    # Where each service's worker writes what it was doing when it died.
    records: dict[Service, Path]


@pytest.fixture
def doomed(
    crash_stack: RunningStack, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Doomed]:
    """One of each service's workers swapped for one that dies at the test's point (the
    parameter); the other runs on. Afterwards the ordinary workers are back."""
    point: KillPoint = request.param
    stack = crash_stack.stack
    records = {service: tmp_path / f"{service}-{point}.json" for service in SERVICES}
    for service in SERVICES:
        stack.kill(f"{service}-worker-1", signal.SIGTERM)
    for service in SERVICES:
        wait_until_exited(crash_stack, f"{service}-worker-1")
    stack.start(
        [doomed_worker(crash_stack, service, point, records[service]) for service in SERVICES]
    )
    for service in SERVICES:
        # Up before the burst, so that it takes its share of the messages.
        wait_until_working(crash_stack, f"{service}-worker-{point}")
    try:
        yield Doomed(point, records)
    finally:
        for service in SERVICES:
            stack.kill(f"{service}-worker-{point}", signal.SIGTERM)
        for service in SERVICES:
            wait_until_exited(crash_stack, f"{service}-worker-{point}")
            stack.restart(f"{service}-worker-1")


async def send_determinations(running: RunningStack, queue: ArqRedis) -> list[str]:
    """DETERMINATIONS final determinations on registry's queue, as review's relay sends them
    (job id from the message id); their case ids."""
    cases: list[str] = []
    for _ in range(DETERMINATIONS):
        payload = determination(employee_ref="EMP-F1")
        envelope = Envelope.wrap(payload, producer="review", correlation_id="f1")
        job = await queue.enqueue_job(
            payload.message_type,
            envelope.model_dump(mode="json"),
            _job_id=f"{queue_of(running, 'registry')}:{envelope.message_id}",
            _queue_name=queue_of(running, "registry"),
        )
        assert job is not None
        cases.append(str(payload.case_id))
    return cases


async def restart_when_killed(
    running: RunningStack, service: Service, point: KillPoint, record: Path
) -> None:
    """As a supervisor does: the killed worker started again (its kill point now spent)."""
    name = f"{service}-worker-{point}"
    deadline = time.monotonic() + 60
    while not await asyncio.to_thread(record.exists) or running.stack.is_running(name):
        assert time.monotonic() < deadline, f"{name} never reached its kill point ({point})"
        await asyncio.sleep(0.05)
    await asyncio.to_thread(running.stack.restart, name)


async def registry_effects(
    database_url: str, cases: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """(ledger records by case, record.created messages staged by case)."""
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        records = await connection.fetch(
            "SELECT case_id::text AS id, count(*) AS n FROM registry.ledger_record "
            "WHERE case_id::text = ANY($1::text[]) GROUP BY case_id",
            cases,
        )
        announced = await connection.fetch(
            "SELECT envelope->'payload'->>'case_id' AS id, count(DISTINCT message_id) AS n "
            "FROM registry.outbox_message WHERE message_type = 'record.created' "
            "AND envelope->'payload'->>'case_id' = ANY($1::text[]) GROUP BY 1",
            cases,
        )
    finally:
        await connection.close()
    return {row["id"]: row["n"] for row in records}, {row["id"]: row["n"] for row in announced}


async def recorded_once(database_url: str, cases: list[str], *, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        records, announced = await registry_effects(database_url, cases)
        if len(records) == len(cases) and len(announced) == len(cases):
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(0.5)  # a second copy would show now
    records, announced = await registry_effects(database_url, cases)
    assert sorted(records) == sorted(cases), f"{len(cases) - len(records)} determinations lost"
    assert sorted(announced) == sorted(cases), "a record.created never staged"
    assert set(records.values()) == {1}, "a determination recorded twice"
    assert set(announced.values()) == {1}, "a record.created staged twice"


async def rerun_of(queue: ArqRedis, job_id: str, *, within: float) -> tuple[datetime, str]:
    """When the killed job's rerun started, and what it returned."""
    deadline = time.monotonic() + within
    while (info := await Job(job_id, queue, _deserializer=deserialize_job).result_info()) is None:
        assert time.monotonic() < deadline, f"job {job_id} was never run again"
        await asyncio.sleep(0.2)
    return info.start_time, str(info.result)


@pytest.mark.parametrize("doomed", KILL_POINTS, indirect=True)
async def test_a_worker_killed_at_its_commit_applies_each_effect_once_and_reruns_in_time(
    crash_stack: RunningStack, queue: ArqRedis, doomed: Doomed
) -> None:
    point = doomed.point
    portal = Portal(crash_stack.urls["intake"], crash_stack.tokens["portal_health"])
    burst = portal.start(REPORTS, concurrency=8)
    restarts = [
        asyncio.create_task(restart_when_killed(crash_stack, service, point, record))
        for service, record in doomed.records.items()
    ]
    cases = await send_determinations(crash_stack, queue)
    await burst
    await asyncio.gather(*restarts)
    killed = time.monotonic()

    figures = await settle(crash_stack.database_url, portal.submissions, since=killed, within=90)
    assert_exactly_once(figures, label=f"F1 every worker killed {point}", portal=portal)
    assert figures.acknowledged == figures.submitted, portal.answers()
    await recorded_once(crash_stack.database_url, cases, within=60)
    async with httpx.AsyncClient(base_url=crash_stack.urls["registry"], timeout=30) as registry:
        verified = await registry.get(
            "/v1/audit/verify",
            headers={"Authorization": f"Bearer {crash_stack.tokens['registry_auditor']}"},
        )
    assert verified.status_code == 200 and verified.json()["status"] == "intact", verified.text

    # arq reruns the job once its in-progress key (set as the job was claimed, before the kill)
    # expires: job_timeout + 10 s; then the worker's next poll, on a loaded machine, takes it.
    bound = JOB_TIMEOUT_SECONDS + 10 + POLL_TOLERANCE_SECONDS
    for service, record in doomed.records.items():
        kill = json.loads(record.read_text())
        assert (kill["point"], kill["message_type"]) == (point, CONSUMED[service])
        started, outcome = await rerun_of(queue, kill["job_id"], within=bound + 30)
        after = started.timestamp() - kill["killed_at"]
        print(
            f"{service}: killed {point} at {kill['job_id']}; rerun {after:.1f} s later, {outcome}"
        )
        assert after <= bound, f"{service}'s killed job reran {after:.1f} s after (> {bound} s)"
        assert outcome == RERUN_OUTCOME[point], (service, outcome)
