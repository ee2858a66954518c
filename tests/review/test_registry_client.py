"""review's registry client, on its own: which failures it retries (connection errors, 5xx)
and which it does not (a refused credential), and how it reads registry's answer. registry's
side is an httpx transport here; tests/review/test_triage_permission_check.py runs the real
one over HTTP."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from services.review.settings import ReviewSettings
from services.review.triage.registry_client import RegistryUnreachable, check_permission

SETTINGS = ReviewSettings(
    registry_url="http://registry.test",
    registry_reader_token=SecretStr("rk_review.secret"),
    registry_attempts=3,
    registry_timeout_seconds=1,
)
RECORD_ID = uuid.uuid4()
GRANTED = {
    "permitted": True,
    "record": {
        "id": str(RECORD_ID),
        "record_kind": "permission",
        "department": "HEALTH",
        "employee_ref": "EMP-1",
        "valid_from": "2026-01-01",
        "expires_on": None,
    },
}


def registry(
    *answers: httpx.Response | Exception,
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    pending = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return httpx.MockTransport(answer), seen


async def ask(transport: httpx.MockTransport) -> object:
    return await check_permission(
        SETTINGS,
        platform="facebook",
        account_handle="@kamran",
        on=date(2026, 11, 1),
        employee_ref="EMP-1",
        transport=transport,
    )


async def test_connection_errors_and_5xx_are_retried_then_the_answer_is_read() -> None:
    transport, seen = registry(
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json=GRANTED)
    )
    answer = await ask(transport)
    assert len(seen) == 3
    assert answer.permitted is True
    assert answer.grant.record_id == RECORD_ID
    request = seen[-1]
    assert request.url.path == "/v1/permissions/check"
    assert request.url.params["on"] == "2026-11-01"
    assert request.url.params["employee_ref"] == "EMP-1"
    assert request.headers["Authorization"] == "Bearer rk_review.secret"


async def test_after_the_attempts_registry_is_unreachable() -> None:
    transport, seen = registry(*(httpx.Response(500) for _ in range(3)))
    with pytest.raises(RegistryUnreachable, match="after 3 attempt"):
        await ask(transport)
    assert len(seen) == 3


async def test_a_refused_credential_is_not_retried() -> None:
    transport, seen = registry(httpx.Response(403, json={"code": "role-not-allowed"}))
    with pytest.raises(RegistryUnreachable, match="refused the check \\(403\\)"):
        await ask(transport)
    assert len(seen) == 1


def test_empty_registry_settings_mean_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: REVIEW_REGISTRY_URL and REVIEW_REGISTRY_READER_TOKEN set but empty, as a compose
    file's `${VAR:-}` leaves them: review asks nobody rather than sending an empty token."""
    from services.review.settings import ReviewSettings

    monkeypatch.setenv("REVIEW_REGISTRY_URL", "")
    monkeypatch.setenv("REVIEW_REGISTRY_READER_TOKEN", "")
    settings = ReviewSettings()
    assert settings.registry_url is None and settings.registry_reader_token is None
