"""Figures of the whole flow under load: how much of what intake accepts the rest of the system
processes at the same pace (B4), and how long a message waits between the outbox that staged it
and the consumer that applied it."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from sqlalchemy import text

from tests.bench.figures import (
    BenchContext,
    CountNotReached,
    Figure,
    bench_sessionmaker,
    closed_loop,
    seconds_until_count,
)
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)

B4_CLIENTS, B4_SECONDS = 32, 10.0
QUIESCENCE_TIMEOUT = 300.0

# A report is processed once review has opened its case, assigned it, and intake shows the
# portal its new status: the full hand-off intake -> review -> intake, every hop through an
# outbox, the queue and an inbox.
PROCESSED = text(
    "SELECT count(*) FROM intake.report WHERE department = :department AND status <> 'received'"
)
# Outbox-to-done lag of each report.received: from the moment intake's transaction staged the
# message to the moment review's consumer applied it (its inbox row, written in the same
# transaction as the case).
LAG_PERCENTILES = text(
    """
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
           percentile_cont(0.99) WITHIN GROUP (ORDER BY lag),
           count(*)
    FROM (
        SELECT extract(epoch FROM inbox.processed_at - outbox.created_at) AS lag
        FROM intake.outbox_message AS outbox
        JOIN review.inbox_message AS inbox ON inbox.message_id = outbox.message_id
        WHERE outbox.message_type = 'report.received'
          AND outbox.envelope->'payload'->>'department' = :department
    ) AS lags
    """
)


async def post_report(http: httpx.AsyncClient, token: str) -> bool:
    try:
        response = await http.post(
            "/v1/reports",
            json=report_body(),
            headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
        )
    except httpx.TransportError:
        return False
    return response.status_code == 202


async def wait_processed(
    context: BenchContext, department: str, expected: int, *, since: float
) -> float:
    """Seconds from `since` until `expected` reports of the department are processed."""
    try:
        return await seconds_until_count(
            context.database_url,
            PROCESSED,
            {"department": department},
            expected=expected,
            since=since,
            give_up_after=QUIESCENCE_TIMEOUT,
            interval=0.05,
        )
    except CountNotReached as short:
        raise TimeoutError(
            f"{expected - short.reached} reports unprocessed after {QUIESCENCE_TIMEOUT:.0f} s"
        ) from short


async def lag_percentiles(context: BenchContext, department: str) -> tuple[float, float, int]:
    maker, engine = await bench_sessionmaker(context.database_url)
    try:
        async with maker() as session:
            median, p99, count = (
                await session.execute(LAG_PERCENTILES, {"department": department})
            ).one()
    finally:
        await engine.dispose()
    return float(median or 0), float(p99 or 0), int(count)


async def covered_department(context: BenchContext) -> tuple[str, str]:
    """A new department, its portal's token, and a unit of four members serving it."""
    maker, engine = await bench_sessionmaker(context.database_url)
    department = unique_code("B4")
    token = await create_client(maker, organisation_code=department)
    await create_unit_with_members(maker, jurisdiction=[department], member_count=4)
    await engine.dispose()
    return department, token


async def figure_b4(context: BenchContext) -> Figure:
    """B4: reports processed end to end per second (case opened and assigned in review, the
    portal's status moved in intake) over intake's accepted rate in the same burst (32 clients,
    10 s); and the outbox-to-done lag of report.received at half that rate."""
    limits = httpx.Limits(max_connections=B4_CLIENTS, max_keepalive_connections=B4_CLIENTS)
    async with httpx.AsyncClient(
        base_url=context.urls["intake"], limits=limits, timeout=60
    ) as http:
        # The burst: intake at full speed; the rest of the system follows as fast as it can.
        department, token = await covered_department(context)
        began = time.perf_counter()
        intake = await closed_loop(
            lambda: post_report(http, token), concurrency=B4_CLIENTS, seconds=B4_SECONDS
        )
        processed_in = await wait_processed(context, department, intake.count, since=began)
        end_to_end = intake.count / processed_in

        # The steady half rate: one report every 2 / rate seconds, open loop.
        steady, steady_token = await covered_department(context)
        interval = 2 / intake.per_second
        sent: list[asyncio.Task[bool]] = []
        steady_began = time.perf_counter()
        while time.perf_counter() - steady_began < B4_SECONDS:
            sent.append(asyncio.create_task(post_report(http, steady_token)))
            await asyncio.sleep(interval)
        accepted = sum(await asyncio.gather(*sent))
        await wait_processed(context, steady, accepted, since=steady_began)
    median, p99, measured = await lag_percentiles(context, steady)
    ratio = end_to_end / intake.per_second
    return Figure(
        value=ratio,
        target=">= 0.8, and outbox-to-done lag p99 <= 1 s at half the rate",
        unit="ratio",
        detail=(
            f"burst: intake accepted {intake.count} reports at {intake.per_second:.0f}/s "
            f"({B4_CLIENTS} clients, {B4_SECONDS:.0f} s); all processed end to end (assigned, "
            f"status back in intake) {processed_in:.1f} s after the burst began: "
            f"{end_to_end:.0f}/s, ratio {ratio:.2f}. Half rate ({intake.per_second / 2:.0f}/s, "
            f"{accepted} reports): report.received outbox-to-done lag median {median * 1000:.0f}"
            f" ms, p99 {p99 * 1000:.0f} ms over {measured} messages"
        ),
    )
