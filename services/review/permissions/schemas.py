"""What members send and read about permission cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.review.cases.schemas import CaseEventRead, Statement
from shared.input import StrictInput
from shared.messages import AccountModerator, PermissionApplicant, PermissionDecision

Condition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class PermissionDecisionCreate(StrictInput):
    """Grant, grant with conditions, or refuse, with reasons. A grant runs from `valid_from`
    (default: today) until `expires_on`; a refusal has neither."""

    decision: PermissionDecision
    reasons: Statement
    conditions: list[Condition] | None = Field(
        default=None,
        max_length=20,
        description="Required, and only allowed, for granted_with_conditions",
    )
    valid_from: date | None = Field(
        default=None, description="Grants only: the first day of the permission (default today)"
    )
    expires_on: date | None = Field(
        default=None, description="Grants only, required: the last day, after valid_from"
    )


class PermissionDecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision: str
    reasons: str
    conditions: list[str]
    valid_from: date
    expires_on: date | None
    decided_by: uuid.UUID
    decided_at: datetime
    renewal_reminded_at: datetime | None


class PermissionCaseRead(BaseModel):
    """A permission case: the request, the decision if made, and the case's history."""

    id: uuid.UUID
    submission_id: uuid.UUID
    permission_kind: str
    state: str
    department: str
    assignee_id: uuid.UUID | None
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: str | None
    applicant: PermissionApplicant | None
    moderators: list[AccountModerator]
    renewal_of: uuid.UUID | None
    received_at: datetime
    decision: PermissionDecisionRead | None
    history: list[CaseEventRead]
