"""Sending due webhook deliveries: a cron job of intake's worker, every few seconds.

A run claims due deliveries with SELECT ... FOR UPDATE SKIP LOCKED and, in the same short
transaction, pushes their next attempt past a lease; then it sends them outside any transaction
(a slow receiver holds no row lock and no connection) and records each outcome in its own
transaction. So overlapping runs, on one worker or several, never send a delivery twice at once;
a run that dies mid-send leaves its deliveries to be picked up again once the lease is over.
That is at-least-once: a receiver deduplicates by the Conduct-Delivery-Id header.

Before each attempt the target is checked again (DNS may have changed since registration) and the
request goes to the checked address, with the URL's host in Host and as TLS SNI (so the
certificate is still verified against the name). Redirects are never followed: a 3xx answer is a
failed attempt. Environment proxies are ignored, since a proxy would make its own DNS lookup.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from arq.cron import CronJob, cron
from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from services.intake.settings import IntakeSettings, get_settings
from services.intake.webhooks.backoff import next_attempt_at
from services.intake.webhooks.models import Webhook, WebhookDelivery
from services.intake.webhooks.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    open_secret,
    signature_header,
)
from services.intake.webhooks.targets import TargetRefused, check_target
from shared.consumer import WorkerResources
from shared.db import unit_of_work, utcnow

logger = structlog.get_logger(__name__)

USER_AGENT = "conduct-intake-webhooks/1"
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    url: str | None
    secret_sealed: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    response_status: int | None = None
    error: str | None = None
    # True when no later attempt could succeed: the delivery is failed at once.
    final: bool = False


def attempt_deadline_seconds(settings: IntakeSettings) -> float:
    """The most one attempt may take, DNS and a slowly dripping answer included."""
    return settings.webhook_connect_timeout_seconds + settings.webhook_read_timeout_seconds


def lease(settings: IntakeSettings) -> timedelta:
    """How long a claimed delivery is left alone: well past its attempt's deadline, so a
    delivery is only ever claimed again once its earlier attempt is over."""
    return timedelta(seconds=2 * attempt_deadline_seconds(settings) + 30)


async def claim_due_deliveries(
    session: AsyncSession, *, now: datetime, settings: IntakeSettings
) -> list[ClaimedDelivery]:
    delivery = aliased(WebhookDelivery)
    rows = (
        await session.execute(
            select(delivery, Webhook.url, Webhook.secret_sealed)
            .outerjoin(Webhook, Webhook.id == delivery.webhook_id)
            .where(delivery.state == "pending", delivery.next_attempt_at <= now)
            .order_by(delivery.next_attempt_at)
            .limit(settings.webhook_batch_size)
            .with_for_update(of=delivery, skip_locked=True)
        )
    ).all()
    claimed: list[ClaimedDelivery] = []
    for row, url, secret_sealed in rows:
        row.next_attempt_at = now + lease(settings)
        if row.first_attempted_at is None:
            row.first_attempted_at = now
        claimed.append(
            ClaimedDelivery(id=row.id, url=url, secret_sealed=secret_sealed, payload=row.payload)
        )
    await session.flush()
    return claimed


def delivery_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _short(error: str) -> str:
    return error[:MAX_ERROR_LENGTH]


async def attempt_delivery(
    delivery: ClaimedDelivery, *, http: httpx.AsyncClient, settings: IntakeSettings
) -> AttemptOutcome:
    """One POST of one delivery, within its deadline; never raises for what a receiver, DNS
    or the network does."""
    try:
        async with asyncio.timeout(attempt_deadline_seconds(settings)):
            return await _attempt(delivery, http=http, settings=settings)
    except TimeoutError:
        return AttemptOutcome(delivered=False, error="The attempt timed out.")


async def _attempt(
    delivery: ClaimedDelivery, *, http: httpx.AsyncClient, settings: IntakeSettings
) -> AttemptOutcome:
    if delivery.url is None or delivery.secret_sealed is None:
        return AttemptOutcome(delivered=False, error="The webhook was removed.", final=True)
    try:
        target = await check_target(
            delivery.url, allow_private=settings.webhook_allow_private_targets
        )
    except TargetRefused as refused:
        # Nothing is sent to a target that fails the checks, not even a connection attempt.
        return AttemptOutcome(delivered=False, error=_short(f"Target refused: {refused}"))
    body = delivery_body(delivery.payload)
    try:
        secret = open_secret(delivery.secret_sealed, key=settings.webhook_sealing_key())
    except InvalidToken:
        # Sealed under another key: retried, in case the operator restores the key in time.
        logger.error("webhook secret cannot be opened", delivery_id=str(delivery.id))
        return AttemptOutcome(delivered=False, error="The signing secret cannot be read.")
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_ID_HEADER: str(delivery.id),
        SIGNATURE_HEADER: signature_header(secret, timestamp=int(time.time()), body=body),
    }
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and target.host_is_name:
        extensions["sni_hostname"] = target.host
    try:
        async with http.stream(
            "POST", target.connect_url, content=body, headers=headers, extensions=extensions
        ) as response:
            # The answer's body is never read: only its status matters.
            code = response.status_code
    except httpx.HTTPError as error:
        return AttemptOutcome(delivered=False, error=_short(f"{type(error).__name__}: {error}"))
    if 200 <= code < 300:
        return AttemptOutcome(delivered=True, response_status=code)
    if 300 <= code < 400:
        return AttemptOutcome(delivered=False, response_status=code, error="Redirect not followed.")
    return AttemptOutcome(delivered=False, response_status=code, error=f"Answered {code}.")


async def record_outcome(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    outcome: AttemptOutcome,
    now: datetime,
    settings: IntakeSettings,
) -> WebhookDelivery | None:
    delivery = await session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None or delivery.state != "pending":
        # Removed with its webhook while the attempt ran: that decision stands.
        return delivery
    delivery.attempts += 1
    delivery.last_attempted_at = now
    delivery.last_response_status = outcome.response_status
    delivery.last_error = outcome.error
    if outcome.delivered:
        delivery.state = "delivered"
        delivery.delivered_at = now
    else:
        retry_at = next_attempt_at(
            attempts=delivery.attempts,
            now=now,
            first_attempted_at=delivery.first_attempted_at or now,
            window=timedelta(seconds=settings.webhook_retry_window_seconds),
            base_seconds=settings.webhook_retry_base_seconds,
            cap_seconds=settings.webhook_retry_cap_seconds,
        )
        if retry_at is None or outcome.final:
            delivery.state = "failed"
        else:
            delivery.next_attempt_at = retry_at
    await session.flush()
    return delivery


async def deliver_due_webhooks(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    settings: IntakeSettings,
    trusted_certificates: ssl.SSLContext | None = None,
) -> int:
    """Claim what is due, send it, record each outcome; returns how many were attempted.

    `trusted_certificates` replaces the system's CA store (tests use their own CA); certificates
    are always verified."""
    async with unit_of_work(sessionmaker) as session:
        claimed = await claim_due_deliveries(session, now=utcnow(), settings=settings)
    if not claimed:
        return 0
    timeout = httpx.Timeout(
        settings.webhook_read_timeout_seconds, connect=settings.webhook_connect_timeout_seconds
    )
    gate = asyncio.Semaphore(settings.webhook_concurrency)

    async def deliver(delivery: ClaimedDelivery, http: httpx.AsyncClient) -> None:
        async with gate:
            outcome = await attempt_delivery(delivery, http=http, settings=settings)
        async with unit_of_work(sessionmaker) as session:
            recorded = await record_outcome(
                session, delivery_id=delivery.id, outcome=outcome, now=utcnow(), settings=settings
            )
        logger.info(
            "webhook delivery attempted",
            delivery_id=str(delivery.id),
            delivered=outcome.delivered,
            response_status=outcome.response_status,
            state=recorded.state if recorded else None,
        )

    # No connection is kept for reuse: connections are made to an address, and two webhook
    # hosts on one address must never share one (its TLS session was verified for one name).
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        verify=trusted_certificates or True,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as http:
        await asyncio.gather(*(deliver(delivery, http) for delivery in claimed))
    return len(claimed)


async def deliver_webhooks(ctx: dict[str, Any]) -> int:
    """Rounds of due deliveries, each at most `webhook_concurrency` sent at once (so a round
    lasts at most one attempt's deadline), while another round still ends inside the job's
    timeout: no long job holds back the rerun of jobs a killed worker left (arq keeps a job
    "in progress" for the longest function timeout + 10 s). Returns how many were attempted."""
    resources: WorkerResources = ctx["resources"]
    settings = get_settings()
    round_settings = settings.model_copy(
        update={
            "webhook_batch_size": min(settings.webhook_batch_size, settings.webhook_concurrency)
        }
    )
    budget = resources.settings.job_timeout_seconds - attempt_deadline_seconds(settings)
    stop_at = time.monotonic() + max(0.0, budget - 1)
    attempted = 0
    while True:
        sent = await deliver_due_webhooks(resources.sessionmaker, settings=round_settings)
        attempted += sent
        if not sent or time.monotonic() >= stop_at:
            return attempted


deliver_webhooks_cron: CronJob = cron(
    deliver_webhooks,
    second=set(range(0, 60, 5)),
    run_at_startup=True,
)
