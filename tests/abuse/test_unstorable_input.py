"""What schemathesis (S7) found, each kept as a test of its own: input the database cannot take
used to reach it and come back as a 500.

Tried: U+0000 and an unpaired surrogate (`\\ud800`) in a JSON field of every service, in a
query parameter and in a path id, in a violator list's rows (JSON) and in a CSV list; a
cursor past PostgreSQL's bigint; a body that is not UTF-8. Each gets 422 naming the field and
stores nothing. And the OpenAPI documents say every error is problem+json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import SERVICES, Service
from tests.abuse.apps import APPS
from tests.abuse.calls import client_for
from tests.abuse.rows import all_row_counts
from tests.abuse.world import World
from tests.factories import report_body, violator_list_csv, violator_row
from tests.intake.support import assert_problem
from tests.registry.factories import sanction_order

Sessionmaker = async_sessionmaker[AsyncSession]
JSON = {"Content-Type": "application/json"}
# As a JSON text: the escapes reach the server as written.
UNSTORABLE = ("\\u0000", "\\ud800")


def with_escape(body: dict[str, Any], escape: str, *path: str | int) -> bytes:
    """The body as JSON with `escape` spliced into the string at `path`."""
    marker = "MARKER-7f3a"
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = f"before {marker} after"
    return json.dumps(body).replace(marker, escape).encode()


# (service, method, path template, role, body, field path) for a JSON field of each service.
FIELDS: list[tuple[Service, str, str, str, dict[str, Any], tuple[str | int, ...]]] = [
    ("intake", "POST", "/v1/reports", "department", report_body(), ("subjects", 0, "name")),
    ("intake", "POST", "/v1/reports", "department", report_body(), ("content_excerpt",)),
    (
        "review",
        "POST",
        "/v1/cases/{case_id}/notice",
        "assignee",
        {"allegations": "Rule 22: the post."},
        ("allegations",),
    ),
    (
        "registry",
        "POST",
        "/v1/violations/{record_id}/sanctions",
        "competent_authority",
        sanction_order(),
        ("reasons",),
    ),
]


@pytest.mark.parametrize("escape", UNSTORABLE)
@pytest.mark.parametrize(("service", "method", "path", "role", "body", "field"), FIELDS)
async def test_nul_or_lone_surrogate_in_a_json_field_gets_422_naming_it(
    world: World,
    sessionmaker: Sessionmaker,
    escape: str,
    service: Service,
    method: str,
    path: str,
    role: str,
    body: dict[str, Any],
    field: tuple[str | int, ...],
) -> None:
    before = await all_row_counts(sessionmaker)
    async with client_for(service, world) as api:
        answer = await api.request(
            method,
            path.format(**world.a.ids),
            content=with_escape(json.loads(json.dumps(body)), escape, *field),
            headers={**world.a.headers(role), **JSON},
        )
    problem = assert_problem(answer, 422)
    assert [error["field"] for error in problem["errors"]] == [".".join(map(str, field))]
    assert await all_row_counts(sessionmaker) == before


async def test_nul_in_a_query_parameter_or_path_gets_422_naming_it(world: World) -> None:
    async with client_for("registry", world) as api:
        headers = world.a.headers("auditor")
        query = await api.get(
            f"/v1/employees/{world.a.ids['employee_ref']}/record",
            params={"reason": "Audit\x00 of the record"},
            headers=headers,
        )
        path = await api.get(
            "/v1/employees/EMP%00-1/record", params={"reason": "Audit"}, headers=headers
        )
    assert [e["field"] for e in assert_problem(query, 422)["errors"]] == ["reason"]
    assert [e["field"] for e in assert_problem(path, 422)["errors"]] == ["path"]


@pytest.mark.parametrize("escape", UNSTORABLE)
async def test_an_unstorable_row_of_a_violator_list_is_rejected_and_the_rest_accepted(
    world: World, escape: str
) -> None:
    """A list over MAX_REQUEST_BYTES is judged by the list's own reader, row by row."""
    rows = [violator_row(n) for n in range(1, 3)]
    body = {"batch_key": f"unstorable-{escape[2:]}-{world.a.institution}", "rows": rows}
    # Leading whitespace takes it past the 1 MiB the shared guard reads.
    raw = b" " * 1_100_000 + with_escape(body, escape, "rows", 1, "name")
    async with client_for("intake", world) as intake:
        answer = await intake.post(
            "/v1/violator-lists", content=raw, headers={**world.a.headers("institution"), **JSON}
        )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["rejected_rows"][0]["row"] == 2
    assert [e["field"] for e in result["rejected_rows"][0]["errors"]] == ["name"]


async def test_a_csv_list_with_a_nul_byte_anywhere_is_refused_whole(
    world: World, sessionmaker: Sessionmaker
) -> None:
    body = violator_list_csv([violator_row(n) for n in range(1, 2000)])
    body = body[:-20] + b"\x00" + body[-20:]
    before = await all_row_counts(sessionmaker)
    async with client_for("intake", world) as intake:
        answer = await intake.post(
            "/v1/violator-lists",
            content=body,
            params={"batch_key": "nul-deep-in-the-file"},
            headers={**world.a.headers("institution"), "Content-Type": "text/csv"},
        )
    assert_problem(answer, 415)
    assert await all_row_counts(sessionmaker) == before


async def test_a_cursor_past_bigint_gets_422_naming_it(world: World) -> None:
    async with client_for("registry", world) as api:
        for path in ("/v1/official-accounts", "/v1/violations", "/v1/permissions"):
            answer = await api.get(
                path, params={"after": 2**63}, headers=world.a.headers("auditor")
            )
            assert [e["field"] for e in assert_problem(answer, 422)["errors"]] == ["after"]
    async with client_for("intake", world) as intake:
        answer = await intake.get(
            f"/v1/violator-lists/{world.a.ids['batch_id']}/entries",
            params={"offset": 2**63},
            headers=world.a.headers("institution"),
        )
        assert [e["field"] for e in assert_problem(answer, 422)["errors"]] == ["offset"]


async def test_a_json_body_that_is_not_utf8_gets_422_naming_body(world: World) -> None:
    async with client_for("intake", world) as intake:
        answer = await intake.post(
            "/v1/reports",
            content=b'{"platform": "\xff\xfe"}',
            headers={**world.a.headers("department"), **JSON},
        )
    assert [e["field"] for e in assert_problem(answer, 422)["errors"]] == ["body"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_error_is_problem_json(service: Service) -> None:
    document = APPS[service][0]().openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" in responses, f"{method} {path}"
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method} {path} {status}"
                    )


async def test_a_number_where_a_date_goes_gets_422_naming_it(world: World) -> None:
    """pydantic reads a numeric string as a Unix time; the documents say ISO 8601."""
    async with client_for("registry", world) as api:
        headers = world.a.headers("auditor")
        for path, name, number in (
            ("/v1/violations", "as_of", "-2.225073858507203e-309"),
            ("/v1/permissions", "on", "1700000000"),
            ("/v1/statistics", "from", "0"),
        ):
            answer = await api.get(path, params={name: number}, headers=headers)
            assert [e["field"] for e in assert_problem(answer, 422)["errors"]] == [name], path
        served = await api.get(
            "/v1/violations", params={"as_of": "2026-11-30T00:00:00Z"}, headers=headers
        )
        assert served.status_code == 200, served.text
