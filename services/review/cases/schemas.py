"""What members send and read about cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

RuleCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoticeCreate(StrictInput):
    allegations: Statement = Field(
        description="What is alleged, per rule, and the evidence relied on"
    )


class ReplyCreate(StrictInput):
    statement: Statement
    received_at: AwareDatetime | None = Field(default=None, description="Defaults to now")


class DeterminationCreate(StrictInput):
    finding: Literal["violation", "cleared"]
    rules_cited: list[RuleCode] = Field(
        min_length=1,
        max_length=10,
        description="Rules the finding rests on, from the case's alleged rules",
    )
    reasons: Statement


class DismissalCreate(StrictInput):
    reasons: Statement


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None
    to_state: str
    actor_member_id: uuid.UUID | None
    reason: str
    occurred_at: datetime


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    allegations: str
    reply_due_on: date
    issued_by: uuid.UUID
    issued_at: datetime


class DeterminationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    finding: str
    rules_cited: list[str]
    reasons: str
    recorded_by: uuid.UUID
    recorded_at: datetime
    countersigned_by: uuid.UUID | None
    countersigned_at: datetime | None
    final: bool


class CaseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    submission_id: uuid.UUID
    state: str
    department: str
    subject_name: str
    platform: str
    rules_alleged: list[str]
    assignee_id: uuid.UUID | None
    opened_at: datetime


class CaseRead(CaseSummary):
    subject_employee_ref: str
    subject_designation: str
    subject_office: str
    is_group_administrator: bool
    content_excerpt: str
    content_url: str | None
    posted_at: datetime | None
    evidence_count: int
    notice: NoticeRead | None
    determination: DeterminationRead | None
    history: list[CaseEventRead]


class CaseList(BaseModel):
    items: list[CaseSummary]
