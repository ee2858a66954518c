"""Figure F10 of `make bench` (issue 7): chaos. One stack (two API processes and two workers per
service) on a private Redis and a proxied PostgreSQL link takes a steady stream of reports from
the fault checker's portal (tests/faults/checker.py, an Idempotency-Key per report, retried
through faults) for CHAOS_SECONDS (600 by default). Every 5-15 s (random, seeded by CHAOS_SEED,
1 by default) one fault is injected and undone before the next, the kinds in a random order
that meets each of the five once per five faults (a short run sees them all):

- F1: SIGKILL to one worker, started again 2 s later;
- F2: SIGTERM to every process (APIs, workers, relays), then each started again;
- F3: SIGKILL to Redis (started again on its AOF 3 s later), or FLUSHALL;
- F4: the PostgreSQL link cut (connections reset, new ones refused) for 3 s;
- F8: every PostgreSQL and Redis link degraded (10 ms a chunk, 256 KiB/s, a reset per 500
  chunks) for 10 s.

Meanwhile two scripted members take CHAOS_VIOLATIONS cases (10 by default, one taken up every
CHAOS_SECONDS / (CHAOS_VIOLATIONS + 1) seconds, so they meet the faults) to a violation and the chair countersigns, through the same faults, so registry's ledger is written
under them. At the end: quiescence (tests/faults/checker.py settle), the counts (submitted,
acknowledged, stored, lost, doubled, seconds to quiescence), the faults injected by kind, every
countersigned case's violation record in registry exactly once, and GET /v1/audit/verify with
the demo auditor's token. The value: reports lost + doubled, plus violation records lost +
doubled, plus 1 if the chain does not verify (target 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from shared.settings import to_plain_url
from tests.bench.fault_figures import database_proxy, fault_stack, run_in
from tests.factories import bearer
from tests.faults.checker import Figures, Portal, settle
from tests.faults.proxy import FaultProxy
from tests.faults.servers import PrivateRedis
from tests.scripted_member import NEXT_STEP, next_step
from tests.stack import RunningStack

if TYPE_CHECKING:  # tests.bench.figures imports the catalogue, which imports this module
    from tests.bench.figures import BenchContext, Figure

QUIESCENCE_LIMIT_SECONDS = 900.0
# How long the countersigned cases may take to reach registry once the chaos is over.
RECORDING_LIMIT_SECONDS = 300.0
KILLED_WORKER_SECONDS = 2.0
REDIS_DOWN_SECONDS = 3.0
DATABASE_DOWN_SECONDS = 3.0
DEGRADED_SECONDS = 10.0
# The states a countersigned case reaches once registry's record is back in review.
RECORDED_STATES = frozenset({"recorded", "closed"})
KINDS = ("F1", "F2", "F3", "F4", "F8")


def chaos_seconds() -> float:
    return float(os.environ.get("CHAOS_SECONDS", "600"))


def chaos_seed() -> int:
    return int(os.environ.get("CHAOS_SEED", "1"))


def chaos_rate() -> int:
    """Reports a second from the portal."""
    return int(os.environ.get("CHAOS_RATE", "4"))


def chaos_violations() -> int:
    return int(os.environ.get("CHAOS_VIOLATIONS", "10"))


@dataclass
class Chaos:
    """The stack under test and what can break it; every fault is synchronous (a thread)."""

    running: RunningStack
    redis: PrivateRedis
    database_link: FaultProxy
    redis_link: FaultProxy
    randomness: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    # The kinds still to come in this round: the five in a random order, so a short run still
    # meets each of them.
    deck: list[str] = field(default_factory=list)

    def inject_one(self) -> str:
        """Pick a fault, inject it, undo it; returns its label."""
        if not self.deck:
            self.deck = self.randomness.sample(KINDS, len(KINDS))
        kind = self.deck.pop()
        label: str
        if kind == "F1":
            workers = [name for name in self.running.stack.names if "-worker-" in name]
            victim = self.randomness.choice(workers)
            self.running.stack.kill(victim)
            time.sleep(KILLED_WORKER_SECONDS)
            self.running.stack.restart(victim)
            label = f"F1 SIGKILL {victim}"
        elif kind == "F2":
            self.running.stack.stop()
            for name in self.running.stack.names:
                self.running.stack.restart(name)
            self.running.stack.wait_ready(timeout=120)
            label = "F2 SIGTERM to all"
        elif kind == "F3":
            if self.randomness.random() < 0.5:
                self.redis.kill()
                time.sleep(REDIS_DOWN_SECONDS)
                self.redis.start()
                label = "F3 Redis SIGKILL"
            else:
                self.redis.flushall()
                label = "F3 FLUSHALL"
        elif kind == "F4":
            self.database_link.cut()
            time.sleep(DATABASE_DOWN_SECONDS)
            self.database_link.restore()
            label = "F4 PostgreSQL cut"
        else:
            for link in (self.database_link, self.redis_link):
                link.latency_seconds = 0.01
                link.bytes_per_second = 256 * 1024
                link.reset_probability = 0.002
            time.sleep(DEGRADED_SECONDS)
            for link in (self.database_link, self.redis_link):
                link.calm()
            label = "F8 links degraded"
        self.injected[label] += 1
        return label


@dataclass
class Unit:
    """Two members taking the first `wanted` cases to a violation, and their chair, over HTTP;
    every call may meet a fault: what fails is tried again at the next round."""

    http: httpx.AsyncClient
    review_url: str
    members: tuple[dict[str, str], ...]
    chair: dict[str, str]
    wanted: int
    # A new case is taken up at most this often, so the cases meet the faults all along the run.
    pace_seconds: float
    chosen: dict[str, dict[str, str]] = field(default_factory=dict)
    countersigned: set[str] = field(default_factory=set)
    recorded: set[str] = field(default_factory=set)
    failed_calls: Counter[str] = field(default_factory=Counter)
    all_recorded: asyncio.Event = field(default_factory=asyncio.Event)
    last_chosen_at: float = float("-inf")

    async def call(
        self, label: str, method: str, url: str, **options: Any
    ) -> httpx.Response | None:
        try:
            response = await self.http.request(method, url, **options)
        except httpx.TransportError as error:
            self.failed_calls[f"{label}: {type(error).__name__}"] += 1
            return None
        if response.status_code >= 400:
            self.failed_calls[f"{label}: {response.status_code}"] += 1
            return None
        return response

    @property
    def done(self) -> bool:
        return len(self.chosen) >= self.wanted and self.recorded >= set(self.chosen)

    async def round(self) -> None:
        if len(self.chosen) < self.wanted and time.monotonic() >= self.last_chosen_at + (
            self.pace_seconds
        ):
            for headers in self.members:
                listed = await self.call(
                    "GET /v1/cases",
                    "GET",
                    f"{self.review_url}/v1/cases",
                    params={"state": "assigned", "limit": "50"},
                    headers=headers,
                )
                items = listed.json()["items"] if listed is not None else []
                fresh = [item["id"] for item in items if item["id"] not in self.chosen]
                if fresh:
                    self.chosen[fresh[0]] = headers
                    self.last_chosen_at = time.monotonic()
                    break
        for case_id, headers in list(self.chosen.items()):
            if case_id not in self.recorded:
                await self.advance(case_id, headers)
        if self.done:
            self.all_recorded.set()

    async def advance(self, case_id: str, headers: dict[str, str]) -> None:
        case_url = f"{self.review_url}/v1/cases/{case_id}"
        read = await self.call("GET /v1/cases/{id}", "GET", case_url, headers=headers)
        if read is None:
            return
        case = read.json()
        state = case["state"]
        if state in RECORDED_STATES:
            # Registry's record came back, so the countersignature is there (its own answer
            # may have been lost to a fault).
            self.recorded.add(case_id)
            self.countersigned.add(case_id)
        elif state == "determined" and case_id not in self.countersigned:
            # The case stays 'determined' until registry's record is back: sign it once.
            signed = await self.call(
                "POST /v1/cases/{id}/countersign",
                "POST",
                f"{case_url}/countersign",
                headers=self.chair,
            )
            if signed is not None:
                self.countersigned.add(case_id)
        elif state in NEXT_STEP:
            if (case.get("permission_check") or {}).get("status") == "pending":
                return  # registry's answer at triage comes first
            taken = next_step(case)
            if taken is None:
                return
            step, body = taken
            await self.call(
                f"POST /v1/cases/{{id}}/{step}",
                "POST",
                f"{case_url}/{step}",
                json=body,
                headers=headers,
            )

    async def work(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.round()
            await asyncio.sleep(0.5)


async def violation_records(database_url: str, case_ids: list[str]) -> dict[str, int]:
    """How many violation records registry's ledger holds for each case."""
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT case_id::text AS id, count(*) AS records FROM registry.ledger_record "
            "WHERE record_kind = 'violation' AND case_id::text = ANY($1::text[]) "
            "GROUP BY case_id",
            case_ids,
        )
    finally:
        await connection.close()
    return {row["id"]: row["records"] for row in rows}


async def stream(portal: Portal, *, rate: int, until: float) -> None:
    """`rate` reports a second until `until` (time.monotonic()); returns once each has its
    answer or its retries ran out."""
    batches: list[asyncio.Task[Any]] = []
    next_at = time.monotonic()
    while time.monotonic() < until:
        batches.append(portal.start(rate, concurrency=rate))
        next_at += 1.0
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*batches)


async def inject_until(chaos: Chaos, *, began: float, until: float, log: list[str]) -> float:
    """A fault every 5-15 s until `until`; returns the moment the last one was undone."""
    undone = time.monotonic()
    while True:
        pause = chaos.randomness.uniform(5.0, 15.0)
        if time.monotonic() + pause >= until:
            await asyncio.sleep(max(0.0, until - time.monotonic()))
            return undone
        await asyncio.sleep(pause)
        started = time.monotonic()
        label = await asyncio.to_thread(chaos.inject_one)
        undone = time.monotonic()
        log.append(f"{started - began:.0f}s {label} ({undone - started:.1f} s)")


async def chaos_body(
    running: RunningStack, make_chaos: Callable[[RunningStack], Chaos], ledger_faults: list[int]
) -> tuple[Figures, str]:
    """The run; the reports' figures and the detail. Violation records lost or doubled, and a
    chain that does not verify, are appended to `ledger_faults`."""
    chaos = make_chaos(running)
    tokens = running.tokens
    portal = Portal(running.urls["intake"], tokens["portal_health"], retry_for_seconds=180)
    seconds = chaos_seconds()
    began = time.monotonic()
    until = began + seconds
    log: list[str] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=20, trust_env=False) as http:
        unit = Unit(
            http=http,
            review_url=running.urls["review"],
            members=(bearer(tokens["review_member_1"]), bearer(tokens["review_member_2"])),
            chair=bearer(tokens["review_chair"]),
            wanted=chaos_violations(),
            pace_seconds=seconds / (chaos_violations() + 1),
        )
        members = asyncio.create_task(unit.work(stop))
        sending = asyncio.create_task(stream(portal, rate=chaos_rate(), until=until))
        last_undone = await inject_until(chaos, began=began, until=until, log=log)
        await sending
        figures = await settle(
            running.database_url,
            portal.submissions,
            since=last_undone,
            within=QUIESCENCE_LIMIT_SECONDS,
            poll_seconds=2.0,
        )
        # The members finish their cases on a quiet stack; registry records each once.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(unit.all_recorded.wait(), RECORDING_LIMIT_SECONDS)
        stop.set()
        await members
        records = await violation_records(running.database_url, sorted(unit.countersigned))
        verified = await http.get(
            f"{running.urls['registry']}/v1/audit/verify",
            headers=bearer(tokens["registry_auditor"]),
        )
    chain: dict[str, Any] = verified.json() if verified.status_code == 200 else {}
    missing_records = sum(1 for case_id in unit.countersigned if case_id not in records)
    doubled_records = sum(1 for count in records.values() if count > 1)
    chain_intact = chain.get("status") == "intact"
    broken = 0 if chain_intact else 1
    faults = ", ".join(f"{count} x {label}" for label, count in sorted(chaos.injected.items()))
    failed = ", ".join(f"{n} x {label}" for label, n in unit.failed_calls.most_common(6))
    detail = (
        f"{seconds:.0f} s, seed {chaos_seed()}, {chaos_rate()} reports/s; "
        f"{sum(chaos.injected.values())} faults ({faults}); "
        f"answers {dict(portal.answers().most_common())}; "
        f"violations: {len(unit.chosen)} cases chosen, {len(unit.countersigned)} countersigned, "
        f"{len(records)} recorded in registry, {missing_records} missing, "
        f"{doubled_records} doubled (member calls failed: {failed or 'none'}); "
        f"GET /v1/audit/verify {verified.status_code}: {chain.get('status', verified.text[:200])}"
        f", {chain.get('records_checked', 0)} records checked; "
        f"lost {figures.missing[:3]} doubled {figures.doubles[:3]}; "
        f"timeline: {'; '.join(log)}"
    )
    ledger_faults.append(missing_records + doubled_records + broken)
    return figures, detail


async def figure_f10(context: BenchContext) -> Figure:
    """F10: CHAOS_SECONDS (default 600) of reports at CHAOS_RATE/s with F1-F4 and F8 at random
    every 5-15 s (CHAOS_SEED), some cases taken to a countersigned violation: reports lost +
    doubled, violation records lost + doubled, and 1 if the ledger chain does not verify."""
    from tests.bench.figures import Figure

    directory = Path(".data") / "bench" / f"chaos-{uuid.uuid4().hex[:8]}"
    ledger_faults: list[int] = []
    redis = PrivateRedis(directory / "redis")
    redis.start()
    database_link = database_proxy()
    redis_link = FaultProxy("127.0.0.1", redis.port, seed=chaos_seed()).start()
    try:
        stack = fault_stack(
            "bench_f10",
            api_processes=2,
            workers=2,
            redis_url=redis_link.url_for(redis.url),
            route_database=database_link.url_for,
        )

        def make_chaos(running: RunningStack) -> Chaos:
            return Chaos(
                running=running,
                redis=redis,
                database_link=database_link,
                redis_link=redis_link,
                randomness=random.Random(chaos_seed()),
            )

        async def body(running: RunningStack) -> tuple[Figures, str]:
            return await chaos_body(running, make_chaos, ledger_faults)

        figures, detail = await run_in(stack, body)
    finally:
        database_link.stop()
        redis_link.stop()
        redis.stop()
    return Figure(
        value=float(figures.lost + figures.doubled + sum(ledger_faults)),
        target="0 lost, 0 doubled, chain intact",
        unit="reports + violation records lost + doubled (+1 if the chain is broken)",
        detail=f"{figures.line()}; {detail}",
    )
