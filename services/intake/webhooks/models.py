"""A portal's webhook and the deliveries of status changes to it.

One webhook per client (a portal): registering again replaces its URL and secret. Each status
change of a submission of the portal's department becomes one delivery row, written in the same
transaction as the status itself, so a change is announced if and only if it is committed. A
delivery keeps its owner's client id, so its history stays readable after the webhook is removed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase

DeliveryState = Literal["pending", "delivered", "failed"]


class Webhook(IntakeBase):
    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The client (all its credentials, across rotations) that registered it.
    client_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # The signing secret, Fernet-encrypted (see signing.py); never shown after registration.
    secret_sealed: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(IntakeBase):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The delivery job's question: which pending deliveries are due.
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_webhook_delivery_client_id_created_at", "client_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column()
    submission_id: Mapped[uuid.UUID] = mapped_column(index=True)
    submission_kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
