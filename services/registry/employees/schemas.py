"""What auditors and competent authorities see of an employee's record, and of its read log."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.employees.service import EmployeeRecord
from services.registry.ledger.schemas import ViolationRead
from services.registry.permissions.schemas import PermissionRead
from services.registry.sanctions.schemas import SanctionRead


class RecordReadEntry(BaseModel):
    """One read of an employee's record: who, as what, when and why."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    employee_ref: str
    reader_credential_id: uuid.UUID
    reader_label: str
    reader_role: str
    reason: str
    read_at: datetime


class EmployeeRecordView(BaseModel):
    employee_ref: str
    as_of: datetime = Field(description="The moment the record answers for")
    on: date = Field(description="The date permission statuses were judged on")
    violations: list[ViolationRead] = Field(
        description="Every version of the employee's violations, current and superseded"
    )
    sanctions: list[SanctionRead] = Field(description="Sanctions on them, with their events")
    permissions: list[PermissionRead] = Field(
        description="Personal permissions: active, upcoming, expired, refused or superseded"
    )
    read: RecordReadEntry = Field(description="This read, as the read log now holds it")

    @classmethod
    def of(cls, record: EmployeeRecord, *, read: RecordReadEntry) -> EmployeeRecordView:
        return cls(
            employee_ref=record.employee_ref,
            as_of=record.as_of,
            on=record.on,
            violations=[ViolationRead.of(version) for version in record.violations],
            sanctions=[SanctionRead.of(history) for history in record.sanctions],
            permissions=[PermissionRead.of(version) for version in record.permissions],
            read=read,
        )


class RecordReadLog(BaseModel):
    employee_ref: str
    items: list[RecordReadEntry]
    next_cursor: uuid.UUID | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )
