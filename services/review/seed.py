"""The demo monitoring unit for local runs: a chair and two members, with personal credentials."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.units.models import Member, MemberRole, MonitoringUnit
from services.review.units.service import (
    add_member,
    authenticate_member,
    create_unit,
    issue_member_credential,
)
from shared.credentials import parse_bearer
from shared.errors import Unauthenticated

DEMO_UNIT_CODE = "SMMU-HEALTH"
DEMO_JURISDICTION = ("HEALTH", "MTI-LRH")
DEMO_MEMBERS: tuple[tuple[str, MemberRole, str, str, str], ...] = (
    ("review_chair", "chair", "Dr. Ayesha Khan", "EMP-9001", "Office of the Secretary"),
    ("review_member_1", "member", "Bilal Ahmed", "EMP-9002", "Establishment Wing"),
    ("review_member_2", "member", "Sana Malik", "EMP-9003", "IT Wing"),
)


async def _still_valid(session: AsyncSession, token: str | None, member: Member) -> bool:
    if not token:
        return False
    try:
        key_id, secret = parse_bearer(f"Bearer {token}")
        return (await authenticate_member(session, key_id=key_id, secret=secret)).id == member.id
    except Unauthenticated:
        return False


async def seed_demo(session: AsyncSession, *, known_tokens: dict[str, str]) -> dict[str, str]:
    """Make sure the demo unit exists; return a working token per demo member (reusing the
    known ones that still work)."""
    unit = await session.scalar(select(MonitoringUnit).where(MonitoringUnit.code == DEMO_UNIT_CODE))
    if unit is None:
        unit = await create_unit(
            session,
            code=DEMO_UNIT_CODE,
            name="Social Media Monitoring Unit, Health Department",
            jurisdiction=DEMO_JURISDICTION,
        )
    tokens: dict[str, str] = {}
    for label, role, name, employee_ref, office in DEMO_MEMBERS:
        member = await session.scalar(
            select(Member).where(Member.unit_id == unit.id, Member.employee_ref == employee_ref)
        )
        if member is None:
            member = await add_member(
                session, unit=unit, name=name, employee_ref=employee_ref, office=office, role=role
            )
        known = known_tokens.get(label)
        if known and await _still_valid(session, known, member):
            tokens[label] = known
        else:
            tokens[label] = (await issue_member_credential(session, member=member)).token
    return tokens
