"""Cases and what happens on them: the event history, notices, replies, hearings, escalations
and determinations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class Case(ReviewBase):
    """One employee's alleged breach, from one submission. A report naming two subjects opens
    two cases: each employee gets their own notice, reply and determination."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("submission_id", "subject_position"),
        # The deadline scan looks for cases in a given state untouched since a cut-off.
        Index(None, "state", "updated_at"),
        # The assigner finds the few cases whose load rule is still to be applied.
        Index(
            "ix_case_awaiting_assignment",
            "unit_id",
            "opened_at",
            postgresql_where=text("awaiting_assignment_for IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[uuid.UUID] = mapped_column()
    subject_position: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("monitoring_unit.id"), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    subject_employee_ref: Mapped[str] = mapped_column(String(64))
    subject_name: Mapped[str] = mapped_column(String(200))
    subject_designation: Mapped[str] = mapped_column(String(200))
    subject_office: Mapped[str] = mapped_column(String(200))
    is_group_administrator: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str] = mapped_column(String(16))
    content_excerpt: Mapped[str] = mapped_column(Text)
    content_url: Mapped[str | None] = mapped_column(String(2048))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rules_alleged: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    evidence_count: Mapped[int] = mapped_column(Integer)
    reporter_ref: Mapped[str] = mapped_column(String(64))
    reporter_office_ref: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Last touched: a move, or a change of hands. Stage deadlines count from here.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # While the load rule is still to be applied to a case opened by a message: the message's
    # correlation id, carried on to the case's announcement. The assigner that runs after the
    # message's commit takes such cases in batches per unit and clears it.
    awaiting_assignment_for: Mapped[str | None] = mapped_column(Text)
    # The W3C trace context of the submission that opened the case (shared/tracing.py), so a
    # later step's messages go on in the submission's trace; None outside any trace.
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB(none_as_null=True))


class CaseEvent(ReviewBase):
    """Every transition: who, when, from, to, why."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    reason: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Notice(ReviewBase):
    """The notice served on the employee: generated from the charges (one allegation per
    charge, with the evidence list and the reply deadline) and the redacted disclosure bundle
    that goes with it, both kept as served; `allegations` holds the member's own words, if any.
    Notices served before charges existed have only those words."""

    __tablename__ = "notice"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    allegations: Mapped[str | None] = mapped_column(Text)
    generated_allegations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    disclosure_bundle: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reply_due_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reply(ReviewBase):
    __tablename__ = "reply"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    statement: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The member who recorded it; None when the employee replied through the portal.
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))


class Hearing(ReviewBase):
    """The hearing after the reply (or the lapsed window): held, with its date, attendees and
    minutes, or waived by the employee with a reason."""

    __tablename__ = "hearing"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date | None] = mapped_column(Date)
    attendees: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    minutes: Mapped[str | None] = mapped_column(Text)
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CaseEscalation(ReviewBase):
    """A case escalated to its unit's chair for sitting untouched in one state past that
    stage's deadline. At most one per case and state, however many sweeps run. A case is
    "escalated" while it has one for the state it is in: moving on clears the flag without
    writing anything."""

    __tablename__ = "case_escalation"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    deadline_working_days: Mapped[int] = mapped_column(Integer)
    untouched_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Determination(ReviewBase):
    """A finding with its reasons. A violation is final only once the chair countersigns."""

    __tablename__ = "determination"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    finding: Mapped[str] = mapped_column(String(16))
    rules_cited: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    reasons: Mapped[str] = mapped_column(Text)
    # A code of the penalties catalogue, when a charge was found proved.
    recommended_penalty: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    countersigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    countersigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
