"""Signed checkpoints of the ledger's head, themselves append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase


class LedgerCheckpoint(RegistryBase):
    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # One checkpoint per head: replicas signing at once cannot publish two for the same head.
    head_sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    record_count: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64))
