"""The webhook of a departmental portal: register, read, remove, and see its deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.intake.clients.auth import department_client
from services.intake.clients.models import ClientCredential
from services.intake.settings import IntakeSettings, current_settings
from services.intake.webhooks import service
from services.intake.webhooks.errors import WebhookNotFound, WebhookTargetRefused
from services.intake.webhooks.models import DeliveryState
from services.intake.webhooks.schemas import (
    DeliveryList,
    DeliveryRead,
    WebhookRead,
    WebhookRegister,
    WebhookRegistered,
)
from shared.errors import Forbidden, InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession
from shared.ratelimit import TooManyRequests

router = APIRouter(prefix="/v1/webhook", tags=["webhooks"])

# Status webhooks carry what status:read may already poll; nothing more.
StatusReader = Annotated[ClientCredential, Depends(department_client("status:read"))]
Settings = Annotated[IntakeSettings, Depends(current_settings)]


@router.put(
    "",
    response_model=WebhookRegistered,
    responses=responses_for(
        Unauthenticated, Forbidden, InvalidInput, WebhookTargetRefused, TooManyRequests
    ),
)
async def register_webhook(
    webhook_in: WebhookRegister, client: StatusReader, session: DbSession, settings: Settings
) -> WebhookRegistered:
    """Register this portal's webhook, or replace it. Every status change of the department's
    submissions is POSTed to the URL, signed with the secret returned here, once.

    The URL must be https and its host must resolve only to public addresses; anything else is
    refused with 422 naming `url`. Registering again issues a new secret."""
    webhook, secret = await service.register_webhook(
        session, client=client, url=webhook_in.url, settings=settings
    )
    return WebhookRegistered(
        id=webhook.id,
        department=webhook.department,
        url=webhook.url,
        registered_at=webhook.registered_at,
        signing_secret=secret,
    )


@router.get(
    "",
    response_model=WebhookRead,
    responses=responses_for(Unauthenticated, Forbidden, WebhookNotFound, TooManyRequests),
)
async def read_webhook(client: StatusReader, session: DbSession) -> WebhookRead:
    """This portal's webhook (its secret is never shown again)."""
    return WebhookRead.model_validate(await service.client_webhook(session, client=client))


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses_for(Unauthenticated, Forbidden, WebhookNotFound, TooManyRequests),
)
async def remove_webhook(client: StatusReader, session: DbSession) -> Response:
    """Remove this portal's webhook. Deliveries not yet made are failed, not sent."""
    await service.remove_webhook(session, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/deliveries",
    response_model=DeliveryList,
    responses=responses_for(Unauthenticated, Forbidden, InvalidInput, TooManyRequests),
)
async def list_deliveries(
    client: StatusReader,
    session: DbSession,
    submission_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[DeliveryState | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_DELIVERIES_LISTED)] = 50,
) -> DeliveryList:
    """This portal's deliveries, newest first: pending, delivered or failed, with attempts."""
    deliveries = await service.client_deliveries(
        session, client=client, submission_id=submission_id, state=state, limit=limit
    )
    return DeliveryList(items=[DeliveryRead.model_validate(item) for item in deliveries])
