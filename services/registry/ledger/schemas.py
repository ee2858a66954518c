"""What readers see of the ledger: violation records, pages of them, and the chain's health."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ViolationRead(BaseModel):
    """A violation as recorded, with its place in the hash chain."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sequence: int = Field(description="Position in the ledger's chain, 1 for the first record")
    record_kind: str
    supersedes_id: uuid.UUID | None
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str
    employee_name: str
    rules_cited: list[str]
    platform: str
    reasons: str
    determined_by: uuid.UUID
    countersigned_by: uuid.UUID | None
    effective_on: date
    recorded_at: datetime
    reported_at: datetime
    catalogue_version: int
    content_hash: str
    previous_hash: str
    chain_hash: str


class ViolationPage(BaseModel):
    items: list[ViolationRead]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


class BrokenLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    id: uuid.UUID
    reason: str


class CheckpointCheckRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    head_sequence: int
    signed_at: str
    holds: bool
    reason: str | None


class ChainVerificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: Literal["intact", "broken"]
    records_checked: int
    head_hash: str = Field(
        description="Chain hash of the last record found intact; keep it to detect a rewrite"
    )
    first_broken: BrokenLinkRead | None
    checkpoint: CheckpointCheckRead | None = Field(
        default=None,
        description="The ledger against its latest signed checkpoint: catches a truncation or "
        "a rewrite even when every hash was recomputed",
    )
