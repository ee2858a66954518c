"""The message contracts between the services: one envelope, one pydantic model per message type.

A payload carries ids and the few facts the consumer needs, never ORM objects. Each payload
class names its message type, its version and the services that consume it, so producers and
consumers agree on one table (DESIGN.md, "Flows over the queue").
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.db import utcnow

Service = Literal["intake", "review", "registry"]
SERVICES: tuple[Service, ...] = ("intake", "review", "registry")


class MessagePayload(BaseModel):
    """Base of every payload. Unknown fields are refused so contract drift is caught early."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_type: ClassVar[str]
    version: ClassVar[int] = 1
    consumers: ClassVar[tuple[Service, ...]]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    correlation_id: str
    producer: Service
    payload: dict[str, object]
    # The W3C trace context (traceparent, tracestate) of the span that staged the message, so
    # the consumer's span joins the same trace (shared.tracing). Absent when tracing is off:
    # left out of the JSON then, so such envelopes are byte-for-byte what they were before.
    trace_context: dict[str, str] | None = Field(
        default=None, exclude_if=lambda value: value is None
    )

    @classmethod
    def wrap(
        cls,
        payload: MessagePayload,
        *,
        producer: Service,
        correlation_id: str,
        trace_context: dict[str, str] | None = None,
    ) -> Envelope:
        return cls(
            message_id=uuid.uuid4(),
            type=payload.message_type,
            version=payload.version,
            occurred_at=utcnow(),
            correlation_id=correlation_id,
            producer=producer,
            payload=payload.model_dump(mode="json"),
            trace_context=trace_context,
        )


PayloadT = TypeVar("PayloadT", bound=MessagePayload)


# --- intake -> review ---------------------------------------------------------------------


class AllegedSubject(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_ref: str
    name: str
    designation: str
    office: str
    is_group_administrator: bool = False


class ReportedEvidence(BaseModel):
    """One evidence item of a report, as review may hold it: what it is and where it points,
    never who captured it (that may be the reporter, whose identity stays in intake)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    url: str | None = None
    platform_post_id: str | None = None
    author_handle: str | None = None
    captured_at: datetime | None = None
    description: str | None = None
    # An uploaded snapshot of the post, held in intake's evidence store.
    snapshot_file_id: uuid.UUID | None = None


class ReportReceived(MessagePayload):
    message_type: ClassVar[str] = "report.received"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    report_id: uuid.UUID
    department: str
    subjects: list[AllegedSubject]
    platform: str
    content_excerpt: str
    content_url: str | None
    posted_at: datetime | None
    rules_alleged: list[str]
    evidence_count: int
    # The report's evidence items in order, when the producer sends them; without them review
    # knows the items only by their number (1..evidence_count after the reported post).
    evidence: list[ReportedEvidence] | None = None
    # Opaque references (keyed hashes): review can test a conflict of interest without
    # learning who reported.
    reporter_ref: str
    reporter_office_ref: str
    received_at: datetime
    # The accounts the post came from, as the evidence names them (author handles): what
    # review's permission check at triage asks registry about.
    account_handles: list[str] = Field(default_factory=list)


PermissionKind = Literal["personal", "official_account"]
OfficialAccountPurpose = Literal["policy_feedback", "service_delivery", "complaints", "other"]


class AccountModerator(BaseModel):
    """A person responsible for removing offensive remarks from an official account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_ref: str
    name: str
    designation: str


class PermissionApplicant(BaseModel):
    """The employee asking to use a platform in a personal capacity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_ref: str
    name: str
    designation: str
    office: str


class PermissionRequested(MessagePayload):
    """A request to use social media: personal (an employee, one platform and account) or an
    official account run by a department, with its named moderators."""

    message_type: ClassVar[str] = "permission.requested"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    request_id: uuid.UUID
    kind: PermissionKind
    department: str
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    # Official accounts only: what the account is for, and who moderates it.
    account_purpose: OfficialAccountPurpose | None = None
    moderators: list[AccountModerator] = Field(default_factory=list)
    # Personal requests only: who asks.
    applicant: PermissionApplicant | None = None
    # The registry record of the permission this request renews, if any.
    renewal_of: uuid.UUID | None = None
    received_at: datetime


class ViolatorListEntryReceived(MessagePayload):
    """One accepted row of an MTI's violator list: an allegation for a monitoring unit to
    confirm, never a verdict."""

    message_type: ClassVar[str] = "violator_list.entry_received"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    entry_id: uuid.UUID
    batch_id: uuid.UUID
    row_number: int
    institution: str
    employee_ref: str
    name: str
    designation: str
    office: str | None
    rule: str
    platform: str
    finding: str
    found_on: date
    institution_finding_ref: str
    # The institution's own record shows the employee was given notice and replied; review
    # then need not serve a second notice.
    notice_and_reply_on_record: bool
    received_at: datetime


# --- intake -> intake ---------------------------------------------------------------------


class ViolatorListEntriesStored(MessagePayload):
    """A slice of a violator list's accepted rows is stored (rows first_row..last_row of the
    batch, the rejected ones among them excepted): intake's worker stages each entry's
    violator_list.entry_received, so that the upload itself writes one message per slice rather
    than one per row."""

    message_type: ClassVar[str] = "violator_list.entries_stored"
    consumers: ClassVar[tuple[Service, ...]] = ("intake",)

    batch_id: uuid.UUID
    first_row: int
    last_row: int


# --- review -> intake ---------------------------------------------------------------------

SubmissionStatus = Literal[
    "received",
    "assigned",
    "in_review",
    "notice_issued",
    "reply_received",
    "reply_window_lapsed",
    "determined",
    "recorded",
    "dismissed",
    "closed",
    "appealed",
    "appeal_decided",
    # A granted permission nearing its expiry: the department may ask to renew it.
    "renewal_due",
]


class CaseStatusChanged(MessagePayload):
    """The caller-visible status of a submission moved on. Never says who reviews it."""

    message_type: ClassVar[str] = "case.status_changed"
    consumers: ClassVar[tuple[Service, ...]] = ("intake",)

    submission_id: uuid.UUID
    case_id: uuid.UUID
    status: SubmissionStatus
    changed_at: datetime


class NoticeServed(MessagePayload):
    """A notice was served on the employee: intake keeps it for the department's portal, which
    acts on the employee's behalf. `notice` is the notice as review's case page shows it,
    whole, so what the employee reads is what the unit served."""

    message_type: ClassVar[str] = "notice.served"
    consumers: ClassVar[tuple[Service, ...]] = ("intake",)

    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str
    employee_name: str
    reply_due_on: date
    served_at: datetime
    notice: dict[str, Any]


NoticeEvent = Literal[
    "extension_requested",
    "extension_approved",
    "extension_refused",
    "reply_recorded",
    "reply_refused",
]


class NoticeUpdated(MessagePayload):
    """Something the employee's portal should see on a served notice: a reply recorded or
    refused (with why), an extension asked for, approved (the new due date) or refused."""

    message_type: ClassVar[str] = "notice.updated"
    consumers: ClassVar[tuple[Service, ...]] = ("intake",)

    case_id: uuid.UUID
    event: NoticeEvent
    reply_due_on: date
    detail: str
    # The portal's reply this answers, when it answers one.
    reply_id: uuid.UUID | None = None
    occurred_at: datetime


# --- intake -> review: the employee's side of a notice, through the portal -----------------


class NoticeReceiptAcknowledged(MessagePayload):
    """The portal confirms the employee received the notice: served with receipt."""

    message_type: ClassVar[str] = "notice.receipt_acknowledged"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    case_id: uuid.UUID
    notice_id: uuid.UUID
    acknowledged_at: datetime


class ReplyRepresentative(BaseModel):
    """Whom the employee names to represent them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    designation: str | None = None
    relationship: str | None = None


class ReplyAttachment(BaseModel):
    """An evidence file the portal uploaded to intake, named by id and fingerprint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    evidence_file_id: uuid.UUID
    sha256: str
    media_type: str
    size_bytes: int


class ExtensionAsked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    working_days: int = Field(ge=1)


class NoticeReplySubmitted(MessagePayload):
    """The employee's answer to a notice through the portal: a reply (statement, optional
    representative, attachments, a request for a hearing), or, without a statement, a request
    to extend the reply window."""

    message_type: ClassVar[str] = "notice.reply_submitted"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    case_id: uuid.UUID
    notice_id: uuid.UUID
    reply_id: uuid.UUID
    statement: str | None
    representative: ReplyRepresentative | None = None
    attachments: list[ReplyAttachment] = Field(default_factory=list)
    hearing_requested: bool = False
    extension: ExtensionAsked | None = None
    submitted_at: datetime


# --- review -> review: triage --------------------------------------------------------------


class PermissionCheckRequested(MessagePayload):
    """A report case was opened: ask registry whether the subject was permitted on the post's
    date. Through the queue so the case opens at once whether or not registry answers."""

    message_type: ClassVar[str] = "triage.permission_check_requested"
    consumers: ClassVar[tuple[Service, ...]] = ("review",)

    case_id: uuid.UUID


# --- review -> registry -------------------------------------------------------------------


class DeterminationRecorded(MessagePayload):
    message_type: ClassVar[str] = "determination.recorded"
    consumers: ClassVar[tuple[Service, ...]] = ("registry",)

    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    employee_ref: str
    employee_name: str
    finding: Literal["violation", "cleared"]
    rules_cited: list[str]
    reasons: str
    platform: str
    determined_by: uuid.UUID
    countersigned_by: uuid.UUID | None
    effective_on: date
    reported_at: datetime
    # Set by producers that record a finding per charge: the rules of the charges found
    # proved (empty for a cleared finding), and the penalty the unit recommends for a
    # violation (a code of the penalties catalogue). Absent from older producers.
    proved_rules: list[str] | None = None
    recommended_penalty: str | None = None


PermissionDecision = Literal["granted", "granted_with_conditions", "refused"]


class PermissionDecided(MessagePayload):
    """A monitoring unit's decision on a permission request; registry records a permission (or
    an official account) and, for a refusal, the refusal."""

    message_type: ClassVar[str] = "permission.decided"
    consumers: ClassVar[tuple[Service, ...]] = ("registry",)

    case_id: uuid.UUID
    submission_id: uuid.UUID
    kind: PermissionKind
    department: str
    decision: PermissionDecision
    conditions: list[str] = Field(default_factory=list)
    reasons: str
    platform: str
    account_handle: str
    account_url: str | None
    purpose: str
    account_purpose: OfficialAccountPurpose | None = None
    moderators: list[AccountModerator] = Field(default_factory=list)
    applicant: PermissionApplicant | None = None
    valid_from: date
    expires_on: date | None
    renewal_of: uuid.UUID | None = None
    decided_by: uuid.UUID
    decided_at: datetime


AppealOutcome = Literal["upheld", "modified", "set_aside"]


class AppealDecided(MessagePayload):
    """The appellate authority's decision on an appeal against a recorded violation: registry
    appends an appeal outcome that supersedes the violation (set aside, or modified: a new
    version with `modified_rules_cited`) or, upheld, is linked to it and leaves it current.
    The violation is named by its case: registry holds one current version per case."""

    message_type: ClassVar[str] = "appeal.decided"
    consumers: ClassVar[tuple[Service, ...]] = ("registry",)

    case_id: uuid.UUID
    submission_id: uuid.UUID
    outcome: AppealOutcome
    reasons: str
    # Modified only: the rules the finding stands on after the appeal (a subset of the rules
    # cited), and, if the appellate authority restated it, the finding's reasons.
    modified_rules_cited: list[str] | None = None
    modified_finding: str | None = None
    appeal_filed_on: date
    decided_by: uuid.UUID
    decided_at: datetime
    effective_on: date


# --- registry -> intake, review -----------------------------------------------------------


class RecordCreated(MessagePayload):
    message_type: ClassVar[str] = "record.created"
    consumers: ClassVar[tuple[Service, ...]] = ("intake", "review")

    record_id: uuid.UUID
    record_kind: str
    case_id: uuid.UUID
    submission_id: uuid.UUID
    recorded_at: datetime


# --- registry -> intake, review: the rules catalogue ----------------------------------------


class CatalogueRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    reply_window_working_days: int = Field(ge=1)


class RulesCataloguePublished(MessagePayload):
    """A version of the rules catalogue: intake validates alleged rules against it."""

    message_type: ClassVar[str] = "catalogue.rules_published"
    consumers: ClassVar[tuple[Service, ...]] = ("intake", "review")

    catalogue_version: int
    rules: list[CatalogueRule]


ALL_PAYLOADS: tuple[type[MessagePayload], ...] = (
    ReportReceived,
    PermissionRequested,
    ViolatorListEntryReceived,
    ViolatorListEntriesStored,
    CaseStatusChanged,
    DeterminationRecorded,
    PermissionDecided,
    RecordCreated,
    RulesCataloguePublished,
    AppealDecided,
    NoticeServed,
    NoticeUpdated,
    NoticeReceiptAcknowledged,
    NoticeReplySubmitted,
    PermissionCheckRequested,
)
PAYLOAD_BY_TYPE: dict[str, type[MessagePayload]] = {
    payload.message_type: payload for payload in ALL_PAYLOADS
}
