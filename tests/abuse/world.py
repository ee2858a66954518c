"""Two organisations side by side, each with one credential per role and one object of every
kind an endpoint names by id: what the object-level matrix (S1) and the role x endpoint policy
(S5) are checked against.

An organisation is a department (its portal), an institution (an MTI), a monitoring unit whose
jurisdiction is that department (chair, the member assigned its cases, and a member who is
not), and registry readers bound to that department (one per role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.notices.service import keep_served_notice
from services.registry.permissions.recording import record_permission_decision
from services.review.cases.models import Case
from services.review.cases.procedure import serve_notice
from services.review.cases.schemas import NoticeCreate, NoticeRead
from services.review.charges.repository import evidence_of
from services.review.charges.schemas import EvidenceClearanceCreate
from services.review.charges.service import clear_evidence
from services.review.notices.schemas import ExtensionCreate
from services.review.notices.service import deliver_notice, request_extension
from services.review.screening.schemas import ScreenCreate
from services.review.screening.service import screen_case
from services.review.settings import get_settings
from services.review.units.models import Member, MonitoringUnit
from services.review.units.service import add_member, issue_member_credential
from shared.db import unit_of_work, utcnow
from shared.messages import NoticeServed, Service
from tests.abuse.apps import service_client
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    open_report_case,
    report_body,
    unique_code,
    violator_row,
)
from tests.intake.evidence_support import PDF
from tests.permission_factories import open_permission_case, personal_request_body
from tests.registry.factories import (
    append_settled_violation,
    issue_reader,
    official_account_decision,
    personal_permission_decision,
)
from tests.review.steps import SCREEN

Sessionmaker = async_sessionmaker[AsyncSession]
DEPARTMENT_SCOPES = ("reports:write", "permissions:write", "status:read", "notices:respond")
INSTITUTION_SCOPES = ("violator-lists:write", "status:read")

# Every role of every service: the callers of the matrix and of the policy.
ROLES: dict[Service, tuple[str, ...]] = {
    "intake": ("department", "institution"),
    "review": ("chair", "assignee", "member"),
    "registry": ("auditor", "dashboard", "competent_authority"),
}


@dataclass
class Organisation:
    department: str
    institution: str
    tokens: dict[str, str] = field(default_factory=dict)
    # id parameter name -> this organisation's object; `case_id` is a report's case,
    # `permission_case_id` a permission request's case (routes under /permission take it).
    ids: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.tokens[role])


@dataclass
class World:
    a: Organisation
    b: Organisation
    evidence_directory: str


async def assignee_of(sessionmaker: Sessionmaker, case_id: uuid.UUID) -> uuid.UUID:
    async with sessionmaker() as session:
        assignee: uuid.UUID | None = (
            await session.execute(
                text("SELECT assignee_id FROM review.case WHERE id = :id"), {"id": case_id}
            )
        ).scalar_one()
    assert assignee is not None, "the case was not assigned"
    return assignee


async def first_charge_of(sessionmaker: Sessionmaker, case_id: uuid.UUID) -> uuid.UUID:
    async with sessionmaker() as session:
        charge_id: uuid.UUID = (
            await session.execute(
                text("SELECT id FROM review.charge WHERE case_id = :id AND number = 1"),
                {"id": case_id},
            )
        ).scalar_one()
    return charge_id


async def add_unit_member(
    sessionmaker: Sessionmaker, unit_id: uuid.UUID, label: str
) -> tuple[str, str]:
    """A member added after the cases were assigned: (member id, token)."""
    async with unit_of_work(sessionmaker) as session:
        unit = await session.get(MonitoringUnit, unit_id)
        assert unit is not None
        member = await add_member(
            session,
            unit=unit,
            name=f"{label} member",
            employee_ref=f"EMP-{unique_code(label)}",
            office=f"Office {unique_code(label)}",
            role="member",
        )
        issued = await issue_member_credential(session, member=member)
        return str(member.id), issued.token


async def serve_with_extension(
    sessionmaker: Sessionmaker, case_id: uuid.UUID, assignee: uuid.UUID
) -> tuple[str, str]:
    """The case screened, its notice served and kept by intake for the portal, and an
    extension of its window asked for: (intake's notice id, the extension's id)."""
    settings = get_settings()
    async with unit_of_work(sessionmaker) as session:
        case = await session.get(Case, case_id)
        member = await session.get(Member, assignee)
        assert case is not None and member is not None
        await screen_case(
            session,
            case=case,
            member=member,
            screen_in=ScreenCreate.model_validate(SCREEN),
            correlation_id="abuse-world",
        )
        await clear_evidence(
            session,
            case=case,
            member=member,
            clearance_in=EvidenceClearanceCreate.model_validate(
                {
                    "items": [
                        {"number": item.number, "decision": "no_identifying_details"}
                        | ({"snapshot_reviewed": True} if item.snapshot_file_id else {})
                        for item in await evidence_of(session, case=case)
                    ]
                }
            ),
        )
        notice = await serve_notice(
            session,
            case=case,
            member=member,
            notice_in=NoticeCreate(allegations="Rule 22: the post."),
            settings=settings,
            correlation_id="abuse-world",
        )
        content = NoticeRead.model_validate(notice)
        await deliver_notice(
            session,
            case=case,
            notice=content,
            reply_due_on=notice.reply_due_on,
            correlation_id="abuse-world",
        )
        extension = await request_extension(
            session,
            case=case,
            member=member,
            extension_in=ExtensionCreate(
                reason="The employee is on medical leave.", working_days=3
            ),
            settings=settings,
            on=utcnow().date(),
        )
        served = NoticeServed(
            case_id=case.id,
            submission_id=case.submission_id,
            department=case.department,
            employee_ref=case.subject_employee_ref,
            employee_name=case.subject_name,
            reply_due_on=notice.reply_due_on,
            served_at=notice.issued_at,
            notice=content.model_dump(mode="json"),
        )
    async with unit_of_work(sessionmaker) as session:
        await keep_served_notice(session, served=served)
        notice_id = (
            await session.execute(
                text("SELECT id FROM intake.served_notice WHERE case_id = :id"), {"id": case_id}
            )
        ).scalar_one()
    return str(notice_id), str(extension.id)


async def seed_organisation(sessionmaker: Sessionmaker, evidence_directory: str) -> Organisation:
    org = Organisation(department=unique_code("DEPT"), institution=unique_code("MTI"))
    org.tokens["department"] = await create_client(
        sessionmaker, organisation_code=org.department, scopes=DEPARTMENT_SCOPES
    )
    org.tokens["institution"] = await create_client(
        sessionmaker,
        organisation_code=org.institution,
        organisation_kind="institution",
        scopes=INSTITUTION_SCOPES,
    )
    async with service_client("intake", evidence_directory=evidence_directory) as intake:
        portal, mti = org.headers("department"), org.headers("institution")
        report = await intake.post("/v1/reports", json=report_body(), headers=portal)
        assert report.status_code == 202, report.text
        request = await intake.post(
            "/v1/permission-requests", json=personal_request_body(), headers=portal
        )
        assert request.status_code == 202, request.text
        evidence = await intake.post(
            "/v1/evidence-files", content=PDF, headers={**portal, "Content-Type": "application/pdf"}
        )
        assert evidence.status_code == 201, evidence.text
        batch = await intake.post(
            "/v1/violator-lists",
            json={"batch_key": uuid.uuid4().hex, "rows": [violator_row(1)]},
            headers=mti,
        )
        assert batch.status_code == 201, batch.text
    org.ids.update(
        report_id=report.json()["id"],
        request_id=request.json()["id"],
        evidence_file_id=evidence.json()["id"],
        batch_id=batch.json()["id"],
    )

    unit = await create_unit_with_members(
        sessionmaker, jurisdiction=[org.department], member_count=1
    )
    case_id = await open_report_case(sessionmaker, department=org.department)
    permission_case_id = await open_permission_case(sessionmaker, department=org.department)
    people = {unit.chair.id: unit.chair.token, **{m.id: m.token for m in unit.members}}
    assignee = await assignee_of(sessionmaker, case_id)
    assert await assignee_of(sessionmaker, permission_case_id) == assignee
    org.tokens["chair"] = unit.chair.token
    org.tokens["assignee"] = people[assignee]
    _, org.tokens["member"] = await add_unit_member(sessionmaker, unit.id, "OTHER")
    spare_id, _ = await add_unit_member(sessionmaker, unit.id, "SPARE")
    notice_id, extension_id = await serve_with_extension(sessionmaker, case_id, assignee)
    org.ids.update(
        notice_id=notice_id,
        extension_id=extension_id,
        case_id=str(case_id),
        charge_id=str(await first_charge_of(sessionmaker, case_id)),
        permission_case_id=str(permission_case_id),
        unit_id=str(unit.id),
        member_id=spare_id,
    )

    for role in ROLES["registry"]:
        org.tokens[role] = await issue_reader(
            sessionmaker,
            role=role,
            organisation_code=org.department,  # type: ignore[arg-type]
        )
    violation = await append_settled_violation(sessionmaker, department=org.department)
    org.ids["record_id"] = str(violation.id)
    org.ids["employee_ref"] = violation.employee_ref
    async with unit_of_work(sessionmaker) as session:
        await record_permission_decision(
            session,
            decision=personal_permission_decision(department=org.department),
            correlation_id="abuse-world",
        )
        await record_permission_decision(
            session,
            decision=official_account_decision(
                department=org.department, valid_from=date(2026, 1, 1)
            ),
            correlation_id="abuse-world",
        )
    return org


async def seed_world(sessionmaker: Sessionmaker, evidence_directory: str) -> World:
    return World(
        a=await seed_organisation(sessionmaker, evidence_directory),
        b=await seed_organisation(sessionmaker, evidence_directory),
        evidence_directory=evidence_directory,
    )
