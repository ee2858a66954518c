"""A unit member scripted to take a case to a violation finding over the real HTTP API: what
the end-to-end, fault, abuse and bench runs do with a case once it is assigned."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    SCREEN,
    clear_for_notice,
    clearances_for,
    findings_on,
)

# The member's steps in order: the protected-disclosure screen, the notice (generated from the
# case's charges, once the evidence they rely on is cleared for disclosure), the employee's reply, the hearing waived, and a violation: every charge
# proved on its evidence, the censure recommended.
STEPS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("screen", SCREEN),
    ("notice", NOTICE),
    ("reply", REPLY),
    ("hearing", HEARING),
    ("determination", None),
)
# The step a case in each state takes next (None: the body is made from the case's charges).
NEXT_STEP: dict[str, tuple[str, dict[str, Any] | None]] = {
    "assigned": STEPS[0],
    "in_review": STEPS[1],
    "notice_issued": STEPS[2],
    "reply_received": STEPS[3],
    "hearing_concluded": STEPS[4],
}


def next_step(case: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The step the member takes next on the case as its page reads, with its body; None when
    the member has nothing more to do."""
    if case["state"] not in NEXT_STEP:
        return None
    step, body = NEXT_STEP[case["state"]]
    if step == "notice" and (clearances := clearances_for(case)) is not None:
        return "evidence/clearances", clearances
    return step, body if body is not None else findings_on(case["charges"])


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
        if step == "notice":
            await clear_for_notice(http, case_url, headers)
        if body is None:
            case = (await http.get(case_url, headers=headers)).json()
            body = findings_on(case["charges"])
        answer = await http.post(f"{case_url}/{step}", json=body, headers=headers)
        assert answer.status_code == 200, (step, answer.text)
    assert answer is not None
    return answer
