"""Small factories: a portal credential, a monitoring unit with members, a valid report body."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.clients.models import OrganisationKind
from services.intake.clients.service import issue_client_credential
from services.intake.violator_lists.schemas import LIST_COLUMNS
from services.review.units.models import MemberRole
from services.review.units.service import add_member, create_unit, issue_member_credential
from shared.db import unit_of_work
from shared.messages import ReportReceived


def unique_code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


async def create_client(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    organisation_code: str,
    organisation_kind: OrganisationKind = "department",
    scopes: tuple[str, ...] = ("reports:write", "status:read"),
) -> str:
    async with unit_of_work(sessionmaker) as session:
        _, issued = await issue_client_credential(
            session,
            label=f"test {organisation_code}",
            organisation_kind=organisation_kind,
            organisation_code=organisation_code,
            scopes=scopes,
        )
    return issued.token


@dataclass(frozen=True)
class SeededMember:
    id: uuid.UUID
    employee_ref: str
    office: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class SeededUnit:
    id: uuid.UUID
    code: str
    chair: SeededMember
    members: list[SeededMember]


async def create_unit_with_members(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    jurisdiction: list[str],
    member_count: int = 2,
    member_offices: list[str] | None = None,
) -> SeededUnit:
    code = unique_code("UNIT")
    async with unit_of_work(sessionmaker) as session:
        unit = await create_unit(session, code=code, name=f"Unit {code}", jurisdiction=jurisdiction)
        people: list[SeededMember] = []
        roles: list[MemberRole] = ["chair", *(["member"] * member_count)]
        for index, role in enumerate(roles):
            office = (
                member_offices[index - 1]
                if member_offices and index > 0
                else f"Office {code} {index}"
            )
            member = await add_member(
                session,
                unit=unit,
                name=f"{role} {index}",
                employee_ref=f"EMP-{code}-{index}",
                office=office,
                role=role,
            )
            issued = await issue_member_credential(session, member=member)
            people.append(
                SeededMember(
                    id=member.id,
                    employee_ref=member.employee_ref,
                    office=office,
                    role=role,
                    token=issued.token,
                )
            )
    return SeededUnit(id=unit.id, code=code, chair=people[0], members=people[1:])


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subjects": [
            {
                "employee_ref": f"EMP-{uuid.uuid4().hex[:6]}",
                "name": "Kamran Yousaf",
                "designation": "Medical Officer",
                "office": "District Headquarters Hospital",
            }
        ],
        "reporter": {
            "employee_ref": "EMP-REPORTER",
            "name": "Focal Person",
            "office": "Complaints Cell",
        },
        "platform": "facebook",
        "content_excerpt": "Posted a photograph of an internal inquiry report with comments.",
        "content_url": "https://facebook.example/posts/123",
        "posted_at": "2026-11-01T10:00:00+05:00",
        "rules_alleged": ["CR1964-22"],
        "evidence": [
            {
                "kind": "post",
                "url": "https://facebook.example/posts/123",
                "platform_post_id": "123",
                "author_handle": "@kamran",
                "captured_at": "2026-11-01T11:00:00+05:00",
                "captured_by": "Focal Person",
            }
        ],
    }
    body.update(overrides)
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report_received(
    *,
    department: str,
    rules_alleged: tuple[str, ...] = ("CR1964-22",),
    reporter_employee_ref: str = "EMP-REPORTER",
    reporter_office: str = "Complaints Cell",
    subject_employee_ref: str | None = None,
    subject_office: str = "District Headquarters Hospital",
) -> ReportReceived:
    """A report.received message as intake would send it, about one subject."""
    from services.review.settings import get_settings
    from shared.db import utcnow
    from shared.messages import AllegedSubject
    from shared.pseudonyms import pseudonym

    key = get_settings().pseudonym_key.get_secret_value()
    return ReportReceived(
        report_id=uuid.uuid4(),
        department=department,
        subjects=[
            AllegedSubject(
                employee_ref=subject_employee_ref or f"EMP-{uuid.uuid4().hex[:6]}",
                name="Kamran Yousaf",
                designation="Medical Officer",
                office=subject_office,
            )
        ],
        platform="facebook",
        content_excerpt="A post.",
        content_url=None,
        posted_at=None,
        rules_alleged=list(rules_alleged),
        evidence_count=0,
        reporter_ref=pseudonym(key, kind="employee", value=reporter_employee_ref),
        reporter_office_ref=pseudonym(key, kind="office", value=reporter_office),
        received_at=utcnow(),
    )


async def open_report_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    department: str,
    rules_alleged: tuple[str, ...] = ("CR1964-22",),
    reporter_employee_ref: str = "EMP-REPORTER",
    reporter_office: str = "Complaints Cell",
    subject_employee_ref: str | None = None,
    subject_office: str = "District Headquarters Hospital",
) -> uuid.UUID:
    """review's effect of a report.received message, applied directly: returns the case id."""
    from services.review.cases.service import open_cases_for_report
    from services.review.settings import get_settings

    report = report_received(
        department=department,
        rules_alleged=rules_alleged,
        reporter_employee_ref=reporter_employee_ref,
        reporter_office=reporter_office,
        subject_employee_ref=subject_employee_ref,
        subject_office=subject_office,
    )
    async with unit_of_work(sessionmaker) as session:
        cases = await open_cases_for_report(
            session, report=report, settings=get_settings(), correlation_id="test"
        )
    return cases[0].id


# The columns as the service defines them (one definition for parser, storing and tests).
VIOLATOR_LIST_COLUMNS = LIST_COLUMNS


def violator_row(number: int = 1, **overrides: Any) -> dict[str, Any]:
    """One valid row of an MTI's violator list."""
    row: dict[str, Any] = {
        "employee_ref": f"MTI-EMP-{number:06d}",
        "name": "Dr. Sana Iqbal",
        "designation": "Assistant Professor",
        "office": "Department of Medicine",
        "rule": "CR1964-22",
        "platform": "facebook",
        "finding": "Posted remarks on a ward's shortages capable of embarrassing the government.",
        "found_on": "2026-10-15",
        "institution_finding_ref": f"INQ/2026/{number:06d}",
        "notice_and_reply_on_record": False,
    }
    row.update(overrides)
    return row


def violator_list_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> bytes:
    """The rows as a UTF-8 CSV with a header row."""
    import csv
    import io

    names = columns or VIOLATOR_LIST_COLUMNS
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(names)
    for row in rows:
        writer.writerow(
            [
                str(row.get(name, "")).lower()
                if isinstance(row.get(name), bool)
                else row.get(name, "")
                for name in names
            ]
        )
    return buffer.getvalue().encode("utf-8")
