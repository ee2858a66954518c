"""What members send and read about cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.review.charges.schemas import (
    CaseEvidenceRead,
    ChargeFindingCreate,
    ChargeFindingRead,
    ChargeRead,
    NoticeRead,
)
from services.review.institutional_findings.schemas import InstitutionalFindingRead
from services.review.notices.schemas import DueProcessRead
from shared.input import StrictInput

RuleCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class NoticeCreate(StrictInput):
    """The notice is generated from the case's charges; the member may add words of their own."""

    allegations: Statement | None = Field(
        default=None, description="The member's own words, added to the allegations generated"
    )


class ReplyCreate(StrictInput):
    statement: Statement
    received_at: AwareDatetime | None = Field(default=None, description="Defaults to now")


class DeterminationCreate(StrictInput):
    """A finding per charge (`charges`: every standing charge, proved or not proved, with
    reasons and the evidence relied on) and, when any is proved, the `recommended_penalty` from
    the penalties catalogue; the case's finding and the rules it cites follow from them."""

    finding: Literal["violation", "cleared"] | None = Field(
        default=None, description="Follows from the charges' findings; if sent, it must agree"
    )
    reasons: Statement
    charges: list[ChargeFindingCreate] = Field(
        min_length=1, max_length=30, description="One finding per standing charge"
    )
    recommended_penalty: RuleCode | None = Field(
        default=None,
        description="A code of the penalties catalogue (E&D Rules 2020); required when a "
        "charge is proved",
    )


class HearingCreate(StrictInput):
    """Either a hearing held (`held_on`, `attendees`, `minutes`) or one the employee waived
    (`waived: true` and the `reason`)."""

    held_on: date | None = Field(default=None, description="The day the hearing was held")
    attendees: list[PersonName] | None = Field(
        default=None, min_length=1, max_length=50, description="Who attended, by name and role"
    )
    minutes: Statement | None = Field(default=None, description="What was said and produced")
    waived: Literal[True] | None = Field(default=None, description="The employee waived it")
    reason: Statement | None = Field(default=None, description="Why it was waived")


class DismissalCreate(StrictInput):
    reasons: Statement


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None
    to_state: str
    actor_member_id: uuid.UUID | None
    reason: str
    occurred_at: datetime


class HearingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    outcome: Literal["held", "waived"]
    held_on: date | None
    attendees: list[str]
    minutes: str | None
    waiver_reason: str | None
    recorded_by: uuid.UUID
    recorded_at: datetime


class DeterminationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    finding: str
    rules_cited: list[str]
    reasons: str
    charges: list[ChargeFindingRead] = Field(
        default_factory=list,
        description="The finding on each charge (none on a determination recorded before "
        "findings per charge were required)",
    )
    recommended_penalty: str | None = None
    recorded_by: uuid.UUID
    recorded_at: datetime
    countersigned_by: uuid.UUID | None
    countersigned_at: datetime | None
    final: bool


class CaseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(
        description=(
            "'report'; 'institutional_finding' for an MTI's finding; 'permission' for a "
            "permission request (decided at /permission-decision)"
        )
    )
    submission_id: uuid.UUID
    state: str
    department: str
    subject_name: str
    platform: str
    rules_alleged: list[str]
    assignee_id: uuid.UUID | None = Field(description="None while waiting in the unit's queue")
    opened_at: datetime
    escalated_at: datetime | None = Field(
        default=None, description="When the case was escalated to the chair in its current stage"
    )


class CaseRead(CaseSummary, DueProcessRead):
    """A case's page; with (DueProcessRead) its permission check at triage, its
    protected-disclosure screen, the notice's receipt, the reply and its extensions."""

    subject_employee_ref: str
    subject_designation: str
    subject_office: str
    is_group_administrator: bool
    content_excerpt: str
    content_url: str | None
    posted_at: datetime | None
    evidence_count: int
    evidence: list[CaseEvidenceRead] = Field(
        default_factory=list,
        description="The case's evidence items, by number, each with its clearance for "
        "disclosure to the employee",
    )
    charges: list[ChargeRead] = Field(
        default_factory=list, description="Every charge, withdrawn ones marked"
    )
    notice: NoticeRead | None
    hearing: HearingRead | None
    determination: DeterminationRead | None
    institutional_finding: InstitutionalFindingRead | None = Field(
        default=None, description="The institution's finding behind the case (it has no reporter)"
    )
    history: list[CaseEventRead]


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: uuid.UUID | None = Field(
        default=None,
        description="Pass as `after` for the next page; None on the last page",
    )
