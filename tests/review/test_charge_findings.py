"""The pure rule behind a determination's findings per charge, over many random inputs: the
findings are accepted exactly when every standing charge is found on once, each on its own
evidence, a proved one on at least one item."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.review.charges.findings import charge_finding_problems
from services.review.charges.models import Charge
from services.review.charges.schemas import ChargeFindingCreate

ITEMS = st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=4, unique=True)


def charge(number: int, evidence: list[int]) -> Charge:
    return Charge(id=uuid.uuid4(), number=number, rule=f"RULE-{number}", evidence=sorted(evidence))


@st.composite
def findings_on(draw: st.DrawFn) -> tuple[list[Charge], list[ChargeFindingCreate]]:
    standing = [charge(n, draw(ITEMS)) for n in range(1, draw(st.integers(1, 4)) + 1)]
    chosen = draw(st.lists(st.sampled_from(standing), max_size=len(standing) + 1))
    findings = [
        ChargeFindingCreate(
            charge_id=c.id,
            finding=draw(st.sampled_from(["proved", "not_proved"])),
            reasons="Reasons.",
            evidence_relied_on=draw(
                st.lists(st.integers(min_value=1, max_value=6), max_size=3, unique=True)
            ),
        )
        for c in chosen
    ]
    return standing, findings


@given(findings_on())
def test_findings_pass_exactly_when_each_charge_is_found_once_on_its_own_evidence(
    case: tuple[list[Charge], list[ChargeFindingCreate]],
) -> None:
    standing, findings = case
    evidence = {c.id: set(c.evidence) for c in standing}
    ids = [f.charge_id for f in findings]
    sound = (
        sorted(map(str, ids)) == sorted(str(c.id) for c in standing)
        and all(set(f.evidence_relied_on) <= evidence[f.charge_id] for f in findings)
        and all(f.evidence_relied_on for f in findings if f.finding == "proved")
    )

    problems = charge_finding_problems(findings, standing=standing)

    assert (problems == []) == sound
    for problem in problems:
        assert problem.field == "charges" or problem.field.startswith("charges.")


def test_a_finding_on_a_charge_not_standing_names_its_charge_id() -> None:
    standing = [charge(1, [1])]
    stray = ChargeFindingCreate(
        charge_id=uuid.uuid4(), finding="not_proved", reasons="R.", evidence_relied_on=[]
    )
    problems = charge_finding_problems(
        [stray, ChargeFindingCreate(charge_id=standing[0].id, finding="not_proved", reasons="R.")],
        standing=standing,
    )
    assert [p.field for p in problems] == ["charges.0.charge_id"]
