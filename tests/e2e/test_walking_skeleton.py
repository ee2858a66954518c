"""Steps 1-6 of the walking skeleton over real HTTP against real processes: a portal reports,
review assigns, the member serves notice, records the reply, the waived hearing and a
violation, the chair countersigns, the registry records and verifies, and the portal sees
"recorded"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from tests.factories import bearer, report_body
from tests.scripted_member import take_to_violation, triaged
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0) -> T:
    """Poll until the probe returns something: waiting on state, not sleeping blindly."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("the expected state was not reached in time")
        await asyncio.sleep(0.1)


async def test_report_to_recorded_violation_over_the_real_stack(
    running_stack: RunningStack,
) -> None:
    urls, tokens = running_stack.urls, running_stack.tokens
    members = [tokens["review_member_1"], tokens["review_member_2"]]
    async with httpx.AsyncClient(timeout=10) as http:
        # 1. The portal reports.
        accepted = await http.post(
            f"{urls['intake']}/v1/reports",
            json=report_body(),
            headers=bearer(tokens["portal_health"]),
        )
        assert accepted.status_code == 202, accepted.text
        report_id = accepted.json()["id"]

        # 3. review opens and assigns a case to one member of the demo unit.
        async def assigned() -> tuple[str, dict[str, Any]] | None:
            for token in members:
                items = (
                    await http.get(f"{urls['review']}/v1/cases", headers=bearer(token))
                ).json()["items"]
                mine = [item for item in items if item["state"] == "assigned"]
                if mine:
                    return token, mine[-1]
            return None

        started = time.monotonic()
        member, case = await eventually(assigned)
        assert time.monotonic() - started < 5
        case_url = f"{urls['review']}/v1/cases/{case['id']}"

        # Triage: before anyone acts, review has asked registry whether the account was
        # permitted on the post's date. Nobody permitted @kamran, and registry says so.
        check = await triaged(http, case_url, bearer(member))
        assert check["status"] == "not_permitted", check
        assert check["account_handles"] == ["@kamran"]

        # 4. The screen, notice, reply, hearing (waived), determination by the member; the
        # chair countersigns.
        response = await take_to_violation(http, case_url, bearer(member))
        assert response.json()["determination"]["final"] is False
        countersigned = await http.post(
            f"{case_url}/countersign", headers=bearer(tokens["review_chair"])
        )
        assert countersigned.status_code == 200, countersigned.text

        # 5. The registry lists the violation and the chain holds.
        auditor = bearer(tokens["registry_auditor"])

        async def recorded_violation() -> dict[str, Any] | None:
            items = (await http.get(f"{urls['registry']}/v1/violations", headers=auditor)).json()[
                "items"
            ]
            return next((item for item in items if item["case_id"] == case["id"]), None)

        violation = await eventually(recorded_violation)
        assert violation["rules_cited"] == ["CR1964-22"]
        verify = (await http.get(f"{urls['registry']}/v1/audit/verify", headers=auditor)).json()
        assert verify["status"] == "intact"

        # 6. The portal's status says recorded.
        async def portal_sees_recorded() -> dict[str, Any] | None:
            report = (
                await http.get(
                    f"{urls['intake']}/v1/reports/{report_id}",
                    headers=bearer(tokens["portal_health"]),
                )
            ).json()
            return report if report["status"] == "recorded" else None

        report = await eventually(portal_sees_recorded)
        assert [event["status"] for event in report["status_history"]][-1] == "recorded"
