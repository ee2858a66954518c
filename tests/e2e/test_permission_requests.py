"""A permission request over real HTTP against real processes: the demo portal asks for a
personal permission, review assigns it to a member of the demo unit, the member grants it with
conditions, and the portal's status shows the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.test_walking_skeleton import eventually
from tests.factories import bearer
from tests.permission_factories import personal_request_body
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e


async def test_a_personal_permission_is_requested_and_granted_over_the_real_stack(
    running_stack: RunningStack,
) -> None:
    urls, tokens = running_stack.urls, running_stack.tokens
    portal = bearer(tokens["portal_health"])
    members = [tokens["review_member_1"], tokens["review_member_2"]]
    async with httpx.AsyncClient(timeout=10) as http:
        accepted = await http.post(
            f"{urls['intake']}/v1/permission-requests", json=personal_request_body(), headers=portal
        )
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["id"]

        async def assigned() -> tuple[str, dict[str, Any]] | None:
            for token in members:
                items = (
                    await http.get(f"{urls['review']}/v1/cases", headers=bearer(token))
                ).json()["items"]
                mine = [item for item in items if item["submission_id"] == request_id]
                if mine:
                    return token, mine[0]
            return None

        member, case = await eventually(assigned)
        assert case["kind"] == "permission"
        decided = await http.post(
            f"{urls['review']}/v1/cases/{case['id']}/permission-decision",
            json={
                "decision": "granted_with_conditions",
                "reasons": "Awareness material only.",
                "conditions": ["No official information"],
                "expires_on": (datetime.now(UTC).date() + timedelta(days=365)).isoformat(),
            },
            headers=bearer(member),
        )
        assert decided.status_code == 200, decided.text

        async def portal_sees_the_decision() -> list[str] | None:
            request = (
                await http.get(
                    f"{urls['intake']}/v1/permission-requests/{request_id}", headers=portal
                )
            ).json()
            history = [event["status"] for event in request["status_history"]]
            return history if "determined" in history else None

        history = await eventually(portal_sees_the_decision)
        assert history[:3] == ["received", "assigned", "determined"]
