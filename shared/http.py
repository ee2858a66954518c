"""What every service's HTTP side shares: the app factory, its lifespan, the session per request,
the body-size cap and the health endpoints.

The request's session comes from `DbSession`: it commits when the route returns and rolls back
when it raises, before the response is sent (scope="function"), so a 2xx means committed.
Routes and services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from arq.connections import ArqRedis
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import ConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import create_engine, create_sessionmaker
from shared.errors import (
    PayloadTooLarge,
    document_problems,
    install_problem_handlers,
    instance_of,
    problem_response,
)
from shared.logging import configure_logging
from shared.messages import Service
from shared.metrics import RequestMetrics, StateGauge, metrics_router
from shared.queue import queue_name
from shared.ratelimit import RateLimiter
from shared.settings import ServiceSettings
from shared.storable_text import RefuseUnstorableText
from shared.tracing import TraceRequests, configure_tracing, shutdown_tracing

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceResources:
    """Made once in the lifespan, reached by dependencies through app.state."""

    service: Service
    settings: ServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    # Counters live in Redis so that every replica shares them; see shared.ratelimit.
    rate_limiter: RateLimiter


async def get_resources(request: Request) -> ServiceResources:
    resources: ServiceResources = request.app.state.resources
    return resources


Resources = Annotated[ServiceResources, Depends(get_resources)]


def caller_address(request: Request) -> str:
    """The peer as the ASGI server reports it: what failed authentications are counted by.
    Behind a proxy, run uvicorn with --forwarded-allow-ips set to the proxy; never trust
    X-Forwarded-For from anyone."""
    return request.client.host if request.client else "unknown"


async def get_session(resources: Resources) -> AsyncIterator[AsyncSession]:
    async with resources.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


CORRELATION_HEADER = "x-correlation-id"


class CorrelationId:
    """Gives every request a correlation id (the caller's, if sane) and binds it to the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = (
            dict(scope.get("headers") or []).get(CORRELATION_HEADER.encode(), b"").decode("latin-1")
        )
        correlation_id = offered if 0 < len(offered) <= 64 and offered.isprintable() else ""
        correlation_id = correlation_id or uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append(
                    (CORRELATION_HEADER.encode(), correlation_id.encode())
                )
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            await self.app(scope, receive, send_with_header)


async def get_correlation_id(request: Request) -> str:
    correlation_id: str = request.state.correlation_id
    return correlation_id


CorrelationIdHeader = Annotated[str, Depends(get_correlation_id)]


# Past the cap, a refused body is dropped unread up to this much more (or the cap again, if
# larger): enough for a client that sends its whole body before it reads the answer (most
# libraries do) to still read its 413; beyond it the connection is closed instead.
REFUSED_BODY_DROP_BYTES = 8 * 1024 * 1024
CLOSE = (b"connection", b"close")


class BodySizeLimit:
    """Refuses bodies over the cap with 413 before anything parses them.

    Checks Content-Length up front and counts streamed bytes for chunked bodies. A path named in
    `path_limits` (exactly, such as an upload endpoint) has its own cap instead of the default.

    A declared length over the cap is refused on the headers, before any of the body is read.
    What the client goes on sending is dropped (by the server, the connection kept) only while
    it stays within the cap plus max(cap, REFUSED_BODY_DROP_BYTES); a longer body gets its 413
    with `Connection: close` and the connection is closed, not drained. A streamed body is read
    and dropped past the cap up to the same bound, then refused the same way.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        droppable = max_bytes + max(max_bytes, REFUSED_BODY_DROP_BYTES)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(
                scope, receive, send, max_bytes=max_bytes, close=int(declared) > droppable
            )
            return
        received = 0
        close = False

        async def counting_receive() -> Message:
            nonlocal received, close
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Dropped as it comes, so that the client is done sending when the 413
                    # goes out, unless it sends more than the bound.
                    while message.get("more_body", False) and received <= droppable:
                        message = await receive()
                        if message["type"] != "http.request":
                            break
                        received += len(message.get("body", b""))
                    close = bool(message.get("more_body", False))
                    raise PayloadTooLarge(self._detail(max_bytes))
            return message

        async def closing_send(message: Message) -> None:
            if close and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        await self.app(scope, counting_receive, closing_send)

    @staticmethod
    def _detail(max_bytes: int) -> str:
        return f"The body exceeds the limit of {max_bytes} bytes."

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, max_bytes: int, close: bool
    ) -> None:
        response = problem_response(
            status=PayloadTooLarge.status,
            code=PayloadTooLarge.code,
            title=PayloadTooLarge.title,
            detail=self._detail(max_bytes),
            instance=instance_of(scope),
            headers={"Connection": "close"} if close else None,
        )
        await response(scope, receive, send)


ReadinessCheck = Callable[[AsyncSession], Awaitable[bool]]


def health_router(readiness_checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(resources: Resources) -> JSONResponse:
        """The process can serve: its database and Redis answer, and the service's own
        conditions hold (for example, the rules catalogue has arrived)."""
        checks: dict[str, str] = {}
        try:
            async with resources.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
                checks["database"] = "ok"
                for name, check in readiness_checks.items():
                    checks[name] = "ok" if await check(session) else "not yet"
        except Exception as exc:
            checks.setdefault("database", type(exc).__name__)
        try:
            await resources.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = type(exc).__name__
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router


def create_service_app(
    *,
    service: Service,
    title: str,
    description: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    state_gauges: Mapping[str, StateGauge] | None = None,
    body_limits_by_path: Mapping[str, int] | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with the stack's lifespan, error handling, body cap, health routes and
    Prometheus metrics (`state_gauges` add the service's own gauges to each scrape).

    `body_limits_by_path` gives an exact path (an upload endpoint) a cap other than
    MAX_REQUEST_BYTES."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json_lines=settings.log_json)
        configure_tracing(service=service, settings=settings)
        engine = create_engine(settings, application_name=f"{service}-api")
        # A lazy pool: the API starts (and reports not ready) even while Redis is down.
        redis = ArqRedis(
            connection_pool=ConnectionPool.from_url(
                settings.redis_url, socket_connect_timeout=2, socket_timeout=5
            )
        )
        app.state.resources = ServiceResources(
            service=service,
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            rate_limiter=RateLimiter(redis=redis, namespace=f"{settings.queue_prefix}:{service}"),
        )
        logger.info("api started", service=service)
        try:
            yield
        finally:
            await redis.aclose()
            await engine.dispose()
            shutdown_tracing()

    app = FastAPI(title=title, description=description, lifespan=lifespan, **fastapi_options)
    install_problem_handlers(app)
    app.include_router(health_router(readiness_checks or {}))
    app.include_router(
        metrics_router(
            service=service,
            queue=queue_name(settings, service),
            state_gauges=state_gauges or {},
        )
    )
    for router in routers:
        app.include_router(router)
    document_problems(app)
    # Inside the body cap, which counts what it reads.
    app.add_middleware(RefuseUnstorableText, max_body_bytes=settings.max_request_bytes)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_request_bytes, path_limits=body_limits_by_path
    )
    app.add_middleware(CorrelationId)
    # Around the correlation id, so the request's span can name it.
    app.add_middleware(TraceRequests, service=service)
    # Outermost: a request refused by the body cap is counted and timed too.
    app.add_middleware(RequestMetrics, service=service)
    return app
