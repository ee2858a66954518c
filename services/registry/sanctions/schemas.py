"""What a competent authority sends to record a sanction event, and what readers see of a
violation's sanctions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.registry.ledger.models import SanctionEventName
from services.registry.sanctions.lifecycle import SanctionState

if TYPE_CHECKING:
    from services.registry.ledger.models import LedgerRecord
    from services.registry.sanctions.service import SanctionHistory

OrderReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Reasons = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class SanctionEventCreate(BaseModel):
    """One order of the competent authority about a sanction on this violation."""

    model_config = ConfigDict(extra="forbid")

    event: SanctionEventName = Field(
        description="imposed begins a sanction; stayed, varied, quashed, spent and expunged "
        "follow it"
    )
    sanction_id: uuid.UUID | None = Field(
        default=None, description="The sanction the event refers to; omit for imposed"
    )
    penalty_code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="imposed and varied only: the penalty as the order leaves it, from "
        "GET /v1/catalogue/penalties",
    )
    period_months: int | None = Field(
        default=None,
        ge=1,
        le=120,
        description="imposed and varied only: the period of a time-bound penalty, in months",
    )
    order_reference: OrderReference = Field(
        description="The order's reference; one event per order and violation (compared "
        "without regard to case)"
    )
    order_date: date = Field(description="The date the order bears; it takes effect then")
    reasons: Reasons = Field(description="The order's grounds, as the authority states them")


class SanctionEventRead(BaseModel):
    """One event as recorded in the ledger, attributed to the credential that recorded it."""

    id: uuid.UUID
    sequence: int = Field(description="Position in the ledger's chain")
    event: SanctionEventName
    penalty_code: str | None
    penalty_catalogue_version: int | None
    period_months: int | None
    order_reference: str
    order_date: date
    reasons: str | None = Field(description="null once purged under retention")
    recorded_at: datetime
    recorded_by_id: uuid.UUID = Field(description="The reader credential that recorded it")
    recorded_by_label: str
    chain_hash: str

    @classmethod
    def of(cls, record: LedgerRecord) -> SanctionEventRead:
        return cls.model_validate(
            {
                "id": record.id,
                "sequence": record.sequence,
                "event": record.sanction_event,
                "penalty_code": record.penalty_code,
                "penalty_catalogue_version": record.penalty_catalogue_version,
                "period_months": record.period_months,
                "order_reference": record.order_reference,
                "order_date": record.effective_on,
                "reasons": record.reasons,
                "recorded_at": record.recorded_at,
                "recorded_by_id": record.recorded_by_id,
                "recorded_by_label": record.recorded_by_label,
                "chain_hash": record.chain_hash,
            }
        )


class SanctionRead(BaseModel):
    """A sanction: its state and terms as its events leave them, and the events themselves."""

    sanction_id: uuid.UUID = Field(description="The id of the event that imposed it")
    violation_id: uuid.UUID
    state: SanctionState
    penalty_code: str
    penalty_catalogue_version: int
    period_months: int | None
    events: list[SanctionEventRead]

    @classmethod
    def of(cls, history: SanctionHistory) -> SanctionRead:
        return cls(
            sanction_id=history.sanction_id,
            violation_id=history.violation_id,
            state=history.terms.state,
            penalty_code=history.terms.penalty_code,
            penalty_catalogue_version=history.terms.penalty_catalogue_version,
            period_months=history.terms.period_months,
            events=[SanctionEventRead.of(event) for event in history.events],
        )


class SanctionPage(BaseModel):
    items: list[SanctionRead]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )
    as_of: datetime = Field(
        description="The moment the page answers for; pass it back with `after` so that later "
        "pages answer for the same moment"
    )
