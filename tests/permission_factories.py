"""Valid permission-request bodies, personal and for an official account."""

from __future__ import annotations

import uuid
from typing import Any

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
