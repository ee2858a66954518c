"""Reading a case's charges and evidence items: what the notice, the determination and the
case's page are built from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.models import Case
from services.review.charges.models import CaseEvidence, Charge, ChargeFinding


async def charges_of(session: AsyncSession, *, case: Case) -> list[Charge]:
    """Every charge of the case, withdrawn ones too, by number."""
    return list(
        (
            await session.scalars(
                select(Charge).where(Charge.case_id == case.id).order_by(Charge.number)
            )
        ).all()
    )


async def standing_charges(session: AsyncSession, *, case: Case) -> list[Charge]:
    return [
        charge for charge in await charges_of(session, case=case) if charge.withdrawn_at is None
    ]


async def evidence_of(session: AsyncSession, *, case: Case) -> list[CaseEvidence]:
    return list(
        (
            await session.scalars(
                select(CaseEvidence)
                .where(CaseEvidence.case_id == case.id)
                .order_by(CaseEvidence.number)
            )
        ).all()
    )


async def findings_of(session: AsyncSession, *, case: Case) -> list[ChargeFinding]:
    return list(
        (await session.scalars(select(ChargeFinding).where(ChargeFinding.case_id == case.id))).all()
    )
