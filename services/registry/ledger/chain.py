"""The ledger's hash chain as pure functions: the canonical content of a record, its content
hash, the link to the previous record, and an incremental verifier.

personal_digest = sha256(canonical JSON of the personal fields and the record's random salt)
content_hash    = sha256(canonical JSON of the chained fields, personal_digest standing in for
                  the personal fields)
chain_hash      = sha256(previous record's chain_hash + content_hash), GENESIS_HASH before the
                  first

Personal data (PERSONAL_FIELDS: who the record is about, and the free text that may say more)
is chained through its digest, not directly, so that a retention purge can remove it without
touching any hash: a purge sets the personal fields and the salt to null, and leaves
personal_digest, content_hash and chain_hash as they were. While the personal data is there,
verify recomputes its digest; once purged, only the rest of the content is recomputed, and the
record must be named by a retention_purge record later in the chain. The salt is what keeps a
purged record's digest from being reversed by guessing: without it, an employee number and a
name are few enough to try them all.

Canonical JSON: sorted keys, no whitespace, UTF-8; UUIDs as strings, dates as ISO dates,
timestamps in UTC with microseconds. The fields of the first format (CHAINED_FIELDS) are always
in it, null or not; fields added later (ADDED_FIELDS) are in it when they hold a value. So a
record written before a field existed keeps its content hash, while setting that field on it,
or clearing it on a record that had it, changes the hash like any other edit. Changing any chained field of any record changes its
content hash; recomputing the hashes to hide the change breaks the next link, and rewriting the
whole rest of the chain changes the head hash that auditors keep.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

GENESIS_HASH = "0" * 64

# The fields a record's content hash always covers, in no particular order (keys are sorted).
# Never edit this list: it would change the content hash of every record already written.
CHAINED_FIELDS: tuple[str, ...] = (
    "id",
    "sequence",
    "record_kind",
    "supersedes_id",
    "case_id",
    "submission_id",
    "department",
    "employee_ref",
    "employee_name",
    "rules_cited",
    "platform",
    "reasons",
    "determined_by",
    "countersigned_by",
    "effective_on",
    "recorded_at",
    "reported_at",
    "catalogue_version",
)

# The personal fields: chained through personal_digest, and removed by a retention purge.
PERSONAL_FIELDS: tuple[str, ...] = (
    "employee_ref",
    "employee_name",
    "reasons",
    "account_handle",
    "account_url",
    "purpose",
    "moderators",
)

# Fields added after the first format (registry_0003: sanction events and who recorded a
# record). Chained when set, so older records, where they are null, hash as they always did.
# Append new fields here; never remove one.
ADDED_FIELDS: tuple[str, ...] = (
    "violation_id",
    "sanction_id",
    "sanction_event",
    "penalty_code",
    "penalty_catalogue_version",
    "period_months",
    "order_reference",
    "recorded_by_id",
    "recorded_by_label",
    # registry_0004: permission decisions and official accounts.
    "decision",
    "conditions",
    "account_handle",
    "account_url",
    "purpose",
    "account_purpose",
    "moderators",
    "expires_on",
    "renewal_of",
    "decided_at",
    # registry_0005: appeal outcomes.
    "appeal_outcome",
    # registry_0007: retention purges (the records purged, and the policy that purged them).
    "purged_record_ids",
    "retention_policy",
)
# What the content hash covers directly: every chained field but the personal ones.
_DIRECT_FIELDS = tuple(name for name in CHAINED_FIELDS if name not in PERSONAL_FIELDS)
_DIRECT_ADDED_FIELDS = tuple(name for name in ADDED_FIELDS if name not in PERSONAL_FIELDS)

# Canonical forms. Version 1 (above, canonical_content) is sorted-key JSON: cheap in Python,
# costly to rebuild in SQL. Version 2, which every record appended since registry_0010 is
# written in, is the text PostgreSQL gives for jsonb_build_array() of the fields in a fixed
# order, so that GET /v1/audit/verify can recompute it inside the database (see
# services/registry/ledger/verification.py) and Python here writes the very same bytes. A
# record's canonical_version column says which form its hashes are in; it is itself the first
# element of the version 2 content, so changing it changes the hash like any other edit.
CANONICAL_VERSION = 2
# Version 2's fields, in order: never reorder or edit; a new field means a version 3.
V2_FIELDS: tuple[str, ...] = (
    "canonical_version",
    *_DIRECT_FIELDS,
    *_DIRECT_ADDED_FIELDS,
    "personal_digest",
)
# Version 2's personal content: the salt, then the personal fields, in this order.
V2_PERSONAL_FIELDS: tuple[str, ...] = ("personal_salt", *PERSONAL_FIELDS)
# Timestamps are written as integer microseconds since the Unix epoch (UTC) in version 2: one
# spelling whatever the session's time zone or date style.
TIMESTAMP_FIELDS: frozenset[str] = frozenset({"recorded_at", "reported_at", "decided_at"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def canonical_value(value: Any) -> Any:
    """One spelling per value, whatever form it arrives in (Python or read back from SQL)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamps in the ledger must carry a time zone")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    if isinstance(value, Mapping):
        # A JSON object (an official account's moderators); its keys are sorted on output.
        return {str(key): canonical_value(item) for key, item in value.items()}
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _canonical_json(content: Mapping[str, Any]) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def new_personal_salt() -> str:
    """A fresh random salt for a record's personal digest (128 bits, hex)."""
    return secrets.token_hex(16)


def personal_content(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a record's personal fields (null or not) and its salt."""
    content = {name: canonical_value(record.get(name)) for name in PERSONAL_FIELDS}
    content["personal_salt"] = record["personal_salt"]
    return _canonical_json(content)


def personal_digest(record: Mapping[str, Any]) -> str:
    """The personal digest in the record's own canonical form (canonical_version)."""
    if record.get("personal_salt") is None:
        raise ValueError("a personal digest needs the record's salt")
    if canonical_version_of(record) == 2:
        return hashlib.sha256(personal_content_v2(record)).hexdigest()
    return hashlib.sha256(personal_content(record)).hexdigest()


def is_purged(record: Mapping[str, Any]) -> bool:
    """A purged record has lost its salt (and, with it, its personal data)."""
    return record.get("personal_salt") is None


def canonical_content(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a record's chained fields, personal_digest standing in for the
    personal ones; other keys are ignored.

    An added field counts as absent when its key is missing or its value is None: both are
    how a record from before the field existed looks (a dict built by hand, a row read back).
    """
    content = {name: canonical_value(record[name]) for name in _DIRECT_FIELDS}
    for name in _DIRECT_ADDED_FIELDS:
        if record.get(name) is not None:
            content[name] = canonical_value(record[name])
    content["personal_digest"] = record["personal_digest"]
    return _canonical_json(content)


def _v2_value(value: Any) -> Any:
    """A value as jsonb renders it (timestamps handled by the caller)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        raise TypeError("a timestamp inside a JSON value has no version 2 form")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_v2_value(item) for item in value]
    if isinstance(value, Mapping):
        # jsonb orders an object's keys by length, then bytewise.
        keys = sorted(
            (str(key) for key in value), key=lambda key: (len(key.encode()), key.encode())
        )
        return {key: _v2_value(value[key]) for key in keys}
    # Floats are left out on purpose: jsonb keeps a number's digits as written.
    raise TypeError(f"no version 2 canonical form for {type(value).__name__}")


def _v2_field(name: str, value: Any) -> Any:
    if name in TIMESTAMP_FIELDS and value is not None:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("timestamps in the ledger must carry a time zone")
        return (value - _EPOCH) // _MICROSECOND
    return _v2_value(value)


def jsonb_array_text(values: list[Any]) -> bytes:
    """What PostgreSQL's jsonb_build_array(...)::text gives for these (already v2) values."""
    return json.dumps(values, ensure_ascii=False, separators=(", ", ": "), allow_nan=False).encode()


# The types whose version 2 form is the value itself, or its str(): checked first, since
# nearly every field of a record is one of them (the full dispatch is _v2_field).
_AS_IS: frozenset[type] = frozenset({str, int, bool, type(None)})


def _v2_values(record: Mapping[str, Any], names: tuple[str, ...]) -> list[Any]:
    values: list[Any] = []
    for name in names:
        value = record.get(name)
        kind = type(value)
        if kind in _AS_IS and name not in TIMESTAMP_FIELDS:
            values.append(value)
        elif kind is uuid.UUID:
            values.append(str(value))
        else:
            values.append(_v2_field(name, value))
    return values


def personal_content_v2(record: Mapping[str, Any]) -> bytes:
    return jsonb_array_text(_v2_values(record, V2_PERSONAL_FIELDS))


def canonical_content_v2(record: Mapping[str, Any]) -> bytes:
    """Version 2: every field of V2_FIELDS, null or not, as one jsonb array's text."""
    return jsonb_array_text(_v2_values(record, V2_FIELDS))


# The fields of a record's content that the chain's head decides, known only once the ledger's
# lock is held (in their order in V2_FIELDS).
HEAD_FIELDS: tuple[str, ...] = tuple(
    name for name in V2_FIELDS if name in {"sequence", "recorded_at", "catalogue_version"}
)


class PendingContent:
    """A version 2 record's canonical content rendered before its place in the chain is known:
    everything but HEAD_FIELDS, so that under the ledger's lock only those few numbers are
    spliced in and hashed. An array's text is its elements' texts joined by ", ", so the
    elements between the head fields are rendered as runs of text once."""

    __slots__ = ("_runs",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        if canonical_version_of(record) != 2:
            raise ValueError("only version 2 content is rendered ahead of its head fields")
        values = _v2_values(record, V2_FIELDS)
        runs: list[list[Any]] = [[]]
        for name, value in zip(V2_FIELDS, values, strict=True):
            if name in HEAD_FIELDS:
                runs.append([])
            else:
                runs[-1].append(value)
        # Each run's elements as text, without the brackets ("" for no elements).
        self._runs = tuple(jsonb_array_text(run).decode()[1:-1] for run in runs)

    def content_hash(self, *, sequence: int, recorded_at: datetime, catalogue_version: int) -> str:
        """The content hash once the head fields are set: content_hash() of the whole record."""
        head = {
            "sequence": sequence,
            "recorded_at": _v2_field("recorded_at", recorded_at),
            "catalogue_version": catalogue_version,
        }
        items = [self._runs[0]]
        for value, run in zip((head[name] for name in HEAD_FIELDS), self._runs[1:], strict=True):
            if type(value) is not int:
                raise TypeError("the head fields are integers in version 2")
            items += (str(value), run)
        text = "[" + ", ".join(item for item in items if item) + "]"
        return hashlib.sha256(text.encode()).hexdigest()


def canonical_version_of(record: Mapping[str, Any]) -> int:
    """The canonical form a record's hashes are in: 1 for records from before the column."""
    version = record.get("canonical_version")
    return 1 if version is None else int(version)


def content_hash(record: Mapping[str, Any]) -> str:
    """The content hash in the record's own canonical form (canonical_version)."""
    if canonical_version_of(record) == 2:
        return hashlib.sha256(canonical_content_v2(record)).hexdigest()
    return hashlib.sha256(canonical_content(record)).hexdigest()


def link_hash(*, previous_hash: str, content_hash: str) -> str:
    """The chain hash of a record whose predecessor's chain hash is previous_hash."""
    return hashlib.sha256((previous_hash + content_hash).encode()).hexdigest()


# Why a record is broken, by what verify finds (the same words whichever path finds it).
SEQUENCE_GAP = "sequence {found} where {expected} was expected: a record is missing"
PREVIOUS_HASH_FAULT = "previous hash is not the preceding record's chain hash"
PURGED_PERSONAL_FAULT = "content holds personal data its purge removed: a field was altered"
PERSONAL_DIGEST_FAULT = "personal content does not match its personal digest: a field was altered"
CONTENT_HASH_FAULT = "content does not match its content hash: a field was altered"
CHAIN_HASH_FAULT = "chain hash does not follow from the previous and content hashes"
NAMES_UNPURGED_FAULT = "names record {named} as purged, but no earlier record of that id was purged"
UNNAMED_PURGE_FAULT = "personal data removed without a retention purge naming the record"


def content_fault(stored: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored record's own content (personal fields, personal digest,
    content hash), whatever its links; None if nothing."""
    if is_purged(stored):
        if any(stored.get(name) is not None for name in PERSONAL_FIELDS):
            return PURGED_PERSONAL_FAULT
    elif personal_digest(stored) != stored["personal_digest"]:
        return PERSONAL_DIGEST_FAULT
    if content_hash(stored) != stored["content_hash"]:
        return CONTENT_HASH_FAULT
    return None


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class ChainVerification:
    status: Literal["intact", "broken"]
    records_checked: int
    # The chain hash of the last record found intact (GENESIS_HASH for an empty ledger). An
    # auditor who keeps it can later tell a rewritten chain from an extended one.
    head_hash: str
    first_broken: BrokenLink | None


class ChainVerifier:
    """Checks stored records one at a time, in sequence order, from the genesis.

    Feed it any number of batches; it keeps only the previous link and the ids of purged
    records, so memory stays flat but for those. It stops at the first broken link: what
    follows cannot be trusted to follow from it. A purged record is named by a retention purge
    later in the chain, so whether every purge was named is known only at the end (result()).
    """

    def __init__(self) -> None:
        self.records_checked = 0
        self.head_hash = GENESIS_HASH
        self.last_sequence = 0
        self.first_broken: BrokenLink | None = None
        # Purged records seen so far, and those of them no retention purge has named yet.
        self._purged: set[uuid.UUID] = set()
        self._unnamed: dict[uuid.UUID, tuple[int, str]] = {}

    def check(self, stored: Mapping[str, Any]) -> bool:
        """Check the next stored record (its chained fields and three hashes); False once
        the chain is broken."""
        if self.first_broken is not None:
            return False
        self.records_checked += 1
        reason = self._fault(stored)
        if reason is not None:
            self.first_broken = BrokenLink(
                sequence=stored["sequence"], id=stored["id"], reason=reason
            )
            return False
        record_id = _as_uuid(stored["id"])
        if is_purged(stored):
            self._purged.add(record_id)
            self._unnamed[record_id] = (stored["sequence"], stored["previous_hash"])
        for named in stored.get("purged_record_ids") or ():
            self._unnamed.pop(_as_uuid(named), None)
        self.head_hash = stored["chain_hash"]
        self.last_sequence = stored["sequence"]
        return True

    def _fault(self, stored: Mapping[str, Any]) -> str | None:
        expected = self.last_sequence + 1
        if stored["sequence"] != expected:
            return SEQUENCE_GAP.format(found=stored["sequence"], expected=expected)
        if stored["previous_hash"] != self.head_hash:
            return PREVIOUS_HASH_FAULT
        reason = content_fault(stored)
        if reason is not None:
            return reason
        if (
            link_hash(previous_hash=self.head_hash, content_hash=stored["content_hash"])
            != (stored["chain_hash"])
        ):
            return CHAIN_HASH_FAULT
        for named in stored.get("purged_record_ids") or ():
            if _as_uuid(named) not in self._purged:
                return NAMES_UNPURGED_FAULT.format(named=named)
        return None

    def result(self) -> ChainVerification:
        if self.first_broken is None and self._unnamed:
            record_id, (sequence, previous_hash) = min(
                self._unnamed.items(), key=lambda item: item[1][0]
            )
            return ChainVerification(
                status="broken",
                records_checked=self.records_checked,
                head_hash=previous_hash,
                first_broken=BrokenLink(
                    sequence=sequence,
                    id=record_id,
                    reason=UNNAMED_PURGE_FAULT,
                ),
            )
        return ChainVerification(
            status="intact" if self.first_broken is None else "broken",
            records_checked=self.records_checked,
            head_hash=self.head_hash,
            first_broken=self.first_broken,
        )


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
