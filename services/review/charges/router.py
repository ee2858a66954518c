"""Charge endpoints: the case's charges, which its assigned member adds, amends or withdraws
before the notice is served, the clearance of its evidence for disclosure, and the disclosure
bundle served with the notice."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.review.cases.errors import CaseNotFound, NotAssignee
from services.review.cases.router import MemberCase
from services.review.charges import notice, service
from services.review.charges.errors import (
    ChargeNotFound,
    ChargesFrozen,
    DisclosureClosed,
    EvidenceReliedOn,
    NoNotice,
)
from services.review.charges.repository import charges_of
from services.review.charges.schemas import (
    CaseEvidenceRead,
    ChargeAmendment,
    ChargeCreate,
    ChargeList,
    ChargeRead,
    ChargeWithdrawal,
    DisclosureBundleRead,
    EvidenceClearanceCreate,
)
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/cases", tags=["charges"])
CHANGE_ERRORS = responses_for(
    Unauthenticated, NotAssignee, CaseNotFound, ChargeNotFound, ChargesFrozen, InvalidInput
)


@router.get(
    "/{case_id}/charges",
    response_model=ChargeList,
    responses=responses_for(Unauthenticated, CaseNotFound),
)
async def list_charges(case: MemberCase, session: DbSession) -> ChargeList:
    """The case's charges by number, withdrawn ones marked, and whether they are frozen."""
    return ChargeList(
        items=[
            ChargeRead.model_validate(charge) for charge in await charges_of(session, case=case)
        ],
        frozen=service.charges_frozen(case),
    )


@router.post(
    "/{case_id}/charges", response_model=ChargeRead, status_code=201, responses=CHANGE_ERRORS
)
async def add_charge(
    charge_in: ChargeCreate, case: MemberCase, member: CurrentMember, session: DbSession
) -> ChargeRead:
    """Add a charge under a rule of the catalogue not yet charged, relying on some of the
    case's evidence items, with the reason (on the case's history). Only before the notice."""
    charge = await service.add_charge(session, case=case, member=member, charge_in=charge_in)
    return ChargeRead.model_validate(charge)


@router.patch("/{case_id}/charges/{charge_id}", response_model=ChargeRead, responses=CHANGE_ERRORS)
async def amend_charge(
    charge_id: uuid.UUID,
    amendment: ChargeAmendment,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
) -> ChargeRead:
    """Restate a standing charge's particulars or evidence, with the reason (on the case's
    history). Only before the notice."""
    charge = await service.amend_charge(
        session, case=case, member=member, charge_id=charge_id, amendment=amendment
    )
    return ChargeRead.model_validate(charge)


@router.post(
    "/{case_id}/charges/{charge_id}/withdrawal", response_model=ChargeRead, responses=CHANGE_ERRORS
)
async def withdraw_charge(
    charge_id: uuid.UUID,
    withdrawal: ChargeWithdrawal,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
) -> ChargeRead:
    """Withdraw a standing charge, with the reason (on the case's history); it stays on the
    record, marked. Only before the notice."""
    charge = await service.withdraw_charge(
        session, case=case, member=member, charge_id=charge_id, withdrawal=withdrawal
    )
    return ChargeRead.model_validate(charge)


@router.post(
    "/{case_id}/evidence/clearances",
    response_model=list[CaseEvidenceRead],
    responses=responses_for(
        Unauthenticated,
        NotAssignee,
        CaseNotFound,
        DisclosureClosed,
        EvidenceReliedOn,
        InvalidInput,
    ),
)
async def clear_evidence(
    clearance_in: EvidenceClearanceCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
) -> list[CaseEvidenceRead]:
    """Clear evidence items for disclosure to the employee before the notice (the assigned
    member): each `redacted` (with the redacted `description`), `no_identifying_details` (its
    text confirmed free of anything identifying the reporter) or `withheld` (with the
    `reason`); an item with a snapshot is cleared only with `snapshot_reviewed: true`. An item
    a charge relies on cannot be withheld (409 `evidence-relied-on`). The notice is refused
    until every item its charges rely on is cleared, and its bundle carries only the cleared
    form. Returns every item of the case with its clearance."""
    items = await service.clear_evidence(
        session, case=case, member=member, clearance_in=clearance_in
    )
    return [CaseEvidenceRead.model_validate(item) for item in items]


@router.get(
    "/{case_id}/notice/bundle",
    response_model=DisclosureBundleRead,
    responses=responses_for(Unauthenticated, CaseNotFound, NoNotice),
)
async def disclosure_bundle(case: MemberCase, session: DbSession) -> DisclosureBundleRead:
    """The redacted disclosure bundle served with the notice: the evidence items the charges
    rely on, as served, with nothing that identifies the reporter."""
    return await notice.disclosure_bundle(session, case=case)
