"""Figure S4: what abusive input costs the intake API, measured on a stack of its own.

- Every violator-list bomb of tests/abuse/bombs.py, near the 45 MiB cap, and a JSON report
  nested 10,000 deep, sent one after another: the slowest refusal (ms, upload included) and
  the intake API's resident memory (VmRSS of /proc/<pid>/status, the API process and any
  uvicorn workers under it) before and after, and its peak (VmHWM) over the same span.
- The list over the cap (50 MB) sent by a client that reads while it sends (RFC 9112 section
  9.6; tests/abuse/early_answers.py): how soon its 413 comes and how much it had sent by then.
  httpx, like most libraries, sends the whole body before it reads an answer, so its times
  above include the upload whenever the server refuses.
- A well-behaved portal (one report a second, half its limit) alone, then the same once an
  abusive portal (32 clients back to back) has spent its burst and is being throttled (429):
  the well-behaved portal's throughput beside the abuser over alone.

The stack is started for the figure with INTAKE_RATE_LIMIT_PER_MINUTE=120 (the bench stack's
limits are lifted to measure the services; this figure measures the limiter)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.abuse.bombs import JSON, deep_json, list_bombs
from tests.abuse.early_answers import EarlyAnswer, post_watching
from tests.bench.figures import BenchContext, Figure, bench_sessionmaker, closed_loop
from tests.factories import bearer, create_client, report_body, unique_code
from tests.stack import RunningStack, isolated_stack

BOMB_BYTES = 40_000_000
OVER_THE_CAP_BYTES = 50_000_000
# Under what this machine's intake serves (some 15 reports/s on 2 shared cores), so that the
# abuser is throttled rather than merely served: a limit above capacity throttles nobody.
LIMIT_PER_MINUTE = 120
POLITE_EVERY = 1.0  # the well-behaved portal: one report a second, half its limit
ABUSIVE_CLIENTS = 32
SECONDS = 15.0


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn --workers forks its servers under it)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            found += process_tree(int(child))
    return found


def memory_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status (VmRSS, VmHWM), in KiB, summed over the process tree."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh (Linux >= 4.0: writing 5 to clear_refs); best effort."""
    for member in process_tree(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            pass


@contextmanager
def throttled_stack() -> Iterator[RunningStack]:
    run_id = uuid.uuid4().hex[:8]
    data_dir = Path(".data") / "bench" / f"s4-{run_id}"
    data_dir.mkdir(parents=True, exist_ok=True)
    with isolated_stack(
        label="bench-s4",
        data_dir=data_dir,
        extra_env={"LOG_LEVEL": "WARNING", "INTAKE_RATE_LIMIT_PER_MINUTE": str(LIMIT_PER_MINUTE)},
    ) as running:
        yield running


async def refusals(running: RunningStack) -> tuple[dict[str, float], list[str]]:
    """(ms of each refusal, answers not as expected)."""
    maker, engine = await bench_sessionmaker(running.database_url)
    institution = await create_client(
        maker,
        organisation_code=unique_code("S4"),
        organisation_kind="institution",
        scopes=("violator-lists:write", "status:read"),
    )
    portal = await create_client(maker, organisation_code=unique_code("S4"))
    await engine.dispose()
    bombs = [
        *list_bombs(size=BOMB_BYTES),
        ("a report nested 10,000 deep", deep_json, JSON, 422),
    ]
    timings: dict[str, float] = {}
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=running.urls["intake"], timeout=120) as http:
        for tried, make_body, headers, expected in bombs:
            body = make_body()
            path = "/v1/reports" if "report" in tried else "/v1/violator-lists"
            token = portal if path == "/v1/reports" else institution
            started = time.perf_counter()
            answer = await http.post(
                path,
                content=body,
                params={"batch_key": f"s4-{uuid.uuid4().hex}"},
                headers={**bearer(token), **headers},
            )
            elapsed = (time.perf_counter() - started) * 1000
            del body
            if answer.status_code != expected:
                wrong.append(f"{tried}: {answer.status_code} (expected {expected})")
            timings[tried] = elapsed
    return timings, wrong


async def watched_refusal(running: RunningStack) -> EarlyAnswer:
    """The list over the cap sent by a client that reads while it sends (as curl and browsers
    do; httpx sends everything first): the 413 comes on the headers."""
    maker, engine = await bench_sessionmaker(running.database_url)
    institution = await create_client(
        maker,
        organisation_code=unique_code("S4W"),
        organisation_kind="institution",
        scopes=("violator-lists:write",),
    )
    await engine.dispose()
    url = httpx.URL(running.urls["intake"])
    chunk = b"x" * 1_048_576
    return await post_watching(
        url.host,
        url.port or 80,
        f"/v1/violator-lists?batch_key=s4-{uuid.uuid4().hex}",
        (chunk for _ in range(OVER_THE_CAP_BYTES // len(chunk))),
        declared=OVER_THE_CAP_BYTES,
        headers=bearer(institution),
    )


async def paced(operation: Callable[[], Awaitable[bool]], *, every: float, seconds: float) -> float:
    """One client calling `operation` every `every` seconds (or as soon as the previous call
    answers, if it answers later) for `seconds`: successes per second."""
    done, began = 0, time.perf_counter()
    due = began
    while (now := time.perf_counter()) - began < seconds:
        if now < due:
            await asyncio.sleep(due - now)
        due += every
        done += await operation()
    return done / (time.perf_counter() - began)


async def fair_share(running: RunningStack) -> tuple[float, float, Counter[int]]:
    """(well-behaved reports/s alone, the same beside the throttled abuser, the abuser's
    answers by status)."""
    maker, engine = await bench_sessionmaker(running.database_url)
    polite = await create_client(maker, organisation_code=unique_code("POLITE"))
    abuser = await create_client(maker, organisation_code=unique_code("ABUSER"))
    await engine.dispose()
    abused: Counter[int] = Counter()
    throttled = asyncio.Event()
    async with httpx.AsyncClient(base_url=running.urls["intake"], timeout=60) as http:

        async def polite_report() -> bool:
            answer = await http.post("/v1/reports", json=report_body(), headers=bearer(polite))
            return answer.status_code == 202

        async def abusive_report() -> bool:
            answer = await http.post("/v1/reports", json=report_body(), headers=bearer(abuser))
            abused[answer.status_code] += 1
            if answer.status_code == 429:
                throttled.set()
            return True

        alone = await paced(polite_report, every=POLITE_EVERY, seconds=SECONDS)
        flood = asyncio.create_task(
            closed_loop(abusive_report, concurrency=ABUSIVE_CLIENTS, seconds=SECONDS + 30)
        )
        # Measured once the abuser has spent its burst and is being refused.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(throttled.wait(), timeout=30)
        beside = await paced(polite_report, every=POLITE_EVERY, seconds=SECONDS)
        flood.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flood
    return alone, beside, abused


async def figure_s4(context: BenchContext) -> Figure:
    """S4: the slowest refusal of an abusive body (violator-list bombs near the 45 MiB cap,
    10,000-deep JSON), the intake API's memory growth over them, and a well-behaved portal's
    throughput while an abusive one is throttled, over its throughput alone."""
    stack = throttled_stack()
    # The stack's start and stop run their own event loops: off this one, in a thread.
    running = await asyncio.to_thread(stack.__enter__)
    try:
        pid = running.stack.pid("intake-api")
        before = memory_kib(pid, "VmRSS")
        reset_peak(pid)
        timings, wrong = await refusals(running)
        watched = await watched_refusal(running)
        after, peak = memory_kib(pid, "VmRSS"), memory_kib(pid, "VmHWM")
        alone, beside, abused = await fair_share(running)
    finally:
        await asyncio.to_thread(stack.__exit__, None, None, None)
    ratio = beside / alone
    growth = (after - before) / 1024
    peak_growth = (peak - before) / 1024
    which = max(timings, key=timings.__getitem__)
    slowest = timings[which]
    each = ", ".join(f"{tried} {ms:.0f}" for tried, ms in timings.items())
    statuses = ", ".join(f"{n} x {status}" for status, n in sorted(abused.items()))
    return Figure(
        value=slowest,
        target="< 100 ms per refusal, < 50 MiB growth, well-behaved throughput >= 0.9",
        unit="ms (slowest refusal)",
        detail=(
            f"slowest: {which} ({slowest:.0f} ms, upload included; each in ms: {each}); "
            f"the 50 MB list sent by a client that reads while it sends: "
            f"{watched.answer.status if watched.answer else 'no answer'} after "
            f"{watched.seconds * 1000:.1f} ms, {watched.sent / 1_048_576:.1f} MiB sent; "
            f"answers not as expected: {wrong or 'none'}; intake API RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB "
            f"(growth {growth:.1f} MiB, peak {peak_growth:+.1f} MiB over the start); "
            f"well-behaved portal (1 report/s, limit {LIMIT_PER_MINUTE}/min) {alone:.2f} "
            f"reports/s alone, {beside:.2f} beside the throttled abuser ({ABUSIVE_CLIENTS} "
            "clients): "
            f"{ratio:.2f} of its throughput (>= 0.9: {ratio >= 0.9}); abuser's answers: "
            f"{statuses}"
        ),
    )
