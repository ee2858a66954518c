"""A unit member scripted to take a case to a violation finding over the real HTTP API: what
the end-to-end, fault, abuse and bench runs do with a case once it is assigned."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.review.steps import HEARING, NOTICE, REPLY, SCREEN, VIOLATION

# The member's steps in order: the protected-disclosure screen, the notice (generated from the
# case's charges), the employee's reply, the hearing waived, and a violation of rule 22.
STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("screen", SCREEN),
    ("notice", NOTICE),
    ("reply", REPLY),
    ("hearing", HEARING),
    ("determination", VIOLATION),
)
# The step a case in each state takes next.
NEXT_STEP: dict[str, tuple[str, dict[str, Any]]] = {
    "assigned": STEPS[0],
    "in_review": STEPS[1],
    "notice_issued": STEPS[2],
    "reply_received": STEPS[3],
    "hearing_concluded": STEPS[4],
}


async def triaged(
    http: httpx.AsyncClient, case_url: str, headers: dict[str, str], *, within: float = 30.0
) -> dict[str, Any]:
    """The case's permission check once review has registry's answer (no longer pending):
    nobody acts on a case before it."""
    deadline = time.monotonic() + within
    while True:
        check: dict[str, Any] = (await http.get(case_url, headers=headers)).json()[
            "permission_check"
        ]
        if check["status"] != "pending":
            return check
        if time.monotonic() > deadline:
            raise AssertionError("registry's answer at triage did not come in time")
        await asyncio.sleep(0.1)


async def take_to_violation(
    http: httpx.AsyncClient, case_url: str, headers: dict[str, str]
) -> httpx.Response:
    """Every step from assignment to the determination (awaiting the chair's countersignature);
    returns the last answer. Each step must succeed."""
    await triaged(http, case_url, headers)
    answer: httpx.Response | None = None
    for step, body in STEPS:
        answer = await http.post(f"{case_url}/{step}", json=body, headers=headers)
        assert answer.status_code == 200, (step, answer.text)
    assert answer is not None
    return answer
