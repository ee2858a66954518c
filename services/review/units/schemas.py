"""What a unit's chair sends and reads about the unit's members."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.input import StrictInput

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class DeactivationCreate(StrictInput):
    reason: Reason


class LeaveCreate(StrictInput):
    reason: Reason | None = None


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    employee_ref: str
    office: str
    role: str
    active: bool
    on_leave: bool
    open_cases: int


class MemberList(BaseModel):
    items: list[MemberRead]


class HandoverRead(BaseModel):
    """A case changing hands; `None` on either side is the unit's queue."""

    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    from_member_id: uuid.UUID | None
    to_member_id: uuid.UUID | None


class MemberStandingRead(BaseModel):
    """The member after the change, and the cases that changed hands because of it."""

    member: MemberRead
    handovers: list[HandoverRead]
