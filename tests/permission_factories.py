"""Valid permission-request bodies, personal and for an official account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work, utcnow
from shared.messages import (
    AccountModerator,
    PermissionApplicant,
    PermissionKind,
    PermissionRequested,
)

PORTAL_SCOPES = ("permissions:write", "status:read")


def personal_request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "personal",
        "platform": "facebook",
        "account_handle": "@dr.ayesha",
        "account_url": "https://facebook.example/dr.ayesha",
        "purpose": "Sharing public-health awareness material with colleagues.",
        "applicant": {
            "employee_ref": f"EMP-{uuid.uuid4().hex[:6]}",
            "name": "Ayesha Khan",
            "designation": "Medical Officer",
            "office": "District Headquarters Hospital",
        },
    }
    body.update(overrides)
    return body


def official_account_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "official_account",
        "platform": "x",
        "account_handle": "@HealthDeptKP",
        "account_url": "https://x.example/HealthDeptKP",
        "purpose": "Answering citizens' complaints about hospital services.",
        "account_purpose": "complaints",
        "moderators": [
            {"employee_ref": "EMP-MOD-1", "name": "Bilal Ahmed", "designation": "IT Officer"},
            {"employee_ref": "EMP-MOD-2", "name": "Sana Iqbal", "designation": "PRO"},
        ],
    }
    body.update(overrides)
    return body


async def open_permission_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    department: str,
    kind: PermissionKind = "personal",
    applicant_office: str = "District Headquarters Hospital",
    applicant_employee_ref: str | None = None,
) -> uuid.UUID:
    """review's effect of a permission.requested message, applied directly: the case id."""
    from services.review.permissions.service import open_permission_case as open_case
    from services.review.settings import get_settings

    if kind == "personal":
        request = PermissionRequested(
            request_id=uuid.uuid4(),
            kind="personal",
            department=department,
            platform="facebook",
            account_handle="@dr.ayesha",
            account_url=None,
            purpose="Public-health awareness.",
            applicant=PermissionApplicant(
                employee_ref=applicant_employee_ref or f"EMP-{uuid.uuid4().hex[:6]}",
                name="Ayesha Khan",
                designation="Medical Officer",
                office=applicant_office,
            ),
            received_at=utcnow(),
        )
    else:
        request = PermissionRequested(
            request_id=uuid.uuid4(),
            kind="official_account",
            department=department,
            platform="x",
            account_handle="@HealthDept",
            account_url="https://x.example/HealthDept",
            purpose="Complaints about hospital services.",
            account_purpose="complaints",
            moderators=[
                AccountModerator(employee_ref="EMP-MOD-1", name="Bilal", designation="IT Officer")
            ],
            received_at=utcnow(),
        )
    async with unit_of_work(sessionmaker) as session:
        case = await open_case(
            session, request=request, settings=get_settings(), correlation_id="test"
        )
    return case.id
