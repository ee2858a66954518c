"""What the department's portal sends and reads about the notices served on its employees."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.input import StrictInput

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class RepresentativeCreate(StrictInput):
    name: ShortText
    designation: ShortText | None = None
    relationship: ShortText | None = Field(
        default=None, description="How the representative stands to the employee"
    )


class ExtensionRequestCreate(StrictInput):
    reason: Reason
    working_days: int = Field(ge=1, le=90, description="Working days to add to the window")


class ReplyCreate(StrictInput):
    """The employee's reply (`statement`, with an optional representative, attachments and a
    request for a hearing), or, without a statement, a request for more time (`extension`)."""

    statement: Statement | None = Field(default=None, description="The employee's reply")
    representative: RepresentativeCreate | None = None
    attachments: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Ids of evidence files this portal uploaded (POST /v1/evidence-files)",
    )
    request_hearing: bool = Field(default=False, description="The employee asks to be heard")
    extension: ExtensionRequestCreate | None = Field(
        default=None, description="Ask for more time instead of replying now"
    )


class ReplyAccepted(BaseModel):
    id: uuid.UUID
    status: str
    notice_url: str


class ReplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(description="reply, or extension_request")
    status: str = Field(description="submitted, then accepted or refused by the unit")
    outcome: str | None = Field(description="What the unit said (why a refusal)")
    statement: str | None
    representative: dict[str, Any] | None
    attachment_ids: list[uuid.UUID]
    hearing_requested: bool
    extension_reason: str | None
    extension_working_days: int | None
    submitted_at: datetime
    decided_at: datetime | None


class NoticeEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event: str
    detail: str
    occurred_at: datetime


class NoticeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    employee_ref: str
    employee_name: str
    reply_due_on: date
    status: str = Field(
        description="awaiting_reply, extension_requested, reply_submitted, reply_received, "
        "reply_refused or reply_window_lapsed"
    )
    served_at: datetime
    receipt_acknowledged_at: datetime | None


class NoticeRead(NoticeSummary):
    department: str
    content: dict[str, Any] = Field(description="The notice as the monitoring unit served it")
    replies: list[ReplyRead]
    history: list[NoticeEventRead]


class NoticeList(BaseModel):
    items: list[NoticeSummary]
