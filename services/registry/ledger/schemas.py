"""What readers see of the ledger: violation records, pages of them, and the chain's health;
and the `as_of` parameter every ledger query takes."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

if TYPE_CHECKING:
    from services.registry.ledger.service import RecordVersion

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def not_a_number(value: object) -> object:
    """pydantic would read "1700000000" (or "-2.2e-309") as a Unix time; the documented format
    of a date or date-time parameter is ISO 8601, and anything else is bad input (found by
    schemathesis, S7)."""
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date or date-time, not a number")
    return value


AsOf = Annotated[
    AwareDatetime | None,
    BeforeValidator(not_a_number),
    Query(
        description="Answer as the registry stood at this moment (ISO 8601 with a time zone; "
        "default now): only records recorded by then, and superseded only by records recorded "
        "by then"
    ),
]


class ViolationRead(BaseModel):
    """A version of a violation as recorded (the original, a correction, or the finding as
    modified on appeal: record_kind appeal_outcome), with its place in
    the hash chain and whether it was still current at the moment asked about."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sequence: int = Field(description="Position in the ledger's chain, 1 for the first record")
    record_kind: str
    supersedes_id: uuid.UUID | None
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str | None = Field(description="null once purged under retention")
    employee_name: str | None = Field(description="null once purged under retention")
    rules_cited: list[str]
    platform: str
    reasons: str | None = Field(description="null once purged under retention")
    determined_by: uuid.UUID
    countersigned_by: uuid.UUID | None
    effective_on: date
    recorded_at: datetime
    reported_at: datetime
    catalogue_version: int
    content_hash: str
    previous_hash: str
    chain_hash: str
    status: Literal["current", "superseded"] = Field(
        description="current unless a record recorded by the moment asked about supersedes it"
    )
    superseded_by: uuid.UUID | None = Field(description="The record that supersedes this one")
    personal_data: Literal["held", "purged"] = Field(
        description="purged once a retention purge removed the record's personal data"
    )
    appeal_outcome: Literal["modified"] | None = Field(
        default=None,
        description="Set on a version that an appeal outcome made: the finding as modified",
    )

    @classmethod
    def of(cls, version: RecordVersion) -> ViolationRead:
        read = cls.model_validate(
            {
                **{
                    name: getattr(version.record, name)
                    for name in cls.model_fields
                    if name not in {"status", "superseded_by", "personal_data"}
                },
                "personal_data": "purged" if version.record.personal_salt is None else "held",
                "status": version.status,
                "superseded_by": version.superseded_by,
            }
        )
        return read


class ViolationPage(BaseModel):
    items: list[ViolationRead]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )
    as_of: datetime = Field(
        description="The moment the page answers for; pass it back with `after` so that later "
        "pages answer for the same moment"
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
