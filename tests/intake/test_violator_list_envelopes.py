"""The entry_received envelopes a list's rows are announced with are made as JSON text for COPY
(services.intake.violator_lists.storing), from the entries as stored: they must be exactly what
the contract's models make, whatever the rows hold (quotes, backslashes, newlines, non-Latin
script, an absent office)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from services.intake.violator_lists.judging import RowVerdicts
from services.intake.violator_lists.storing import (
    ENTRY_COPY_COLUMNS,
    EnvelopeTemplate,
    ListContext,
    TimeOrderedIds,
    entry_messages,
    prepare_slice,
)
from shared.messages import Envelope, ViolatorListEntryReceived

AWKWARD_ROWS = [
    {
        "employee_ref": 'EMP-"7"',
        "name": "Dr. Ayesha \\ Khan",
        "designation": "Assistant Professor\nof Medicine",
        "office": None,
        "rule": "CR1964-22",
        "platform": "x",
        "finding": "Posted «remarks» about the ward, in اردو too \u2028 and a tab\t.",
        "found_on": date(2026, 3, 1),
        "institution_finding_ref": "LRH/INQ/2026/1",
        "notice_and_reply_on_record": True,
    },
    {
        "employee_ref": "EMP-8",
        "name": "Kamran",
        "designation": "Medical Officer",
        "office": "Ward 7, </script>",
        "rule": "CR1964-18",
        "platform": "other",
        "finding": "{}",
        "found_on": date(2025, 12, 31),
        "institution_finding_ref": "LRH/INQ/2026/2",
        "notice_and_reply_on_record": False,
    },
]


@pytest.mark.parametrize(
    "trace_context", [None, {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}]
)
def test_envelopes_made_for_copy_are_what_the_contract_makes(
    trace_context: dict[str, str] | None,
) -> None:
    received_at = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)
    context = ListContext(
        batch_id=uuid.uuid4(),
        institution="MTI-LRH",
        received_at=received_at,
        correlation_id="corr-1",
        trace_context=trace_context,
    )
    verdicts = RowVerdicts.of(list(enumerate(AWKWARD_ROWS, start=3)), rejected=[])

    prepared = prepare_slice(verdicts, context=context)
    stored = [dict(zip(ENTRY_COPY_COLUMNS, entry, strict=True)) for entry in prepared.entries]
    messages = entry_messages(stored, context=context, template=EnvelopeTemplate(context))

    assert len(prepared.entries) == len(prepared.statuses) == len(messages) == 2
    assert prepared.row_span == (3, 4)
    for (number, row), entry, message in zip(
        verdicts.accepted, prepared.entries, messages, strict=True
    ):
        message_id, destination, message_type, text = message
        envelope = Envelope.model_validate_json(text)
        payload = ViolatorListEntryReceived.model_validate(envelope.payload)
        expected = Envelope.wrap(
            ViolatorListEntryReceived(
                entry_id=uuid.UUID(entry[0]),
                batch_id=context.batch_id,
                row_number=number,
                institution="MTI-LRH",
                received_at=received_at,
                **row,
            ),
            producer="intake",
            correlation_id="corr-1",
            trace_context=trace_context,
        )
        assert (destination, message_type) == ("review", "violator_list.entry_received")
        assert envelope.message_id == uuid.UUID(message_id)
        assert json.loads(text)["payload"] == expected.model_dump(mode="json")["payload"]
        assert envelope.model_dump(exclude={"message_id", "occurred_at"}) == expected.model_dump(
            exclude={"message_id", "occurred_at"}
        )
        assert payload.entry_id == uuid.UUID(entry[0]) and payload.row_number == number


def test_time_ordered_ids_are_unique_uuid7s_in_the_order_given() -> None:
    ids = TimeOrderedIds()
    first, second = ids.take(5_000), ids.take(5_000)
    parsed = [uuid.UUID(text) for text in first + second]

    assert [str(value) for value in parsed] == first + second
    assert parsed == sorted(parsed) and len(set(parsed)) == 10_000
    assert {value.version for value in parsed} == {7}
    assert {value.variant for value in parsed} == {uuid.RFC_4122}
    assert TimeOrderedIds().take(1) != TimeOrderedIds().take(1)
