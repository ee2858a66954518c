"""The rules catalogue: versions of the list of rules a finding may cite, each rule with its
source, clause and the employee's reply window. Versions are published, never edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase


class CatalogueVersion(RegistryBase):
    __tablename__ = "catalogue_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    note: Mapped[str] = mapped_column(Text)


class Rule(RegistryBase):
    __tablename__ = "rule"

    catalogue_version: Mapped[int] = mapped_column(
        ForeignKey("catalogue_version.version"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    # The instrument the rule comes from, e.g. "Government Servants (Conduct) Rules 1964".
    source: Mapped[str] = mapped_column(String(200))
    clause: Mapped[str] = mapped_column(Text)
    reply_window_working_days: Mapped[int] = mapped_column(Integer, server_default="14")
