"""What the unit sends and reads about an appeal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.review.cases.schemas import RuleCode, Statement
from shared.input import StrictInput


class AppealCreate(StrictInput):
    """The employee's appeal as filed (through the portal, in practice), recorded by the
    unit's secretary or chair."""

    grounds: Statement = Field(description="The employee's grounds of appeal")
    filed_on: date = Field(
        description="The day the employee filed it: within the appeal window, counted in "
        "calendar days from the day the violation finding became final"
    )


class AppealDecisionCreate(StrictInput):
    """The appellate authority's decision. `modified` restates the finding: the rules it now
    stands on (`rules_cited`, from the case's alleged rules) and/or its `finding` text."""

    outcome: Literal["upheld", "modified", "set_aside"]
    reasons: Statement
    rules_cited: list[RuleCode] | None = Field(
        default=None, min_length=1, max_length=10, description="Modified only"
    )
    finding: Statement | None = Field(
        default=None, description="Modified only: the finding as restated"
    )


class AppealRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    state: str = Field(description="The case's state after this step")
    grounds: str
    filed_on: date
    recorded_by: uuid.UUID
    recorded_at: datetime
    outcome: Literal["upheld", "modified", "set_aside"] | None
    decision_reasons: str | None
    modified_rules_cited: list[str] | None
    modified_finding: str | None
    decided_by: uuid.UUID | None
    decided_at: datetime | None
