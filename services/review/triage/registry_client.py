"""Asking registry, over its HTTP API, whether a grant covered an account on a date.

review never reads registry's tables: it calls GET /v1/permissions/check with a registry reader
credential from its settings. Connection failures, timeouts and 5xx answers are retried with
backoff (tenacity); what still fails is 'registry unreachable', which the caller records as an
unknown answer rather than guessing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from services.review.settings import ReviewSettings


class RegistryUnreachable(Exception):
    """Registry did not answer usefully (down, timing out, 5xx, or refusing the credential)."""


class _Transient(Exception):
    """A 5xx: worth another attempt."""


@dataclass(frozen=True)
class Grant:
    record_id: uuid.UUID
    record_kind: str
    department: str
    employee_ref: str | None
    valid_from: date
    expires_on: date | None


@dataclass(frozen=True)
class CheckAnswer:
    permitted: bool
    grant: Grant | None


async def check_permission(
    settings: ReviewSettings,
    *,
    platform: str,
    account_handle: str,
    on: date,
    employee_ref: str | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CheckAnswer:
    """Registry's answer for the account on the date (only the employee's own personal
    permissions with `employee_ref`; any grant for the account without it)."""
    if not settings.registry_url or settings.registry_reader_token is None:
        raise RegistryUnreachable("registry is not configured (REVIEW_REGISTRY_URL)")
    params = {"platform": platform, "account_handle": account_handle, "on": on.isoformat()}
    if employee_ref is not None:
        params["employee_ref"] = employee_ref
    headers = {"Authorization": f"Bearer {settings.registry_reader_token.get_secret_value()}"}
    async with httpx.AsyncClient(
        base_url=settings.registry_url,
        timeout=settings.registry_timeout_seconds,
        transport=transport,
    ) as client:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(settings.registry_attempts),
                wait=wait_exponential(multiplier=0.2, max=2),
                retry=retry_if_exception_type((httpx.TransportError, _Transient)),
                reraise=True,
            ):
                with attempt:
                    response = await client.get(
                        "/v1/permissions/check", params=params, headers=headers
                    )
                    if response.status_code >= 500:
                        raise _Transient(f"registry answered {response.status_code}")
        except (httpx.TransportError, _Transient) as exc:
            raise RegistryUnreachable(
                f"registry unreachable after {settings.registry_attempts} attempt(s) "
                f"({type(exc).__name__})"
            ) from exc
    if response.status_code != 200:
        raise RegistryUnreachable(f"registry refused the check ({response.status_code})")
    body = response.json()
    record = body.get("record")
    grant = (
        Grant(
            record_id=uuid.UUID(record["id"]),
            record_kind=record["record_kind"],
            department=record["department"],
            employee_ref=record.get("employee_ref"),
            valid_from=date.fromisoformat(record["valid_from"]),
            expires_on=date.fromisoformat(record["expires_on"]) if record["expires_on"] else None,
        )
        if record
        else None
    )
    return CheckAnswer(permitted=bool(body["permitted"]), grant=grant)
