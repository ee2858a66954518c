"""Clearing a case's evidence for disclosure to the employee. Review never holds the reporter's
identity fields, but an item's free-text description or its snapshot image could still name
the reporter, so before the notice the assigned member decides each item the charges rely on:

- `redacted`: a redacted description is given, and that is what the employee reads;
- `no_identifying_details`: the item's text is confirmed free of identifying details;
- either way, an item with a snapshot is cleared only with the snapshot confirmed reviewed;
- `withheld` (with the reason): the item stays with the unit. Due process: what a charge
  relies on is shown to the employee, so an item a charge relies on cannot be withheld (409
  naming it), and no charge may come to rely on a withheld item (422 naming it).

The notice is refused until every item its charges rely on is cleared (409 naming them), and
its bundle carries only the cleared form. Each decision is on the case's history.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.review.cases.models import Case
from services.review.charges.errors import EvidenceNotCleared
from services.review.charges.models import CaseEvidence, Charge
from services.review.charges.schemas import EvidenceClearance, EvidenceItemRead
from shared.errors import FieldProblem

DISCLOSURE_GATE = (
    "evidence is cleared for disclosure only while the case is under review and before any "
    "notice is served"
)


def clearance_problems(
    given: EvidenceClearance, *, at: str, item: CaseEvidence | None
) -> list[FieldProblem]:
    if item is None:
        return [FieldProblem(field=f"{at}.number", message="the case has no such evidence item")]
    problems: list[FieldProblem] = []
    if given.decision == "redacted" and given.description is None:
        problems.append(
            FieldProblem(field=f"{at}.description", message="required: the redacted description")
        )
    if given.decision != "redacted" and given.description is not None:
        problems.append(FieldProblem(field=f"{at}.description", message="only for a redacted item"))
    if given.decision == "withheld":
        if given.reason is None:
            problems.append(
                FieldProblem(field=f"{at}.reason", message="required: why it is withheld")
            )
        if given.snapshot_reviewed is not None:
            problems.append(
                FieldProblem(field=f"{at}.snapshot_reviewed", message="not for a withheld item")
            )
    elif item.snapshot_file_id is not None and given.snapshot_reviewed is not True:
        problems.append(
            FieldProblem(
                field=f"{at}.snapshot_reviewed",
                message=f"item {item.number} has a snapshot: confirm it was reviewed (true) "
                "before it is disclosed",
            )
        )
    elif item.snapshot_file_id is None and given.snapshot_reviewed is not None:
        problems.append(
            FieldProblem(
                field=f"{at}.snapshot_reviewed", message=f"item {item.number} has no snapshot"
            )
        )
    return problems


def relied_on_by(charges: Iterable[Charge], number: int) -> list[Charge]:
    return [charge for charge in charges if number in charge.evidence]


def withheld_problems(
    items: Iterable[CaseEvidence], *, numbers: Iterable[int], field: str
) -> list[FieldProblem]:
    """A charge may not rely on an item withheld from the employee."""
    withheld = {item.number for item in items if item.disclosure == "withheld"}
    return [
        FieldProblem(
            field=f"{field}.{index}",
            message=f"evidence item {number} is withheld from the employee: a charge cannot "
            "rely on it",
        )
        for index, number in enumerate(numbers)
        if number in withheld
    ]


def require_cleared(items: Iterable[CaseEvidence], *, relied_on: set[int], case: Case) -> None:
    """The notice's gate: every item the charges rely on is cleared for disclosure."""
    uncleared = sorted(
        item.number for item in items if item.number in relied_on and item.disclosure != "cleared"
    )
    if uncleared:
        raise EvidenceNotCleared(
            "Before the notice, every evidence item the charges rely on must be cleared for "
            "disclosure to the employee (a redacted description, or the text confirmed free "
            "of identifying details, and any snapshot reviewed): items "
            f"{', '.join(map(str, uncleared))} are not (POST /v1/cases/{case.id}/evidence/"
            "clearances)."
        )


def disclosed_form(item: CaseEvidence) -> EvidenceItemRead:
    """The item as the employee is shown it: the cleared description, the snapshot only once
    reviewed."""
    return EvidenceItemRead(
        number=item.number,
        kind=item.kind,
        description=item.disclosed_description,
        url=item.url,
        platform_post_id=item.platform_post_id,
        author_handle=item.author_handle,
        captured_at=item.captured_at,
        snapshot_file_id=item.snapshot_file_id if item.snapshot_reviewed else None,
    )
