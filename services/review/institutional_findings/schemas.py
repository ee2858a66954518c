"""What members send and read about an institution's finding on a case."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# cases.schemas embeds the read model below in a case, so nothing here imports from it.
Checked = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]


class RecordAcceptanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checked: Checked = Field(
        description=(
            "What the member checked in the institution's record: when the notice was given "
            "and what the employee replied"
        )
    )


class InstitutionalFindingRead(BaseModel):
    """The institution's allegation behind the case (there is no reporter), and whether its
    record of notice and reply was accepted in place of a notice."""

    model_config = ConfigDict(from_attributes=True)

    institution: str
    institution_finding_ref: str
    batch_id: uuid.UUID
    row_number: int
    rule: str
    platform: str
    finding: str
    found_on: date
    notice_and_reply_on_record: bool = Field(
        description="The institution's record shows the employee was given notice and replied"
    )
    record_accepted_by: uuid.UUID | None = Field(
        description="The member who accepted that record instead of serving a notice"
    )
    record_accepted_at: datetime | None
