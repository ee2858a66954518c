"""intake's declarative base (schema "intake") and its messaging tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.consumer import DeadLetterColumns, InboxMessageColumns
from shared.db import schema_metadata
from shared.outbox import OutboxMessageColumns

SCHEMA = "intake"


class IntakeBase(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class OutboxMessage(OutboxMessageColumns, IntakeBase):
    pass


class InboxMessage(InboxMessageColumns, IntakeBase):
    pass


class DeadLetter(DeadLetterColumns, IntakeBase):
    pass
