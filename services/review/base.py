"""review's declarative base (schema "review") and its messaging tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.consumer import DeadLetterColumns, InboxMessageColumns
from shared.db import schema_metadata
from shared.outbox import OutboxMessageColumns

SCHEMA = "review"


class ReviewBase(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class OutboxMessage(OutboxMessageColumns, ReviewBase):
    pass


class InboxMessage(InboxMessageColumns, ReviewBase):
    pass


class DeadLetter(DeadLetterColumns, ReviewBase):
    pass
