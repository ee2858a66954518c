"""B1's HTTP floor: the most any POST over HTTP can reach on this machine.

One route, `POST /floor`, that stores the body it is sent with asyncpg's single-row
INSERT+COMMIT (the raw baseline's statement) and answers 202, served by the same uvicorn as the
APIs (one process, its default event loop and HTTP parser), with as many database connections
as one intake process has. No credential, validation, idempotency, middleware or ORM: what is
left is the HTTP server, the framework's routing and the load generator, all on the same cores
as PostgreSQL. B1 measures it beside the raw baseline so the reader sees how much of the gap to
raw INSERT+COMMIT no endpoint over HTTP could close, and what fraction of that ceiling intake
reaches.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response

from shared.settings import to_plain_url

DATABASE_URL_VARIABLE = "BENCH_FLOOR_DATABASE_URL"
CONNECTIONS_VARIABLE = "BENCH_FLOOR_CONNECTIONS"
PATH = "/floor"


def create_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        connections = int(os.environ.get(CONNECTIONS_VARIABLE, "20"))
        pool = await asyncpg.create_pool(
            to_plain_url(os.environ[DATABASE_URL_VARIABLE]), min_size=1, max_size=connections
        )
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PATH, status_code=202)
    async def floor(request: Request) -> Response:
        assert pool is not None
        row_id = uuid.uuid4()
        await pool.execute(
            "INSERT INTO public.bench_raw_insert (id, body) VALUES ($1, $2::jsonb)",
            row_id,
            (await request.body()).decode(),
        )
        return Response(
            content=f'{{"id":"{row_id}"}}', status_code=202, media_type="application/json"
        )

    return app
