"""What readers see of the catalogues: rules and penalties."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.catalogue.models import PenaltyClass


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    source: str
    clause: str
    reply_window_working_days: int


class RulesCatalogueRead(BaseModel):
    catalogue_version: int
    published_at: datetime
    note: str
    rules: list[RuleRead]


class PenaltyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    penalty_class: PenaltyClass
    time_bound: bool = Field(
        description="A time-bound penalty needs `period_months` when imposed or varied; the "
        "others refuse it"
    )
    description: str


class PenaltiesCatalogueRead(BaseModel):
    catalogue_version: int
    published_at: datetime
    note: str
    penalties: list[PenaltyRead]
