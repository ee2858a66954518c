"""What portals send and read about their webhook and its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WebhookRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="https URL on a public address; every status change is POSTed to it",
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    department: str
    url: str
    registered_at: datetime


class WebhookRegistered(WebhookRead):
    signing_secret: str = Field(
        description=(
            "Shown this once. Verify each delivery's Conduct-Signature header "
            '(t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>"> keyed with this secret).'
        )
    )


class DeliveryRead(BaseModel):
    """One status change sent (or being sent) to the webhook."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    submission_id: uuid.UUID
    submission_kind: str
    status: str
    state: str
    attempts: int
    payload: dict[str, Any]
    created_at: datetime
    first_attempted_at: datetime | None
    last_attempted_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_response_status: int | None
    last_error: str | None


class DeliveryList(BaseModel):
    items: list[DeliveryRead]
