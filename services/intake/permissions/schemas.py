"""What portals send and read about permission requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from services.intake.reports.schemas import (
    Platform,
    Reference,
    ShortText,
    StatusEventRead,
)
from shared.input import StrictInput
from shared.messages import OfficialAccountPurpose, PermissionKind


class ApplicantCreate(StrictInput):
    employee_ref: Reference = Field(
        description="Employee reference in the department's personnel system"
    )
    name: ShortText
    designation: ShortText
    office: ShortText


class ModeratorCreate(StrictInput):
    employee_ref: Reference
    name: ShortText
    designation: ShortText


class PermissionRequestCreate(StrictInput):
    """A personal request names its `applicant` and no moderators; an official account names
    its `account_purpose` and at least one moderator, and no applicant."""

    kind: PermissionKind
    platform: Platform
    account_handle: ShortText = Field(description="The account's handle or number on the platform")
    account_url: AnyHttpUrl | None = Field(default=None, description="Recorded, never fetched")
    purpose: str = Field(min_length=1, max_length=5000, description="Why the account is needed")
    account_purpose: OfficialAccountPurpose | None = Field(
        default=None, description="Official accounts only: what citizens engage it for"
    )
    moderators: list[ModeratorCreate] = Field(
        default_factory=list,
        max_length=20,
        description="Official accounts only: who removes offensive remarks",
    )
    applicant: ApplicantCreate | None = Field(
        default=None, description="Personal requests only: the employee who asks"
    )
    renewal_of: uuid.UUID | None = Field(
        default=None, description="The registry record of the permission this request renews"
    )


class PermissionRequestAccepted(BaseModel):
    id: uuid.UUID
    status: str
    status_url: str


class ApplicantRead(BaseModel):
    employee_ref: str
    name: str
    designation: str
    office: str


class ModeratorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    employee_ref: str
    name: str
    designation: str


class PermissionRequestRead(BaseModel):
    """A permission request as its own department sees it; who reviews it is never shown."""

    id: uuid.UUID
    kind: str
    department: str
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: str | None
    applicant: ApplicantRead | None
    moderators: list[ModeratorRead]
    renewal_of: uuid.UUID | None
    status: str
    received_at: datetime
    status_history: list[StatusEventRead]
