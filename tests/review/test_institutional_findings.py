"""MTI violator-list rows in review, fed as intake stages them (violator_list.entry_received)
through the real review worker, then worked over the review API: each row opens one case for
confirmation in the unit covering the institution, assigned like a report case; the procedure
is the usual gated one, unless the institution's record shows notice and reply, which the
assignee may accept explicitly, on the case's history, instead of serving a second notice."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work, utcnow
from shared.messages import Envelope, ViolatorListEntryReceived
from shared.outbox import stage_message
from shared.queue import queue_name
from shared.settings import ServiceSettings
from tests.factories import (
    SeededMember,
    SeededUnit,
    bearer,
    create_unit_with_members,
    open_report_case,
    unique_code,
)
from tests.registry.factories import issue_reader
from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    act,
    announced_statuses,
    assignee_of,
    determination_body,
    determine,
    read_case,
    screen_to_proceed,
)
from tests.support import deliver_again, pump, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")

RULE = "CR1964-22"
ON_RECORD = "notice-and-reply-on-record"
CHECKED = {"checked": "Show-cause notice of 3 Nov and the employee's written reply of 6 Nov."}
CONFIRMED = "Confirmed on the record."


def violator_row(institution: str, **overrides: Any) -> ViolatorListEntryReceived:
    fields: dict[str, Any] = {
        "entry_id": uuid.uuid4(),
        "batch_id": uuid.uuid4(),
        "row_number": 3,
        "institution": institution,
        "employee_ref": f"EMP-{uuid.uuid4().hex[:6]}",
        "name": "Dr. Farah Naz",
        "designation": "Senior Registrar",
        "office": "Department of Surgery",
        "rule": RULE,
        "platform": "x",
        "finding": "Posted a ward's internal duty roster with a comment on the management.",
        "found_on": date(2026, 11, 2),
        "institution_finding_ref": f"LRH/DC/{uuid.uuid4().hex[:4]}",
        "notice_and_reply_on_record": False,
        "received_at": utcnow(),
    }
    fields.update(overrides)
    return ViolatorListEntryReceived(**fields)


async def stage_row(
    sessionmaker: async_sessionmaker[AsyncSession], row: ViolatorListEntryReceived
) -> Envelope:
    """What intake's violator-list API does for each accepted row: stage the message."""
    async with unit_of_work(sessionmaker) as session:
        return await stage_message(
            session, row, producer="intake", correlation_id=f"test-{row.entry_id}"
        )


async def cases_for_entry(
    sessionmaker: async_sessionmaker[AsyncSession], entry_id: uuid.UUID
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT id, kind, state, unit_id, assignee_id FROM review.case "
                "WHERE submission_id = :id"
            ),
            {"id": entry_id},
        )
        return [dict(row._mapping) for row in rows]


async def opened_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    row: ViolatorListEntryReceived,
) -> uuid.UUID:
    await stage_row(sessionmaker, row)
    await pump(sessionmaker, queue)
    [case] = await cases_for_entry(sessionmaker, row.entry_id)
    case_id: uuid.UUID = case["id"]
    return case_id


async def covered_institution(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[str, SeededUnit]:
    institution = unique_code("MTI")
    return institution, await create_unit_with_members(sessionmaker, jurisdiction=[institution])


async def staged_determinations(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope->'payload' FROM review.outbox_message "
                "WHERE message_type = 'determination.recorded' "
                "AND envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
        return [payload for (payload,) in rows]


async def test_a_row_opens_one_case_assigned_in_the_unit_covering_the_institution(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    institution, unit = await covered_institution(sessionmaker)
    elsewhere = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    row = violator_row(institution)

    case_id = await opened_case(sessionmaker, queue, row)

    member = await assignee_of(unit, case_id, review_api)
    case = await read_case(review_api, case_id, member)
    assert (case["kind"], case["state"], case["assignee_id"]) == (
        "institutional_finding",
        "assigned",
        str(member.id),
    )
    assert case["submission_id"] == str(row.entry_id)
    assert case["department"] == institution
    assert (case["subject_employee_ref"], case["subject_name"]) == (row.employee_ref, row.name)
    assert case["subject_office"] == "Department of Surgery"
    assert case["rules_alleged"] == [RULE]
    assert case["content_excerpt"] == row.finding
    assert case["platform"] == "x" and case["evidence_count"] == 0
    finding = case["institutional_finding"]
    assert finding["institution"] == institution
    assert finding["institution_finding_ref"] == row.institution_finding_ref
    assert (finding["rule"], finding["found_on"], finding["row_number"]) == (
        RULE,
        "2026-11-02",
        3,
    )
    assert finding["notice_and_reply_on_record"] is False
    assert finding["record_accepted_by"] is None
    assert "reporter_ref" not in case
    assert row.institution_finding_ref in case["history"][0]["reason"]
    assert [event["to_state"] for event in case["history"]] == ["received", "assigned"]
    # The member's list and the chair's queue show the kind; the institution hears "assigned".
    listed = (await review_api.get("/v1/cases", headers=member.headers)).json()["items"]
    assert [(item["id"], item["kind"]) for item in listed] == [
        (str(case_id), "institutional_finding")
    ]
    assert await announced_statuses(sessionmaker, case_id) == ["assigned"]
    for outsider in (elsewhere.chair, elsewhere.members[0]):
        assert (
            await review_api.get(f"/v1/cases/{case_id}", headers=outsider.headers)
        ).status_code == 404


async def test_a_redelivered_or_restaged_row_opens_nothing_new(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    institution, unit = await covered_institution(sessionmaker)
    row = violator_row(institution)
    envelope = await stage_row(sessionmaker, row)
    await pump(sessionmaker, queue)
    [case] = await cases_for_entry(sessionmaker, row.entry_id)

    # The same message again, twice, as arq would after its result expired (new job ids)...
    await deliver_again(queue, envelope, to="review", copies=2)
    assert await run_worker("review", queue) == 2
    # ...and the same row staged again under a new message id, as a retried batch might.
    await stage_row(sessionmaker, row)
    await pump(sessionmaker, queue)

    assert await cases_for_entry(sessionmaker, row.entry_id) == [case]
    held = [
        item["id"]
        for m in unit.members
        for item in (await review_api.get("/v1/cases", headers=m.headers)).json()["items"]
    ]
    assert held == [str(case["id"])]
    assert await announced_statuses(sessionmaker, case["id"]) == ["assigned"]
    async with sessionmaker() as session:
        details = await session.scalar(
            text("SELECT count(*) FROM review.institutional_finding WHERE entry_id = :id"),
            {"id": row.entry_id},
        )
    assert details == 1


async def test_a_row_nobody_may_take_waits_unassigned(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    # An institution no unit covers: the case is opened, in no unit's hands, announced to
    # nobody, as a report from a department no unit covers.
    uncovered = violator_row(unique_code("MTI"))
    await stage_row(sessionmaker, uncovered)
    await pump(sessionmaker, queue)
    [waiting] = await cases_for_entry(sessionmaker, uncovered.entry_id)
    assert (waiting["state"], waiting["unit_id"], waiting["assignee_id"]) == (
        "received",
        None,
        None,
    )
    assert await announced_statuses(sessionmaker, waiting["id"]) == []

    # A unit covers the institution but every member works there: the institution is the
    # reporting party, so they are conflicted and the case waits in the unit's queue.
    institution = unique_code("MTI")
    unit = await create_unit_with_members(
        sessionmaker, jurisdiction=[institution], member_offices=[institution, institution]
    )
    row = violator_row(institution)
    case_id = await opened_case(sessionmaker, queue, row)

    queued = (await review_api.get("/v1/cases", headers=unit.chair.headers)).json()["items"]
    assert [(item["id"], item["state"], item["assignee_id"]) for item in queued] == [
        (str(case_id), "received", None)
    ]
    for member in unit.members:
        assert (await review_api.get("/v1/cases", headers=member.headers)).json()["items"] == []
    chairs_view = await read_case(review_api, case_id, unit.chair)
    assert chairs_view["institutional_finding"]["institution"] == institution


async def test_without_the_record_the_procedure_is_the_usual_one(
    review_api: httpx.AsyncClient,
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    institution, unit = await covered_institution(sessionmaker)
    row = violator_row(institution, notice_and_reply_on_record=False)
    case_id = await opened_case(sessionmaker, queue, row)
    member = await assignee_of(unit, case_id, review_api)

    early = await determine(review_api, case_id, member, reasons=CONFIRMED)
    assert early.status_code == 409 and early.json()["code"] == "illegal-transition"
    assert "a notice must have been served" in early.json()["detail"]
    # The institution's row does not say its record shows notice and reply: no shortcut.
    shortcut = await act(review_api, case_id, ON_RECORD, member, CHECKED)
    assert shortcut.status_code == 409, shortcut.text
    assert "institution's record must show" in shortcut.json()["detail"]
    assert (await read_case(review_api, case_id, member))["state"] == "assigned"

    notice = {"allegations": f"{institution} finding {row.institution_finding_ref}: {row.finding}"}
    await screen_to_proceed(review_api, case_id, member)
    assert (await act(review_api, case_id, "notice", member, notice)).status_code == 200
    ungated = await determine(review_api, case_id, member, reasons=CONFIRMED)
    assert ungated.status_code == 409 and "reply" in ungated.json()["detail"]
    assert (await act(review_api, case_id, "reply", member, REPLY)).status_code == 200
    late_shortcut = await act(review_api, case_id, ON_RECORD, member, CHECKED)
    assert late_shortcut.status_code == 409
    unheard = await determine(review_api, case_id, member, reasons=CONFIRMED)
    assert unheard.status_code == 409 and "hearing held or waived" in unheard.json()["detail"]
    assert (await act(review_api, case_id, "hearing", member, HEARING)).status_code == 200
    determined = await determine(review_api, case_id, member, reasons=CONFIRMED)
    assert determined.status_code == 200, determined.text
    assert await staged_determinations(sessionmaker, case_id) == []
    countersigned = await act(review_api, case_id, "countersign", unit.chair)
    assert countersigned.status_code == 200, countersigned.text

    [staged] = await staged_determinations(sessionmaker, case_id)
    assert (staged["employee_ref"], staged["employee_name"]) == (row.employee_ref, row.name)
    assert (staged["rules_cited"], staged["finding"]) == ([RULE], "violation")
    assert (staged["department"], staged["submission_id"]) == (institution, str(row.entry_id))
    assert staged["countersigned_by"] == str(unit.chair.id)
    await pump(sessionmaker, queue)
    reader = await issue_reader(sessionmaker, organisation_code=institution)
    violations = (await registry_api.get("/v1/violations", headers=bearer(reader))).json()
    assert [v["rules_cited"] for v in violations["items"]] == [[RULE]]
    assert (await read_case(review_api, case_id, member))["state"] == "recorded"
    assert await announced_statuses(sessionmaker, case_id) == [
        "assigned",
        "notice_issued",
        "reply_received",
        "determined",
    ]


async def test_with_the_record_the_member_goes_to_the_hearing_without_a_notice(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    institution, unit = await covered_institution(sessionmaker)
    row = violator_row(institution, notice_and_reply_on_record=True)
    case_id = await opened_case(sessionmaker, queue, row)
    member = await assignee_of(unit, case_id, review_api)
    colleague = next(m for m in unit.members if m != member)

    # The record is not accepted by itself: the hearing and the determination still wait.
    confirmed = await determination_body(
        review_api, f"/v1/cases/{case_id}", member.headers, reasons=CONFIRMED
    )
    for step, body in (("hearing", HEARING), ("determination", confirmed)):
        refused = await act(review_api, case_id, step, member, body)
        assert refused.status_code == 409, (step, refused.text)
    # Bad acceptances: no account of what was checked, a blank one, an unknown field; someone
    # other than the assignee. None changes the case.
    for bad, field in (({}, "checked"), ({"checked": "  "}, "checked"), ({**CHECKED, "x": 1}, "x")):
        invalid = await act(review_api, case_id, ON_RECORD, member, bad)
        assert invalid.status_code == 422, (bad, invalid.text)
        assert {error["field"] for error in invalid.json()["errors"]} == {field}
    chair = await act(review_api, case_id, ON_RECORD, unit.chair, CHECKED)
    assert chair.status_code == 403 and chair.json()["code"] == "not-assignee"
    assert (await act(review_api, case_id, ON_RECORD, colleague, CHECKED)).status_code == 404
    unchanged = await read_case(review_api, case_id, member)
    assert unchanged["state"] == "assigned"
    assert unchanged["institutional_finding"]["record_accepted_at"] is None

    accepted = await act(review_api, case_id, ON_RECORD, member, CHECKED)

    assert accepted.status_code == 200, accepted.text
    case = accepted.json()
    assert case["state"] == "reply_received" and case["notice"] is None
    finding = case["institutional_finding"]
    assert finding["record_accepted_by"] == str(member.id) and finding["record_accepted_at"]
    why = case["history"][-1]
    assert (why["from_state"], why["to_state"], why["actor_member_id"]) == (
        "in_review",
        "reply_received",
        str(member.id),
    )
    assert "institution's record" in why["reason"]
    assert f"{institution} finding {row.institution_finding_ref}" in why["reason"]
    assert CHECKED["checked"] in why["reason"]
    # No second notice, and no second acceptance.
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 409
    assert (await act(review_api, case_id, ON_RECORD, member, CHECKED)).status_code == 409
    held = {
        "held_on": date.today().isoformat(),
        "attendees": ["Dr. Farah Naz (employee)", "member 1"],
        "minutes": "The employee confirmed her reply to the institution.",
    }
    before_acceptance = {**held, "held_on": (date.today() - timedelta(days=3)).isoformat()}
    too_early = await act(review_api, case_id, "hearing", member, before_acceptance)
    assert too_early.status_code == 422
    assert "institution's record" in too_early.json()["errors"][0]["message"]
    heard = await act(review_api, case_id, "hearing", member, held)
    assert heard.status_code == 200, heard.text
    determined = await determine(review_api, case_id, member, reasons=CONFIRMED)
    assert determined.status_code == 200, determined.text
    countersigned = await act(review_api, case_id, "countersign", unit.chair)
    assert countersigned.status_code == 200, countersigned.text

    history = countersigned.json()["history"]
    assert [event["to_state"] for event in history] == [
        "received",
        "assigned",
        "in_review",
        "reply_received",
        "hearing_concluded",
        "determined",
        "determined",
    ]
    [staged] = await staged_determinations(sessionmaker, case_id)
    assert (staged["employee_ref"], staged["rules_cited"]) == (row.employee_ref, [RULE])
    assert await announced_statuses(sessionmaker, case_id) == [
        "assigned",
        "reply_received",
        "determined",
    ]


async def test_a_report_case_has_no_institutions_record_to_accept(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    member: SeededMember = await assignee_of(unit, case_id, review_api)

    refused = await act(review_api, case_id, ON_RECORD, member, CHECKED)

    assert refused.status_code == 409 and refused.json()["code"] == "illegal-transition"
    case = await read_case(review_api, case_id, member)
    assert case["state"] == "assigned" and case["kind"] == "report"
    assert case["institutional_finding"] is None


async def test_a_row_that_breaks_the_contract_opens_nothing_and_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    institution, _ = await covered_institution(sessionmaker)
    settings = ServiceSettings()
    for bad in (
        # A field the contract does not know (a verdict, which a row never carries)...
        {"verdict": "guilty"},
        # ...and a row with no finding reference and a date that is not one.
        {"institution_finding_ref": None, "found_on": "last week"},
    ):
        row = violator_row(institution)
        envelope = Envelope.wrap(row, producer="intake", correlation_id="test-poison")
        document = envelope.model_dump(mode="json")
        document["payload"] = {**document["payload"], **bad}
        poison_id = f"{queue_name(settings, 'review')}:poison:{uuid.uuid4()}"
        await queue.enqueue_job(
            envelope.type,
            document,
            _job_id=poison_id,
            _queue_name=queue_name(settings, "review"),
        )

        assert await run_worker("review", queue) == 1

        assert await cases_for_entry(sessionmaker, row.entry_id) == []
        async with sessionmaker() as session:
            dead = (
                await session.execute(
                    text("SELECT message_type, error FROM review.dead_letter WHERE job_id = :id"),
                    {"id": poison_id},
                )
            ).one()
        assert dead.message_type == "violator_list.entry_received"
        assert dead.error.startswith("PoisonMessage"), bad
