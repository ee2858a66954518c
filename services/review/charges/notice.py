"""The notice generated from the charges: one allegation per standing charge (rule, clause, what
is alleged, the evidence it relies on), the evidence list, and the redacted disclosure bundle
that goes with it. Both are kept on the notice as served, so the record shows exactly what the
employee was told and shown.

Redaction: the bundle is built only from the case's evidence items, which never hold the
reporter's identity fields (review knows the reporter only by an opaque reference, kept on the
case for conflict checks and never copied here), and only from the items the charges rely on,
each in the form the member cleared for disclosure (charges/disclosure.py): the redacted
description or the text confirmed free of identifying details, the snapshot once reviewed. A
notice is refused while any such item is not cleared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.models import Case, Notice
from services.review.charges.disclosure import disclosed_form, require_cleared
from services.review.charges.errors import NoCharges, NoNotice
from services.review.charges.repository import evidence_of, standing_charges
from services.review.charges.schemas import (
    AllegationRead,
    DisclosureBundleRead,
    NoticeRead,
)


async def generate_notice_content(
    session: AsyncSession, *, case: Case, served_at: datetime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The allegations and the disclosure bundle of the notice about to be served, as JSON;
    refused (409 naming the gate) when the case has no standing charge."""
    charges = await standing_charges(session, case=case)
    if not charges:
        raise NoCharges(
            "A notice is generated from the case's charges and it has none standing: add a "
            f"charge (POST /v1/cases/{case.id}/charges) before serving the notice."
        )
    relied_on = {number for charge in charges for number in charge.evidence}
    evidence = await evidence_of(session, case=case)
    require_cleared(evidence, relied_on=relied_on, case=case)
    items = [disclosed_form(item) for item in evidence if item.number in relied_on]
    allegations = [
        AllegationRead(
            charge_id=charge.id,
            number=charge.number,
            rule=charge.rule,
            rule_title=charge.rule_title,
            particulars=charge.particulars,
            evidence=charge.evidence,
        ).model_dump(mode="json")
        for charge in charges
    ]
    bundle = DisclosureBundleRead(
        case_id=case.id, employee_name=case.subject_name, served_at=served_at, items=items
    ).model_dump(mode="json")
    return allegations, bundle


def notice_read(notice: Notice) -> NoticeRead:
    """The notice as served: its stored allegations and bundle, never regenerated."""
    return NoticeRead.model_validate(notice)


async def disclosure_bundle(session: AsyncSession, *, case: Case) -> DisclosureBundleRead:
    notice = await session.get(Notice, case.id)
    if notice is None or notice.disclosure_bundle is None:
        raise NoNotice(
            "The disclosure bundle goes with the notice generated from the charges, and no such "
            "notice has been served on this case."
        )
    return DisclosureBundleRead.model_validate(notice.disclosure_bundle)
