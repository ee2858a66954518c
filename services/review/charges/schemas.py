"""What members send and read about charges, the evidence items of a case, the notice generated
from the charges and its disclosure bundle, and the finding per charge."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.input import StrictInput

RuleCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
EvidenceNumbers = Annotated[
    list[Annotated[int, Field(ge=1)]],
    Field(max_length=60, description="Numbers of the case's evidence items (see `evidence`)"),
]
ChargeBasis = Literal["alleged", "group_administrator", "added"]
ChargeFindingValue = Literal["proved", "not_proved"]


class ChargeCreate(StrictInput):
    rule: RuleCode = Field(description="The clause alleged: a rule code of the rules catalogue")
    particulars: Statement = Field(description="What the employee is alleged to have done")
    evidence: EvidenceNumbers = Field(min_length=1)
    reason: Reason = Field(description="Why the charge is added (on the case's history)")


class ChargeAmendment(StrictInput):
    """New particulars, new evidence, or both; the rule of a charge is never amended (withdraw
    it and add another)."""

    particulars: Statement | None = None
    evidence: EvidenceNumbers | None = Field(default=None, min_length=1)
    reason: Reason = Field(description="Why the charge is amended (on the case's history)")


class ChargeWithdrawal(StrictInput):
    reason: Reason = Field(description="Why the charge is withdrawn (on the case's history)")


class ChargeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    rule: str
    rule_title: str
    basis: ChargeBasis = Field(
        description="'alleged' (drafted from the report's rules), 'group_administrator' (the "
        "employee administers the group where the breach happened) or 'added' by the member"
    )
    particulars: str
    evidence: list[int]
    drafted_at: datetime
    amended_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


class ChargeList(BaseModel):
    items: list[ChargeRead]
    frozen: bool = Field(description="True once the notice is served: charges no longer change")


class EvidenceItemRead(BaseModel):
    """One evidence item of the case, as disclosed: nothing in it names the reporter."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    kind: str
    description: str | None
    url: str | None
    platform_post_id: str | None
    author_handle: str | None
    captured_at: datetime | None
    snapshot_file_id: uuid.UUID | None


DisclosureDecision = Literal["redacted", "no_identifying_details", "withheld"]


class CaseEvidenceRead(EvidenceItemRead):
    """An evidence item as the unit sees it on the case's page: the item as reported, and its
    clearance for disclosure to the employee (what the notice's bundle will carry)."""

    disclosure: Literal["cleared", "withheld"] | None = Field(
        description="null until the assigned member decides; 'cleared' or 'withheld'"
    )
    disclosure_basis: DisclosureDecision | None
    disclosed_description: str | None = Field(
        description="The description the employee will read: redacted, or the original"
    )
    snapshot_reviewed: bool | None
    disclosure_reason: str | None
    disclosure_decided_at: datetime | None


class EvidenceClearance(StrictInput):
    """The member's decision on one evidence item before it goes to the employee: `redacted`
    (with the redacted `description`), `no_identifying_details` (the item's text confirmed free
    of anything identifying the reporter), or `withheld` (with the `reason`; no charge may then
    rely on it). A cleared item with a snapshot needs `snapshot_reviewed: true`."""

    number: int = Field(ge=1, description="The evidence item's number on the case")
    decision: DisclosureDecision
    description: Statement | None = Field(
        default=None, description="redacted only: the description as the employee will read it"
    )
    snapshot_reviewed: bool | None = Field(
        default=None,
        description="Required (true) to clear an item with a snapshot: the image was reviewed "
        "and shows nothing identifying the reporter",
    )
    reason: Reason | None = Field(
        default=None, description="Why (required to withhold; optional otherwise)"
    )


class EvidenceClearanceCreate(StrictInput):
    items: list[EvidenceClearance] = Field(min_length=1, max_length=60)


class AllegationRead(BaseModel):
    """One allegation of the notice: one charge, as served."""

    charge_id: uuid.UUID
    number: int
    rule: str
    rule_title: str
    particulars: str
    evidence: list[int]


class DisclosureBundleRead(BaseModel):
    """The evidence the charges rely on, served with the notice, the reporter's identity left
    out: review holds only an opaque reference to the reporter and never discloses it."""

    case_id: uuid.UUID
    employee_name: str
    served_at: datetime
    items: list[EvidenceItemRead]


class NoticeRead(BaseModel):
    """A notice as served. Read from a notice row (`model_validate(notice)`) it is the row's
    stored allegations and bundle: what was served, never regenerated."""

    allegations: str | None = Field(description="The member's own words added to the notice")
    charges: list[AllegationRead] = Field(description="One allegation per charge, as served")
    evidence: list[EvidenceItemRead] = Field(
        description="The evidence list: the items the charges rely on"
    )
    reply_due_on: date
    issued_by: uuid.UUID
    issued_at: datetime

    @model_validator(mode="before")
    @classmethod
    def as_served(cls, data: Any) -> Any:
        if isinstance(data, dict) or not hasattr(data, "generated_allegations"):
            return data
        # A notice served before charges existed has only the member's words.
        bundle = data.disclosure_bundle or {}
        return {
            "allegations": data.allegations,
            "charges": data.generated_allegations or [],
            "evidence": bundle.get("items", []),
            "reply_due_on": data.reply_due_on,
            "issued_by": data.issued_by,
            "issued_at": data.issued_at,
        }


class ChargeFindingCreate(StrictInput):
    charge_id: uuid.UUID
    finding: ChargeFindingValue
    reasons: Statement
    evidence_relied_on: EvidenceNumbers = Field(
        default_factory=list, description="Among the charge's own evidence items"
    )


class ChargeFindingRead(BaseModel):
    charge_id: uuid.UUID
    number: int
    rule: str
    finding: ChargeFindingValue
    reasons: str
    evidence_relied_on: list[int]
