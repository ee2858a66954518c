"""Registering a portal's webhook, and staging a delivery for each status change.

Deliveries are written by `stage_status_deliveries`, in the transaction that records the status,
and sent by the delivery job (delivery.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.models import ClientCredential
from services.intake.settings import IntakeSettings
from services.intake.webhooks.errors import WebhookNotFound, WebhookTargetRefused
from services.intake.webhooks.models import DeliveryState, Webhook, WebhookDelivery
from services.intake.webhooks.signing import new_signing_secret, seal_secret
from services.intake.webhooks.targets import TargetRefused, check_target
from shared.db import utcnow

MAX_DELIVERIES_LISTED = 200


async def register_webhook(
    session: AsyncSession, *, client: ClientCredential, url: str, settings: IntakeSettings
) -> tuple[Webhook, str]:
    """Register (or replace) the client's webhook; returns it and its new signing secret.

    Registering again, even with the same URL, issues a new secret: the old one stops signing
    at once. Deliveries already pending go to the new URL with the new secret."""
    try:
        await check_target(url, allow_private=settings.webhook_allow_private_targets)
    except TargetRefused as refused:
        raise WebhookTargetRefused(str(refused)) from refused
    secret = new_signing_secret()
    sealed = seal_secret(secret, key=settings.webhook_sealing_key())
    webhook = await session.scalar(
        select(Webhook).where(Webhook.client_id == client.client_id).with_for_update()
    )
    if webhook is None:
        webhook = Webhook(id=uuid.uuid4(), client_id=client.client_id)
        session.add(webhook)
    webhook.department = client.organisation_code
    webhook.url = url.strip()
    webhook.secret_sealed = sealed
    webhook.registered_at = utcnow()
    await session.flush()
    return webhook, secret


async def client_webhook(session: AsyncSession, *, client: ClientCredential) -> Webhook:
    webhook = await session.scalar(select(Webhook).where(Webhook.client_id == client.client_id))
    if webhook is None:
        raise WebhookNotFound("This client has not registered a webhook.")
    return webhook


async def remove_webhook(session: AsyncSession, *, client: ClientCredential) -> None:
    """Remove the client's webhook; its pending deliveries are failed, not sent elsewhere."""
    webhook = await client_webhook(session, client=client)
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.state == "pending")
        .values(state="failed", last_error="The webhook was removed.")
    )
    await session.delete(webhook)
    await session.flush()


def status_payload(
    *, submission_id: uuid.UUID, kind: str, status: str, occurred_at: datetime
) -> dict[str, Any]:
    """What a delivery says: the submission and its new status, never who reviews it."""
    return {
        "submission_id": str(submission_id),
        "kind": kind,
        "status": status,
        "occurred_at": occurred_at.isoformat(),
    }


async def stage_status_deliveries(
    session: AsyncSession, *, submission: object, status: str, occurred_at: datetime
) -> int:
    """One pending delivery per webhook of the submission's department; returns how many.

    A submission kind without a `department` (none today) has no webhook to tell."""
    department = getattr(submission, "department", None)
    submission_id = getattr(submission, "id", None)
    if not isinstance(department, str) or not isinstance(submission_id, uuid.UUID):
        return 0
    kind = str(getattr(submission, "__tablename__", type(submission).__name__.lower()))
    webhooks = (
        await session.scalars(select(Webhook).where(Webhook.department == department))
    ).all()
    now = utcnow()
    payload = status_payload(
        submission_id=submission_id, kind=kind, status=status, occurred_at=occurred_at
    )
    session.add_all(
        WebhookDelivery(
            id=uuid.uuid4(),
            webhook_id=webhook.id,
            client_id=webhook.client_id,
            submission_id=submission_id,
            submission_kind=kind,
            status=status,
            payload=payload,
            state="pending",
            attempts=0,
            next_attempt_at=now,
        )
        for webhook in webhooks
    )
    return len(webhooks)


async def client_deliveries(
    session: AsyncSession,
    *,
    client: ClientCredential,
    submission_id: uuid.UUID | None,
    state: DeliveryState | None,
    limit: int,
) -> list[WebhookDelivery]:
    """The client's own deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.client_id == client.client_id)
    if submission_id is not None:
        query = query.where(WebhookDelivery.submission_id == submission_id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(
        min(limit, MAX_DELIVERIES_LISTED)
    )
    return list((await session.scalars(query)).all())
