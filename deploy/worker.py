"""Runs one service's arq worker in a container, with a heartbeat file for the probes.

The worker is the one `arq services.<service>.worker.WorkerSettings` runs (consumers, cron jobs
and the service's outbox relay), started the way arq's command line starts it, except that a
lost Redis restarts the worker inside the process rather than ending it
(shared.worker.run_worker). The other addition is a heartbeat: a file under /tmp touched every
few seconds by a task on the worker's event loop, from the end of its startup until it shuts down. arq's own health check cannot
serve as a probe: it is one Redis key per queue, refreshed by whichever replica polls, so it
stays green while one pod is wedged and turns red for every pod when Redis is away.

    python -m deploy.worker review
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging.config
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from deploy.probe import heartbeat_file

SERVICES = ("intake", "review", "registry")
# Well inside the probe's default maximum age (30 s).
HEARTBEAT_EVERY_SECONDS = 5.0

Hook = Callable[[dict[str, Any]], Awaitable[None]]


def with_heartbeat(
    settings_cls: type, *, path: Path, every_seconds: float = HEARTBEAT_EVERY_SECONDS
) -> dict[str, Hook]:
    """`on_startup` and `on_shutdown` for arq's Worker: the settings' own hooks, plus the
    heartbeat (first beat once startup has succeeded; the file is removed at shutdown, so a
    stopping worker is no longer ready)."""
    startup: Hook | None = getattr(settings_cls, "on_startup", None)
    shutdown: Hook | None = getattr(settings_cls, "on_shutdown", None)

    async def beat() -> None:
        while True:
            _touch(path)
            await asyncio.sleep(every_seconds)

    async def on_startup(ctx: dict[str, Any]) -> None:
        if startup is not None:
            await startup(ctx)
        _touch(path)
        ctx["heartbeat_task"] = asyncio.create_task(beat(), name="worker-heartbeat")

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        task: asyncio.Task[None] | None = ctx.pop("heartbeat_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        _remove(path)
        if shutdown is not None:
            await shutdown(ctx)

    return {"on_startup": on_startup, "on_shutdown": on_shutdown}


# On the event loop itself, not in a thread: the beat must stop when the loop stops. A touch of
# a file on /tmp (a tmpfs or an emptyDir) takes microseconds.
def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def worker_settings_for(service: str) -> type:
    """The service's WorkerSettings class (importing it reads the service's settings)."""
    module = importlib.import_module(f"services.{service}.worker")
    settings_cls: type = module.WorkerSettings
    return settings_cls


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.worker",
        description="Run a service's arq worker (with its outbox relay) and a heartbeat file.",
    )
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args(argv)

    from arq.logs import default_log_config

    from shared.worker import run_worker

    # As arq's command line does before it runs a worker.
    logging.config.dictConfig(default_log_config(False))
    settings_cls = worker_settings_for(args.service)
    run_worker(settings_cls, **with_heartbeat(settings_cls, path=heartbeat_file()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
