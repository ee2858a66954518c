"""The status history every submission kind shares (reports, permission requests, violator-list
entries): one row per status a submission reached, fed by review's and registry's events.

The history is keyed by the submission's id alone, whatever its kind, so one projection serves
them all; each kind's own table keeps its current status (`SubmissionStatusColumns`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase


class SubmissionStatusColumns:
    """The current status of a submission, on its own kind's table."""

    status: Mapped[str] = mapped_column(String(32))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubmissionStatusEvent(IntakeBase):
    __tablename__ = "submission_status_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(32))
    # Defaults to the transaction's time: a violator list's status lines are COPYed without it.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
