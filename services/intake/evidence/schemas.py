"""What portals send and read about evidence snapshot files and their custody."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class EvidenceFileStored(BaseModel):
    """An uploaded snapshot: reference it from a report's evidence by `id`."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sha256: str
    size_bytes: int
    media_type: str
    uploaded_at: datetime


class CustodyLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    action: str
    actor: str
    occurred_at: datetime
    note: str | None
    recipient: str | None
    prev_hash: str
    line_hash: str


class CustodyRead(BaseModel):
    intact: bool
    first_bad_sequence: int | None
    problem: str | None
    lines: list[CustodyLineRead]


class EvidenceFileRead(EvidenceFileStored):
    """The file's metadata and its whole custody log, checked when read."""

    content_url: str
    custody: CustodyRead


class HandOverCreate(BaseModel):
    """A hand-over of the item to someone outside the portal (a monitoring unit, an inquiry
    officer, a court), recorded as a line of its custody log."""

    model_config = ConfigDict(extra="forbid")

    recipient: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ] = Field(description="Who received the item: a person and their office, or a body")
    note: str | None = Field(default=None, max_length=2000, description="Why, or how")
