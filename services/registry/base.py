"""registry's declarative base (schema "registry") and its messaging tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.consumer import DeadLetterColumns, InboxMessageColumns
from shared.db import schema_metadata
from shared.outbox import OutboxMessageColumns

SCHEMA = "registry"


class RegistryBase(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class OutboxMessage(OutboxMessageColumns, RegistryBase):
    pass


class InboxMessage(InboxMessageColumns, RegistryBase):
    pass


class DeadLetter(DeadLetterColumns, RegistryBase):
    pass
