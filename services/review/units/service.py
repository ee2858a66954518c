"""Creating units and members, and issuing and checking members' personal credentials."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.units.models import (
    Member,
    MemberCredential,
    MemberRole,
    MonitoringUnit,
    UnitJurisdiction,
)
from shared.credentials import (
    IssuedCredential,
    invalid_credential,
    issue_credential,
    secret_matches,
)


async def create_unit(
    session: AsyncSession, *, code: str, name: str, jurisdiction: Iterable[str]
) -> MonitoringUnit:
    unit = MonitoringUnit(code=code, name=name)
    session.add(unit)
    await session.flush()
    session.add_all(
        [UnitJurisdiction(unit_id=unit.id, organisation_code=code) for code in set(jurisdiction)]
    )
    await session.flush()
    return unit


async def add_member(
    session: AsyncSession,
    *,
    unit: MonitoringUnit,
    name: str,
    employee_ref: str,
    office: str,
    role: MemberRole,
) -> Member:
    member = Member(
        unit_id=unit.id, name=name, employee_ref=employee_ref, office=office, role=role, active=True
    )
    session.add(member)
    await session.flush()
    return member


async def issue_member_credential(session: AsyncSession, *, member: Member) -> IssuedCredential:
    issued = issue_credential("mk")
    session.add(
        MemberCredential(key_id=issued.key_id, secret_hash=issued.secret_hash, member_id=member.id)
    )
    await session.flush()
    return issued


async def authenticate_member(session: AsyncSession, *, key_id: str, secret: str) -> Member:
    found = (
        await session.execute(
            select(MemberCredential, Member)
            .join(Member, Member.id == MemberCredential.member_id)
            .where(MemberCredential.key_id == key_id)
        )
    ).first()
    if found is None:
        raise invalid_credential()
    credential, member = found
    if (
        not secret_matches(secret, credential.secret_hash)
        or credential.revoked_at is not None
        or not member.active
    ):
        raise invalid_credential()
    return member
