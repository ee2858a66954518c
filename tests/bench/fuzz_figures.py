"""S8 in `make bench`: the long fuzzing run of the list parsers and the other readers of untrusted
bytes (tests/abuse/test_parser_fuzzing.py), an hour by default where CI runs them for seconds.

Hypothesis has no time budget of its own, so the run is rounds of the same properties, each round
with a fresh seed and S8_ROUND_EXAMPLES examples per property, until S8_SECONDS (default 3,600)
have passed. A round that fails is an uncaught exception (or a wrong answer) hypothesis found and
shrank; its report is kept in the figure's detail."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

from tests.bench.figures import BenchContext, Figure

FUZZ_TESTS = Path(__file__).resolve().parents[1] / "abuse" / "test_parser_fuzzing.py"
# The properties in that file, one round each per seed.
PROPERTIES = 6


def fuzz_seconds() -> float:
    return float(os.environ.get("S8_SECONDS", "3600"))


def round_examples() -> int:
    return int(os.environ.get("S8_ROUND_EXAMPLES", "2000"))


async def fuzz_round(seed: int, examples: int) -> tuple[bool, str]:
    """One pytest run of the fuzzing properties with this seed; (passed, the tail of its report)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-x",
        f"--hypothesis-seed={seed}",
        str(FUZZ_TESTS),
        env={**os.environ, "S8_EXAMPLES": str(examples)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace").strip().splitlines()
    return process.returncode == 0, " / ".join(report[-3:])


async def figure_s8(context: BenchContext) -> Figure:
    """S8: the list parsers and the other readers of untrusted bytes fuzzed for S8_SECONDS
    (default an hour) in rounds of fresh seeds; the value is the number of rounds that found an
    uncaught exception."""
    del context  # pure parsing: no stack needed
    budget, examples = fuzz_seconds(), round_examples()
    seeds = random.Random()
    started = time.perf_counter()
    rounds, failures, first_failure = 0, 0, ""
    while rounds == 0 or time.perf_counter() - started < budget:
        seed = seeds.randrange(2**32)
        passed, report = await fuzz_round(seed, examples)
        rounds += 1
        if not passed:
            failures += 1
            first_failure = first_failure or f"seed {seed}: {report}"
    seconds = time.perf_counter() - started
    detail = (
        f"{rounds} rounds of {PROPERTIES} properties x {examples:,} examples "
        f"(about {rounds * PROPERTIES * examples:,} inputs) in {seconds:,.0f} s; "
        f"{failures} rounds failed"
    )
    if first_failure:
        detail += f"; first: {first_failure}"
    return Figure(value=failures, target="0", unit="failing rounds", detail=detail)
