"""The pure rules behind clearing evidence for disclosure, over many random cases: the notice's
gate lets a notice through exactly when every item a standing charge relies on is cleared; a
charge may rely on any item but a withheld one; the disclosed form carries the cleared
description, and a snapshot only once reviewed."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.models import Case
from services.review.charges.disclosure import disclosed_form, require_cleared, withheld_problems
from services.review.charges.errors import EvidenceNotCleared
from services.review.charges.models import CaseEvidence

DISCLOSURES = st.sampled_from([None, "cleared", "withheld"])


@st.composite
def evidence(draw: st.DrawFn) -> list[CaseEvidence]:
    count = draw(st.integers(min_value=1, max_value=6))
    items = []
    for number in range(1, count + 1):
        disclosure = draw(DISCLOSURES)
        has_snapshot = draw(st.booleans())
        items.append(
            CaseEvidence(
                number=number,
                kind="screenshot",
                description=f"original text {number}",
                snapshot_file_id=uuid.uuid4() if has_snapshot else None,
                disclosure=disclosure,
                disclosed_description=f"cleared text {number}" if disclosure == "cleared" else None,
                snapshot_reviewed=True if disclosure == "cleared" and has_snapshot else None,
            )
        )
    return items


@given(evidence(), st.lists(st.integers(min_value=1, max_value=6), max_size=6))
def test_the_notice_passes_exactly_when_every_item_relied_on_is_cleared(
    items: list[CaseEvidence], relied_on: list[int]
) -> None:
    case = Case(id=uuid.uuid4())
    held = {item.number: item for item in items}
    sound = all(held[number].disclosure == "cleared" for number in relied_on if number in held)
    if sound:
        require_cleared(items, relied_on=set(relied_on), case=case)
    else:
        with pytest.raises(EvidenceNotCleared) as refused:
            require_cleared(items, relied_on=set(relied_on), case=case)
        assert refused.value.status == 409
        for number in relied_on:
            if number in held and held[number].disclosure != "cleared":
                assert str(number) in refused.value.detail


@given(evidence(), st.lists(st.integers(min_value=1, max_value=6), max_size=6))
def test_a_charge_may_rely_on_any_item_but_a_withheld_one(
    items: list[CaseEvidence], numbers: list[int]
) -> None:
    withheld = {item.number for item in items if item.disclosure == "withheld"}
    problems = withheld_problems(items, numbers=numbers, field="evidence")
    assert [p.field for p in problems] == [
        f"evidence.{index}" for index, number in enumerate(numbers) if number in withheld
    ]


@given(evidence())
def test_the_employee_sees_only_the_cleared_form(items: list[CaseEvidence]) -> None:
    for item in items:
        if item.disclosure != "cleared":
            continue
        shown = disclosed_form(item)
        assert shown.description == f"cleared text {item.number}"
        assert "original" not in (shown.description or "")
        assert shown.snapshot_file_id == item.snapshot_file_id
    unreviewed = CaseEvidence(
        number=1, kind="screenshot", snapshot_file_id=uuid.uuid4(), snapshot_reviewed=None
    )
    assert disclosed_form(unreviewed).snapshot_file_id is None
