"""Drafting a new case's evidence items and charges from what it was opened on: item 1 is the
reported content, the report's own items follow; one charge per alleged rule, and a separate
charge of group-administrator liability when the employee administers the group where the
breach happened. The member then adds, amends or withdraws charges until the notice is served.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.models import Case
from services.review.catalogue.models import RuleReference
from services.review.charges.models import CaseEvidence, Charge
from shared.messages import ReportedEvidence

GROUP_ADMINISTRATOR_RULE = "NOTIF-GROUP-ADMINISTRATOR"
# The report's own evidence items, when its message carries them.
ReportedItems = Sequence[ReportedEvidence] | None
# How much of the reported content a charge's particulars quote.
QUOTED_CHARACTERS = 500


def evidence_items(case: Case, reported: ReportedItems) -> list[CaseEvidence]:
    """The case's evidence items, numbered from 1: the reported content (an institution's
    finding, for its case), then the report's items. Without the items themselves, each is
    known by its number only (intake holds it)."""
    items = [
        CaseEvidence(
            case_id=case.id,
            number=1,
            # An institution's finding comes with its own words, not the post.
            kind="institution_finding"
            if case.kind == "institutional_finding"
            else "reported_content",
            description=case.content_excerpt,
            url=case.content_url,
            captured_at=case.posted_at,
        )
    ]
    if reported is not None:
        items += [
            CaseEvidence(
                case_id=case.id,
                number=number,
                kind=item.kind[:32],
                description=item.description,
                url=item.url,
                platform_post_id=item.platform_post_id,
                author_handle=item.author_handle,
                captured_at=item.captured_at,
                snapshot_file_id=item.snapshot_file_id,
            )
            for number, item in enumerate(reported, start=2)
        ]
    else:
        items += [
            CaseEvidence(
                case_id=case.id,
                number=position + 1,
                kind="report_item",
                description=f"Evidence item {position} of the report, held by intake",
            )
            for position in range(1, case.evidence_count + 1)
        ]
    return items


def quoted_content(case: Case) -> str:
    excerpt = case.content_excerpt
    if len(excerpt) > QUOTED_CHARACTERS:
        excerpt = excerpt[: QUOTED_CHARACTERS - 1] + "…"
    posted = f" on {case.posted_at.date().isoformat()}" if case.posted_at else ""
    where = f" ({case.content_url})" if case.content_url else ""
    return f"posted on {case.platform}{posted}{where}: “{excerpt}”"


async def draft_charges(
    session: AsyncSession, *, case: Case, reported: ReportedItems = None
) -> list[Charge]:
    """Draft the evidence items and charges of a due-process case just opened. A rule the
    replica does not know keeps its code as its title: the intake checked it against the same
    catalogue, and the member can withdraw it."""
    if case.kind == "permission":
        return []
    items = evidence_items(case, reported)
    session.add_all(items)
    every_item = [item.number for item in items]
    rules = list(dict.fromkeys(case.rules_alleged))
    bases = dict.fromkeys(rules, "alleged")
    if case.is_group_administrator:
        bases[GROUP_ADMINISTRATOR_RULE] = "group_administrator"
    rows = await session.execute(
        select(RuleReference.code, RuleReference.title).where(RuleReference.code.in_(list(bases)))
    )
    titles = {row.code: row.title for row in rows}
    others = ", ".join(rule for rule in rules if rule != GROUP_ADMINISTRATOR_RULE)
    charges = []
    for number, (rule, basis) in enumerate(bases.items(), start=1):
        if basis == "group_administrator":
            particulars = (
                f"As administrator of the {case.platform} group in which this was "
                f"{quoted_content(case)}, the employee is liable for the breach"
                + (f" alleged under {others}." if others else ".")
            )
        elif case.kind == "institutional_finding":
            particulars = f"As the institution found: “{case.content_excerpt}”"
        else:
            particulars = f"The employee {quoted_content(case)}"
        charges.append(
            Charge(
                case_id=case.id,
                number=number,
                rule=rule,
                rule_title=titles.get(rule, rule),
                basis=basis,
                particulars=particulars,
                evidence=every_item,
                drafted_at=case.updated_at,
            )
        )
    # Written with the case's next flush (its assignment), not a round trip of their own.
    session.add_all(charges)
    return charges
