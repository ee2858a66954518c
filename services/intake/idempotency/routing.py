"""The route class of intake's routers: every POST takes an Idempotency-Key, scoped to the
calling client (the same across a rotation of its secret, so a retry sent with the new secret
still finds the first answer)."""

from __future__ import annotations

from services.intake.base import SCHEMA
from services.intake.clients.auth import CurrentClient
from shared.idempotent_routes import idempotent_route


async def client_reference(client: CurrentClient) -> str:
    return str(client.client_id)


IntakeRoute = idempotent_route(schema=SCHEMA, caller_ref=client_reference)
