"""The assignee's changes to a case's charges before the notice is served: add, amend, withdraw,
each with its reason on the case's history; and the clearance of its evidence for disclosure
(charges/disclosure.py). Once the notice is served the charges are what it alleged, and they
and the clearances are frozen (409 naming the gate)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.history import note_on_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case
from services.review.cases.procedure import begin_review, require_assignee, require_due_process_case
from services.review.catalogue.models import RuleReference
from services.review.charges.disclosure import (
    DISCLOSURE_GATE,
    clearance_problems,
    relied_on_by,
    withheld_problems,
)
from services.review.charges.errors import (
    ChargeNotFound,
    ChargesFrozen,
    DisclosureClosed,
    EvidenceReliedOn,
)
from services.review.charges.models import CaseEvidence, Charge
from services.review.charges.repository import evidence_of, standing_charges
from services.review.charges.schemas import (
    ChargeAmendment,
    ChargeCreate,
    ChargeWithdrawal,
    EvidenceClearanceCreate,
)
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput

# Charges change while the case is with its member and no notice is served.
OPEN_TO_CHANGE = frozenset({CaseState.ASSIGNED, CaseState.IN_REVIEW})
FROZEN_GATE = "charges change only while the case is under review and before any notice is served"


def charges_frozen(case: Case) -> bool:
    return case.state not in OPEN_TO_CHANGE


async def check_evidence_numbers(
    session: AsyncSession, *, case: Case, numbers: Iterable[int], field: str
) -> list[int]:
    """The numbers, in order and once each, if all are evidence items of the case."""
    items = await evidence_of(session, case=case)
    held = {item.number for item in items}
    numbers = list(numbers)
    problems = [
        FieldProblem(field=f"{field}.{index}", message=f"the case has no evidence item {number}")
        for index, number in enumerate(numbers)
        if number not in held
    ]
    problems += withheld_problems(items, numbers=numbers, field=field)
    if problems:
        raise InvalidInput(
            "A charge relies only on the case's own evidence items.", errors=problems
        )
    return sorted(set(numbers))


async def _open_for_change(session: AsyncSession, *, case: Case, member: Member) -> None:
    require_due_process_case(case)
    require_assignee(case, member)
    if charges_frozen(case):
        raise ChargesFrozen(
            f"The charges of a case in state '{case.state}' are frozen: {FROZEN_GATE}."
        )
    await begin_review(session, case=case, member=member)


async def add_charge(
    session: AsyncSession, *, case: Case, member: Member, charge_in: ChargeCreate
) -> Charge:
    await _open_for_change(session, case=case, member=member)
    rule = await session.get(RuleReference, charge_in.rule)
    if rule is None:
        codes = await session.scalars(select(RuleReference.code).order_by(RuleReference.code))
        raise InvalidInput(
            f"{charge_in.rule} is not a rule of the catalogue.",
            errors=[
                FieldProblem(
                    field="rule",
                    message=f"not a rule of the rules catalogue (one of: {', '.join(codes)})",
                )
            ],
        )
    if any(charge.rule == rule.code for charge in await standing_charges(session, case=case)):
        raise InvalidInput(
            f"The case already has a standing charge under {rule.code}.",
            errors=[
                FieldProblem(field="rule", message="already charged: amend that charge instead")
            ],
        )
    evidence = await check_evidence_numbers(
        session, case=case, numbers=charge_in.evidence, field="evidence"
    )
    number = (
        await session.scalar(select(func.max(Charge.number)).where(Charge.case_id == case.id)) or 0
    ) + 1
    now = utcnow()
    charge = Charge(
        id=uuid.uuid4(),
        case_id=case.id,
        number=number,
        rule=rule.code,
        rule_title=rule.title,
        basis="added",
        particulars=charge_in.particulars,
        evidence=evidence,
        drafted_at=now,
    )
    session.add(charge)
    note_on_case(
        session,
        case=case,
        actor=member,
        reason=f"charge {number} added under {rule.code}: {charge_in.reason}",
        at=now,
    )
    await session.flush()
    return charge


async def _charge_on_case(session: AsyncSession, *, case: Case, charge_id: uuid.UUID) -> Charge:
    charge = await session.get(Charge, charge_id)
    if charge is None or charge.case_id != case.id:
        raise ChargeNotFound(f"No charge {charge_id} on case {case.id}.")
    if charge.withdrawn_at is not None:
        raise ChargesFrozen(f"Charge {charge.number} was withdrawn; a withdrawn charge stays so.")
    return charge


async def amend_charge(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    charge_id: uuid.UUID,
    amendment: ChargeAmendment,
) -> Charge:
    await _open_for_change(session, case=case, member=member)
    charge = await _charge_on_case(session, case=case, charge_id=charge_id)
    if amendment.particulars is None and amendment.evidence is None:
        raise InvalidInput(
            "An amendment changes the particulars, the evidence, or both.",
            errors=[
                FieldProblem(field=name, message="give the new value")
                for name in ("particulars", "evidence")
            ],
        )
    changed = []
    if amendment.evidence is not None:
        evidence = await check_evidence_numbers(
            session, case=case, numbers=amendment.evidence, field="evidence"
        )
        changed.append(f"evidence now items {', '.join(map(str, evidence))}")
        charge.evidence = evidence
    if amendment.particulars is not None:
        changed.append("particulars restated")
        charge.particulars = amendment.particulars
    charge.amended_at = utcnow()
    note_on_case(
        session,
        case=case,
        actor=member,
        reason=f"charge {charge.number} ({charge.rule}) amended, {'; '.join(changed)}: "
        f"{amendment.reason}",
        at=charge.amended_at,
    )
    await session.flush()
    return charge


async def withdraw_charge(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    charge_id: uuid.UUID,
    withdrawal: ChargeWithdrawal,
) -> Charge:
    await _open_for_change(session, case=case, member=member)
    charge = await _charge_on_case(session, case=case, charge_id=charge_id)
    charge.withdrawn_at = utcnow()
    charge.withdrawal_reason = withdrawal.reason
    note_on_case(
        session,
        case=case,
        actor=member,
        reason=f"charge {charge.number} ({charge.rule}) withdrawn: {withdrawal.reason}",
        at=charge.withdrawn_at,
    )
    await session.flush()
    return charge


async def clear_evidence(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    clearance_in: EvidenceClearanceCreate,
) -> list[CaseEvidence]:
    """Record the member's decision on each item named; a later decision replaces an earlier
    one until the notice is served."""
    require_due_process_case(case)
    require_assignee(case, member)
    if charges_frozen(case):
        raise DisclosureClosed(f"The case is in state '{case.state}': {DISCLOSURE_GATE}.")
    items = {item.number: item for item in await evidence_of(session, case=case)}
    problems: list[FieldProblem] = []
    seen: set[int] = set()
    for index, given in enumerate(clearance_in.items):
        at = f"items.{index}"
        if given.number in seen:
            problems.append(FieldProblem(field=f"{at}.number", message="named twice"))
            continue
        seen.add(given.number)
        problems += clearance_problems(given, at=at, item=items.get(given.number))
    if problems:
        raise InvalidInput(
            "Each item is redacted, confirmed free of identifying details, or withheld, as "
            "its fields say.",
            errors=problems,
        )
    standing = await standing_charges(session, case=case)
    for given in clearance_in.items:
        relying = relied_on_by(standing, given.number)
        if given.decision == "withheld" and relying:
            raise EvidenceReliedOn(
                f"Evidence item {given.number} is relied on by "
                + ", ".join(f"charge {c.number} ({c.rule})" for c in relying)
                + ": what a charge relies on is disclosed to the employee. Amend or withdraw "
                "the charge first, or clear the item."
            )
    now = utcnow()
    for given in clearance_in.items:
        item = items[given.number]
        item.disclosure = "withheld" if given.decision == "withheld" else "cleared"
        item.disclosure_basis = given.decision
        item.disclosed_description = (
            given.description
            if given.decision == "redacted"
            else (item.description if given.decision == "no_identifying_details" else None)
        )
        item.snapshot_reviewed = given.snapshot_reviewed
        item.disclosure_reason = given.reason
        item.disclosure_decided_by = member.id
        item.disclosure_decided_at = now
        what = {
            "redacted": "cleared for disclosure with a redacted description",
            "no_identifying_details": "cleared for disclosure, its text confirmed free of "
            "identifying details",
            "withheld": "withheld from disclosure",
        }[given.decision]
        if given.decision != "withheld" and item.snapshot_file_id is not None:
            what += ", its snapshot reviewed"
        note_on_case(
            session,
            case=case,
            actor=member,
            reason=f"evidence item {item.number} {what}"
            + (f": {given.reason}" if given.reason else ""),
            at=now,
        )
    await session.flush()
    return [items[number] for number in sorted(items)]
