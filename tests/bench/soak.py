"""SOAK: the full flow at a steady rate for ten minutes, a scripted unit acting on its cases.

A portal posts reports at SOAK_RATE per second (open loop); the unit's members take each case
assigned to them through notice, reply, hearing and a violation finding, and the chair
countersigns, so the registry records. Every 10 s the three APIs' /metrics are read for queue
depth, outbox lag and dead letters. The figure is the largest memory growth of any process of
the stack between the end of the warm-up and the end of the run; the detail gives throughput,
p50/p99 per endpoint and the errors (there should be none).

SOAK_SECONDS and SOAK_RATE override the duration (default 600) and the rate (default 4/s).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.bench.figures import BenchContext, Figure, bench_sessionmaker, percentile
from tests.factories import (
    SeededMember,
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.scripted_member import NEXT_STEP, next_step

SAMPLE_EVERY = 10.0
DRAIN_SECONDS = 120.0
WATCHED_METRICS = ("conduct_queue_depth", "conduct_outbox_lag_seconds", "conduct_dead_letters")


def resident_kib(pid: int) -> int | None:
    """The process's resident memory (VmRSS), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_of(context: BenchContext) -> dict[str, int]:
    found = {name: resident_kib(pid) for name, pid in context.process_ids().items()}
    return {name: kib for name, kib in found.items() if kib is not None}


class Soak:
    """What the run saw: latencies per endpoint, errors, and the metrics sampled."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.reports = 0
        self.recorded_steps = 0

    async def call(
        self, label: str, method: str, url: str, **options: object
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **options)  # type: ignore[arg-type]
        except httpx.TransportError as error:
            self.errors[f"{label}: {type(error).__name__}"] += 1
            return None
        self.latencies[label].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.errors[f"{label}: {response.status_code}"] += 1
            return None
        return response

    async def sample_metrics(self, urls: dict[str, str]) -> None:
        for service, url in urls.items():
            response = await self.call("GET /metrics", "GET", f"{url}/metrics")
            if response is None:
                continue
            for family in text_string_to_metric_families(response.text):
                if family.name in WATCHED_METRICS:
                    for sample in family.samples:
                        self.samples[f"{family.name} ({service})"].append(sample.value)


async def portal(soak: Soak, intake: str, token: str, *, rate: float, until: float) -> None:
    sent: list[asyncio.Task[httpx.Response | None]] = []
    interval = 1 / rate
    next_at = time.perf_counter()
    while time.perf_counter() < until:
        sent.append(
            asyncio.create_task(
                soak.call(
                    "POST /v1/reports",
                    "POST",
                    f"{intake}/v1/reports",
                    json=report_body(),
                    headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
                )
            )
        )
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    soak.reports = sum(1 for answer in await asyncio.gather(*sent) if answer is not None)


async def open_cases(soak: Soak, review: str, member: SeededMember, states: list[str]) -> list[str]:
    """The ids of the member's cases in these states (first page: the oldest)."""
    listed = await soak.call(
        "GET /v1/cases",
        "GET",
        f"{review}/v1/cases",
        params=[("state", state) for state in states] + [("limit", "50")],
        headers=member.headers,
    )
    return [item["id"] for item in listed.json()["items"]] if listed is not None else []


async def investigator(soak: Soak, review: str, member: SeededMember, stop: asyncio.Event) -> None:
    while not stop.is_set():
        cases = await open_cases(soak, review, member, list(NEXT_STEP))
        for case_id in cases:
            while True:
                read = await soak.call(
                    "GET /v1/cases/{id}",
                    "GET",
                    f"{review}/v1/cases/{case_id}",
                    headers=member.headers,
                )
                if read is None or read.json()["state"] not in NEXT_STEP:
                    break
                if (read.json().get("permission_check") or {}).get("status") == "pending":
                    break  # triage first: registry has not answered yet; next round

                taken = next_step(read.json())
                if taken is None:
                    break
                step, body = taken
                done = await soak.call(
                    f"POST /v1/cases/{{id}}/{step}",
                    "POST",
                    f"{review}/v1/cases/{case_id}/{step}",
                    json=body,
                    headers=member.headers,
                )
                if done is None:
                    break
                soak.recorded_steps += 1
        if not cases:
            await asyncio.sleep(0.5)


async def chair(soak: Soak, review: str, member: SeededMember, stop: asyncio.Event) -> None:
    # A countersigned case stays 'determined' until registry's record arrives: sign it once.
    countersigned: set[str] = set()
    while not stop.is_set():
        cases = [
            case_id
            for case_id in await open_cases(soak, review, member, ["determined"])
            if case_id not in countersigned
        ]
        for case_id in cases:
            countersigned.add(case_id)
            await soak.call(
                "POST /v1/cases/{id}/countersign",
                "POST",
                f"{review}/v1/cases/{case_id}/countersign",
                headers=member.headers,
            )
        if not cases:
            await asyncio.sleep(0.5)


async def figure_soak(context: BenchContext) -> Figure:
    """SOAK: the full flow at a steady rate (SOAK_RATE/s, default 4) for SOAK_SECONDS (default
    600) with a scripted unit; the largest memory growth of any process after the warm-up."""
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    rate = float(os.environ.get("SOAK_RATE", "4"))
    warm_up = min(60.0, seconds / 5)
    maker, engine = await bench_sessionmaker(context.database_url)
    department = unique_code("SOAK")
    token = await create_client(maker, organisation_code=department)
    unit = await create_unit_with_members(maker, jurisdiction=[department], member_count=4)
    await engine.dispose()

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        soak = Soak(http)
        review = context.urls["review"]
        stop = asyncio.Event()
        began = time.perf_counter()
        until = began + seconds
        workers = [
            asyncio.create_task(investigator(soak, review, member, stop))
            for member in unit.members
            if member.role == "member"
        ] + [asyncio.create_task(chair(soak, review, unit.chair, stop))]
        posting = asyncio.create_task(
            portal(soak, context.urls["intake"], token, rate=rate, until=until)
        )
        try:
            await asyncio.sleep(warm_up)
            memory_at_start = memory_of(context)
            while time.perf_counter() < until:
                await soak.sample_metrics(context.urls)
                await asyncio.sleep(SAMPLE_EVERY)
            await posting
            memory_at_end = memory_of(context)
            # Let the unit finish what the portal sent, within reason, before counting.
            drain_until = time.perf_counter() + DRAIN_SECONDS
            while time.perf_counter() < drain_until:
                unfinished = await open_cases(
                    soak, review, unit.chair, [*NEXT_STEP, "received", "determined"]
                )
                if not unfinished:
                    break
                await asyncio.sleep(1)
        finally:
            stop.set()
            posting.cancel()
            await asyncio.gather(*workers, posting, return_exceptions=True)
        elapsed = time.perf_counter() - began

    growth = {
        name: (memory_at_end[name] - start) / start * 100
        for name, start in memory_at_start.items()
        if name in memory_at_end and start
    }
    worst = max(growth, key=lambda name: growth[name]) if growth else "none"
    endpoints = "; ".join(
        f"{label} {len(samples)} calls p50 {percentile(samples, 0.5) * 1000:.0f} ms p99 "
        f"{percentile(samples, 0.99) * 1000:.0f} ms"
        for label, samples in sorted(soak.latencies.items())
        if label != "GET /metrics"
    )
    watched = "; ".join(
        f"{name} max {max(values):.1f}" for name, values in sorted(soak.samples.items()) if values
    )
    errors = sum(soak.errors.values())
    memory = ", ".join(
        f"{name} {memory_at_start[name] // 1024}->{memory_at_end[name] // 1024} MiB"
        for name in sorted(growth)
    )
    return Figure(
        value=max(growth.values()) if growth else 0.0,
        target="<= 10 % memory growth per process, 0 errors",
        unit="% (largest RSS growth)",
        detail=(
            f"{seconds:.0f} s at {rate:g} reports/s: {soak.reports} reports accepted "
            f"({soak.reports / seconds:.1f}/s), {soak.recorded_steps} case steps in "
            f"{elapsed:.0f} s; {errors} errors"
            + (f" ({dict(soak.errors)})" if errors else "")
            + f"; largest growth {worst}; memory {memory}; {endpoints}; {watched}"
        ),
    )
