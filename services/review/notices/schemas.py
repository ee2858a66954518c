"""What members send and read about extensions, and what a case shows of the employee's side
of its notice (receipt, the reply's extras) and of its triage."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.review.screening.schemas import ConfidentialOutcomeRead, ScreenRead

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class ExtensionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    working_days: int = Field(ge=1, le=90, description="Working days to add to the window")


class ExtensionDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "refused"]
    reason: Reason


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    requested_via: str = Field(description="member, or portal (the employee via portal)")
    requested_by: uuid.UUID | None
    reason: str
    working_days: int
    requested_at: datetime
    status: str = Field(description="requested, approved or refused")
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str | None
    due_before: date
    due_after: date | None = Field(description="The reply date once approved")


class ReplyRead(BaseModel):
    statement: str
    received_at: datetime
    recorded_by: uuid.UUID | None = Field(description="None when it came through the portal")
    submitted_by: str = Field(description="'member' or 'the employee via portal'")
    representative: dict[str, Any] | None
    attachments: list[dict[str, Any]]
    hearing_requested: bool


class PermissionCheckRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str = Field(description="pending, permitted, not_permitted or unknown")
    reason: str
    platform: str
    account_handles: list[str]
    checked_on: date | None = Field(description="The post's date, asked about")
    record_id: uuid.UUID | None = Field(description="registry's permission record, if permitted")
    record_kind: str | None
    checked_at: datetime | None


class DueProcessRead(BaseModel):
    """The parts of a case's page about triage and the employee's side of the notice."""

    permission_check: PermissionCheckRead | None = None
    disclosure_screen: ScreenRead | None = None
    confidential_outcome: ConfidentialOutcomeRead | None = Field(
        default=None,
        description="How the case left the confidential channel, once the chair closed it there",
    )
    notice_receipt_acknowledged_at: datetime | None = None
    reply: ReplyRead | None = None
    extensions: list[ExtensionRead] = Field(default_factory=list)
