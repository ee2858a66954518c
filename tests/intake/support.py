"""intake apps of a test's own: its own settings, and the client address it is called from.

The session's `intake_api` calls from 127.0.0.1; tests that fail authentication on purpose or
exhaust a rate use their own app and address, so they cannot throttle anybody else's tests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.app import create_app
from services.intake.settings import IntakeSettings, current_settings


def unique_address() -> str:
    """A client address of its own, in the IPv6 documentation prefix (never routed)."""
    suffix = uuid.uuid4().hex
    return f"2001:db8::{suffix[:4]}:{suffix[4:8]}:{suffix[8:12]}"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["code"]
    return problem


@asynccontextmanager
async def running_app(**settings: Any) -> AsyncIterator[FastAPI]:
    """A fresh intake app with its lifespan running; settings override IntakeSettings."""
    app = create_app()
    if settings:
        overridden = IntakeSettings(**settings)
        app.dependency_overrides[current_settings] = lambda: overridden
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, *, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def intake_client(
    *, address: str | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_app(**settings) as app,
        client_of(app, address=address or unique_address()) as client,
    ):
        yield client


async def client_id_of(sessionmaker: async_sessionmaker[AsyncSession], token: str) -> uuid.UUID:
    async with sessionmaker() as session:
        client_id: uuid.UUID = (
            await session.execute(
                text("SELECT client_id FROM intake.client_credential WHERE key_id = :key_id"),
                {"key_id": token.split(".", 1)[0]},
            )
        ).scalar_one()
    return client_id


async def department_report_count(
    sessionmaker: async_sessionmaker[AsyncSession], department: str
) -> int:
    async with sessionmaker() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM intake.report WHERE department = :department"),
                    {"department": department},
                )
            ).scalar_one()
        )
