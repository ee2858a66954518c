"""Prometheus metrics as an operator scrapes them: requests per route template and status,
jobs per type and outcome, and the shared-state gauges (outbox backlog, dead letters, ledger
length) read fresh at each scrape of an API's /metrics."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import httpx
from arq.connections import ArqRedis
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.settings import get_settings as intake_settings
from shared.consumer import record_dead_letter
from shared.worker import worker_settings
from tests.factories import bearer, create_client, report_body, unique_code
from tests.support import pump

Sessionmaker = async_sessionmaker[AsyncSession]


async def scrape(api: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_per_route_template_and_status(
    sessionmaker: Sessionmaker, intake_api: httpx.AsyncClient, catalogue: None
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    route = {"service": "intake", "method": "POST", "route": "/v1/reports"}
    before = await scrape(intake_api)
    accepted = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
    assert accepted.status_code == 202
    # Tried: a body with an unknown field, counted under the same route with its own status.
    refused = await intake_api.post(
        "/v1/reports", json={**report_body(), "status": "recorded"}, headers=bearer(token)
    )
    assert refused.status_code == 422
    await intake_api.get(f"/v1/reports/{accepted.json()['id']}", headers=bearer(token))
    after = await scrape(intake_api)

    counted = "conduct_http_requests_total"
    assert (
        sample(after, counted, **route, status="202")
        == sample(before, counted, **route, status="202") + 1
    )
    assert (
        sample(after, counted, **route, status="422")
        == sample(before, counted, **route, status="422") + 1
    )
    read = {"service": "intake", "method": "GET", "route": "/v1/reports/{report_id}"}
    assert sample(after, counted, **read, status="200") >= 1
    # The id never becomes a label: one series per template.
    assert not any(accepted.json()["id"] in str(labels) for _, labels in after)
    assert sample(after, "conduct_http_request_duration_seconds_count", **route) >= 2


async def test_outbox_and_dead_letter_gauges_follow_the_database(
    sessionmaker: Sessionmaker, queue: ArqRedis, intake_api: httpx.AsyncClient, catalogue: None
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    await pump(sessionmaker, queue)
    accepted = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
    assert accepted.status_code == 202
    staged = await scrape(intake_api)
    assert sample(staged, "conduct_outbox_pending", service="intake") >= 1
    assert sample(staged, "conduct_outbox_lag_seconds", service="intake") >= 0

    await pump(sessionmaker, queue)
    relayed = await scrape(intake_api)
    assert sample(relayed, "conduct_outbox_pending", service="intake") == 0
    assert sample(relayed, "conduct_outbox_lag_seconds", service="intake") == 0

    dead_before = sample(relayed, "conduct_dead_letters", service="intake")
    await record_dead_letter(
        sessionmaker,
        service="intake",
        job_id=f"metrics-test-{uuid.uuid4().hex}",
        message_type="case.status_changed",
        envelope=None,
        error=ValueError("poison"),
        attempts=1,
    )
    dead_after = await scrape(intake_api)
    assert sample(dead_after, "conduct_dead_letters", service="intake") == dead_before + 1


async def test_jobs_are_counted_per_type_and_outcome(
    sessionmaker: Sessionmaker, queue: ArqRedis, intake_api: httpx.AsyncClient, catalogue: None
) -> None:
    labels = {"service": "review", "message_type": "report.received", "outcome": "processed"}
    before = REGISTRY.get_sample_value("conduct_jobs_total", labels) or 0.0
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
    await pump(sessionmaker, queue)
    assert REGISTRY.get_sample_value("conduct_jobs_total", labels) == before + 1
    duration = {"service": "review", "message_type": "report.received"}
    assert (REGISTRY.get_sample_value("conduct_job_duration_seconds_count", duration) or 0) >= 1


async def test_registry_reports_the_ledger_length(registry_api: httpx.AsyncClient) -> None:
    samples = await scrape(registry_api)
    verify_head = ("conduct_ledger_records", frozenset())
    assert verify_head in samples
    assert samples[verify_head] >= 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_worker_serves_its_metrics_on_the_configured_port(queue: ArqRedis) -> None:
    port = free_port()
    settings = intake_settings().model_copy(update={"worker_metrics_port": port})
    worker = worker_settings(service="intake", settings=settings, handlers=[])
    ctx: dict[str, Any] = {"redis": queue, "no_relay": True}
    await worker.on_startup(ctx)  # type: ignore[attr-defined]  # built by type() at runtime
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await worker.on_shutdown(ctx)  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "conduct_jobs_total" in response.text
