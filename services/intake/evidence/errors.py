"""Why intake refuses an evidence snapshot or cannot serve one."""

from __future__ import annotations

from shared.errors import NotFound, ProblemError, ServiceUnavailable


class UnsupportedSnapshotType(ProblemError):
    status = 415
    code = "unsupported-snapshot-type"
    title = "Only PNG, JPEG, PDF and HTML snapshots are accepted, labelled as what they are"


class EvidenceFileNotFound(NotFound):
    code = "evidence-file-not-found"
    title = "No evidence file with this id for this department"


class EvidenceContentMissing(ProblemError):
    # The row is there but the store has lost the bytes: an operator's problem, not the caller's.
    status = 500
    code = "evidence-content-missing"
    title = "The evidence store does not hold this file's bytes"


class EvidenceStoreUnavailable(ServiceUnavailable):
    # Not the database: the store's disk or bucket refused (full, unmounted, not writable).
    code = "evidence-store-unavailable"
    title = "The evidence store cannot be reached"
