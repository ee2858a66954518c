"""The registry's read-side figures over a ledger of 1,000,000 records (tests/bench/ledger_volume):
R1 statistics for dashboards, R2 a filtered page of violations, B3 the violations CSV export
against a raw asyncpg fetch of the same rows. All over the registry's real HTTP API.

The ledger is seeded once per bench run (the first of these figures seeds it, the others find
it there), after whatever the figures before them appended.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from shared.settings import to_plain_url
from tests.bench.figures import BenchContext, Figure, bench_sessionmaker, percentile
from tests.bench.ledger_volume import seed_ledger
from tests.factories import bearer
from tests.registry.factories import issue_reader

LEDGER_RECORDS = 1_000_000
# Requests measured per latency figure, one at a time (the figure is latency, not load), after
# WARM_UP requests that are not counted.
REQUESTS = 400
WARM_UP = 40


async def ensure_ledger(context: BenchContext) -> str:
    """Seed the ledger up to LEDGER_RECORDS records unless it holds them; say what was done."""
    connection = await asyncpg.connect(to_plain_url(context.database_url))
    try:
        held = await connection.fetchval(
            "SELECT coalesce(max(sequence), 0) FROM registry.ledger_record"
        )
    finally:
        await connection.close()
    if held >= LEDGER_RECORDS:
        return f"ledger of {held:,} records"
    seeded = await seed_ledger(context.database_url, LEDGER_RECORDS - held)
    return (
        f"ledger of {seeded.last_sequence:,} records ({seeded.last_sequence - held:,} seeded "
        f"in {seeded.seconds:.0f} s)"
    )


@dataclass(frozen=True)
class Latencies:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    count: int


async def sequential_latencies(
    http: httpx.AsyncClient, requests: list[tuple[str, dict[str, Any]]], *, headers: dict[str, str]
) -> Latencies:
    """GET each (path, params) in turn, WARM_UP of them first unmeasured; every answer must
    be 200."""
    samples: list[float] = []
    for number, (path, params) in enumerate(requests):
        started = time.perf_counter()
        response = await http.get(path, params=params, headers=headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
        if number >= WARM_UP:
            samples.append(elapsed)
    return Latencies(
        p50_ms=percentile(samples, 0.5) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        p99_ms=percentile(samples, 0.99) * 1000,
        count=len(samples),
    )


async def floor_latencies(http: httpx.AsyncClient, *, headers: dict[str, str]) -> str:
    """The machine's floor for a registry read, for the figures' detail: the same credential
    reading the penalties catalogue (authentication, rate limit, one small query)."""
    floor = await sequential_latencies(
        http, [("/v1/catalogue/penalties", {})] * (WARM_UP + REQUESTS // 2), headers=headers
    )
    return (
        f"floor (GET /v1/catalogue/penalties, same credential) p50 {floor.p50_ms:.1f} ms, "
        f"p95 {floor.p95_ms:.1f} ms"
    )


async def reader_token(context: BenchContext, *, role: str) -> dict[str, str]:
    maker, engine = await bench_sessionmaker(context.database_url)
    try:
        return bearer(await issue_reader(maker, role=role))  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def mixed(
    variants: list[Callable[[random.Random], dict[str, Any]]], *, path: str
) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(5)
    return [(path, rng.choice(variants)(rng)) for _ in range(WARM_UP + REQUESTS)]


# Departments and rules the seeded ledger holds (tests/bench/ledger_volume.py).
DEPARTMENTS = ("HEALTH", "EDUCATION", "POLICE", "REVENUE", "MTI-03", "DHO-07")
RULES = ("CR1964-22", "CR1964-18", "NOTIF-POLITICAL-SECTARIAN", "NOTIF-GROUP-ADMINISTRATOR")
PLATFORMS = ("facebook", "x", "whatsapp", "tiktok")


def statistics_request(rng: random.Random) -> dict[str, Any]:
    params: dict[str, Any] = {
        "by": rng.choice(("month", "department", "rule", "platform", "penalty"))
    }
    if rng.random() < 0.5:
        params["department"] = rng.choice(DEPARTMENTS)
    if rng.random() < 0.3:
        year = rng.choice((2024, 2025, 2026))
        params.update({"from": f"{year}-01-01", "to": f"{year}-12-31"})
    return params


async def figure_r1(context: BenchContext) -> Figure:
    """R1: ms for GET /v1/statistics (p95), a dashboard credential, over a ledger of
    1,000,000 records: groupings by month, department, rule, platform and penalty, half of them
    for one department, some for one year."""
    ledger = await ensure_ledger(context)
    headers = await reader_token(context, role="dashboard")
    async with httpx.AsyncClient(base_url=context.urls["registry"], timeout=60) as http:
        latencies = await sequential_latencies(
            http, mixed([statistics_request], path="/v1/statistics"), headers=headers
        )
        floor = await floor_latencies(http, headers=headers)
    return Figure(
        value=latencies.p95_ms,
        target="<= 50",
        unit="ms (p95)",
        detail=(
            f"{ledger}; {latencies.count} requests one at a time: p50 {latencies.p50_ms:.1f} "
            f"ms, p95 {latencies.p95_ms:.1f} ms, p99 {latencies.p99_ms:.1f} ms; {floor}"
        ),
    )


async def figure_r2(context: BenchContext) -> Figure:
    """R2: ms for one filtered page of GET /v1/violations (p95, 50 a page), an auditor
    credential, over a ledger of 1,000,000 records: by department, rule, platform and status
    and their combinations, from a cursor anywhere in the ledger."""
    ledger = await ensure_ledger(context)
    headers = bearer(context.tokens["registry_auditor"])

    def page(rng: random.Random) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": 50, "after": rng.randrange(0, LEDGER_RECORDS)}
        filters = rng.choice(
            (
                ("department",),
                ("department", "rule"),
                ("department", "platform"),
                ("department", "status"),
                ("rule",),
                ("platform", "status"),
                ("status",),
                ("rule", "platform"),
            )
        )
        choices = {
            "department": DEPARTMENTS,
            "rule": RULES,
            "platform": PLATFORMS,
            "status": ("current", "superseded"),
        }
        for name in filters:
            params[name] = rng.choice(choices[name])
        return params

    async with httpx.AsyncClient(base_url=context.urls["registry"], timeout=60) as http:
        latencies = await sequential_latencies(
            http, mixed([page], path="/v1/violations"), headers=headers
        )
        floor = await floor_latencies(http, headers=headers)
    return Figure(
        value=latencies.p95_ms,
        target="<= 20",
        unit="ms (p95)",
        detail=(
            f"{ledger}; {latencies.count} pages one at a time: p50 {latencies.p50_ms:.1f} ms, "
            f"p95 {latencies.p95_ms:.1f} ms, p99 {latencies.p99_ms:.1f} ms; {floor}"
        ),
    )


# The rows GET /v1/violations/export.csv sends with no filter: every violation version
# recorded by $1, with its successor recorded by then, in chain order.
RAW_EXPORT = """
SELECT r.id, r.sequence, r.record_kind, r.department, r.case_id, r.employee_ref,
       r.employee_name, r.rules_cited, r.platform, r.effective_on, r.recorded_at,
       r.reported_at, r.reasons, r.supersedes_id, r.appeal_outcome,
       (SELECT s.id FROM registry.ledger_record s
         WHERE s.supersedes_id = r.id AND s.recorded_at <= $1) AS superseded_by
FROM registry.ledger_record r
WHERE (r.record_kind IN ('violation', 'correction')
       OR (r.record_kind = 'appeal_outcome' AND r.appeal_outcome = 'modified'))
  AND r.recorded_at <= $1
ORDER BY r.sequence
"""


async def raw_fetch_rate(database_url: str, *, as_of: datetime) -> tuple[float, int]:
    """The machine's own limit: rows/s of asyncpg fetch() of the export's rows."""
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        started = time.perf_counter()
        rows = await connection.fetch(RAW_EXPORT, as_of)
        elapsed = time.perf_counter() - started
        return len(rows) / elapsed, len(rows)
    finally:
        await connection.close()


async def export_rate(
    http: httpx.AsyncClient, *, as_of: datetime, headers: dict[str, str]
) -> tuple[float, int, int]:
    """rows/s of the CSV export read to its end by a client, the rows and the bytes."""
    lines = size = 0
    started = time.perf_counter()
    async with http.stream(
        "GET", "/v1/violations/export.csv", params={"as_of": as_of.isoformat()}, headers=headers
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export: {response.status_code} {(await response.aread())!r}")
        async for chunk in response.aiter_bytes():
            lines += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - started
    rows = lines - 1  # the header
    return rows / elapsed, rows, size


async def figure_b3(context: BenchContext) -> Figure:
    """B3: rows/s of GET /v1/violations/export.csv (every violation version of a ledger of
    1,000,000 records, streamed to the client) over rows/s of a raw asyncpg fetch() of the same
    rows in the same run; best of two each."""
    ledger = await ensure_ledger(context)
    headers = bearer(context.tokens["registry_auditor"])
    as_of = datetime.now(UTC)
    raw_rates: list[float] = []
    ours: list[tuple[float, int, int]] = []
    async with httpx.AsyncClient(base_url=context.urls["registry"], timeout=600) as http:
        for _ in range(2):
            rate, raw_rows = await raw_fetch_rate(context.database_url, as_of=as_of)
            raw_rates.append(rate)
            ours.append(await export_rate(http, as_of=as_of, headers=headers))
    best_raw = max(raw_rates)
    best_rate, rows, size = max(ours)
    if rows != raw_rows:
        raise RuntimeError(f"B3 export sent {rows} rows where the ledger holds {raw_rows}")
    return Figure(
        value=best_rate / best_raw,
        target=">= 0.3",
        unit="ratio",
        detail=(
            f"{ledger}; {rows:,} rows ({size / 1e6:.0f} MB CSV) at {best_rate:,.0f} rows/s vs raw "
            f"asyncpg fetch {best_raw:,.0f} rows/s"
        ),
    )


# Verifications timed for R3; the figure is their median.
R3_RUNS = 3


async def figure_r3(context: BenchContext) -> Figure:
    """R3: records/s of GET /v1/audit/verify (the whole chain recomputed: every record's
    content hash from its stored columns, every link, the latest checkpoint) over a ledger of
    1,000,000 records, an auditor credential; the median of R3_RUNS verifications."""
    ledger = await ensure_ledger(context)
    headers = bearer(context.tokens["registry_auditor"])
    rates: list[float] = []
    checked = 0
    async with httpx.AsyncClient(base_url=context.urls["registry"], timeout=900) as http:
        for _ in range(R3_RUNS):
            started = time.perf_counter()
            response = await http.get("/v1/audit/verify", headers=headers)
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or response.json()["status"] != "intact":
                raise RuntimeError(f"verify: {response.status_code} {response.text[:300]}")
            checked = response.json()["records_checked"]
            rates.append(checked / elapsed)
    rates.sort()
    median = rates[len(rates) // 2]
    return Figure(
        value=median,
        target=">= 200000",
        unit="records/s",
        detail=(
            f"{ledger}; {checked:,} records verified {R3_RUNS} times: "
            + ", ".join(f"{rate:,.0f}" for rate in rates)
            + " records/s"
        ),
    )
