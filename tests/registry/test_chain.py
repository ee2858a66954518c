"""The hash chain's pure functions: canonical content, content and link hashes, and the
verifier naming the first broken link."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from services.registry.ledger.chain import (
    ADDED_FIELDS,
    CHAINED_FIELDS,
    GENESIS_HASH,
    HEAD_FIELDS,
    PERSONAL_FIELDS,
    ChainVerifier,
    PendingContent,
    canonical_content,
    content_hash,
    link_hash,
    personal_digest,
)

# What the content hash covers directly: the personal fields stand behind their digest.
DIRECT = (set(CHAINED_FIELDS) - set(PERSONAL_FIELDS)) | {"personal_digest"}


def content(sequence: int, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": uuid.UUID(int=sequence),
        "sequence": sequence,
        "record_kind": "violation",
        "supersedes_id": None,
        "case_id": uuid.UUID(int=1000 + sequence),
        "submission_id": uuid.UUID(int=2000 + sequence),
        "department": "HEALTH",
        "employee_ref": f"EMP-{sequence}",
        "employee_name": "Kamran Yousaf",
        "rules_cited": ["CR1964-22"],
        "platform": "facebook",
        "reasons": "The post embarrasses the government.",
        "determined_by": uuid.UUID(int=3000),
        "countersigned_by": uuid.UUID(int=3001),
        "effective_on": date(2026, 11, 20),
        "recorded_at": datetime(2026, 11, 23, 8, 0, sequence, tzinfo=UTC),
        "reported_at": datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        "catalogue_version": 1,
        "personal_salt": f"{sequence:032x}",
    }
    fields.update(overrides)
    return with_digest(fields)


def with_digest(fields: dict[str, Any]) -> dict[str, Any]:
    """The record as the ledger writes it: its personal digest computed from its fields."""
    return fields | {"personal_digest": personal_digest(fields)}


def chain_of(length: int) -> list[dict[str, Any]]:
    """Stored records as the ledger writes them: content plus the three hashes."""
    records: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for sequence in range(1, length + 1):
        record = content(sequence)
        digest = content_hash(record)
        record |= {
            "content_hash": digest,
            "previous_hash": previous,
            "chain_hash": link_hash(previous_hash=previous, content_hash=digest),
        }
        previous = record["chain_hash"]
        records.append(record)
    return records


def verify(records: list[dict[str, Any]]) -> ChainVerifier:
    verifier = ChainVerifier()
    for record in records:
        if not verifier.check(record):
            break
    return verifier


def test_canonical_content_is_sorted_compact_json_of_the_chained_fields() -> None:
    record = content(1) | {"content_hash": "ignored", "unrelated": object()}
    canonical = canonical_content(record).decode()
    assert canonical.startswith('{"case_id":"00000000-0000-0000-0000-0000000003e9",')
    parsed = json.loads(canonical)
    assert canonical == json.dumps(
        parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert '"effective_on":"2026-11-20"' in canonical
    assert '"recorded_at":"2026-11-23T08:00:01.000000+00:00"' in canonical
    assert '"supersedes_id":null' in canonical
    assert set(parsed) == DIRECT
    assert "Kamran" not in canonical


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    karachi = timezone(timedelta(hours=5))
    original = content(1)
    shifted = content(1, reported_at=original["reported_at"].astimezone(karachi))
    assert content_hash(shifted) == content_hash(original)


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        content_hash(content(1, recorded_at=datetime(2026, 11, 23, 8, 0)))


@pytest.mark.parametrize(
    ("field", "tampered"),
    [
        ("employee_name", "Someone Else"),
        ("employee_ref", "EMP-2"),
        ("reasons", "The post embarrasses the government"),
        ("personal_salt", "f" * 32),
    ],
)
def test_tampering_a_personal_field_changes_the_personal_digest(field: str, tampered: Any) -> None:
    assert personal_digest(content(1) | {field: tampered}) != content(1)["personal_digest"]


@pytest.mark.parametrize(
    ("field", "tampered"),
    [
        ("personal_digest", "0" * 64),
        ("rules_cited", ["CR1964-18"]),
        ("rules_cited", ["CR1964-22", "CR1964-18"]),
        ("effective_on", date(2026, 11, 21)),
        ("recorded_at", datetime(2026, 11, 23, 8, 0, 1, 1, tzinfo=UTC)),
        ("countersigned_by", None),
        ("department", "EDUCATION"),
    ],
)
def test_tampering_any_field_changes_the_content_hash(field: str, tampered: Any) -> None:
    assert content_hash(content(1) | {field: tampered}) != content_hash(content(1))


def test_link_hash_depends_on_both_hashes() -> None:
    a, b = "a" * 64, "b" * 64
    assert link_hash(previous_hash=a, content_hash=b) != link_hash(previous_hash=b, content_hash=a)
    assert len(link_hash(previous_hash=GENESIS_HASH, content_hash=a)) == 64


def test_an_untouched_chain_is_intact_and_reports_its_head() -> None:
    records = chain_of(5)
    result = verify(records).result()
    assert result.status == "intact"
    assert result.records_checked == 5
    assert result.head_hash == records[-1]["chain_hash"]
    assert result.first_broken is None


def test_an_empty_chain_is_intact_at_the_genesis() -> None:
    result = ChainVerifier().result()
    assert (result.status, result.records_checked, result.head_hash) == ("intact", 0, GENESIS_HASH)


def test_an_altered_field_is_named_as_the_first_broken_link() -> None:
    records = chain_of(5)
    records[2]["reasons"] = "Nothing happened."
    result = verify(records).result()
    assert result.status == "broken"
    assert result.first_broken is not None
    assert (result.first_broken.sequence, result.first_broken.id) == (3, records[2]["id"])
    assert "content" in result.first_broken.reason
    assert result.records_checked == 3
    assert result.head_hash == records[1]["chain_hash"]


def test_recomputed_hashes_break_the_next_link() -> None:
    records = chain_of(5)
    forged = with_digest(records[2] | {"reasons": "Nothing happened."})
    forged["content_hash"] = content_hash(forged)
    forged["chain_hash"] = link_hash(
        previous_hash=forged["previous_hash"], content_hash=forged["content_hash"]
    )
    records[2] = forged
    result = verify(records).result()
    assert result.first_broken is not None
    assert result.first_broken.sequence == 4
    assert "previous hash" in result.first_broken.reason


def test_a_removed_record_is_named_by_the_gap() -> None:
    records = chain_of(5)
    del records[1]
    result = verify(records).result()
    assert result.first_broken is not None
    assert result.first_broken.sequence == 3
    assert "missing" in result.first_broken.reason


def test_a_forged_chain_hash_is_named() -> None:
    records = chain_of(3)
    records[0]["chain_hash"] = "f" * 64
    result = verify(records).result()
    assert result.first_broken is not None
    assert result.first_broken.sequence == 1
    assert "chain hash" in result.first_broken.reason


def test_the_verifier_stops_at_the_first_break() -> None:
    records = chain_of(4)
    records[1]["employee_ref"] = "EMP-X"
    records[3]["employee_ref"] = "EMP-Y"
    verifier = verify(records)
    assert verifier.check(records[3]) is False
    first_broken = verifier.result().first_broken
    assert first_broken is not None and first_broken.sequence == 2


def sanction_event(sequence: int) -> dict[str, Any]:
    """A sanction event's content: no finding of its own, the added fields set."""
    return content(
        sequence,
        record_kind="sanction_event",
        employee_ref=None,
        employee_name=None,
        rules_cited=None,
        platform=None,
        determined_by=None,
        countersigned_by=None,
        reported_at=None,
        violation_id=uuid.UUID(int=1),
        sanction_id=uuid.UUID(int=sequence),
        sanction_event="imposed",
        penalty_code="ED2020-WITHHOLD-INCREMENT",
        penalty_catalogue_version=1,
        period_months=12,
        order_reference="SO(D)/1/2026",
        recorded_by_id=uuid.UUID(int=4000),
        recorded_by_label="competent authority HEALTH",
    )


def test_a_record_from_before_the_added_fields_keeps_its_content() -> None:
    # Rows read back from the database carry the added columns as null; dicts built before
    # they existed do not carry them at all. Both hash as the first format did.
    original = content(1)
    assert canonical_content(original | dict.fromkeys(ADDED_FIELDS)) == canonical_content(original)
    assert set(json.loads(canonical_content(original))) == DIRECT


def test_added_fields_are_chained_when_set() -> None:
    event = sanction_event(1)
    parsed = json.loads(canonical_content(event))
    # The fields a sanction event sets (registry_0003's); later added fields stay out.
    assert set(parsed) == DIRECT | set(ADDED_FIELDS[:9])
    assert parsed["period_months"] == 12 and "employee_ref" not in parsed


@pytest.mark.parametrize(
    ("field", "tampered"),
    [
        ("penalty_code", "ED2020-DISMISSAL"),
        ("period_months", 24),
        ("period_months", None),
        ("sanction_event", "quashed"),
        ("order_reference", None),
        ("recorded_by_label", "someone else"),
        ("violation_id", uuid.UUID(int=2)),
    ],
)
def test_tampering_an_added_field_changes_the_content_hash(field: str, tampered: Any) -> None:
    assert content_hash(sanction_event(1) | {field: tampered}) != content_hash(sanction_event(1))


def test_a_value_set_on_an_older_record_is_named_by_verify() -> None:
    records = chain_of(3)
    records[1]["order_reference"] = "SO(D)/9/2026"
    result = verify(records).result()
    assert result.first_broken is not None
    assert result.first_broken.sequence == 2
    assert "content" in result.first_broken.reason


def purge(records: list[dict[str, Any]], index: int) -> None:
    """What a retention purge does to a stored record: personal fields and salt to null."""
    records[index] |= dict.fromkeys((*PERSONAL_FIELDS, "personal_salt"))


def purge_record(sequence: int, *, names: list[uuid.UUID]) -> dict[str, Any]:
    return content(
        sequence,
        record_kind="retention_purge",
        employee_ref=None,
        employee_name=None,
        rules_cited=None,
        platform=None,
        determined_by=None,
        countersigned_by=None,
        reported_at=None,
        purged_record_ids=names,
        retention_policy={"policy": "cleared_outcomes", "cleared_days": 365},
    )


def chained(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    previous = GENESIS_HASH
    for record in records:
        record["content_hash"] = content_hash(record)
        record["previous_hash"] = previous
        record["chain_hash"] = previous = link_hash(
            previous_hash=previous, content_hash=record["content_hash"]
        )
    return records


def test_a_purge_named_by_a_retention_purge_keeps_the_chain_intact() -> None:
    records = chained([content(1), content(2), purge_record(3, names=[uuid.UUID(int=1)])])
    purge(records, 0)
    result = verify(records).result()
    assert result.status == "intact", result.first_broken
    assert result.head_hash == records[-1]["chain_hash"]


def test_a_purge_no_retention_purge_names_is_named_at_the_end() -> None:
    records = chain_of(3)
    purge(records, 1)
    result = verify(records).result()
    assert result.status == "broken"
    assert result.first_broken is not None
    assert (result.first_broken.sequence, result.first_broken.id) == (2, records[1]["id"])
    assert "without a retention purge" in result.first_broken.reason
    assert result.head_hash == records[0]["chain_hash"]


def test_a_retention_purge_naming_a_record_not_purged_is_broken() -> None:
    records = chained([content(1), purge_record(2, names=[uuid.UUID(int=1)])])
    result = verify(records).result()
    assert result.first_broken is not None and result.first_broken.sequence == 2
    assert "no earlier record" in result.first_broken.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employee_name", "Kamran Yousaf"),
        ("department", "EDUCATION"),
        ("personal_digest", "0" * 64),
    ],
)
def test_a_purged_record_altered_afterwards_is_named(field: str, value: Any) -> None:
    records = chained([content(1), content(2), purge_record(3, names=[uuid.UUID(int=1)])])
    purge(records, 0)
    records[0][field] = value
    result = verify(records).result()
    assert result.first_broken is not None and result.first_broken.sequence == 1
    assert "content" in result.first_broken.reason


def version_2(record: dict[str, Any]) -> dict[str, Any]:
    return with_digest(record | {"canonical_version": 2})


@pytest.mark.parametrize(
    "record",
    [
        version_2(content(7)),
        version_2(sanction_event(8)),
        version_2(purge_record(9, names=[uuid.UUID(int=1), uuid.UUID(int=2)])),
        version_2(
            content(
                10,
                record_kind="official_account",
                moderators=[{"name": "Asma", "employee_ref": "EMP-1", "designation": "SO"}],
                conditions=[],
                decided_at=datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=5))),
            )
        ),
    ],
    ids=["violation", "sanction_event", "retention_purge", "official_account"],
)
def test_content_rendered_before_its_head_fields_hashes_as_the_whole_record(
    record: dict[str, Any],
) -> None:
    # Appends render a record's content before the ledger's lock, the sequence, recording time
    # and catalogue version still unknown, and splice those in under the lock.
    pending = PendingContent(record | dict.fromkeys(HEAD_FIELDS))
    recorded_at = datetime(2026, 12, 1, 13, 5, 7, 250, tzinfo=timezone(timedelta(hours=5)))
    placed = record | {"sequence": 123_456, "recorded_at": recorded_at, "catalogue_version": 4}
    assert pending.content_hash(
        sequence=123_456, recorded_at=recorded_at, catalogue_version=4
    ) == content_hash(placed)
    assert pending.content_hash(
        sequence=123_457, recorded_at=recorded_at, catalogue_version=4
    ) != content_hash(placed)


def test_only_version_2_content_is_rendered_ahead() -> None:
    with pytest.raises(ValueError, match="version 2"):
        PendingContent(content(1))
