"""What a unit's chair or secretary sends and what its members read about meetings, and the
periodic summary of the unit's work."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MeetingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date = Field(description="The day the unit met; not in the future")
    attendee_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=100, description="Members of this unit present"
    )
    guests: list[Name] = Field(
        default_factory=list, max_length=50, description="Others present, with their capacity"
    )
    agenda: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]
    decisions: list[Line] = Field(default_factory=list, max_length=200)


class AttendeeRead(BaseModel):
    id: uuid.UUID
    name: str
    role: str


class MeetingRead(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    held_on: date
    attendees: list[AttendeeRead]
    guests: list[str]
    agenda: str
    decisions: list[str]
    recorded_by: uuid.UUID
    recorded_at: datetime


class MeetingList(BaseModel):
    items: list[MeetingRead]


class RuleOutcomes(BaseModel):
    violation: int = 0
    cleared: int = 0


class UnitSummary(BaseModel):
    """A unit's work over a date range (both days included), and what is pending now."""

    unit_id: uuid.UUID
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    received: int = Field(description="Cases opened in the range")
    determined: int = Field(description="Determinations recorded in the range")
    dismissed: int = Field(description="Cases dismissed in the range")
    pending_by_stage: dict[str, int] = Field(description="Open cases now, by state")
    overdue: int = Field(description="Open cases escalated to the chair in their current stage")
    outcomes_by_rule: dict[str, RuleOutcomes] = Field(
        description="Findings of the range's determinations, per rule cited (or alleged)"
    )
    median_working_days_to_determination: float | None = Field(
        description="From the report's receipt to the determination; weekends and holidays skipped"
    )
    meetings: int = Field(description="Meetings held in the range")
