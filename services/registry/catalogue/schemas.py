"""What readers see of the rules catalogue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
