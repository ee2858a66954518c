"""The whole role x endpoint policy, written as data: which roles of which service may call
each route of its OpenAPI document (S5), and how the abuse tests call each one (a valid body
and query, so a refusal means the caller, never the input).

Roles (tests/abuse/world.py): intake's `department` (a portal with reports, permissions,
status and notices scopes) and `institution` (an MTI with violator-lists and status scopes); review's
`chair`, `assignee` (the member the case is assigned to) and `member` (of the same unit, not
assigned it); registry's `auditor`, `dashboard` and `competent_authority`, each bound to its
department. A route missing from POLICY fails the tests until someone writes it down."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from tests.factories import report_body, violator_row
from tests.intake.evidence_support import PDF
from tests.permission_factories import personal_request_body
from tests.registry.factories import sanction_order
from tests.review.steps import SCREEN

Route = tuple[str, str, str]

DEPARTMENT = frozenset({"department"})
INSTITUTION = frozenset({"institution"})
CHAIR = frozenset({"chair"})
ASSIGNEE = frozenset({"assignee"})
CASE_READERS = frozenset({"chair", "assignee"})
EVERY_MEMBER = frozenset({"chair", "assignee", "member"})
RECORD_READERS = frozenset({"auditor", "competent_authority"})
EVERY_READER = frozenset({"auditor", "dashboard", "competent_authority"})

POLICY: dict[Route, frozenset[str]] = {
    ("intake", "POST", "/v1/reports"): DEPARTMENT,
    ("intake", "GET", "/v1/reports/{report_id}"): DEPARTMENT,
    ("intake", "POST", "/v1/evidence-files"): DEPARTMENT,
    ("intake", "GET", "/v1/evidence-files/{evidence_file_id}"): DEPARTMENT,
    ("intake", "GET", "/v1/evidence-files/{evidence_file_id}/content"): DEPARTMENT,
    ("intake", "POST", "/v1/evidence-files/{evidence_file_id}/hand-overs"): DEPARTMENT,
    ("intake", "POST", "/v1/permission-requests"): DEPARTMENT,
    ("intake", "GET", "/v1/permission-requests/{request_id}"): DEPARTMENT,
    ("intake", "POST", "/v1/violator-lists"): INSTITUTION,
    ("intake", "GET", "/v1/violator-lists/{batch_id}"): INSTITUTION,
    ("intake", "GET", "/v1/violator-lists/{batch_id}/rejections"): INSTITUTION,
    ("intake", "GET", "/v1/violator-lists/{batch_id}/entries"): INSTITUTION,
    ("intake", "GET", "/v1/notices"): DEPARTMENT,
    ("intake", "GET", "/v1/notices/{notice_id}"): DEPARTMENT,
    ("intake", "POST", "/v1/notices/{notice_id}/receipt"): DEPARTMENT,
    ("intake", "POST", "/v1/notices/{notice_id}/replies"): DEPARTMENT,
    ("intake", "PUT", "/v1/webhook"): DEPARTMENT,
    ("intake", "GET", "/v1/webhook"): DEPARTMENT,
    ("intake", "DELETE", "/v1/webhook"): DEPARTMENT,
    ("intake", "GET", "/v1/webhook/deliveries"): DEPARTMENT,
    ("review", "GET", "/v1/cases"): EVERY_MEMBER,
    ("review", "GET", "/v1/cases/{case_id}"): CASE_READERS,
    ("review", "POST", "/v1/cases/{case_id}/screen"): ASSIGNEE,
    ("review", "GET", "/v1/cases/{case_id}/screen"): CASE_READERS,
    ("review", "POST", "/v1/cases/{case_id}/extensions"): ASSIGNEE,
    ("review", "GET", "/v1/cases/{case_id}/extensions"): CASE_READERS,
    ("review", "POST", "/v1/cases/{case_id}/extensions/{extension_id}/decision"): CHAIR,
    ("review", "POST", "/v1/cases/{case_id}/notice"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/evidence/clearances"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/confidential-channel/outcome"): CHAIR,
    ("review", "GET", "/v1/cases/{case_id}/notice/bundle"): CASE_READERS,
    ("review", "GET", "/v1/cases/{case_id}/charges"): CASE_READERS,
    ("review", "POST", "/v1/cases/{case_id}/charges"): ASSIGNEE,
    ("review", "PATCH", "/v1/cases/{case_id}/charges/{charge_id}"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/charges/{charge_id}/withdrawal"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/reply"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/hearing"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/determination"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/countersign"): CHAIR,
    ("review", "POST", "/v1/cases/{case_id}/dismissal"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/notice-and-reply-on-record"): ASSIGNEE,
    ("review", "GET", "/v1/cases/{case_id}/permission"): CASE_READERS,
    ("review", "POST", "/v1/cases/{case_id}/permission-decision"): ASSIGNEE,
    ("review", "POST", "/v1/cases/{case_id}/appeal"): CHAIR,
    # Only an appellate authority decides appeals, and the world's units have none.
    ("review", "POST", "/v1/cases/{case_id}/appeal-decision"): frozenset(),
    ("review", "GET", "/v1/cases/{case_id}/appeal"): EVERY_MEMBER,
    ("review", "POST", "/v1/units/{unit_id}/meetings"): CHAIR,
    ("review", "GET", "/v1/units/{unit_id}/meetings"): EVERY_MEMBER,
    ("review", "GET", "/v1/units/{unit_id}/summary"): CHAIR,
    ("review", "GET", "/v1/units/{unit_id}/members"): CHAIR,
    ("review", "POST", "/v1/units/{unit_id}/members/{member_id}/deactivation"): CHAIR,
    ("review", "POST", "/v1/units/{unit_id}/members/{member_id}/leave"): CHAIR,
    ("review", "DELETE", "/v1/units/{unit_id}/members/{member_id}/leave"): CHAIR,
    ("registry", "GET", "/v1/catalogue/rules"): EVERY_READER,
    ("registry", "GET", "/v1/catalogue/penalties"): EVERY_READER,
    ("registry", "GET", "/v1/violations"): RECORD_READERS,
    ("registry", "GET", "/v1/violations/export.csv"): RECORD_READERS,
    ("registry", "GET", "/v1/violations/{record_id}"): RECORD_READERS,
    ("registry", "POST", "/v1/violations/{record_id}/sanctions"): frozenset(
        {"competent_authority"}
    ),
    ("registry", "GET", "/v1/violations/{record_id}/sanctions"): RECORD_READERS,
    ("registry", "GET", "/v1/permissions"): RECORD_READERS,
    ("registry", "GET", "/v1/permissions/check"): RECORD_READERS,
    ("registry", "GET", "/v1/official-accounts"): EVERY_READER,
    ("registry", "GET", "/v1/statistics"): EVERY_READER,
    ("registry", "GET", "/v1/statistics/export.csv"): EVERY_READER,
    ("registry", "GET", "/v1/statistics/inconsistent-sanctions"): RECORD_READERS,
    ("registry", "GET", "/v1/employees/{employee_ref}/record"): RECORD_READERS,
    ("registry", "GET", "/v1/employees/{employee_ref}/record-reads"): RECORD_READERS,
    ("registry", "GET", "/v1/audit/verify"): frozenset({"auditor"}),
    ("registry", "GET", "/v1/audit/checkpoints"): frozenset({"auditor"}),
    ("registry", "POST", "/v1/retention/preview"): frozenset({"auditor"}),
    ("registry", "POST", "/v1/retention/runs"): frozenset({"auditor"}),
}

STATEMENT = "Recorded by the abuse tests with enough words to be a statement."


def _json(make: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    return lambda: {"json": make()}


# How each route is called beyond its path and credential: a fresh, valid body or query.
REQUESTS: dict[Route, Callable[[], dict[str, Any]]] = {
    ("intake", "POST", "/v1/reports"): _json(report_body),
    ("intake", "POST", "/v1/evidence-files"): lambda: {
        "content": PDF,
        "headers": {"Content-Type": "application/pdf"},
    },
    ("intake", "POST", "/v1/evidence-files/{evidence_file_id}/hand-overs"): _json(
        lambda: {"recipient": "Inquiry officer", "note": "Sealed copy"}
    ),
    ("intake", "POST", "/v1/permission-requests"): _json(personal_request_body),
    ("intake", "POST", "/v1/violator-lists"): _json(
        lambda: {"batch_key": uuid.uuid4().hex, "rows": [violator_row(1)]}
    ),
    ("intake", "PUT", "/v1/webhook"): _json(lambda: {"url": "https://1.1.1.1/conduct-hook"}),
    ("intake", "POST", "/v1/notices/{notice_id}/replies"): _json(
        lambda: {"statement": STATEMENT, "request_hearing": True}
    ),
    ("review", "POST", "/v1/cases/{case_id}/screen"): _json(lambda: dict(SCREEN)),
    ("review", "POST", "/v1/cases/{case_id}/extensions"): _json(
        lambda: {"reason": STATEMENT, "working_days": 2}
    ),
    ("review", "POST", "/v1/cases/{case_id}/extensions/{extension_id}/decision"): _json(
        lambda: {"decision": "refused", "reason": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/notice"): _json(lambda: {"allegations": STATEMENT}),
    ("review", "POST", "/v1/cases/{case_id}/evidence/clearances"): _json(
        lambda: {"items": [{"number": 1, "decision": "no_identifying_details"}]}
    ),
    ("review", "POST", "/v1/cases/{case_id}/confidential-channel/outcome"): _json(
        lambda: {"outcome": "dismissed", "reasons": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/charges"): _json(
        lambda: {
            "rule": "CR1964-18",
            "particulars": STATEMENT,
            "evidence": [1],
            "reason": STATEMENT,
        }
    ),
    ("review", "PATCH", "/v1/cases/{case_id}/charges/{charge_id}"): _json(
        lambda: {"particulars": STATEMENT, "reason": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/charges/{charge_id}/withdrawal"): _json(
        lambda: {"reason": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/reply"): _json(lambda: {"statement": STATEMENT}),
    ("review", "POST", "/v1/cases/{case_id}/hearing"): _json(
        lambda: {"waived": True, "reason": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/determination"): _json(
        lambda: {
            "reasons": STATEMENT,
            "charges": [
                {"charge_id": str(uuid.uuid4()), "finding": "not_proved", "reasons": STATEMENT}
            ],
        }
    ),
    ("review", "POST", "/v1/cases/{case_id}/dismissal"): _json(lambda: {"reasons": STATEMENT}),
    ("review", "POST", "/v1/cases/{case_id}/notice-and-reply-on-record"): _json(
        lambda: {"checked": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/permission-decision"): _json(
        lambda: {"decision": "refused", "reasons": STATEMENT}
    ),
    ("review", "POST", "/v1/units/{unit_id}/members/{member_id}/deactivation"): _json(
        lambda: {"reason": STATEMENT}
    ),
    ("review", "POST", "/v1/units/{unit_id}/members/{member_id}/leave"): _json(
        lambda: {"reason": STATEMENT}
    ),
    ("review", "POST", "/v1/cases/{case_id}/appeal"): _json(
        lambda: {"grounds": STATEMENT, "filed_on": date.today().isoformat()}
    ),
    ("review", "POST", "/v1/cases/{case_id}/appeal-decision"): _json(
        lambda: {"outcome": "upheld", "reasons": STATEMENT}
    ),
    # The attendee is nobody of the unit: the chair's call is judged (422), others refused.
    ("review", "POST", "/v1/units/{unit_id}/meetings"): _json(
        lambda: {
            "held_on": date.today().isoformat(),
            "attendee_ids": [str(uuid.uuid4())],
            "agenda": STATEMENT,
        }
    ),
    ("review", "GET", "/v1/units/{unit_id}/summary"): lambda: {
        "params": {"from": "2026-01-01", "to": date.today().isoformat()}
    },
    ("registry", "GET", "/v1/employees/{employee_ref}/record"): lambda: {
        "params": {"reason": STATEMENT}
    },
    ("registry", "POST", "/v1/violations/{record_id}/sanctions"): _json(sanction_order),
    # A digest no preview gives: the auditor's run is judged (409), others refused.
    ("registry", "POST", "/v1/retention/runs"): _json(lambda: {"preview_digest": "0" * 64}),
    ("registry", "GET", "/v1/permissions/check"): lambda: {
        "params": {"platform": "x", "account_handle": "@nobody", "on": "2026-06-01"}
    },
}


def request_of(route: Route) -> dict[str, Any]:
    make = REQUESTS.get(route)
    return make() if make else {}


def object_ids(path: str, ids: dict[str, str]) -> dict[str, str]:
    """The organisation's ids for a path: routes about a permission case take that case."""
    if "/permission" in path and "{case_id}" in path:
        return {**ids, "case_id": ids["permission_case_id"]}
    return ids
