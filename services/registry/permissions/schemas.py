"""What readers see of permission records: permissions (personal data, for auditors and
competent authorities), official accounts (moderators' names only for those roles), and the
answer to 'was this account permitted on that date?'; the `on` parameter the queries take."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.registry.ledger.schemas import not_a_number

if TYPE_CHECKING:
    from services.registry.permissions.service import PermissionVersion

On = Annotated[
    date | None,
    BeforeValidator(not_a_number),
    Query(
        description="The date statuses are judged on (YYYY-MM-DD; default: the date of "
        "`as_of`, in UTC): active from valid_from to expires_on inclusive"
    ),
]


class ModeratorRead(BaseModel):
    """A person responsible for moderating an official account."""

    model_config = ConfigDict(extra="forbid")

    employee_ref: str
    name: str
    designation: str


class PermissionRead(BaseModel):
    """A permission decision as recorded (personal or for an official account, granted or
    refused), with its status on the date asked about and its place in the chain."""

    id: uuid.UUID
    sequence: int = Field(description="Position in the ledger's chain")
    record_kind: Literal["permission", "official_account"] = Field(
        description="permission: an employee's personal use; official_account: a department's"
    )
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    decision: Literal["granted", "granted_with_conditions", "refused"]
    status: Literal["active", "upcoming", "expired", "refused", "superseded"] = Field(
        description="refused; superseded once a renewal recorded by `as_of` replaced it; "
        "otherwise upcoming, active or expired on the date `on`"
    )
    employee_ref: str | None = Field(description="Personal permissions only")
    employee_name: str | None = Field(description="Personal permissions only")
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: str | None
    moderators: list[ModeratorRead] | None = Field(description="Official accounts only")
    conditions: list[str]
    reasons: str
    valid_from: date
    expires_on: date | None = Field(description="null: no expiry")
    renewal_of: uuid.UUID | None = Field(description="The permission record this one renews")
    supersedes_id: uuid.UUID | None = Field(description="Set when a granted renewal replaces it")
    superseded_by: uuid.UUID | None
    decided_by: uuid.UUID
    decided_at: datetime
    recorded_at: datetime
    chain_hash: str

    @classmethod
    def of(cls, version: PermissionVersion) -> PermissionRead:
        record = version.record
        return cls.model_validate(
            {
                **{
                    name: getattr(record, name)
                    for name in cls.model_fields
                    if hasattr(record, name) and name not in {"status", "superseded_by"}
                },
                "valid_from": record.effective_on,
                "decided_by": record.determined_by,
                "status": version.status,
                "superseded_by": version.superseded_by,
            }
        )


class PermissionPage(BaseModel):
    items: list[PermissionRead]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )
    as_of: datetime = Field(description="The moment the page answers for; pass it back")
    on: date = Field(description="The date statuses were judged on")


class OfficialAccountRead(BaseModel):
    """A department's official account as currently granted (the latest renewal)."""

    id: uuid.UUID = Field(description="The permission record that grants the account")
    sequence: int
    department: str
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: str | None
    moderators: list[ModeratorRead] | None = Field(
        description="Who moderates the account; null for dashboard credentials, which see no "
        "personal data (they get moderator_count)"
    )
    moderator_count: int
    conditions: list[str]
    valid_from: date
    expires_on: date | None
    status: Literal["active", "upcoming", "expired"] = Field(
        description="active if a grant for the account (this one, or one it renews) covers "
        "the date `on`; otherwise upcoming before valid_from, expired after"
    )
    renewal_of: uuid.UUID | None
    recorded_at: datetime

    @classmethod
    def of(cls, version: PermissionVersion, *, with_moderators: bool) -> OfficialAccountRead:
        record = version.record
        moderators = list(record.moderators or ())
        return cls.model_validate(
            {
                **{
                    name: getattr(record, name)
                    for name in cls.model_fields
                    if hasattr(record, name) and name not in {"status", "moderators"}
                },
                "moderators": moderators if with_moderators else None,
                "moderator_count": len(moderators),
                "valid_from": record.effective_on,
                "status": version.status,
            }
        )


class OfficialAccountPage(BaseModel):
    items: list[OfficialAccountRead]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )
    as_of: datetime
    on: date


class PermissionCheckRead(BaseModel):
    """Whether a grant covered the account on the date, and which record did."""

    permitted: bool
    on: date
    platform: str
    account_handle: str
    employee_ref: str | None
    as_of: datetime
    record: PermissionRead | None = Field(
        description="The newest grant covering the account on that date; null if none"
    )
