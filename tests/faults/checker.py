"""The fault tests' ledger: every report the clients sent, what they were told, and what the
database holds for it once the system is quiet.

A client (`Portal`) sends each report under an Idempotency-Key of its own and marks it with a
unique `content_url`, so its rows can be found whatever the API answered (or failed to answer).
A report that meets a fault (a dropped connection, a 503, a 409 while its first copy is still
in flight) is sent again under the same key, as a well-behaved portal does, until a deadline.

`settle` then waits until every acknowledged report has been carried through the whole flow
(intake's row, review's case, and the "assigned" status review sends back to intake) and
counts:

- submitted: reports the clients tried to send;
- acknowledged: reports answered 202 (at the first attempt or a retry);
- stored: reports with a row in intake.report;
- lost: acknowledged reports without their row, their case or their status round trip, or
  whose row has another id than the one acknowledged;
- doubled: reports with more than one row, rows with more than one case, or a status line
  recorded twice;
- seconds to quiescence: from the moment the fault ended until nothing was missing.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx

from shared.settings import to_plain_url
from tests.factories import bearer, report_body

# What a portal retries: the answer may come (or the first copy may finish) once the fault ends.
RETRIED_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
MARKER_PREFIX = "https://faults.example/posts/"


@dataclass
class Submission:
    key: str
    marker: str
    report_id: str | None = None
    answers: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.report_id is not None


@dataclass
class Portal:
    """A departmental portal sending reports through faults; remembers everything it saw."""

    intake_url: str
    token: str
    retry_for_seconds: float = 60.0
    request_timeout_seconds: float = 10.0
    submissions: list[Submission] = field(default_factory=list)
    # Seconds of every attempt, answered or not (a transport error included).
    latencies: list[float] = field(default_factory=list)
    # Set by the caller: how long the burst went on after its fault ended (for the figures).
    sent_after_fault_seconds: float = 0.0
    # Set by the bench when reports are missing at its quiescence limit: where work still was.
    backlog: str = ""
    _progress: asyncio.Event = field(default_factory=asyncio.Event)
    _sending: int = 0

    async def acknowledged(self, count: int) -> None:
        """Return once `count` reports are acknowledged, or no burst is left sending."""
        while sum(s.acknowledged for s in self.submissions) < count and self._sending:
            self._progress.clear()
            await self._progress.wait()

    async def send(self, count: int, *, concurrency: int = 16) -> list[Submission]:
        """Send `count` reports, `concurrency` at a time; returns them once each has its
        answer or its deadline passed."""
        return await self.start(count, concurrency=concurrency)

    def start(self, count: int, *, concurrency: int = 16) -> asyncio.Task[list[Submission]]:
        """`send` as a task of its own, under way (as `acknowledged` sees) from this call."""
        batch = [self._new() for _ in range(count)]
        self.submissions += batch
        self._sending += 1

        async def run() -> list[Submission]:
            try:
                await self._send(batch, concurrency)
            finally:
                self._sending -= 1
                self._progress.set()
            return batch

        return asyncio.create_task(run())

    async def _send(self, batch: list[Submission], concurrency: int) -> None:
        limit = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(
            base_url=self.intake_url,
            timeout=self.request_timeout_seconds,
            trust_env=False,
            limits=httpx.Limits(max_connections=concurrency),
        ) as http:

            async def one(submission: Submission) -> None:
                async with limit:
                    await self._submit(http, submission)

            await asyncio.gather(*(one(submission) for submission in batch))

    def _new(self) -> Submission:
        key = str(uuid.uuid4())
        return Submission(key=key, marker=f"{MARKER_PREFIX}{key}")

    async def _submit(self, http: httpx.AsyncClient, submission: Submission) -> None:
        body = report_body(content_url=submission.marker)
        headers = {**bearer(self.token), "Idempotency-Key": submission.key}
        deadline = time.monotonic() + self.retry_for_seconds
        pause = 0.2
        while True:
            started = time.monotonic()
            try:
                response = await http.post("/v1/reports", json=body, headers=headers)
            except httpx.TransportError as error:
                submission.answers.append(type(error).__name__)
                self.latencies.append(time.monotonic() - started)
            else:
                submission.answers.append(str(response.status_code))
                self.latencies.append(time.monotonic() - started)
                if response.status_code == 202:
                    submission.report_id = response.json()["id"]
                    self._progress.set()
                    return
                assert_problem_json(response)
                if response.status_code not in RETRIED_STATUSES:
                    return
            if time.monotonic() + pause > deadline:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    def answers(self) -> Counter[str]:
        """Every answer (or transport error) seen, over all attempts."""
        return Counter(answer for submission in self.submissions for answer in submission.answers)


def assert_problem_json(response: httpx.Response) -> None:
    """An error is problem+json with a code, never a traceback or driver text."""
    assert response.headers.get("content-type", "").startswith("application/problem+json"), (
        response.status_code,
        response.text[:300],
    )
    body = response.json()
    assert body.get("code") and body.get("status") == response.status_code, body
    text = response.text.lower()
    for leak in ("traceback", "asyncpg", "sqlalchemy", "redis.exceptions", 'file "/'):
        assert leak not in text, response.text[:300]


@dataclass(frozen=True)
class Figures:
    submitted: int
    acknowledged: int
    stored: int
    lost: int
    doubled: int
    seconds_to_quiescence: float
    missing: tuple[str, ...] = ()
    doubles: tuple[str, ...] = ()

    def line(self) -> str:
        return (
            f"submitted {self.submitted}, acknowledged {self.acknowledged}, stored {self.stored}, "
            f"lost {self.lost}, doubled {self.doubled}, "
            f"quiescent after {self.seconds_to_quiescence:.1f} s"
        )


async def tally(database_url: str, submissions: list[Submission]) -> Figures:
    """What the database holds for `submissions` now (seconds_to_quiescence left at 0)."""
    markers = [submission.marker for submission in submissions]
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        reports = await connection.fetch(
            "SELECT r.id::text AS id, r.content_url AS marker, r.status, "
            "(SELECT count(*) FROM review.case c WHERE c.submission_id = r.id) AS cases, "
            "(SELECT count(*) - count(DISTINCT e.status) FROM intake.submission_status_event e "
            " WHERE e.submission_id = r.id) AS repeated_statuses, "
            "(SELECT count(*) FROM intake.submission_status_event e "
            " WHERE e.submission_id = r.id AND e.status = 'assigned') AS assigned "
            "FROM intake.report r WHERE r.content_url = ANY($1::text[])",
            markers,
        )
    finally:
        await connection.close()
    rows: dict[str, list[asyncpg.Record]] = {}
    for row in reports:
        rows.setdefault(row["marker"], []).append(row)
    missing: list[str] = []
    doubles: list[str] = []
    for submission in submissions:
        found = rows.get(submission.marker, [])
        if len(found) > 1:
            doubles.append(f"{submission.key}: {len(found)} reports")
        for row in found:
            if row["cases"] > 1:
                doubles.append(f"{submission.key}: {row['cases']} cases")
            if row["repeated_statuses"] > 0:
                doubles.append(f"{submission.key}: a status recorded twice")
        if not submission.acknowledged:
            continue
        if not found:
            missing.append(f"{submission.key}: no report")
        elif found[0]["id"] != submission.report_id:
            missing.append(f"{submission.key}: acknowledged {submission.report_id}, stored other")
        elif found[0]["cases"] == 0:
            missing.append(f"{submission.key}: no case")
        elif found[0]["assigned"] == 0:
            missing.append(f"{submission.key}: no 'assigned' status back in intake")
    return Figures(
        submitted=len(submissions),
        acknowledged=sum(submission.acknowledged for submission in submissions),
        stored=len(rows),
        lost=len(missing),
        doubled=len(doubles),
        seconds_to_quiescence=0.0,
        missing=tuple(missing),
        doubles=tuple(doubles),
    )


async def tally_when_let_in(
    database_url: str, submissions: list[Submission], *, poll_seconds: float
) -> Figures:
    """`tally`, asked again while the server turns the checker away (every connection slot
    taken on a busy machine, or the server itself the fault) for up to a minute."""
    give_up = time.monotonic() + 60
    while True:
        try:
            return await tally(database_url, submissions)
        except (OSError, asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError):
            if time.monotonic() >= give_up:
                raise
            await asyncio.sleep(poll_seconds)


async def settle(
    database_url: str,
    submissions: list[Submission],
    *,
    since: float,
    within: float = 60.0,
    poll_seconds: float = 0.5,
) -> Figures:
    """Wait until every acknowledged report has gone through the flow (or `within` seconds
    pass);
    the figures then, with the seconds from `since` (time.monotonic()) to that moment."""
    deadline = time.monotonic() + within
    while True:
        figures = await tally_when_let_in(database_url, submissions, poll_seconds=poll_seconds)
        quiet_at = time.monotonic()
        if not figures.missing or quiet_at >= deadline:
            break
        await asyncio.sleep(poll_seconds)
    # A last look a moment later: a second copy of an effect would show up now.
    await asyncio.sleep(poll_seconds)
    figures = await tally_when_let_in(database_url, submissions, poll_seconds=poll_seconds)
    return Figures(
        submitted=figures.submitted,
        acknowledged=figures.acknowledged,
        stored=figures.stored,
        lost=figures.lost,
        doubled=figures.doubled,
        seconds_to_quiescence=quiet_at - since,
        missing=figures.missing,
        doubles=figures.doubles,
    )


def assert_exactly_once(figures: Figures, *, label: str, portal: Portal | None = None) -> None:
    """Print the figures (pytest -s shows them; a failure always does) and hold the promise."""
    seen = f"; answers seen {dict(portal.answers())}" if portal is not None else ""
    print(f"\n{label}: {figures.line()}{seen}")
    assert figures.lost == 0, figures.missing[:10]
    assert figures.doubled == 0, figures.doubles[:10]
