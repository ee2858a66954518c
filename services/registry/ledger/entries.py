"""What a new ledger record says, by kind, before the ledger gives it an id, a place in the
chain and its hashes: determinations and corrections (RecordEntry), sanction events
(SanctionEventEntry), and permission decisions (PermissionEntry)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from services.registry.ledger.models import (
    AppealOutcome,
    PermissionDecision,
    PermissionRecordKind,
    RecordKind,
    SanctionEventName,
)


def shallow(entry: Any) -> dict[str, Any]:
    """A dataclass entry's fields as a dict, values as they are (dataclasses.asdict
    deep-copies every value, a cost each append paid)."""
    return {field.name: getattr(entry, field.name) for field in fields(entry)}


@dataclass(frozen=True)
class RecordEntry:
    """A finding: a determination (violation or cleared finding), or a correction superseding
    a violation."""

    record_kind: RecordKind
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str
    employee_name: str
    rules_cited: list[str]
    platform: str
    reasons: str
    determined_by: uuid.UUID
    countersigned_by: uuid.UUID | None
    effective_on: date
    reported_at: datetime
    supersedes_id: uuid.UUID | None = None

    def columns(self, *, record_id: uuid.UUID) -> dict[str, Any]:
        return {**shallow(self), "rules_cited": list(self.rules_cited)}


@dataclass(frozen=True)
class SanctionEventEntry:
    """One event in a sanction's life, recorded against a violation by a reader credential.

    sanction_id is None for an imposition: the imposing record's own id becomes the sanction's
    id, so every later event of the sanction points at the record that began it.
    """

    violation_id: uuid.UUID
    # Copied from the violation, so the event is scoped to the same case and department.
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    sanction_event: SanctionEventName
    sanction_id: uuid.UUID | None
    penalty_code: str | None
    penalty_catalogue_version: int | None
    period_months: int | None
    order_reference: str
    order_date: date
    reasons: str
    recorded_by_id: uuid.UUID
    recorded_by_label: str

    def columns(self, *, record_id: uuid.UUID) -> dict[str, Any]:
        fields = shallow(self)
        return {
            **{name: value for name, value in fields.items() if name != "order_date"},
            "record_kind": "sanction_event",
            "sanction_id": self.sanction_id or record_id,
            # The ledger's effective date of an order is the date it bears.
            "effective_on": self.order_date,
        }


@dataclass(frozen=True)
class PermissionEntry:
    """A monitoring unit's decision on a permission request, granted or refused: a personal
    permission (employee_ref and employee_name set) or an official account (moderators set).

    valid_from is the ledger's effective date; a granted renewal supersedes the permission it
    renews (supersedes_id), and every renewal, granted or not, names it (renewal_of).
    """

    record_kind: PermissionRecordKind
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    decision: PermissionDecision
    conditions: list[str]
    reasons: str
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: str | None
    moderators: list[dict[str, str]] | None
    employee_ref: str | None
    employee_name: str | None
    valid_from: date
    expires_on: date | None
    renewal_of: uuid.UUID | None
    supersedes_id: uuid.UUID | None
    determined_by: uuid.UUID
    decided_at: datetime

    def columns(self, *, record_id: uuid.UUID) -> dict[str, Any]:
        fields = shallow(self)
        return {
            **{name: value for name, value in fields.items() if name != "valid_from"},
            "conditions": list(self.conditions),
            "moderators": None if self.moderators is None else list(self.moderators),
            "effective_on": self.valid_from,
        }


@dataclass(frozen=True)
class AppealOutcomeEntry:
    """The appellate authority's decision on a violation version (violation_id). It carries the
    finding as the appeal leaves it (for modified: the rules it now stands on), so a modified
    outcome reads as the violation's new version; set aside or modified, it supersedes the
    version appealed (supersedes_id), upheld it supersedes nothing."""

    appeal_outcome: AppealOutcome
    violation_id: uuid.UUID
    supersedes_id: uuid.UUID | None
    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str
    employee_name: str
    rules_cited: list[str]
    platform: str
    reasons: str
    determined_by: uuid.UUID
    effective_on: date
    reported_at: datetime
    decided_at: datetime

    def columns(self, *, record_id: uuid.UUID) -> dict[str, Any]:
        return {
            **shallow(self),
            "record_kind": "appeal_outcome",
            "rules_cited": list(self.rules_cited),
        }


@dataclass(frozen=True)
class RetentionPurgeEntry:
    """The registry's record that it removed the personal data of one case's records under
    its retention policy: the records purged and the policy (no personal data of its own)."""

    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    purged_record_ids: list[uuid.UUID]
    retention_policy: dict[str, Any]
    reasons: str
    effective_on: date
    recorded_by_id: uuid.UUID | None
    recorded_by_label: str | None

    def columns(self, *, record_id: uuid.UUID) -> dict[str, Any]:
        return {
            **shallow(self),
            "record_kind": "retention_purge",
            "purged_record_ids": list(self.purged_record_ids),
            "retention_policy": dict(self.retention_policy),
        }


LedgerEntry = RecordEntry | SanctionEventEntry | PermissionEntry | AppealOutcomeEntry
