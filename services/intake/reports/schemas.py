"""What portals send and read about reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.input import StrictInput

Platform = Literal["facebook", "x", "whatsapp", "instagram", "tiktok", "youtube", "other"]
EvidenceKind = Literal["post", "screenshot", "document", "message", "other"]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
RuleCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class SubjectCreate(StrictInput):
    employee_ref: Reference = Field(
        description="Employee reference in the department's personnel system"
    )
    name: ShortText
    designation: ShortText
    office: ShortText
    is_group_administrator: bool = Field(
        default=False,
        description="True when the subject administers the group where the breach happened",
    )


class ReporterCreate(StrictInput):
    employee_ref: Reference
    name: ShortText
    office: ShortText


class EvidenceCreate(StrictInput):
    kind: EvidenceKind
    url: AnyHttpUrl | None = Field(default=None, description="Recorded as data, never fetched")
    platform_post_id: str | None = Field(default=None, max_length=200)
    author_handle: str | None = Field(default=None, max_length=200)
    captured_at: AwareDatetime | None = None
    captured_by: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    snapshot_file_id: uuid.UUID | None = Field(
        default=None,
        description="The id of a snapshot of your department uploaded to POST /v1/evidence-files",
    )


class ReportCreate(StrictInput):
    subjects: list[SubjectCreate] = Field(min_length=1, max_length=20)
    reporter: ReporterCreate
    platform: Platform
    content_excerpt: str = Field(min_length=1, max_length=5000)
    content_url: AnyHttpUrl | None = None
    posted_at: AwareDatetime | None = None
    rules_alleged: list[RuleCode] = Field(min_length=1, max_length=10)
    evidence: list[EvidenceCreate] = Field(default_factory=list, max_length=50)


class ReportAccepted(BaseModel):
    id: uuid.UUID
    # "received", or "linked" when the report repeats an open one (then see duplicate_of).
    status: str
    status_url: str
    duplicate_of: uuid.UUID | None = Field(
        default=None,
        description="The open report this one repeats (same subject, same link or snapshot): "
        "it is linked to that report's case and no second case is opened",
    )


class SubjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    employee_ref: str
    name: str
    designation: str
    office: str
    is_group_administrator: bool


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sha256: str
    size_bytes: int
    media_type: str


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    url: str | None
    platform_post_id: str | None
    author_handle: str | None
    captured_at: datetime | None
    captured_by: str | None
    description: str | None
    snapshot: SnapshotRead | None = Field(validation_alias="snapshot_file")


class StatusEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    occurred_at: datetime


class ReportRead(BaseModel):
    """A report as its own department sees it; who reviews it is never shown."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    department: str
    platform: str
    content_excerpt: str
    content_url: str | None
    posted_at: datetime | None
    rules_alleged: list[str]
    subjects: list[SubjectRead]
    evidence: list[EvidenceRead]
    status: str
    received_at: datetime
    duplicate_of: uuid.UUID | None
    status_history: list[StatusEventRead]
