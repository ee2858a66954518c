"""Why the ledger refuses a read or an append."""

from __future__ import annotations

import uuid

from shared.errors import Conflict, NotFound


class ViolationNotFound(NotFound):
    code = "violation-not-found"
    title = "No such violation for this credential"


class RecordAlreadyExists(Conflict):
    """The ledger already holds an original record of this kind for the case."""

    code = "record-already-exists"
    title = "The ledger already holds this record"

    def __init__(self, detail: str, *, existing_id: uuid.UUID) -> None:
        super().__init__(detail)
        self.existing_id = existing_id


class ConflictingDetermination(Conflict):
    """A second, different determination for a case the ledger has already recorded."""

    code = "conflicting-determination"
    title = "The case already has a different recorded determination"


class ViolationNotCurrent(Conflict):
    """The violation version was superseded (corrected, or set aside on appeal): whatever
    follows must refer to the version that replaced it."""

    code = "violation-not-current"
    title = "The violation has been superseded"


class RecordAlreadySuperseded(Conflict):
    """History is linear: a record that already has a successor cannot be superseded again."""

    code = "record-already-superseded"
    title = "The record has already been superseded"
