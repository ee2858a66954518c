"""Who works a case: eligibility, conflicts of interest and the load rule. Pure, so the same
inputs always give the same choice and the rule can be tested on its own.

Eligible: an active member (role "member") not on leave, in a unit whose jurisdiction covers the
case, who is not the subject, not in the subject's office or chain of command (above or below
them, from the organisation's roster), not the reporter or in the reporter's office (compared
through pseudonyms: review never learns who reported), and not an earlier decider on the
case. Among the eligible, the fewest open cases wins; ties go to the one idle
longest; then the member id decides, so the choice is deterministic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.pseudonyms import pseudonym

INVESTIGATING_ROLES = frozenset({"member"})
NEVER_ASSIGNED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    member_id: uuid.UUID
    employee_ref: str
    office: str
    role: str
    active: bool
    on_leave: bool
    open_cases: int
    last_assigned_at: datetime | None
    # Everyone above the member in the roster of the case's organisation.
    supervisors: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CaseParties:
    subject_employee_ref: str
    subject_office: str
    reporter_ref: str
    reporter_office_ref: str
    earlier_deciders: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Everyone above the subject in their organisation's roster.
    subject_supervisors: frozenset[str] = frozenset()


def _same(left: str, right: str) -> bool:
    return " ".join(left.split()).casefold() == " ".join(right.split()).casefold()


def conflicts_of_interest(
    candidate: Candidate, parties: CaseParties, *, pseudonym_key: str
) -> list[str]:
    """The reasons this member may not work this case (empty: none)."""
    reasons: list[str] = []
    if _same(candidate.employee_ref, parties.subject_employee_ref):
        reasons.append("is the subject")
    if _same(candidate.office, parties.subject_office):
        reasons.append("works in the subject's office")
    if (
        pseudonym(pseudonym_key, kind="employee", value=candidate.employee_ref)
        == parties.reporter_ref
    ):
        reasons.append("is the reporter")
    if (
        pseudonym(pseudonym_key, kind="office", value=candidate.office)
        == parties.reporter_office_ref
    ):
        reasons.append("works in the reporter's office")
    if candidate.employee_ref in parties.subject_supervisors:
        reasons.append("is above the subject in their chain of command")
    if parties.subject_employee_ref in candidate.supervisors:
        reasons.append("is below the subject in their chain of command")
    if candidate.member_id in parties.earlier_deciders:
        reasons.append("decided earlier on this case")
    return reasons


def is_eligible(candidate: Candidate, parties: CaseParties, *, pseudonym_key: str) -> bool:
    return (
        candidate.active
        and not candidate.on_leave
        and candidate.role in INVESTIGATING_ROLES
        and not conflicts_of_interest(candidate, parties, pseudonym_key=pseudonym_key)
    )


def choose_assignee(
    candidates: Iterable[Candidate], parties: CaseParties, *, pseudonym_key: str
) -> Candidate | None:
    eligible = [c for c in candidates if is_eligible(c, parties, pseudonym_key=pseudonym_key)]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda c: (c.open_cases, c.last_assigned_at or NEVER_ASSIGNED, str(c.member_id)),
    )
