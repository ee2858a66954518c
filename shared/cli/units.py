"""`conduct units`: monitoring units and their members, for setting a unit up before its chair
can work through the review API. The rules (who takes waiting cases when a member joins, how
member credentials are made) are review's own service functions; this only calls them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, get_args

import typer
from sqlalchemy.exc import IntegrityError

from shared.cli.common import (
    in_transaction,
    refusals_shown,
    refuse,
    say,
    show_rows,
    show_token,
    split_codes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.review.units.models import MemberRole, MonitoringUnit

units = typer.Typer(help="Monitoring units and their members.", no_args_is_help=True)

CODE_LENGTH = 64  # monitoring_unit.code and unit_jurisdiction.organisation_code


def member_roles() -> tuple[str, ...]:
    from services.review.units.models import MemberRole

    return get_args(MemberRole)


def known_role(role: str) -> MemberRole:
    from services.review.units.models import MemberRole

    for known in get_args(MemberRole):
        if known == role:
            return known  # type: ignore[no-any-return]
    raise typer.BadParameter(f"unknown role {role!r}; one of {', '.join(member_roles())}")


async def unit_by_code(session: AsyncSession, code: str) -> MonitoringUnit:
    from sqlalchemy import select

    from services.review.units.models import MonitoringUnit

    unit = await session.scalar(select(MonitoringUnit).where(MonitoringUnit.code == code))
    if unit is None:
        refuse(f"no unit {code}; `conduct units list` shows the units")
    return unit


@units.command("create")
def create_command(
    code: Annotated[str, typer.Argument(help="The unit's short code, unique")],
    name: Annotated[str, typer.Option(help="The unit's name")],
    jurisdiction: Annotated[
        str,
        typer.Option(help="Comma-separated codes of the departments and institutions it serves"),
    ],
) -> None:
    """Create a monitoring unit serving the given departments and institutions.

    Example: conduct units create PUNJAB-HEALTH --name "Health Dept monitoring unit" --jurisdiction DEPT-HEALTH,MTI-KEMU
    """
    organisations = split_codes(jurisdiction)
    if not organisations:
        raise typer.BadParameter(
            "name at least one department or institution", param_hint="--jurisdiction"
        )
    for value, hint in [(code, "CODE"), *((each, "--jurisdiction") for each in organisations)]:
        if len(value) > CODE_LENGTH:
            raise typer.BadParameter(
                f"{value!r} is longer than {CODE_LENGTH} characters", param_hint=hint
            )
    if not code.strip() or not name.strip():
        raise typer.BadParameter("the code and the name may not be empty")

    async def work(session: AsyncSession) -> uuid.UUID:
        from sqlalchemy import select

        from services.review.units.models import MonitoringUnit
        from services.review.units.service import create_unit

        if await session.scalar(select(MonitoringUnit.id).where(MonitoringUnit.code == code)):
            refuse(f"a unit with code {code} exists already")
        unit = await create_unit(session, code=code, name=name, jurisdiction=organisations)
        return unit.id

    try:
        unit_id = in_transaction(work)
    except IntegrityError:
        # Another operator created the same code between our check and our insert.
        refuse(f"a unit with code {code} exists already")
    say(f"unit {code} created ({unit_id}), serving {', '.join(sorted(set(organisations)))}")


@units.command("cover")
def cover_command(
    code: Annotated[str, typer.Argument(help="The unit's code")],
    jurisdiction: Annotated[
        str,
        typer.Option(help="Comma-separated codes of the departments and institutions to add"),
    ],
) -> None:
    """Extend a unit's jurisdiction. Cases of those organisations that were waiting because
    no unit served them are routed to the unit and assigned at once where a member can take them.

    Example: conduct units cover PUNJAB-HEALTH --jurisdiction MTI-NISHTAR,DEPT-PHE
    """
    organisations = split_codes(jurisdiction)
    if not organisations:
        raise typer.BadParameter(
            "name at least one department or institution", param_hint="--jurisdiction"
        )
    for value in organisations:
        if len(value) > CODE_LENGTH:
            raise typer.BadParameter(
                f"{value!r} is longer than {CODE_LENGTH} characters", param_hint="--jurisdiction"
            )

    async def work(session: AsyncSession) -> tuple[list[str], int]:
        from services.review.cases.assignment_service import assign_waiting_cases
        from services.review.cases.routing import extend_jurisdiction, route_unrouted_cases
        from services.review.settings import get_settings

        unit = await unit_by_code(session, code)
        added = await extend_jurisdiction(session, unit=unit, organisations=organisations)
        routed = 0
        while batch := await route_unrouted_cases(session, limit=500):
            routed += sum(batch.values())
        await assign_waiting_cases(
            session,
            unit_id=unit.id,
            settings=get_settings(),
            actor=None,
            correlation_id=f"unit-covers-{uuid.uuid4().hex}",
        )
        return added, routed

    with refusals_shown():
        added, routed = in_transaction(work)
    already = sorted(set(organisations) - set(added))
    say(
        f"unit {code} now also serves {', '.join(added) or 'nothing new'}"
        + (f" (already served: {', '.join(already)})" if already else "")
        + f"; {routed} waiting case(s) routed to it"
    )


@units.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List the monitoring units: code, name, jurisdiction and active members.

    Example: conduct units list --json
    """

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        from sqlalchemy import func, select

        from services.review.units.models import Member, MonitoringUnit, UnitJurisdiction

        found = (await session.scalars(select(MonitoringUnit).order_by(MonitoringUnit.code))).all()
        served: dict[uuid.UUID, list[str]] = {}
        for unit_id, organisation in await session.execute(
            select(UnitJurisdiction.unit_id, UnitJurisdiction.organisation_code).order_by(
                UnitJurisdiction.organisation_code
            )
        ):
            served.setdefault(unit_id, []).append(organisation)
        counted = await session.execute(
            select(Member.unit_id, func.count())
            .where(Member.active.is_(True))
            .group_by(Member.unit_id)
        )
        active: dict[uuid.UUID, int] = dict(counted.all())
        return [
            {
                "code": unit.code,
                "name": unit.name,
                "jurisdiction": served.get(unit.id, []),
                "active_members": active.get(unit.id, 0),
                "id": str(unit.id),
            }
            for unit in found
        ]

    show_rows(
        in_transaction(work),
        columns={
            "code": "code",
            "name": "name",
            "jurisdiction": "jurisdiction",
            "active_members": "active members",
        },
        title="monitoring units",
        empty="no monitoring units yet",
        as_json=as_json,
    )


@units.command("add-member")
def add_member_command(
    unit_code: Annotated[str, typer.Argument(help="The unit's code")],
    name: Annotated[str, typer.Option(help="The member's name")],
    employee_ref: Annotated[str, typer.Option(help="The member's employee number")],
    office: Annotated[str, typer.Option(help="The member's office (conflict checks use it)")],
    role: Annotated[
        str, typer.Option(help="chair, member, secretary, appellate_authority or auditor")
    ],
) -> None:
    """Add a member to a unit and issue their personal credential. An investigating member
    takes the unit's waiting cases at once. The token is printed once, never again.

    Example: conduct units add-member PUNJAB-HEALTH --name "Ayesha Khan" --employee-ref EMP-1042 --office "Secretariat" --role chair
    """
    chosen = known_role(role)

    async def work(session: AsyncSession) -> tuple[uuid.UUID, str]:
        from services.review.units.service import add_member, issue_member_credential

        unit = await unit_by_code(session, unit_code)
        member = await add_member(
            session, unit=unit, name=name, employee_ref=employee_ref, office=office, role=chosen
        )
        issued = await issue_member_credential(session, member=member)
        return member.id, issued.token

    with refusals_shown():
        member_id, token = in_transaction(work)
    say(f"{name} joined {unit_code} as {chosen} (member {member_id})")
    show_token(token, what="member")


@units.command("members")
def members_command(
    unit_code: Annotated[str, typer.Argument(help="The unit's code")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List a unit's members: role, standing (active, on leave, deactivated) and open cases.

    Example: conduct units members PUNJAB-HEALTH
    """

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        from services.review.units.service import unit_members

        unit = await unit_by_code(session, unit_code)
        return [
            {
                "name": member.name,
                "employee_ref": member.employee_ref,
                "office": member.office,
                "role": member.role,
                "standing": (
                    "deactivated"
                    if not member.active
                    else "on leave"
                    if member.on_leave
                    else "active"
                ),
                "open_cases": open_cases,
                "id": str(member.id),
            }
            for member, open_cases in await unit_members(session, unit_id=unit.id)
        ]

    show_rows(
        in_transaction(work),
        columns={
            "name": "name",
            "employee_ref": "employee ref",
            "office": "office",
            "role": "role",
            "standing": "standing",
            "open_cases": "open cases",
        },
        title=f"members of {unit_code}",
        empty=f"{unit_code} has no members yet",
        as_json=as_json,
    )
