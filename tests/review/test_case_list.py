"""The case list a page at a time: a chair's unit grows past any one page, and the list must
still reach every case (it used to stop silently at the 500 oldest). Filters by state; refuses
a bad cursor, page size or state naming the parameter."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.review.steps import act, assignee_of, screen_to_proceed

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_the_chair_pages_through_every_case_of_the_unit_once_in_order(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    opened = [
        await open_report_case(sessionmaker, department=department, subject_employee_ref=f"E{n}")
        for n in range(5)
    ]
    seen: list[uuid.UUID] = []
    pages = 0
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = await review_api.get("/v1/cases", params=params, headers=unit.chair.headers)
        assert page.status_code == 200, page.text
        pages += 1
        seen += [uuid.UUID(item["id"]) for item in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params = {"limit": 2, "after": page.json()["next_cursor"]}
    assert seen == opened and pages == 3

    # One case moves on: the state filter finds it alone, and the others without it.
    member = await assignee_of(unit, opened[0], review_api)
    await screen_to_proceed(review_api, opened[0], member)
    noticed = await act(review_api, opened[0], "notice", member, {"allegations": "Rule 22."})
    assert noticed.status_code == 200, noticed.text
    in_notice = await review_api.get(
        "/v1/cases", params={"state": "notice_issued"}, headers=unit.chair.headers
    )
    assert [item["id"] for item in in_notice.json()["items"]] == [str(opened[0])]
    assigned = await review_api.get(
        "/v1/cases",
        params=[("state", "assigned"), ("state", "received")],
        headers=unit.chair.headers,
    )
    assert {item["id"] for item in assigned.json()["items"]} == {str(c) for c in opened[1:]}


@pytest.mark.parametrize(
    ("what", "params", "field"),
    [
        ("a cursor naming no case", {"after": str(uuid.uuid4())}, "after"),
        ("a cursor that is not an id", {"after": "page-2"}, "after"),
        ("a page of none", {"limit": 0}, "limit"),
        ("a page over the maximum", {"limit": 501}, "limit"),
        ("an unknown state", {"state": "archived"}, "state"),
    ],
)
async def test_bad_list_parameters_are_refused_naming_them(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    what: str,
    params: dict[str, str | int],
    field: str,
) -> None:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    refused = await review_api.get("/v1/cases", params=params, headers=unit.chair.headers)
    assert refused.status_code == 422, (what, refused.text)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert any(field in error["field"] for error in refused.json()["errors"]), (what, refused.text)
