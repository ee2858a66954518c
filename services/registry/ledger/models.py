"""The ledger: one append-only, hash-chained sequence of records. A correction or an appeal
outcome is a new record that supersedes an old one; a database trigger refuses UPDATE, DELETE
and TRUNCATE, and the chain makes any change made around it evident.

Record kinds:
- violation, cleared_finding: review's final determinations (one original per case and kind);
- correction: a new version of a violation that supersedes the previous version;
- sanction_event: one step in the life of a sanction imposed on a violation (imposed, stayed,
  varied, quashed, spent, expunged), recorded by a competent authority;
- permission, official_account: a monitoring unit's decision on a request to use social media,
  personal (an employee, one account) or for a department's official account (with its
  moderators); refusals are recorded too. A granted renewal supersedes the permission it renews;
- retention_purge: the registry's own record that it removed the personal data of a case's
  records under its retention policy (services/registry/retention/): it names the records
  purged and the policy. The only change a ledger row ever takes is that purge, and the
  trigger lets nothing else through (registry_0007);
- appeal_outcome: the appellate authority's decision on a violation (`appeal_outcome`), linked
  to the version appealed (violation_id). Set aside, it supersedes that version and the
  violation has no current version left; modified, it supersedes it and is itself the new
  current version (with the rules it now stands on); upheld, it supersedes nothing and the
  violation stays current. One per case.

Bitemporal: `effective_on` is when a record takes effect in the world (the finding's date, the
order's date); `recorded_at` is when the registry learnt of it. Queries `as_of` a moment see
only records recorded by then.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
    and_,
    func,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase
from services.registry.ledger.chain import PERSONAL_FIELDS

RecordKind = Literal[
    "violation",
    "cleared_finding",
    "correction",
    "sanction_event",
    "permission",
    "official_account",
    "appeal_outcome",
    "retention_purge",
]
RECORD_KINDS: tuple[RecordKind, ...] = (
    "violation",
    "cleared_finding",
    "correction",
    "sanction_event",
    "permission",
    "official_account",
    "appeal_outcome",
    "retention_purge",
)
# Review's determinations: the original records of a case, one per case and kind.
DETERMINATION_KINDS: tuple[RecordKind, ...] = ("violation", "cleared_finding")
# The versions of a violation: the original and the corrections that supersede it in turn.
VIOLATION_KINDS: tuple[RecordKind, ...] = ("violation", "correction")
# The kinds that carry a finding (employee, rules, reasons), as opposed to sanction events.
FINDING_KINDS: tuple[RecordKind, ...] = ("violation", "cleared_finding", "correction")
AppealOutcome = Literal["upheld", "modified", "set_aside"]
# An appeal outcome that leaves a finding standing in a new form is a version of the violation.
VERSIONING_APPEAL_OUTCOMES: tuple[AppealOutcome, ...] = ("modified",)
# Permission decisions: one original per case, and a granted renewal supersedes what it renews.
PermissionRecordKind = Literal["permission", "official_account"]
PERMISSION_KINDS: tuple[PermissionRecordKind, ...] = ("permission", "official_account")
PermissionDecision = Literal["granted", "granted_with_conditions", "refused"]

SanctionEventName = Literal["imposed", "stayed", "varied", "quashed", "spent", "expunged"]
SANCTION_EVENTS: tuple[SanctionEventName, ...] = (
    "imposed",
    "stayed",
    "varied",
    "quashed",
    "spent",
    "expunged",
)


# The CHECK constraints that a retention purge touches, shared with migration registry_0007.
# A purged record (personal_salt IS NULL) holds no personal field at all.
PURGED_WHOLE = (
    "personal_salt IS NOT NULL OR ("
    + " AND ".join(f"{column} IS NULL" for column in PERSONAL_FIELDS)
    + ")"
)
DETERMINATION_COMPLETE = (
    "record_kind IN ('sanction_event', 'permission', 'official_account', 'retention_purge') OR "
    "((personal_salt IS NULL OR (employee_ref IS NOT NULL AND employee_name IS NOT NULL)) AND "
    "rules_cited IS NOT NULL AND platform IS NOT NULL AND determined_by IS NOT NULL AND "
    "reported_at IS NOT NULL)"
)
PERMISSION_COMPLETE = (
    "record_kind NOT IN ('permission', 'official_account') OR (decision IS NOT NULL AND "
    "platform IS NOT NULL AND (personal_salt IS NULL OR (account_handle IS NOT NULL AND "
    "purpose IS NOT NULL)) AND conditions IS NOT NULL AND determined_by IS NOT NULL AND "
    "decided_at IS NOT NULL)"
)
PERMISSION_NAMES_EMPLOYEE = (
    "record_kind <> 'permission' OR personal_salt IS NULL OR (employee_ref IS NOT NULL AND "
    "employee_name IS NOT NULL)"
)
# JSON null names no moderator either (registry_0009: before it, a missing
# value could be stored as JSON null and pass).
OFFICIAL_ACCOUNT_NAMES_MODERATORS = (
    "record_kind <> 'official_account' OR personal_salt IS NULL OR (moderators IS NOT NULL AND "
    "moderators <> 'null'::jsonb)"
)
REASONS_GIVEN = "reasons IS NOT NULL OR personal_salt IS NULL"
RETENTION_PURGE_COMPLETE = (
    "(record_kind = 'retention_purge') = (purged_record_ids IS NOT NULL) AND "
    "(record_kind <> 'retention_purge' OR retention_policy IS NOT NULL)"
)


# IS_VIOLATION_VERSION (below) as literal SQL: the predicate of the partial indexes that serve
# pages of violations, and what those pages' queries say, word for word, so that PostgreSQL
# sees the index fits whatever plan it caches.
VERSION_PREDICATE = (
    "record_kind IN ('violation', 'correction') OR "
    "(record_kind = 'appeal_outcome' AND appeal_outcome = 'modified')"
)


class LedgerRecord(RegistryBase):
    __tablename__ = "ledger_record"
    __table_args__ = (
        CheckConstraint(
            "record_kind IN ('violation', 'cleared_finding', 'correction', 'sanction_event', "
            "'permission', 'official_account', 'appeal_outcome', 'retention_purge')",
            name="record_kind",
        ),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("canonical_version IN (1, 2)", name="canonical_version"),
        # What each kind must say; the columns are nullable only because the kinds differ
        # (and because a retention purge removes the personal ones: personal_salt IS NULL).
        CheckConstraint(DETERMINATION_COMPLETE, name="determination_complete"),
        CheckConstraint(
            "record_kind <> 'sanction_event' OR (violation_id IS NOT NULL AND sanction_id IS "
            "NOT NULL AND sanction_event IS NOT NULL AND order_reference IS NOT NULL AND "
            "recorded_by_id IS NOT NULL AND recorded_by_label IS NOT NULL)",
            name="sanction_event_complete",
        ),
        CheckConstraint(
            "sanction_event IN ('imposed', 'stayed', 'varied', 'quashed', 'spent', 'expunged')",
            name="sanction_event",
        ),
        CheckConstraint("period_months >= 1", name="period_months_positive"),
        CheckConstraint(PERMISSION_COMPLETE, name="permission_complete"),
        # A personal permission names its employee; an official account, its moderators.
        CheckConstraint(PERMISSION_NAMES_EMPLOYEE, name="permission_names_employee"),
        CheckConstraint(
            OFFICIAL_ACCOUNT_NAMES_MODERATORS, name="official_account_names_moderators"
        ),
        CheckConstraint(REASONS_GIVEN, name="reasons_given"),
        CheckConstraint(PURGED_WHOLE, name="purged_whole"),
        CheckConstraint(RETENTION_PURGE_COMPLETE, name="retention_purge_complete"),
        CheckConstraint(
            "decision IN ('granted', 'granted_with_conditions', 'refused')", name="decision"
        ),
        CheckConstraint("expires_on >= effective_on", name="expires_after_effective"),
        CheckConstraint(
            "appeal_outcome IN ('upheld', 'modified', 'set_aside')", name="appeal_outcome"
        ),
        # An appeal outcome names its outcome, the version appealed and when it was decided;
        # set aside or modified, it supersedes that version; upheld, it supersedes nothing.
        CheckConstraint(
            "(record_kind = 'appeal_outcome') = (appeal_outcome IS NOT NULL) AND "
            "(record_kind <> 'appeal_outcome' OR (violation_id IS NOT NULL AND decided_at IS "
            "NOT NULL AND (supersedes_id IS NULL) = (appeal_outcome = 'upheld')))",
            name="appeal_outcome_complete",
        ),
        ForeignKeyConstraint(
            ["penalty_catalogue_version", "penalty_code"],
            ["penalty.catalogue_version", "penalty.code"],
            name="fk_ledger_record_penalty_catalogue_version_penalty",
        ),
        # Second line of defence behind the inbox: one original determination per case and
        # kind. Records that supersede it, and sanction events, are not bound by it.
        Index(
            "uq_ledger_record_case_id_record_kind",
            "case_id",
            "record_kind",
            unique=True,
            postgresql_where=text(
                "supersedes_id IS NULL AND record_kind IN ('violation', 'cleared_finding')"
            ),
        ),
        # Second line of defence behind the inbox: one permission decision per case.
        Index(
            "uq_ledger_record_case_id_permission",
            "case_id",
            unique=True,
            postgresql_where=text("record_kind IN ('permission', 'official_account')"),
        ),
        # Second line of defence behind the inbox: one appeal outcome per case.
        Index(
            "uq_ledger_record_case_id_appeal_outcome",
            "case_id",
            unique=True,
            postgresql_where=text("record_kind = 'appeal_outcome'"),
        ),
        Index("ix_ledger_record_department_sequence", "department", "sequence"),
        # registry_0008: pages by platform, and statistics as of a past moment.
        Index("ix_ledger_record_platform_sequence", "platform", "sequence"),
        Index("ix_ledger_record_recorded_at", "recorded_at"),
        Index("ix_ledger_record_rules_cited", "rules_cited", postgresql_using="gin"),
        # History is linear: a record is superseded at most once. Covering (registry_0010):
        # "what superseded this version, and when" is answered from the index alone.
        Index(
            "uq_ledger_record_supersedes_id",
            "supersedes_id",
            unique=True,
            postgresql_include=["recorded_at", "id"],
        ),
        # registry_0010: pages of violation versions in ledger order, whole or by department
        # or platform, read from the index alone (the filters' columns are included).
        *(
            Index(
                f"ix_ledger_record_version_{'_'.join(key)}",
                *key,
                postgresql_include=[
                    name
                    for name in ("id", "department", "platform", "recorded_at", "rules_cited")
                    if name not in key
                ],
                postgresql_where=text(VERSION_PREDICATE),
            )
            for key in (("sequence",), ("department", "sequence"), ("platform", "sequence"))
        ),
        Index("ix_ledger_record_violation_id", "violation_id"),
        Index("ix_ledger_record_sanction_id", "sanction_id"),
        # One order, one event per violation, however its reference is capitalised.
        Index(
            "uq_ledger_record_violation_id_order_reference",
            "violation_id",
            func.lower(text("order_reference")),
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The chain's order: 1, 2, 3... without gaps, assigned under the ledger's lock.
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    record_kind: Mapped[str] = mapped_column(String(32))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_record.id"))
    # Every kind names its case and department (a sanction event copies its violation's), so
    # department-bound readers are scoped the same way for all of them.
    case_id: Mapped[uuid.UUID] = mapped_column()
    submission_id: Mapped[uuid.UUID] = mapped_column()
    department: Mapped[str] = mapped_column(String(64))
    # The finding's personal data and rules: set on determinations and corrections only; a
    # sanction event points at its violation rather than copying them.
    employee_ref: Mapped[str | None] = mapped_column(String(64))
    employee_name: Mapped[str | None] = mapped_column(String(200))
    rules_cited: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    platform: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(Text)
    # Who decided and who countersigned (review's member ids): due process on the record.
    determined_by: Mapped[uuid.UUID | None] = mapped_column()
    countersigned_by: Mapped[uuid.UUID | None] = mapped_column()
    # The finding's date; for a sanction event, the date of the order.
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The rules catalogue in force when the record was appended.
    catalogue_version: Mapped[int] = mapped_column(Integer)
    # Sanction events: the violation version sanctioned, and the sanction (the id of the
    # record that imposed it; an imposition points at itself). Appeal outcomes: the violation
    # version appealed.
    violation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_record.id"))
    sanction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_record.id"))
    sanction_event: Mapped[str | None] = mapped_column(String(16))
    # The penalty as the order leaves it (imposed, varied), from the penalties catalogue.
    penalty_code: Mapped[str | None] = mapped_column(String(64))
    penalty_catalogue_version: Mapped[int | None] = mapped_column(Integer)
    period_months: Mapped[int | None] = mapped_column(Integer)
    order_reference: Mapped[str | None] = mapped_column(String(100))
    # The reader credential that wrote the record over HTTP (id and label as they were then).
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column()
    recorded_by_label: Mapped[str | None] = mapped_column(String(200))
    # Permission decisions (permission, official_account): the decision, the account, and the
    # period granted (effective_on is valid_from; no expires_on: until revoked).
    decision: Mapped[str | None] = mapped_column(String(32))
    conditions: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    account_handle: Mapped[str | None] = mapped_column(Text)
    account_url: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    account_purpose: Mapped[str | None] = mapped_column(String(32))
    # Official accounts: [{employee_ref, name, designation}], the people who moderate it.
    # none_as_null: a missing value is SQL NULL, not JSON null, so that the CHECK constraints
    # that ask for it (official_account_names_moderators) see it missing.
    moderators: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB(none_as_null=True))
    expires_on: Mapped[date | None] = mapped_column(Date)
    # The permission record a renewal request named; a granted renewal also supersedes it.
    renewal_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_record.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Appeal outcomes: upheld, modified or set_aside (decided_at: when it was decided).
    appeal_outcome: Mapped[str | None] = mapped_column(String(16))
    # Retention purges: the records whose personal data it removed, and the policy applied.
    purged_record_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))
    retention_policy: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    # The personal fields are chained through personal_digest (services/registry/ledger/
    # chain.py); personal_salt, random per record, is removed with them by a retention purge.
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    # The canonical form the hashes are in (services/registry/ledger/chain.py): 1 for records
    # from before registry_0009, 2 for every record appended since.
    canonical_version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    personal_digest: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))


# Which records are versions of a violation: the original, its corrections, and an appeal
# outcome that modified it. A set-aside or upheld appeal outcome is not a version.
IS_VIOLATION_VERSION: ColumnElement[bool] = or_(
    LedgerRecord.record_kind.in_(VIOLATION_KINDS),
    and_(
        LedgerRecord.record_kind == "appeal_outcome",
        LedgerRecord.appeal_outcome.in_(VERSIONING_APPEAL_OUTCOMES),
    ),
)
