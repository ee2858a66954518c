"""What portals read about evidence snapshot files and their custody."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
