"""F1's workers: a service's own arq worker that kills itself with SIGKILL at a named point of
one message's consumption, so the crash lands exactly where the issue asks, every time.

    python -m shared.worker_main tests.faults.kill_points.ReviewWorkerSettings

runs review's WorkerSettings unchanged (the same consumers, relay and cron jobs) with one of
two kill points, chosen by the environment:

- FAULT_KILL_POINT=before-commit: the handler's effect and the message's inbox row are written
  (flushed) and COMMIT is about to be sent; the process dies before PostgreSQL commits, so the
  transaction is rolled back and the rerun must apply the effect.
- FAULT_KILL_POINT=after-commit: the transaction is committed and the consumer has returned its
  outcome, but arq has not yet stored the result or removed the job; the rerun must find the
  message in the inbox and change nothing.

FAULT_KILL_MESSAGE_TYPE names the message type and FAULT_KILL_AT_MESSAGE which of them (1 for
the first this process handles) dies, or the first after it to get there if that one's
transaction rolls back instead (timed out, say). Before dying the worker writes what it was
doing (message and job id, point, time) to FAULT_KILL_RECORD, created exclusively: a worker
started while that file exists kills nothing, so the test restarts the same process spec and
it runs normally.

Nothing here is imported by the services: production workers are `services.<name>.worker`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast, get_args

from arq.worker import Function
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.worker import WorkerSettings as IntakeSettings
from services.registry.worker import WorkerSettings as RegistrySettings
from services.review.worker import WorkerSettings as ReviewSettings

KillPoint = Literal["before-commit", "after-commit"]
KILL_POINTS: tuple[KillPoint, ...] = get_args(KillPoint)
# Set on the connection (its .info outlives one checkout) from the claim to the commit.
DOOMED = "fault_kill_doomed"


@dataclasses.dataclass(frozen=True)
class KillPlan:
    point: KillPoint
    message_type: str
    at_message: int
    record: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> KillPlan | None:
        """The plan the environment names, or None (no kill point, or the kill already done)."""
        point = environ.get("FAULT_KILL_POINT")
        if not point:
            return None
        if point not in KILL_POINTS:
            raise ValueError(f"FAULT_KILL_POINT must be one of {KILL_POINTS}, not {point!r}")
        plan = cls(
            point=cast(KillPoint, point),
            message_type=environ["FAULT_KILL_MESSAGE_TYPE"],
            at_message=int(environ.get("FAULT_KILL_AT_MESSAGE", "1")),
            record=Path(environ["FAULT_KILL_RECORD"]),
        )
        return None if plan.record.exists() else plan


class Killer:
    """Counts the plan's messages and dies at the chosen one."""

    def __init__(self, plan: KillPlan) -> None:
        self.plan = plan
        self.seen = 0

    def this_one(self) -> bool:
        """Counts one message of the plan's type; True from the one to die at on (a message
        whose transaction rolls back instead, timed out or failed, passes the kill on to the
        next one)."""
        self.seen += 1
        return self.seen >= self.plan.at_message

    def die(self, *, message_id: str, job_id: str) -> None:
        record = json.dumps(
            {
                "point": self.plan.point,
                "message_type": self.plan.message_type,
                "message_id": message_id,
                "job_id": job_id,
                "killed_at": time.time(),
                "pid": os.getpid(),
            }
        ).encode()
        descriptor = os.open(self.plan.record, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, record)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.kill(os.getpid(), signal.SIGKILL)


def kill_after_commit(function: Function, killer: Killer) -> Function:
    """The consumer returns (its transaction committed, its after_commit run); the process
    dies before arq sees the outcome."""
    consume = function.coroutine

    async def consume_then_die(ctx: dict[str, Any], document: dict[str, Any]) -> Any:
        outcome = await consume(ctx, document)
        if outcome == "processed" and killer.this_one():
            killer.die(message_id=str(document.get("message_id")), job_id=ctx["job_id"])
        return outcome

    return dataclasses.replace(function, coroutine=consume_then_die)  # type: ignore[arg-type]


def kill_before_commit(engine: AsyncEngine, killer: Killer, queue: str) -> None:
    """The consumer's transaction claims the message in the inbox (INSERT INTO
    <service>.inbox_message ... RETURNING, one row: not a redelivered copy), with the handler's
    effect in the same transaction; the process dies as SQLAlchemy is about to send its
    COMMIT (ConnectionEvents.commit runs before the driver's commit)."""
    message_type = killer.plan.message_type

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def on_statement(
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Sequence[Any] | Mapping[str, Any] | None,
        context: Any,
        executemany: bool,
    ) -> None:
        if "inbox_message" not in statement or not statement.lstrip().upper().startswith("INSERT"):
            return
        values = list(parameters.values() if isinstance(parameters, Mapping) else parameters or ())
        if message_type not in values or cursor.rowcount != 1:
            return  # another type, or a copy of a message already processed
        message_id = next((str(value) for value in values if isinstance(value, uuid.UUID)), "")
        if killer.this_one():
            connection.info[DOOMED] = message_id

    @event.listens_for(engine.sync_engine, "commit")
    def on_commit(connection: Connection) -> None:
        message_id: str | None = connection.info.pop(DOOMED, None)
        if message_id is not None:
            killer.die(message_id=message_id, job_id=f"{queue}:{message_id}")

    @event.listens_for(engine.sync_engine, "rollback")
    def on_rollback(connection: Connection) -> None:
        connection.info.pop(DOOMED, None)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A transaction given up without a rollback event (a cancelled job's connection is
        # reset by the pool) leaves no mark for the next one.
        if record is not None:
            record.info.pop(DOOMED, None)


def with_kill_point(settings: type, environ: Mapping[str, str] = os.environ) -> type:
    """`settings` (a service's WorkerSettings) with the environment's kill point, if it names
    a message type this service consumes; otherwise `settings` itself."""
    plan = KillPlan.from_environment(environ)
    if plan is None:
        return settings
    functions: list[Function] = settings.functions  # type: ignore[attr-defined]
    if plan.message_type not in {function.name for function in functions}:
        return settings  # another service's worker
    killer = Killer(plan)
    # arq reads the settings class's own __dict__, not inherited attributes: a copy.
    attributes: dict[str, Any] = {
        name: value for name, value in vars(settings).items() if not name.startswith("__")
    }
    if plan.point == "after-commit":
        attributes["functions"] = [
            kill_after_commit(function, killer) if function.name == plan.message_type else function
            for function in functions
        ]
    else:
        start = settings.on_startup  # type: ignore[attr-defined]
        queue: str = settings.queue_name  # type: ignore[attr-defined]

        async def on_startup(ctx: dict[str, Any]) -> None:
            await start(ctx)
            kill_before_commit(ctx["engine"], killer, queue)

        attributes["on_startup"] = on_startup
    return type(settings.__name__, (), attributes)


IntakeWorkerSettings = with_kill_point(IntakeSettings)
ReviewWorkerSettings = with_kill_point(ReviewSettings)
RegistryWorkerSettings = with_kill_point(RegistrySettings)
