"""Charges over the review HTTP API: drafted from the report (one per alleged clause, and the
group administrator's own), changed by the assignee only before the notice, the notice generated
from them with its redacted disclosure bundle, and the determination's finding per charge."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import SeededMember, create_unit_with_members, unique_code
from tests.review.charge_steps import (
    ARCHIVE,
    SCREENSHOT,
    open_case_with,
    serve_notice,
    staged_determination,
)
from tests.review.steps import HEARING, REPLY, act, assignee_of, case_row, read_case

pytestmark = pytest.mark.usefixtures("catalogue")


async def case_for_charges(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    **options: Any,
) -> tuple[Any, uuid.UUID, SeededMember]:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_case_with(sessionmaker, department=department, **options)
    return unit, case_id, await assignee_of(unit, case_id, review_api)


async def charges(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember
) -> dict[str, Any]:
    response = await review_api.get(f"/v1/cases/{case_id}/charges", headers=member.headers)
    assert response.status_code == 200, response.text
    listed: dict[str, Any] = response.json()
    return listed


def fields_of(response: httpx.Response) -> list[str]:
    return [problem["field"] for problem in response.json()["errors"]]


async def test_a_report_case_is_drafted_one_charge_per_alleged_clause_plus_group_admin_liability(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await case_for_charges(
        review_api,
        sessionmaker,
        rules_alleged=("CR1964-22", "NOTIF-POLITICAL-SECTARIAN"),
        group_administrator=True,
        evidence=[SCREENSHOT, ARCHIVE],
    )

    case = await read_case(review_api, case_id, member)
    assert [item["number"] for item in case["evidence"]] == [1, 2, 3]
    assert case["evidence"][0]["kind"] == "reported_content"
    assert case["evidence"][1]["snapshot_file_id"] == str(SCREENSHOT.snapshot_file_id)
    drafted = [(c["number"], c["rule"], c["basis"]) for c in case["charges"]]
    assert drafted == [
        (1, "CR1964-22", "alleged"),
        (2, "NOTIF-POLITICAL-SECTARIAN", "alleged"),
        (3, "NOTIF-GROUP-ADMINISTRATOR", "group_administrator"),
    ]
    assert case["charges"][0]["rule_title"] == "Statements embarrassing the government"
    assert "oxygen plant" in case["charges"][0]["particulars"]
    assert "administrator" in case["charges"][2]["particulars"]
    assert all(charge["evidence"] == [1, 2, 3] for charge in case["charges"])
    assert (await charges(review_api, case_id, member))["frozen"] is False


async def test_a_case_opened_from_a_count_of_evidence_numbers_its_items_and_no_admin_charge(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A report.received without the items themselves (only how many): each is known by its
    number; a subject who administers no group gets no administrator's charge."""
    _, case_id, member = await case_for_charges(review_api, sessionmaker, evidence_count=2)

    case = await read_case(review_api, case_id, member)
    assert [item["kind"] for item in case["evidence"]] == [
        "reported_content",
        "report_item",
        "report_item",
    ]
    assert [charge["rule"] for charge in case["charges"]] == ["CR1964-22"]


async def test_the_assignee_adds_amends_and_withdraws_charges_with_reasons_on_the_history(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await case_for_charges(
        review_api, sessionmaker, evidence=[SCREENSHOT, ARCHIVE]
    )
    url = f"/v1/cases/{case_id}/charges"

    added = await review_api.post(
        url,
        json={
            "rule": "CR1964-18",
            "particulars": "Shared the inquiry report, an official document.",
            "evidence": [2],
            "reason": "The screenshot shows the inquiry report itself.",
        },
        headers=member.headers,
    )
    assert added.status_code == 201, added.text
    assert (added.json()["number"], added.json()["basis"]) == (2, "added")
    charge_id = added.json()["id"]
    amended = await review_api.patch(
        f"{url}/{charge_id}",
        json={"evidence": [2, 3], "reason": "The archived copy shows it too."},
        headers=member.headers,
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["evidence"] == [2, 3] and amended.json()["amended_at"] is not None
    first = (await charges(review_api, case_id, member))["items"][0]["id"]
    withdrawn = await review_api.post(
        f"{url}/{first}/withdrawal",
        json={"reason": "Rule 22 is not made out on the screenshot."},
        headers=member.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    case = await read_case(review_api, case_id, member)
    assert case["state"] == "in_review"
    assert [(c["rule"], c["withdrawn_at"] is not None) for c in case["charges"]] == [
        ("CR1964-22", True),
        ("CR1964-18", False),
    ]
    reasons = [event["reason"] for event in case["history"]]
    assert any("charge 2 added under CR1964-18: The screenshot" in r for r in reasons)
    assert any("charge 2 (CR1964-18) amended" in r and "archived copy" in r for r in reasons)
    assert any("charge 1 (CR1964-22) withdrawn: Rule 22 is not made out" in r for r in reasons)
    # Only the assignee changes charges; the chair reads them.
    refused = await review_api.post(
        f"{url}/{charge_id}/withdrawal", json={"reason": "x"}, headers=unit.chair.headers
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not-assignee"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule": "CR1964-99"}, "rule"),
        ({"rule": "CR1964-22"}, "rule"),
        ({"evidence": [9]}, "evidence.0"),
        ({"evidence": []}, "evidence"),
        ({"particulars": ""}, "particulars"),
        ({"reason": None}, "reason"),
    ],
    ids=[
        "a rule not in the catalogue",
        "a rule already charged",
        "an evidence item the case does not have",
        "no evidence at all",
        "no particulars",
        "no reason",
    ],
)
async def test_a_charge_with_bad_input_is_refused_naming_the_field_and_nothing_changes(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
    field: str,
) -> None:
    _, case_id, member = await case_for_charges(review_api, sessionmaker)
    charge = {"rule": "CR1964-18", "particulars": "Shared.", "evidence": [1], "reason": "Why."}
    charge.update(body)
    charge = {key: value for key, value in charge.items() if value is not None}

    refused = await review_api.post(
        f"/v1/cases/{case_id}/charges", json=charge, headers=member.headers
    )

    assert refused.status_code == 422, refused.text
    assert field in fields_of(refused)
    if body == {"rule": "CR1964-99"}:
        assert "NOTIF-GROUP-ADMINISTRATOR" in refused.json()["errors"][0]["message"]
    assert [c["rule"] for c in (await charges(review_api, case_id, member))["items"]] == [
        "CR1964-22"
    ]


async def test_the_notice_is_generated_from_the_charges_and_freezes_them(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await case_for_charges(
        review_api,
        sessionmaker,
        rules_alleged=("CR1964-22", "NOTIF-POLITICAL-SECTARIAN"),
        evidence=[SCREENSHOT, ARCHIVE],
    )
    listed = (await charges(review_api, case_id, member))["items"]
    url = f"/v1/cases/{case_id}/charges"
    await review_api.patch(
        f"{url}/{listed[0]['id']}",
        json={"evidence": [1, 2], "reason": "The archive adds nothing."},
        headers=member.headers,
    )
    await review_api.post(
        f"{url}/{listed[1]['id']}/withdrawal",
        json={"reason": "No political view in the post."},
        headers=member.headers,
    )

    served = await serve_notice(review_api, case_id, member)

    assert served.status_code == 200, served.text
    notice = served.json()["notice"]
    assert notice["allegations"] is None
    assert [(a["number"], a["rule"], a["evidence"]) for a in notice["charges"]] == [
        (1, "CR1964-22", [1, 2])
    ]
    assert notice["charges"][0]["rule_title"] == "Statements embarrassing the government"
    assert "oxygen plant" in notice["charges"][0]["particulars"]
    # The evidence list is what the charges rely on: item 3 is relied on by none.
    assert [item["number"] for item in notice["evidence"]] == [1, 2]
    assert notice["reply_due_on"] > notice["issued_at"][:10]

    frozen = await charges(review_api, case_id, member)
    assert frozen["frozen"] is True
    for method, path, body in (
        ("POST", url, {"rule": "CR1964-18", "particulars": "x", "evidence": [1], "reason": "x"}),
        ("PATCH", f"{url}/{listed[0]['id']}", {"particulars": "Restated.", "reason": "x"}),
        ("POST", f"{url}/{listed[0]['id']}/withdrawal", {"reason": "x"}),
    ):
        refused = await review_api.request(method, path, json=body, headers=member.headers)
        assert refused.status_code == 409, (method, path, refused.text)
        assert refused.json()["code"] == "charges-frozen"
        assert "before any notice is served" in refused.json()["detail"]
    assert (await charges(review_api, case_id, member))["items"] == frozen["items"]


async def test_the_members_own_words_are_kept_on_the_generated_notice(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await case_for_charges(review_api, sessionmaker)

    served = await serve_notice(
        review_api, case_id, member, {"allegations": "Please reply in writing."}
    )

    assert served.status_code == 200, served.text
    assert served.json()["notice"]["allegations"] == "Please reply in writing."
    assert [a["rule"] for a in served.json()["notice"]["charges"]] == ["CR1964-22"]


async def test_a_notice_with_no_standing_charge_is_refused_naming_the_gate(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Tried: withdrawing the only charge, then serving the notice."""
    _, case_id, member = await case_for_charges(review_api, sessionmaker)
    only = (await charges(review_api, case_id, member))["items"][0]["id"]
    await review_api.post(
        f"/v1/cases/{case_id}/charges/{only}/withdrawal",
        json={"reason": "Not made out."},
        headers=member.headers,
    )

    refused = await serve_notice(review_api, case_id, member, {"allegations": "Rule 22."})

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "no-charges"
    assert "add a charge" in refused.json()["detail"]
    case = await read_case(review_api, case_id, member)
    assert (case["state"], case["notice"]) == ("in_review", None)
    assert (await case_row(sessionmaker, case_id))["state"] == "in_review"
    bundle = await review_api.get(f"/v1/cases/{case_id}/notice/bundle", headers=member.headers)
    assert bundle.status_code == 409 and bundle.json()["code"] == "no-notice"


async def test_the_disclosure_bundle_holds_the_evidence_relied_on_and_nothing_of_the_reporter(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await case_for_charges(
        review_api, sessionmaker, evidence=[SCREENSHOT, ARCHIVE]
    )
    assert (await serve_notice(review_api, case_id, member)).status_code == 200

    response = await review_api.get(
        f"/v1/cases/{case_id}/notice/bundle", headers=unit.chair.headers
    )

    assert response.status_code == 200, response.text
    bundle = response.json()
    assert [item["number"] for item in bundle["items"]] == [1, 2, 3]
    assert bundle["items"][1]["snapshot_file_id"] == str(SCREENSHOT.snapshot_file_id)
    assert set(bundle["items"][0]) == {
        "number",
        "kind",
        "description",
        "url",
        "platform_post_id",
        "author_handle",
        "captured_at",
        "snapshot_file_id",
    }
    reporter = await reporter_refs(sessionmaker, case_id)
    for ref in reporter:
        assert ref not in response.text
    assert "reporter" not in response.text.lower()
    assert "EMP-REPORTER" not in response.text and "Complaints Cell" not in response.text


async def reporter_refs(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> tuple[str, str]:
    from sqlalchemy import text

    async with sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT reporter_ref, reporter_office_ref FROM review.case WHERE id = :id"),
                {"id": case_id},
            )
        ).one()
    return row.reporter_ref, row.reporter_office_ref


async def to_hearing(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember
) -> list[dict[str, Any]]:
    assert (await serve_notice(review_api, case_id, member)).status_code == 200
    for step, body in (("reply", REPLY), ("hearing", HEARING)):
        response = await act(review_api, case_id, step, member, body)
        assert response.status_code == 200, (step, response.text)
    return list((await charges(review_api, case_id, member))["items"])


async def test_a_determination_finds_on_each_charge_and_recommends_a_penalty(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await case_for_charges(
        review_api,
        sessionmaker,
        rules_alleged=("CR1964-22", "NOTIF-POLITICAL-SECTARIAN"),
        group_administrator=True,
        evidence=[SCREENSHOT],
    )
    rule22, political, admin = await to_hearing(review_api, case_id, member)

    determined = await act(
        review_api,
        case_id,
        "determination",
        member,
        {
            "reasons": "The post blames the minister for a failure of the hospital.",
            "charges": [
                {
                    "charge_id": rule22["id"],
                    "finding": "proved",
                    "reasons": "Capable of embarrassing the government.",
                    "evidence_relied_on": [1, 2],
                },
                {
                    "charge_id": political["id"],
                    "finding": "not_proved",
                    "reasons": "No party or sect is named.",
                },
                {
                    "charge_id": admin["id"],
                    "finding": "proved",
                    "reasons": "He runs the group and left the post up.",
                    "evidence_relied_on": [2],
                },
            ],
            "recommended_penalty": "ED2020-CENSURE",
        },
    )

    assert determined.status_code == 200, determined.text
    determination = determined.json()["determination"]
    assert determination["finding"] == "violation"
    assert determination["rules_cited"] == ["CR1964-22", "NOTIF-GROUP-ADMINISTRATOR"]
    assert determination["recommended_penalty"] == "ED2020-CENSURE"
    assert [
        (f["number"], f["finding"], f["evidence_relied_on"]) for f in determination["charges"]
    ] == [
        (1, "proved", [1, 2]),
        (2, "not_proved", []),
        (3, "proved", [2]),
    ]
    assert await staged_determination(sessionmaker, case_id) is None

    countersigned = await act(review_api, case_id, "countersign", unit.chair)
    assert countersigned.status_code == 200, countersigned.text
    staged = await staged_determination(sessionmaker, case_id)
    assert staged is not None
    assert staged["finding"] == "violation"
    assert staged["proved_rules"] == ["CR1964-22", "NOTIF-GROUP-ADMINISTRATOR"]
    assert staged["rules_cited"] == ["CR1964-22", "NOTIF-GROUP-ADMINISTRATOR"]
    assert staged["recommended_penalty"] == "ED2020-CENSURE"


async def test_no_charge_proved_clears_the_case_at_once_without_a_penalty(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await case_for_charges(review_api, sessionmaker)
    (only,) = await to_hearing(review_api, case_id, member)

    determined = await act(
        review_api,
        case_id,
        "determination",
        member,
        {
            "reasons": "Not made out.",
            "charges": [{"charge_id": only["id"], "finding": "not_proved", "reasons": "Fair."}],
        },
    )

    assert determined.status_code == 200, determined.text
    assert determined.json()["determination"]["finding"] == "cleared"
    assert determined.json()["determination"]["final"] is True
    staged = await staged_determination(sessionmaker, case_id)
    assert staged is not None
    assert (staged["finding"], staged["proved_rules"], staged["recommended_penalty"]) == (
        "cleared",
        [],
        None,
    )


def proved(charge: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "charge_id": charge["id"],
        "finding": "proved",
        "reasons": "Made out.",
        "evidence_relied_on": [1],
        **overrides,
    }


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda c: {"charges": [proved(c[0], evidence_relied_on=[2])]},
            "charges.0.evidence_relied_on.0",
        ),
        (
            lambda c: {"charges": [proved(c[0], evidence_relied_on=[])]},
            "charges.0.evidence_relied_on",
        ),
        (lambda c: {"charges": [proved(c[0], charge_id=str(uuid.uuid4()))]}, "charges.0.charge_id"),
        (lambda c: {"charges": [proved(c[0]), proved(c[0])]}, "charges.1.charge_id"),
        (lambda c: {"charges": [proved(c[0])], "recommended_penalty": None}, "recommended_penalty"),
        (
            lambda c: {"charges": [proved(c[0])], "recommended_penalty": "ED2020-FLOGGING"},
            "recommended_penalty",
        ),
        (
            lambda c: {
                "charges": [proved(c[0], finding="not_proved")],
                "recommended_penalty": "ED2020-CENSURE",
            },
            "recommended_penalty",
        ),
        (lambda c: {"charges": [proved(c[0])], "finding": "cleared"}, "finding"),
        (lambda c: {"charges": [proved(c[0])], "rules_cited": ["CR1964-22"]}, "rules_cited"),
        (lambda c: {"charges": [], "finding": None}, "charges"),
    ],
    ids=[
        "evidence relied on that is not among the charge's evidence",
        "a proved charge relying on no evidence",
        "a finding on a charge the case does not have",
        "two findings on one charge",
        "a proved charge without a recommended penalty",
        "a penalty not in the catalogue",
        "a penalty when nothing is proved",
        "a case finding that contradicts the charges",
        "rules cited beside findings per charge",
        "no findings at all",
    ],
)
async def test_a_determination_with_bad_findings_is_refused_naming_the_field(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make: Any,
    field: str,
) -> None:
    _, case_id, member = await case_for_charges(review_api, sessionmaker, evidence=[ARCHIVE])
    listed = (await charges(review_api, case_id, member))["items"]
    await review_api.patch(
        f"/v1/cases/{case_id}/charges/{listed[0]['id']}",
        json={"evidence": [1], "reason": "The archive is not relied on."},
        headers=member.headers,
    )
    standing = await to_hearing(review_api, case_id, member)
    body = {"reasons": "Reasons.", "recommended_penalty": "ED2020-CENSURE", **make(standing)}
    body = {key: value for key, value in body.items() if value is not None}

    refused = await act(review_api, case_id, "determination", member, body)

    assert refused.status_code == 422, refused.text
    assert field in fields_of(refused)
    if body.get("recommended_penalty") == "ED2020-FLOGGING":
        assert "ED2020-CENSURE" in refused.text
    case = await read_case(review_api, case_id, member)
    assert (case["state"], case["determination"]) == ("hearing_concluded", None)


async def test_a_charge_missing_from_the_findings_is_refused(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Tried: a finding on one of two standing charges."""
    _, case_id, member = await case_for_charges(
        review_api, sessionmaker, rules_alleged=("CR1964-22", "NOTIF-POLITICAL-SECTARIAN")
    )
    first, _ = await to_hearing(review_api, case_id, member)

    refused = await act(
        review_api,
        case_id,
        "determination",
        member,
        {"reasons": "R.", "charges": [proved(first)], "recommended_penalty": "ED2020-CENSURE"},
    )

    assert refused.status_code == 422, refused.text
    assert fields_of(refused) == ["charges"]
    assert "charge 2 (NOTIF-POLITICAL-SECTARIAN) has no finding" in refused.text


async def test_an_institutions_finding_is_charged_under_its_rule_on_the_institutions_words(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """An MTI's violator-list row opens a case whose one charge is the row's rule, resting on
    the institution's finding."""
    from services.review.institutional_findings.service import open_case_for_entry
    from services.review.settings import get_settings
    from shared.db import unit_of_work, utcnow
    from shared.messages import ViolatorListEntryReceived

    institution = unique_code("MTI")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[institution])
    entry = ViolatorListEntryReceived(
        entry_id=uuid.uuid4(),
        batch_id=uuid.uuid4(),
        row_number=1,
        institution=institution,
        employee_ref="MTI-EMP-000001",
        name="Dr. Sana Iqbal",
        designation="Assistant Professor",
        office=None,
        rule="CR1964-18",
        platform="x",
        finding="Shared the board's minutes on X.",
        found_on=utcnow().date(),
        institution_finding_ref="INQ/2026/1",
        notice_and_reply_on_record=False,
        received_at=utcnow(),
    )
    async with unit_of_work(sessionmaker) as session:
        case = await open_case_for_entry(
            session, entry=entry, settings=get_settings(), correlation_id="test"
        )
    member = await assignee_of(unit, case.id, review_api)

    read = await read_case(review_api, case.id, member)

    assert [item["kind"] for item in read["evidence"]] == ["institution_finding"]
    assert [(c["rule"], c["evidence"]) for c in read["charges"]] == [("CR1964-18", [1])]
    assert "Shared the board's minutes on X." in read["charges"][0]["particulars"]
