"""The benchmark figures. Each is an async function taking the running stack's context."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import operator
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.review.cases.deadline_sweeps import escalate_overdue_cases, lapse_reply_windows
from services.review.settings import ReviewSettings
from shared.db import create_engine, create_sessionmaker, utcnow
from shared.devstack.supervisor import Stack, uvicorn_spec
from shared.settings import ServiceSettings, to_plain_url
from tests.bench import floor
from tests.factories import (
    VIOLATOR_LIST_COLUMNS,
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.scripted_member import take_to_violation
from tests.stack import free_port


@dataclass(frozen=True)
class BenchContext:
    database_url: str
    urls: dict[str, str]
    tokens: dict[str, str]
    # The stack's processes by name (intake-api, review-worker...), and their pids: what a
    # figure reads memory from. Empty where the stack is not ours to look into.
    process_ids: Callable[[], dict[str, int]] = dict


@dataclass(frozen=True)
class Figure:
    value: float
    target: str
    unit: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4),
            "target": self.target,
            "unit": self.unit,
            "detail": self.detail,
        }


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Rate:
    per_second: float
    p50_ms: float
    p99_ms: float
    count: int
    # CPU this process (the load generator) spent per operation.
    client_cpu_ms: float = float("nan")


async def closed_loop(
    operation: Callable[[], Awaitable[bool]], *, concurrency: int, seconds: float
) -> Rate:
    """`concurrency` clients each doing `operation` back to back for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if await operation():
                latencies.append(time.perf_counter() - started)

    began, cpu_began = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return Rate(
        per_second=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        count=len(latencies),
        client_cpu_ms=(time.process_time() - cpu_began) * 1000 / max(1, len(latencies)),
    )


# Connections the raw baseline opens at most: PostgreSQL's default max_connections is 100,
# and the stack under test holds some. More clients than this share the pool, as they would.
RAW_MAX_CONNECTIONS = 48


async def raw_insert_rate(database_url: str, *, concurrency: int, seconds: float) -> Rate:
    """The machine's own limit: single-row INSERT + COMMIT with asyncpg, no framework, from
    `concurrency` clients (sharing at most RAW_MAX_CONNECTIONS connections)."""
    connections = min(concurrency, RAW_MAX_CONNECTIONS)
    pool = await asyncpg.create_pool(
        to_plain_url(database_url), min_size=connections, max_size=connections
    )
    body = json.dumps(report_body())
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_raw_insert (id uuid PRIMARY KEY, body jsonb, created_at timestamptz DEFAULT now())"
        )

        async def insert() -> bool:
            await pool.execute(
                "INSERT INTO public.bench_raw_insert (id, body) VALUES ($1, $2::jsonb)",
                uuid.uuid4(),
                body,
            )
            return True

        return await closed_loop(insert, concurrency=concurrency, seconds=seconds)
    finally:
        await pool.close()


async def bench_sessionmaker(
    database_url: str,
) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine]:
    # Seeding a million rows takes longer than a request may: no statement timeout here.
    settings = ServiceSettings.model_validate(
        {"DATABASE_URL": database_url, "DATABASE_STATEMENT_TIMEOUT_MS": 0}
    )
    engine = create_engine(settings, application_name="bench")
    return create_sessionmaker(engine), engine


async def post_rate(
    base_url: str,
    path: str,
    *,
    headers_of: Callable[[], dict[str, str]],
    concurrency: int,
    seconds: float,
) -> tuple[Rate, str]:
    """Accepted (202) POSTs of a report body per second at `concurrency` clients, and the
    refusals ("0 errors", or their count with their statuses)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    refused: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:

        async def submit() -> bool:
            try:
                response = await http.post(path, json=report_body(), headers=headers_of())
            except httpx.TransportError as error:
                # A connection dropped under load is the service failing the client: counted,
                # never allowed to end the run.
                refused[type(error).__name__] += 1
                return False
            if response.status_code != 202:
                refused[str(response.status_code)] += 1
                return False
            return True

        rate = await closed_loop(submit, concurrency=concurrency, seconds=seconds)
    statuses = ", ".join(f"{count} x {status}" for status, count in sorted(refused.items()))
    errors = f"{sum(refused.values())} errors" + (f": {statuses}" if statuses else "")
    return rate, errors


async def intake_report_rate(
    context: BenchContext, *, concurrency: int, seconds: float
) -> tuple[Rate, str]:
    """Accepted POST /v1/reports per second at `concurrency` clients, and the refusals
    ("0 errors", or their count with their statuses)."""
    maker, engine = await bench_sessionmaker(context.database_url)
    # A department no unit covers: review opens its cases and leaves them queued, so the
    # figure is intake's rate rather than the assignment's.
    token = await create_client(maker, organisation_code=unique_code("BENCH"))
    await engine.dispose()
    # As a well-behaved portal does: every report under its own Idempotency-Key, so the key's
    # row is part of each measured transaction.
    return await post_rate(
        context.urls["intake"],
        "/v1/reports",
        headers_of=lambda: {**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
        concurrency=concurrency,
        seconds=seconds,
    )


@contextmanager
def http_floor(database_url: str) -> Iterator[str]:
    """tests.bench.floor served by uvicorn as the APIs are (one process), on a free port; its
    base URL while the block runs."""
    port = free_port()
    env = {
        floor.DATABASE_URL_VARIABLE: database_url,
        # As many connections as one intake process may hold (pool plus overflow).
        floor.CONNECTIONS_VARIABLE: str(2 * ServiceSettings().database_pool_size),
    }
    with Stack(output=io.StringIO()) as stack:
        stack.start(
            [
                uvicorn_spec(
                    "http-floor",
                    "tests.bench.floor:create_app",
                    env=env,
                    port=port,
                    ready_path="/healthz",
                    extra_args=("--log-level", "warning"),
                )
            ]
        )
        stack.wait_ready(timeout=30)
        yield f"http://127.0.0.1:{port}"


async def figure_b1(context: BenchContext) -> Figure:
    """B1: accepted POST /v1/reports per second at 32 and at 128 clients (credential check,
    validation, report + outbox + idempotency rows in one transaction), each over raw asyncpg
    single-row INSERT+COMMIT at the same concurrency; the figure is the lower ratio.

    The detail adds the HTTP floor at the same concurrency (tests.bench.floor: the same load
    generator posting the same body to a bare uvicorn endpoint that does only the raw
    INSERT+COMMIT), and which fraction of that floor intake reaches."""
    seconds = 10.0
    ratios: list[float] = []
    details: list[str] = []
    with http_floor(context.database_url) as floor_url:
        for concurrency in (32, 128):
            raw = await raw_insert_rate(
                context.database_url, concurrency=concurrency, seconds=seconds
            )
            bare, bare_errors = await post_rate(
                floor_url, floor.PATH, headers_of=dict, concurrency=concurrency, seconds=seconds
            )
            ours, errors = await intake_report_rate(
                context, concurrency=concurrency, seconds=seconds
            )
            ratios.append(ours.per_second / raw.per_second)
            details.append(
                f"at {concurrency} clients {ours.per_second:.0f} reports/s (p50 "
                f"{ours.p50_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms, {errors}) vs raw "
                f"{raw.per_second:.0f} tx/s (p50 {raw.p50_ms:.1f} ms, p99 {raw.p99_ms:.1f} ms): "
                f"ratio {ratios[-1]:.3f}, p99 {ours.p99_ms / raw.p99_ms:.1f}x raw; HTTP floor "
                f"{bare.per_second:.0f} req/s (p50 {bare.p50_ms:.1f} ms, p99 "
                f"{bare.p99_ms:.1f} ms, {bare_errors}) = {bare.per_second / raw.per_second:.3f} "
                f"of raw, intake at {ours.per_second / bare.per_second:.2f} of the floor; the "
                f"load generator's own CPU per request {ours.client_cpu_ms:.2f} ms over HTTP vs "
                f"{raw.client_cpu_ms:.2f} ms per raw transaction"
            )
    return Figure(
        value=min(ratios),
        target=">= 0.5 and p99 <= 3x raw p99",
        unit="ratio",
        detail="; ".join(details),
    )


async def figure_b1x(context: BenchContext) -> Figure:
    """B1X: B1's reports/s with 2 uvicorn processes per API over the same with 1, each on a
    stack of its own started for the purpose (the scale-out of one machine)."""
    # Imported here: tests.bench.stack imports this module.
    from tests.bench.stack import bench_stack

    concurrency, seconds = 32, 10.0
    rates: dict[int, tuple[Rate, str]] = {}
    for processes in (1, 2):
        stack = bench_stack(run_id=f"{uuid.uuid4().hex[:8]}-p{processes}", api_processes=processes)
        # The stack's start and stop run their own event loops: off this one, in a thread.
        own = await asyncio.to_thread(stack.__enter__)
        try:
            rates[processes] = await intake_report_rate(
                own, concurrency=concurrency, seconds=seconds
            )
        finally:
            await asyncio.to_thread(stack.__exit__, None, None, None)
    (one, one_errors), (two, two_errors) = rates[1], rates[2]
    return Figure(
        value=two.per_second / one.per_second,
        target="no target yet (first measurement)",
        unit="ratio",
        detail=(
            f"1 process: {one.per_second:.0f} reports/s (p50 {one.p50_ms:.0f} ms, "
            f"{one_errors}); 2 processes: {two.per_second:.0f} reports/s (p50 "
            f"{two.p50_ms:.0f} ms, {two_errors}); {concurrency} clients, {seconds:.0f} s each"
        ),
    )


async def figure_l1(context: BenchContext) -> Figure:
    """L1: ms from a report's 202 to its violation visible in registry, member and chair
    scripted to act at once (p95 over 200 reports)."""
    # One report at a time: the figure is the latency of the hops, not of a self-made queue.
    reports, concurrency = 200, 1
    maker, engine = await bench_sessionmaker(context.database_url)
    department = unique_code("L1")
    portal = await create_client(maker, organisation_code=department)
    unit = await create_unit_with_members(maker, jurisdiction=[department])
    await engine.dispose()
    auditor = bearer(context.tokens["registry_auditor"])
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(reports):
        queue.put_nowait(number)

    async with httpx.AsyncClient(timeout=30) as http:
        review, registry = context.urls["review"], context.urls["registry"]

        async def poll(probe: Callable[[], Awaitable[Any]]) -> Any:
            deadline = time.perf_counter() + 60
            while time.perf_counter() < deadline:
                found = await probe()
                if found:
                    return found
                await asyncio.sleep(0.02)
            raise TimeoutError("state not reached within 60 s")

        async def one_report() -> None:
            accepted = await http.post(
                f"{context.urls['intake']}/v1/reports", json=report_body(), headers=bearer(portal)
            )
            started = time.perf_counter()
            report_id = accepted.json()["id"]

            async def assigned_case() -> tuple[Any, dict[str, Any]] | None:
                for member in unit.members:
                    items = (await http.get(f"{review}/v1/cases", headers=member.headers)).json()[
                        "items"
                    ]
                    for item in items:
                        if item["submission_id"] == report_id:
                            return member, item
                return None

            member, case = await poll(assigned_case)
            case_url = f"{review}/v1/cases/{case['id']}"

            await take_to_violation(http, case_url, member.headers)
            (
                await http.post(f"{case_url}/countersign", headers=unit.chair.headers)
            ).raise_for_status()

            async def visible() -> bool:
                items = (
                    await http.get(
                        f"{registry}/v1/violations",
                        params={"department": department, "limit": 200},
                        headers=auditor,
                    )
                ).json()["items"]
                return any(item["case_id"] == case["id"] for item in items)

            await poll(visible)
            latencies.append(time.perf_counter() - started)

        async def pipeline() -> None:
            while not queue.empty():
                queue.get_nowait()
                await one_report()

        await asyncio.gather(*(pipeline() for _ in range(concurrency)))
    median_ms = statistics.median(latencies) * 1000
    p95_ms = percentile(latencies, 0.95) * 1000
    return Figure(
        value=p95_ms,
        target="no target yet (first measurement)",
        unit="ms (p95)",
        detail=f"median {median_ms:.0f} ms, p95 {p95_ms:.0f} ms over {len(latencies)} reports, {concurrency} at a time",
    )


V2_OPEN_CASES = 100_000
# Open cases spread over the open states, last touched 0 to 29 days ago; the ones in
# notice_issued have a reply date 20 days after that. About half are due: a sweep after a long
# outage, the heaviest pass the cron can meet.
V2_SEED = text(
    """
    WITH opened AS (
        INSERT INTO review."case" (id, kind, submission_id, subject_position, unit_id,
            department, subject_employee_ref, subject_name, subject_designation, subject_office,
            is_group_administrator, platform, content_excerpt, rules_alleged, evidence_count,
            reporter_ref, reporter_office_ref, state, assignee_id, reported_at, updated_at)
        SELECT gen_random_uuid(), 'report', gen_random_uuid(), 0, :unit_id, :department,
            'EMP-' || g, 'Subject', 'Officer', 'Office', false, 'facebook', 'A post.',
            '{CR1964-22}', 0, 'r', 'o',
            (ARRAY['received', 'assigned', 'in_review', 'notice_issued', 'reply_received',
                   'reply_window_lapsed', 'hearing_concluded', 'determined'])[1 + g % 8],
            :member_id, now(), now() - make_interval(days => g % 30)
        FROM generate_series(1, :count) AS g
        RETURNING id, state, updated_at
    )
    INSERT INTO review.notice (case_id, allegations, reply_due_on, issued_by, issued_at)
    SELECT id, 'Rule 22.', CAST(updated_at + interval '20 days' AS date), :member_id, updated_at
    FROM opened WHERE state = 'notice_issued'
    """
)


async def figure_v2(context: BenchContext) -> Figure:
    """V2: seconds for one deadline sweep (lapsed reply windows closed, overdue cases
    escalated) over 100,000 open cases, inside a transaction rolled back afterwards."""
    maker, engine = await bench_sessionmaker(context.database_url)
    department = unique_code("V2")
    unit = await create_unit_with_members(maker, jurisdiction=[department], member_count=1)
    settings = ReviewSettings.model_validate({"DATABASE_URL": context.database_url})
    try:
        async with maker() as session:
            transaction = await session.begin()
            await session.execute(
                V2_SEED,
                {
                    "unit_id": unit.id,
                    "department": department,
                    "member_id": unit.members[0].id,
                    "count": V2_OPEN_CASES,
                },
            )
            await session.execute(text("ANALYZE review.case, review.notice"))
            timings: list[float] = []
            swept: list[tuple[int, int]] = []
            for _ in range(2):  # the pass that does the work, then the quiet one after it
                now = utcnow()
                started = time.perf_counter()
                lapsed = await lapse_reply_windows(
                    session,
                    today=now.date(),
                    now=now,
                    correlation_id="bench-v2",
                    limit=V2_OPEN_CASES,
                )
                escalated = await escalate_overdue_cases(
                    session, settings=settings, today=now.date(), now=now, limit=V2_OPEN_CASES
                )
                timings.append(time.perf_counter() - started)
                swept.append((len(lapsed), len(escalated)))
            await transaction.rollback()
    finally:
        await engine.dispose()
    (lapsed_count, escalated_count), (again_lapsed, again_escalated) = swept
    return Figure(
        value=timings[0],
        target="<= 2",
        unit="s",
        detail=(
            f"{V2_OPEN_CASES} open cases: {lapsed_count} windows lapsed and {escalated_count} "
            f"cases escalated in {timings[0]:.2f} s; the quiet pass after it "
            f"({again_lapsed + again_escalated} changes) took {timings[1] * 1000:.0f} ms"
        ),
    )


V1_CASES = 1_000
V1_WORKERS = 4


async def figure_v1(context: BenchContext) -> Figure:
    """V1: cases assigned per second when 1,000 reports arrive at once and 4 review workers take
    them together (each case opened, assigned by the load rule and announced), checked to be
    exactly once and even."""
    import importlib

    from services.review.settings import get_settings as review_settings
    from shared.queue import create_queue_pool
    from tests.review.bursts import assignment_burst

    # In-process workers of their own, on the bench's database and a queue nobody else reads.
    os.environ["DATABASE_URL"] = context.database_url
    os.environ["QUEUE_PREFIX"] = f"bench-v1-{uuid.uuid4().hex[:8]}"
    review_settings.cache_clear()
    if "services.review.worker" in sys.modules:
        importlib.reload(sys.modules["services.review.worker"])
    maker, engine = await bench_sessionmaker(context.database_url)
    queue = await create_queue_pool(ServiceSettings())
    department = unique_code("V1")
    unit = await create_unit_with_members(maker, jurisdiction=[department], member_count=8)
    try:
        burst = await assignment_burst(
            maker, queue, department=department, cases=V1_CASES, workers=V1_WORKERS
        )
    finally:
        await queue.aclose()
        await engine.dispose()
    load = burst.load
    exact = (
        {report for report, _, _ in burst.cases} == burst.sent
        and all(assignments == 1 for _, _, assignments in burst.cases)
        and set(load) == {member.id for member in unit.members}
    )
    spread = max(load.values()) - min(load.values()) if load else 0
    return Figure(
        value=V1_CASES / burst.seconds,
        target=">= 500",
        unit="assignments/s",
        detail=(
            f"{V1_CASES:,} cases, {V1_WORKERS} workers, 8 members: {burst.seconds:.2f} s; "
            f"each assigned exactly once: {exact}; load spread {spread} (at most 1 allowed)"
        ),
    )


B2_ROWS = 100_000
B2_RULES = ("CR1964-22", "CR1964-18")
B2_PLATFORMS = ("facebook", "x", "whatsapp", "instagram", "tiktok", "youtube", "other")


def b2_row(n: int) -> dict[str, Any]:
    """Row n of a realistic list: every row distinct, about 200 bytes of CSV each."""
    return {
        "employee_ref": f"MTI-EMP-{n:06d}",
        "name": f"Dr. Employee {n:06d} Khan",
        "designation": "Assistant Professor" if n % 3 else "Medical Officer",
        "office": f"Department {n % 40:02d}, Teaching Hospital",
        "rule": B2_RULES[n % len(B2_RULES)],
        "platform": B2_PLATFORMS[n % len(B2_PLATFORMS)],
        "finding": f"Posted remarks about ward {n % 97} capable of embarrassing the government.",
        "found_on": date(2026, 1, 1) + timedelta(days=n % 300),
        "institution_finding_ref": f"LRH/INQ/2026/{n:06d}",
        "notice_and_reply_on_record": n % 5 == 0,
    }


def b2_rows(count: int) -> list[tuple[Any, ...]]:
    """The list's rows as typed tuples, their cells in VIOLATOR_LIST_COLUMNS order (the
    service's one definition of the columns), for the CSV and for the raw COPY alike."""
    cells = operator.itemgetter(*VIOLATOR_LIST_COLUMNS)
    return [cells(b2_row(n)) for n in range(1, count + 1)]


def b2_csv(rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(VIOLATOR_LIST_COLUMNS)
    for row in rows:
        writer.writerow([str(cell).lower() if isinstance(cell, bool) else cell for cell in row])
    return buffer.getvalue().encode("utf-8")


async def raw_copy_rate(database_url: str, rows: list[tuple[Any, ...]]) -> float:
    """The machine's own limit for a list: asyncpg copy_records_to_table of the same rows
    (already typed) into a scratch table of the entry's columns, one transaction."""
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS public.bench_raw_violator_list; "
            "CREATE TABLE public.bench_raw_violator_list (id uuid PRIMARY KEY, "
            "employee_ref varchar(64), name varchar(200), designation varchar(200), "
            "office varchar(200), rule varchar(64), platform varchar(16), finding text, "
            "found_on date, institution_finding_ref varchar(64), "
            "notice_and_reply_on_record boolean)"
        )
        records = [(uuid.uuid4(), *row) for row in rows]
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "bench_raw_violator_list",
                schema_name="public",
                columns=("id", *VIOLATOR_LIST_COLUMNS),
                records=records,
            )
        elapsed = time.perf_counter() - started
        await connection.execute("DROP TABLE public.bench_raw_violator_list")
        return len(rows) / elapsed
    finally:
        await connection.close()


async def figure_b2(context: BenchContext) -> Figure:
    """B2: a 100,000-row CSV violator list from upload to all rows validated, stored and
    queued (entries, status lines and one entries_stored outbox message per 5,000-row slice,
    one transaction; intake's worker expands each slice into its per-entry messages after the
    answer), rows/s over raw asyncpg copy_records_to_table of the same rows."""
    maker, engine = await bench_sessionmaker(context.database_url)
    token = await create_client(
        maker,
        organisation_code=unique_code("B2"),
        organisation_kind="institution",
        scopes=("violator-lists:write", "status:read"),
    )
    await engine.dispose()
    rows = b2_rows(B2_ROWS)
    body = b2_csv(rows)
    raw = await raw_copy_rate(context.database_url, rows)
    async with httpx.AsyncClient(base_url=context.urls["intake"], timeout=300) as http:
        started = time.perf_counter()
        response = await http.post(
            "/v1/violator-lists",
            content=body,
            params={"batch_key": f"b2-{uuid.uuid4().hex}"},
            headers={**bearer(token), "Content-Type": "text/csv"},
        )
        elapsed = time.perf_counter() - started
    if response.status_code != 201 or response.json()["accepted"] != B2_ROWS:
        raise RuntimeError(f"B2 list not accepted whole: {response.status_code} {response.text}")
    ours = B2_ROWS / elapsed
    announced = await seconds_until_entries_announced(
        context.database_url, batch_id=response.json()["id"], since=started
    )
    return Figure(
        value=ours / raw,
        target=">= 0.4",
        unit="ratio",
        detail=(
            f"{ours:,.0f} rows/s ({B2_ROWS:,} rows, {len(body) / 1e6:.1f} MB CSV, POST answered "
            f"after commit in {elapsed:.2f} s) vs raw COPY {raw:,.0f} rows/s; every row's own "
            f"entry_received message staged by intake's worker {announced} after the upload began"
        ),
    )


ENTRIES_ANNOUNCED = text(
    "SELECT count(*) FROM intake.outbox_message "
    "WHERE message_type = 'violator_list.entry_received' "
    "AND envelope->'payload'->>'batch_id' = :batch_id"
)


async def seconds_until_entries_announced(database_url: str, *, batch_id: str, since: float) -> str:
    """How long after `since` the list's every entry had its entry_received message in intake's
    outbox (the slices' messages expanded by the worker), as text for the detail."""
    try:
        seconds = await seconds_until_count(
            database_url,
            ENTRIES_ANNOUNCED,
            {"batch_id": batch_id},
            expected=B2_ROWS,
            since=since,
            give_up_after=300.0,
            interval=0.5,
        )
    except CountNotReached as short:
        return f"not within {short.timeout:.0f} s ({short.reached:,} of {B2_ROWS:,})"
    return f"{seconds:.1f} s"


class CountNotReached(TimeoutError):
    def __init__(self, *, reached: int, expected: int, timeout: float) -> None:
        super().__init__(f"{reached:,} of {expected:,} after {timeout:.0f} s")
        self.reached, self.expected, self.timeout = reached, expected, timeout


async def seconds_until_count(
    database_url: str,
    count_query: TextClause,
    parameters: dict[str, Any],
    *,
    expected: int,
    since: float,
    give_up_after: float,
    interval: float,
) -> float:
    """Seconds from `since` (perf_counter) until `count_query` counts at least `expected`,
    asked every `interval` seconds; CountNotReached once `give_up_after` seconds have passed since
    the call."""
    maker, engine = await bench_sessionmaker(database_url)
    reached = 0
    try:
        deadline = time.perf_counter() + give_up_after
        while time.perf_counter() < deadline:
            async with maker() as session:
                reached = int(await session.scalar(count_query, parameters) or 0)
            if reached >= expected:
                return time.perf_counter() - since
            await asyncio.sleep(interval)
        raise CountNotReached(reached=reached, expected=expected, timeout=give_up_after)
    finally:
        await engine.dispose()
