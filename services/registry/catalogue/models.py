"""The catalogues: versions of the list of rules a finding may cite (each rule with its source,
clause and the employee's reply window), and versions of the list of penalties a sanction may
impose under the Efficiency and Discipline Rules 2020. Versions are published, never edited;
each catalogue is versioned on its own, and records keep the version they cite."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
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


PenaltyClass = Literal["minor", "major"]


class PenaltyCatalogueVersion(RegistryBase):
    __tablename__ = "penalty_catalogue_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    note: Mapped[str] = mapped_column(Text)


class Penalty(RegistryBase):
    __tablename__ = "penalty"
    __table_args__ = (CheckConstraint("penalty_class IN ('minor', 'major')", name="penalty_class"),)

    catalogue_version: Mapped[int] = mapped_column(
        ForeignKey("penalty_catalogue_version.version"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    penalty_class: Mapped[str] = mapped_column(String(8))
    # A time-bound penalty runs for a period the order states (withholding of promotion or
    # increment "for a specific period"); the others take effect once.
    time_bound: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text)
    # The order of the penalties in the rules, minor before major; for listing only.
    position: Mapped[int] = mapped_column(Integer)
