"""The stack a benchmark run measures: its own database and queue namespace on the servers
`make bench` made sure of, the three APIs and workers as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bench.figures import BenchContext
from tests.stack import isolated_stack


@contextmanager
def bench_stack(*, run_id: str, api_processes: int = 1) -> Iterator[BenchContext]:
    data_dir = Path(".data") / "bench" / run_id
    data_dir.mkdir(parents=True, exist_ok=True)
    extra_env = {
        "LOG_LEVEL": "WARNING",
        # The benchmark is one client (and one member, one reader) hammering on purpose:
        # measure the services, not their limiters.
        "INTAKE_RATE_LIMIT_PER_MINUTE": "100000000",
        "REVIEW_RATE_LIMIT_PER_MINUTE": "100000000",
        "REGISTRY_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    with isolated_stack(
        label="bench", data_dir=data_dir, extra_env=extra_env, api_processes=api_processes
    ) as running:
        yield BenchContext(
            database_url=running.database_url,
            urls=running.urls,
            tokens=running.tokens,
            process_ids=lambda: {
                name: running.stack.pid(name)
                for name in running.stack.names
                if running.stack.is_running(name)
            },
        )
