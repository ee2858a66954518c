"""Prometheus metrics for every API and worker (prometheus-client).

Two kinds:
- Counted as things happen, per process: HTTP requests and their latency per route template and
  status (never the raw path, so ids do not explode the series), and jobs per message type and
  outcome with their duration.
- Read from the shared state when scraped, so any replica answers the same: queue depth (arq's
  queue in Redis), outbox backlog and lag (oldest unsent message), dead letters not yet
  replayed, and whatever the service adds (registry: the ledger's length; review: escalated
  cases). `refresh_state_gauges` runs these reads before each scrape of an API's /metrics.

Several processes behind one port (uvicorn --workers) share counters through
prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog
from arq.connections import ArqRedis
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.messages import Service

logger = structlog.get_logger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "conduct_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "conduct_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
JOBS = Counter(
    "conduct_jobs_total",
    "Messages consumed, by type and outcome (processed, duplicate, retried, dead_lettered).",
    ["service", "message_type", "outcome"],
)
JOB_DURATION = Histogram(
    "conduct_job_duration_seconds",
    "Time one delivery of a message took, whatever its outcome.",
    ["service", "message_type"],
    buckets=LATENCY_BUCKETS,
)
# Read from shared state at scrape time: every process reports the same value, so the
# multiprocess mode keeps the most recent.
QUEUE_DEPTH = Gauge(
    "conduct_queue_depth",
    "Jobs waiting in the service's arq queue.",
    ["service"],
    multiprocess_mode="mostrecent",
)
OUTBOX_PENDING = Gauge(
    "conduct_outbox_pending",
    "Outbox messages committed but not yet handed to the queue.",
    ["service"],
    multiprocess_mode="mostrecent",
)
OUTBOX_LAG = Gauge(
    "conduct_outbox_lag_seconds",
    "Age of the oldest outbox message not yet handed to the queue (0 when none).",
    ["service"],
    multiprocess_mode="mostrecent",
)
DEAD_LETTERS = Gauge(
    "conduct_dead_letters",
    "Dead-lettered messages not yet replayed.",
    ["service"],
    multiprocess_mode="mostrecent",
)

StateGauge = Callable[[AsyncSession], Awaitable[None]]


# Probes and scrapes, called every few seconds: not worth a log line each.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/v1/reports/{report_id}"), or "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"


class RequestMetrics:
    """Counts every HTTP request and times it, labelled by route template and status, and
    writes the access log line: by route template, never the path or query as sent, which
    carry employee references and reasons naming people (uvicorn's own access log, which
    prints them, is switched off by shared.logging)."""

    def __init__(self, app: ASGIApp, *, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", "GET"))
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            elapsed = time.perf_counter() - started
            HTTP_LATENCY.labels(self.service, method, route).observe(elapsed)
            if route not in QUIET_ROUTES:
                logger.info(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                )


async def refresh_state_gauges(
    *,
    service: Service,
    session: AsyncSession,
    redis: ArqRedis,
    queue: str,
    extra: Mapping[str, StateGauge],
) -> None:
    """Read the shared state the gauges report. A part that fails keeps its last value."""
    QUEUE_DEPTH.labels(service).set(await redis.zcard(queue))
    backlog = (
        await session.execute(
            text(
                f"SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                f"FROM {service}.outbox_message WHERE sent_at IS NULL"
            )
        )
    ).one()
    OUTBOX_PENDING.labels(service).set(backlog[0])
    OUTBOX_LAG.labels(service).set(float(backlog[1]))
    dead = await session.scalar(
        text(f"SELECT count(*) FROM {service}.dead_letter WHERE replayed_at IS NULL")
    )
    DEAD_LETTERS.labels(service).set(dead or 0)
    for refresh in extra.values():
        await refresh(session)


def exposition() -> bytes:
    """The text exposition of this process, or of all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_router(
    *, service: Service, queue: str, state_gauges: Mapping[str, StateGauge]
) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process, with the shared-state gauges freshly read."""
        resources = request.app.state.resources
        try:
            async with resources.sessionmaker() as session:
                await refresh_state_gauges(
                    service=service,
                    session=session,
                    redis=resources.redis,
                    queue=queue,
                    extra=state_gauges,
                )
        except Exception as exc:
            # A scrape during an outage still answers, with the counters and the last values.
            logger.warning("state gauges not refreshed", error_type=type(exc).__name__)
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
