"""S10 on the real stack: canary personal data and credentials go through the whole flow as
separate processes (report -> case -> notice, reply, hearing, determination, countersignature
-> registry -> the portal sees "recorded"), and the canaries are then searched for in every
process's log file, in every Redis key and value of the stack's queue namespace (jobs while
they wait, and arq's kept results after), and in every error body the flow provoked.

The canaries: an unusual employee (the subject: name and reference), the reporter (name,
reference, office), and two credentials' secrets (the portal's, and one made up). The
reporter's identity must leave intake for nowhere: it is in no log, no Redis value, no error
body. The subject's name and reference travel to review and registry in job payloads (that is
the flow), but appear in no log line and no error body. No secret appears anywhere."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from redis.asyncio import Redis

from tests.abuse.redis_contents import redis_text
from tests.factories import bearer, report_body
from tests.scripted_member import take_to_violation
from tests.stack import RunningStack, isolated_stack

T = TypeVar("T")
MARK = uuid.uuid4().hex[:10].upper()
SUBJECT = {
    "employee_ref": f"CNRYSUBJ{MARK}",
    "name": f"Zebulon Quixfeather {MARK}",
    "designation": "Medical Officer",
    "office": "District Headquarters Hospital",
}
REPORTER = {
    "employee_ref": f"CNRYREP{MARK}",
    "name": f"Ottoline Vexworth {MARK}",
    "office": f"Canary Cell {MARK}",
}
SUBJECT_CANARIES = (SUBJECT["employee_ref"], SUBJECT["name"])
MADE_UP_SECRET = f"cnrysecret{MARK.lower()}{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStack, Path]]:
    data_dir = tmp_path_factory.mktemp("canary-stack")
    with isolated_stack(label="canary", data_dir=data_dir) as running:
        yield running, data_dir / "logs"


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 30.0) -> T:
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the expected state was not reached in time"
        await asyncio.sleep(0.1)


async def test_canaries_leave_no_trace_in_the_stacks_logs_redis_or_error_bodies(
    stack: tuple[RunningStack, Path],
) -> None:
    running, log_dir = stack
    urls, tokens = running.urls, running.tokens
    portal = bearer(tokens["portal_health"])
    portal_secret = tokens["portal_health"].split(".", 1)[1]
    key_id = tokens["portal_health"].split(".", 1)[0]
    members = [tokens["review_member_1"], tokens["review_member_2"]]
    redis = Redis.from_url(running.env["REDIS_URL"])
    prefix = running.env["QUEUE_PREFIX"]
    in_redis: list[str] = []
    errors: list[httpx.Response] = []
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            accepted = await http.post(
                f"{urls['intake']}/v1/reports",
                json=report_body(subjects=[SUBJECT], reporter=REPORTER),
                headers=portal,
            )
            assert accepted.status_code == 202, accepted.text
            report_id = accepted.json()["id"]
            in_redis.append(await redis_text(redis, prefix=prefix))
            # Errors with the canaries in the request: bad input echoing nothing back, an
            # unknown id, a made-up secret under the portal's key id, and the portal's own
            # secret sent where a key id goes.
            errors += [
                await http.post(
                    f"{urls['intake']}/v1/reports",
                    json=report_body(
                        subjects=[{**SUBJECT, "designation": ""}],
                        reporter={**REPORTER, "name": ""},
                        surprise=MADE_UP_SECRET,
                    ),
                    headers=portal,
                ),
                await http.get(f"{urls['intake']}/v1/reports/{uuid.uuid4()}", headers=portal),
                await http.get(
                    f"{urls['intake']}/v1/reports/{report_id}",
                    headers=bearer(f"{key_id}.{MADE_UP_SECRET}"),
                ),
                await http.get(
                    f"{urls['review']}/v1/cases",
                    headers=bearer(f"{portal_secret}.{MADE_UP_SECRET}"),
                ),
                await http.get(
                    f"{urls['registry']}/v1/employees/{SUBJECT['employee_ref']}/record",
                    params={"reason": f"Looking up {SUBJECT['name']}"},
                    headers=bearer(f"{key_id}.{portal_secret}x"),
                ),
            ]

            async def assigned() -> tuple[str, dict[str, Any]] | None:
                for token in members:
                    listed = await http.get(f"{urls['review']}/v1/cases", headers=bearer(token))
                    for item in listed.json()["items"]:
                        if item["submission_id"] == report_id:
                            return token, item
                return None

            member, case = await eventually(assigned)
            case_url = f"{urls['review']}/v1/cases/{case['id']}"
            await take_to_violation(http, case_url, bearer(member))
            in_redis.append(await redis_text(redis, prefix=prefix))
            countersigned = await http.post(
                f"{case_url}/countersign", headers=bearer(tokens["review_chair"])
            )
            assert countersigned.status_code == 200, countersigned.text

            async def recorded() -> dict[str, Any] | None:
                in_redis.append(await redis_text(redis, prefix=prefix))
                read = await http.get(f"{urls['intake']}/v1/reports/{report_id}", headers=portal)
                return read.json() if read.json()["status"] == "recorded" else None

            await eventually(recorded)
            in_redis.append(await redis_text(redis, prefix=prefix))
    finally:
        await redis.aclose()
    logs = {path.name: path.read_text(errors="replace") for path in log_dir.glob("*.log")}
    redis_seen = "\n".join(in_redis)

    # The capture saw the flow: every process logged, the report's job was in Redis.
    assert {"intake-api.log", "review-api.log", "registry-api.log"} <= set(logs)
    assert all(any(f"{s}-worker" in name for name in logs) for s in ("intake", "review"))
    assert report_id in redis_seen
    assert SUBJECT["employee_ref"] in redis_seen, "the subject travels to review as the flow says"
    secrets = (portal_secret, MADE_UP_SECRET)
    for name, text in logs.items():
        for canary in (*SUBJECT_CANARIES, *REPORTER.values(), *secrets):
            assert canary not in text, f"{canary!r} is in {name}"
    for canary in (*REPORTER.values(), *secrets):
        assert canary not in redis_seen, f"{canary!r} is in Redis"
    assert [answer.status_code for answer in errors] == [422, 404, 401, 401, 401]
    for answer in errors:
        for canary in (*SUBJECT_CANARIES, *REPORTER.values(), *secrets):
            assert canary not in answer.text, answer.text
