"""Weighing a determination against the case's charges: a finding (proved or not proved) and
reasons for every standing charge, each resting only on that charge's own evidence, and a
recommended penalty from the catalogue whenever a charge is proved. The case's finding follows:
a violation when any charge is proved, cleared otherwise, and the rules it cites are the proved
charges' (or, cleared, the charges').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.models import Case
from services.review.catalogue.models import PenaltyReference
from services.review.charges.models import Charge, ChargeFinding
from services.review.charges.repository import standing_charges
from services.review.charges.schemas import ChargeFindingCreate
from shared.errors import FieldProblem, InvalidInput

Finding = Literal["violation", "cleared"]


@dataclass(frozen=True)
class Verdict:
    """What the determination records, once its input is found consistent with the charges."""

    finding: Finding
    rules_cited: list[str]
    recommended_penalty: str | None
    charge_findings: list[ChargeFinding] = field(default_factory=list)


async def penalty_problems(
    session: AsyncSession, *, penalty: str | None, any_proved: bool
) -> list[FieldProblem]:
    if penalty is None:
        return (
            [
                FieldProblem(
                    field="recommended_penalty",
                    message="required when a charge is proved: a code of the penalties catalogue",
                )
            ]
            if any_proved
            else []
        )
    if not any_proved:
        return [
            FieldProblem(field="recommended_penalty", message="only when a charge is found proved")
        ]
    if await session.get(PenaltyReference, penalty) is None:
        codes = await session.scalars(select(PenaltyReference.code).order_by(PenaltyReference.code))
        return [
            FieldProblem(
                field="recommended_penalty",
                message=f"not in the penalties catalogue (one of: {', '.join(codes)})",
            )
        ]
    return []


def charge_finding_problems(
    findings: list[ChargeFindingCreate], *, standing: list[Charge]
) -> list[FieldProblem]:
    """Every standing charge found on once, each finding on its own charge's evidence."""
    by_id = {charge.id: charge for charge in standing}
    problems: list[FieldProblem] = []
    seen: set[object] = set()
    for index, given in enumerate(findings):
        at = f"charges.{index}"
        charge = by_id.get(given.charge_id)
        if charge is None:
            problems.append(
                FieldProblem(field=f"{at}.charge_id", message="not a standing charge of this case")
            )
            continue
        if given.charge_id in seen:
            problems.append(
                FieldProblem(field=f"{at}.charge_id", message="a second finding on one charge")
            )
            continue
        seen.add(given.charge_id)
        problems += [
            FieldProblem(
                field=f"{at}.evidence_relied_on.{position}",
                message=f"item {number} is not among charge {charge.number}'s evidence "
                f"(items {', '.join(map(str, charge.evidence))})",
            )
            for position, number in enumerate(given.evidence_relied_on)
            if number not in charge.evidence
        ]
        if given.finding == "proved" and not given.evidence_relied_on:
            problems.append(
                FieldProblem(
                    field=f"{at}.evidence_relied_on",
                    message="a proved charge rests on at least one of its evidence items",
                )
            )
    problems += [
        FieldProblem(
            field="charges", message=f"charge {charge.number} ({charge.rule}) has no finding"
        )
        for charge in standing
        if charge.id not in seen
    ]
    return problems


async def weigh_determination(
    session: AsyncSession,
    *,
    case: Case,
    finding: Finding | None,
    charges: list[ChargeFindingCreate],
    recommended_penalty: str | None,
) -> Verdict:
    standing = await standing_charges(session, case=case)
    problems = charge_finding_problems(charges, standing=standing)
    proved_ids = {given.charge_id for given in charges if given.finding == "proved"}
    derived: Finding = "violation" if proved_ids else "cleared"
    if finding is not None and finding != derived:
        problems.append(
            FieldProblem(
                field="finding",
                message=f"the charges' findings make it '{derived}': omit it or say so",
            )
        )
    problems += await penalty_problems(
        session, penalty=recommended_penalty, any_proved=bool(proved_ids)
    )
    if problems:
        raise InvalidInput(
            "A determination finds on every standing charge, on that charge's own evidence.",
            errors=problems,
        )
    proved = [charge.rule for charge in standing if charge.id in proved_ids]
    return Verdict(
        finding=derived,
        rules_cited=proved if proved else [charge.rule for charge in standing],
        recommended_penalty=recommended_penalty,
        charge_findings=[
            ChargeFinding(
                charge_id=given.charge_id,
                case_id=case.id,
                finding=given.finding,
                reasons=given.reasons,
                evidence_relied_on=sorted(set(given.evidence_relied_on)),
            )
            for given in charges
        ],
    )


async def proved_rules(session: AsyncSession, *, case: Case) -> list[str] | None:
    """The rules of the charges found proved, in charge order; None when the determination
    recorded no finding per charge (one recorded before findings per charge were required)."""
    rows = (
        await session.execute(
            select(Charge.rule, ChargeFinding.finding)
            .join(ChargeFinding, ChargeFinding.charge_id == Charge.id)
            .where(ChargeFinding.case_id == case.id)
            .order_by(Charge.number)
        )
    ).all()
    if not rows:
        return None
    return [rule for rule, finding in rows if finding == "proved"]
