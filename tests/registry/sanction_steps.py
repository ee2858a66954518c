"""HTTP steps the sanction tests share: a competent authority's headers, posting an order,
imposing a sanction, and the fields a problem names."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer
from tests.registry.factories import issue_reader, sanction_order


async def authority(
    sessionmaker: async_sessionmaker[AsyncSession], department: str | None
) -> dict[str, str]:
    return bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=department)
    )


async def post(
    api: httpx.AsyncClient, violation_id: uuid.UUID | str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    event = body.pop("event", "imposed")
    return await api.post(
        f"/v1/violations/{violation_id}/sanctions",
        json=sanction_order(event, **body),
        headers=headers,
    )


async def impose(
    api: httpx.AsyncClient, violation_id: uuid.UUID, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await post(api, violation_id, headers, **body)
    assert response.status_code == 201, response.text
    sanction: dict[str, Any] = response.json()
    return sanction


def problem_fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]
