"""POST and GET /v1/violator-lists over HTTP: an MTI posts a list as JSON or CSV, each row is
judged on its own, accepted rows become entries with their messages (staged by intake's worker
from one message per stored slice), and a list that cannot be
read (bad encoding, missing columns, too many rows, too big, not the type it claims) is refused
whole and stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work, utcnow
from shared.messages import CaseStatusChanged, Envelope, ViolatorListEntryReceived
from shared.outbox import stage_message
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.factories import (
    VIOLATOR_LIST_COLUMNS,
    bearer,
    create_client,
    unique_code,
    violator_list_csv,
    violator_row,
)
from tests.intake.support import assert_problem
from tests.support import count_rows, deliver_again, pump, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")

PATH = "/v1/violator-lists"
CSV = {"Content-Type": "text/csv"}
STORED_TABLES = (
    "intake.violator_list_batch",
    "intake.violator_list_entry",
    "intake.submission_status_event",
    "intake.outbox_message",
)


async def stored_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {table: await count_rows(sessionmaker, table) for table in STORED_TABLES}


async def entry_messages(sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis) -> int:
    """The entry_received messages staged in intake's outbox, once intake's worker has staged
    those of every stored slice (each slice's entries_stored message handed to intake's own
    queue as the relay would, without relaying the entries' messages on to review)."""
    async with unit_of_work(sessionmaker) as session:
        slices = (
            await session.execute(
                text(
                    "UPDATE intake.outbox_message SET sent_at = now(), send_count = 1 "
                    "WHERE message_type = 'violator_list.entries_stored' AND sent_at IS NULL "
                    "RETURNING message_id, envelope"
                )
            )
        ).all()
    settings = ServiceSettings()
    for message_id, envelope in slices:
        await queue.enqueue_job(
            "violator_list.entries_stored",
            envelope,
            _job_id=job_id(settings, message_id, "intake"),
            _queue_name=queue_name(settings, "intake"),
        )
    await run_worker("intake", queue)
    async with sessionmaker() as session:
        return int(
            (
                await session.execute(
                    text(
                        "SELECT count(*) FROM intake.outbox_message "
                        "WHERE message_type = 'violator_list.entry_received'"
                    )
                )
            ).scalar_one()
        )


async def institution(
    sessionmaker: async_sessionmaker[AsyncSession],
    scopes: tuple[str, ...] = ("violator-lists:write", "status:read"),
) -> tuple[str, dict[str, str]]:
    code = unique_code("MTI")
    token = await create_client(
        sessionmaker, organisation_code=code, organisation_kind="institution", scopes=scopes
    )
    return code, bearer(token)


def json_list(rows: list[dict[str, Any]], batch_key: str | None = None) -> dict[str, Any]:
    return {"batch_key": batch_key or uuid.uuid4().hex, "rows": rows}


async def test_json_list_is_stored_with_one_message_per_row(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    code, headers = await institution(sessionmaker)
    before = await stored_counts(sessionmaker)
    messages_before = await entry_messages(sessionmaker, queue)
    rows = [violator_row(n) for n in range(1, 4)]
    rows[2].pop("office")
    rows[2].pop("platform")
    rows[2]["notice_and_reply_on_record"] = True

    response = await intake_api.post(PATH, json=json_list(rows), headers=headers)

    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["total_rows"], batch["accepted"], batch["rejected"]) == (3, 3, 0)
    assert batch["rejected_rows"] == [] and batch["rejected_rows_complete"] is True
    assert batch["institution"] == code and batch["source_format"] == "json"
    assert response.headers["location"] == batch["status_url"]
    after = await stored_counts(sessionmaker)
    assert after["intake.violator_list_batch"] == before["intake.violator_list_batch"] + 1
    assert after["intake.violator_list_entry"] == before["intake.violator_list_entry"] + 3
    assert after["intake.submission_status_event"] == before["intake.submission_status_event"] + 3
    assert await entry_messages(sessionmaker, queue) == messages_before + 3

    entries = (await intake_api.get(batch["entries_url"], headers=headers)).json()
    assert entries["total"] == 3
    assert [e["row_number"] for e in entries["items"]] == [1, 2, 3]
    assert {e["status"] for e in entries["items"]} == {"received"}
    third = entries["items"][2]
    assert third["platform"] == "other" and third["office"] is None
    assert third["notice_and_reply_on_record"] is True
    # The staged messages honour the contract review reads.
    async with sessionmaker() as session:
        envelopes = (
            await session.execute(
                text(
                    "SELECT envelope FROM intake.outbox_message WHERE destination = 'review' "
                    "AND envelope -> 'payload' ->> 'batch_id' = :batch_id"
                ),
                {"batch_id": batch["id"]},
            )
        ).scalars()
        payloads = [
            ViolatorListEntryReceived.model_validate(Envelope.model_validate(e).payload)
            for e in envelopes
        ]
    assert sorted(p.row_number for p in payloads) == [1, 2, 3]
    assert {str(p.entry_id) for p in payloads} == {e["id"] for e in entries["items"]}
    assert all(p.institution == code for p in payloads)


async def test_csv_list_is_stored_and_a_repost_of_its_batch_key_creates_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    _, headers = await institution(sessionmaker)
    body = violator_list_csv([violator_row(n) for n in range(1, 6)])
    params = {"batch_key": "LRH-2026-11"}
    messages_before = await entry_messages(sessionmaker, queue)

    first = await intake_api.post(PATH, content=body, params=params, headers={**headers, **CSV})

    assert first.status_code == 201, first.text
    assert (first.json()["accepted"], first.json()["source_format"]) == (5, "csv")
    assert await entry_messages(sessionmaker, queue) == messages_before + 5
    before = await stored_counts(sessionmaker)
    # The same key again, even with other rows: the first result, nothing new.
    other_body = violator_list_csv([violator_row(n) for n in range(1, 3)])
    for again in (body, other_body):
        repeat = await intake_api.post(
            PATH, content=again, params=params, headers={**headers, **CSV}
        )
        assert repeat.status_code == 200, repeat.text
        assert repeat.json() == first.json()
    assert await stored_counts(sessionmaker) == before


async def test_batch_keys_belong_to_their_institution(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await institution(sessionmaker)
    _, other = await institution(sessionmaker)
    body = json_list([violator_row()], batch_key="SHARED-KEY")
    mine = (await intake_api.post(PATH, json=body, headers=owner)).json()
    theirs = await intake_api.post(PATH, json=body, headers=other)
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]

    for url in (mine["status_url"], mine["rejections_url"], mine["entries_url"]):
        assert_problem(await intake_api.get(url, headers=other), 404)
        assert (await intake_api.get(url, headers=owner)).status_code == 200
    assert_problem(await intake_api.get(f"{PATH}/{uuid.uuid4()}", headers=owner), 404)


async def test_rows_are_judged_one_by_one_with_row_numbers_and_fields(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    _, headers = await institution(sessionmaker)
    rows: list[Any] = [
        violator_row(1),
        {k: v for k, v in violator_row(2).items() if k != "name"},  # name missing
        violator_row(3, found_on="2999-01-01"),  # in the future
        violator_row(4, rule="CR1964-99"),  # not in the catalogue
        violator_row(5, platform="myspace"),  # not a platform offered
        violator_row(6, status="recorded"),  # a field nobody may set
        violator_row(7, found_on="15/10/2026", employee_ref=""),  # two faults
        "not an object",
        violator_row(9),
    ]
    messages_before = await entry_messages(sessionmaker, queue)

    response = await intake_api.post(PATH, json=json_list(rows), headers=headers)

    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["total_rows"], batch["accepted"], batch["rejected"]) == (9, 2, 7)
    faults = {r["row"]: sorted(e["field"] for e in r["errors"]) for r in batch["rejected_rows"]}
    assert faults == {
        2: ["name"],
        3: ["found_on"],
        4: ["rule"],
        5: ["platform"],
        6: ["status"],
        7: ["employee_ref", "found_on"],
        8: ["row"],
    }
    unknown_rule = next(r for r in batch["rejected_rows"] if r["row"] == 4)
    assert "CR1964-99" in unknown_rule["errors"][0]["message"]
    assert await entry_messages(sessionmaker, queue) == messages_before + 2
    entries = (await intake_api.get(batch["entries_url"], headers=headers)).json()
    assert [e["row_number"] for e in entries["items"]] == [1, 9]


async def test_csv_rows_with_bad_cells_are_rejected_by_number(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await institution(sessionmaker)
    body = violator_list_csv(
        [
            violator_row(1),
            violator_row(2, notice_and_reply_on_record="perhaps"),
            violator_row(3, rule="NOT-A-RULE"),
            violator_row(4, office="", platform=""),  # blank optional cells take defaults
        ]
    )
    body += b"MTI-EMP-000005,too,few,cells\r\n"

    response = await intake_api.post(
        PATH, content=body, params={"batch_key": "k1"}, headers={**headers, **CSV}
    )

    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["accepted"], batch["rejected"]) == (2, 3)
    faults = {r["row"]: [e["field"] for e in r["errors"]] for r in batch["rejected_rows"]}
    assert faults == {2: ["notice_and_reply_on_record"], 3: ["rule"], 5: ["row"]}


async def test_rejected_rows_past_the_first_hundred_are_paged(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await institution(sessionmaker)
    rows = [violator_row(n, rule="NO-SUCH-RULE") for n in range(1, 151)]
    batch = (await intake_api.post(PATH, json=json_list(rows), headers=headers)).json()
    assert (batch["accepted"], batch["rejected"]) == (0, 150)
    assert len(batch["rejected_rows"]) == 100 and batch["rejected_rows_complete"] is False

    page = await intake_api.get(
        batch["rejections_url"], params={"offset": 100, "limit": 1000}, headers=headers
    )
    assert page.status_code == 200
    assert page.json()["total"] == 150
    assert [r["row"] for r in page.json()["items"]] == list(range(101, 151))


REFUSED_LISTS: list[tuple[str, bytes, str, int, str]] = [
    (
        "a CSV in Windows-1252, not UTF-8",
        violator_list_csv([violator_row(name="Dr. Zoë Khan")]).decode().encode("cp1252"),
        "text/csv",
        422,
        "UTF-8",
    ),
    (
        "a charset other than UTF-8 declared",
        violator_list_csv([violator_row()]),
        "text/csv; charset=iso-8859-1",
        422,
        "iso-8859-1",
    ),
    (
        "a CSV without the rule and finding columns",
        violator_list_csv(
            [violator_row()],
            columns=tuple(c for c in VIOLATOR_LIST_COLUMNS if c not in {"rule", "finding"}),
        ),
        "text/csv",
        422,
        "rule, finding",
    ),
    (
        "a CSV with a column nobody asked for",
        violator_list_csv([violator_row()], columns=(*VIOLATOR_LIST_COLUMNS, "cnic")),
        "text/csv",
        422,
        "cnic",
    ),
    ("an empty CSV", b"", "text/csv", 422, "header"),
    ("a PNG sent as text/csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "text/csv", 415, "PNG"),
    ("a zip sent as text/csv", b"PK\x03\x04" + bytes(200), "text/csv", 415, "zip"),
    ("a PDF sent as JSON", b"%PDF-1.7\n...", "application/json", 415, "PDF"),
    (
        "a CSV labelled as JSON",
        violator_list_csv([violator_row()]),
        "application/json",
        422,
        "JSON",
    ),
    ("a spreadsheet type", b"a,b\n", "application/vnd.ms-excel", 415, "text/csv"),
    ("no type at all", b"a,b\n", "", 415, "text/csv"),
]


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status", "named"),
    REFUSED_LISTS,
    ids=[case for case, *_ in REFUSED_LISTS],
)
async def test_a_list_that_cannot_be_read_is_refused_whole_and_stores_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: bytes,
    content_type: str,
    status: int,
    named: str,
) -> None:
    _, headers = await institution(sessionmaker)
    before = await stored_counts(sessionmaker)
    response = await intake_api.post(
        PATH,
        content=body,
        params={"batch_key": "k"} if content_type.startswith("text/csv") else {},
        headers={**headers, "Content-Type": content_type},
    )
    problem = assert_problem(response, status)
    assert named in problem["detail"], case
    assert await stored_counts(sessionmaker) == before, case


@pytest.mark.parametrize(
    ("case", "body", "params"),
    [
        ("a CSV without a batch key", violator_list_csv([violator_row()]), {}),
        (
            "a batch key of 129 characters",
            violator_list_csv([violator_row()]),
            {"batch_key": "k" * 129},
        ),
    ],
)
async def test_a_csv_needs_a_sane_batch_key(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: bytes,
    params: dict[str, str],
) -> None:
    _, headers = await institution(sessionmaker)
    before = await stored_counts(sessionmaker)
    response = await intake_api.post(PATH, content=body, params=params, headers={**headers, **CSV})
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["batch_key"], case
    assert await stored_counts(sessionmaker) == before


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("a list that is not an object", [violator_row()]),
        ("rows missing", {"batch_key": "k"}),
        ("a field besides batch_key and rows", {"batch_key": "k", "rows": [], "status": "x"}),
    ],
)
async def test_a_json_list_of_the_wrong_shape_is_refused(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: Any,
) -> None:
    _, headers = await institution(sessionmaker)
    before = await stored_counts(sessionmaker)
    assert_problem(await intake_api.post(PATH, json=body, headers=headers), 422)
    assert await stored_counts(sessionmaker) == before, case


async def test_a_list_of_100001_rows_is_refused_and_stores_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await institution(sessionmaker)
    line = b"MTI-EMP-1,Dr. Sana Iqbal,Assistant Professor,,CR1964-22,,Remarks,2026-10-15,INQ-1,\n"
    body = violator_list_csv([]) + line * 100_001
    before = await stored_counts(sessionmaker)

    response = await intake_api.post(
        PATH, content=body, params={"batch_key": "too-long"}, headers={**headers, **CSV}
    )

    problem = assert_problem(response, 422)
    assert "100001 rows" in problem["detail"] and "100000" in problem["detail"]
    assert await stored_counts(sessionmaker) == before


async def test_a_50_mb_upload_is_refused_with_413_before_parsing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await institution(sessionmaker)
    body = violator_list_csv([violator_row()]) + b"x" * 50_000_000
    before = await stored_counts(sessionmaker)
    response = await intake_api.post(
        PATH, content=body, params={"batch_key": "huge"}, headers={**headers, **CSV}
    )
    assert_problem(response, 413)
    assert await stored_counts(sessionmaker) == before
    # Other routes keep their own, small cap.
    assert_problem(
        await intake_api.post(
            "/v1/reports",
            content=b"{" + b" " * 2_000_000 + b"}",
            headers={**headers, "Content-Type": "application/json"},
        ),
        413,
    )


async def test_only_an_institution_with_the_scope_may_post_or_read(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = bearer(
        await create_client(
            sessionmaker,
            organisation_code=unique_code("DEPT"),
            scopes=("violator-lists:write", "status:read"),
        )
    )
    _, reader = await institution(sessionmaker, scopes=("status:read",))
    _, writer = await institution(sessionmaker, scopes=("violator-lists:write",))
    before = await stored_counts(sessionmaker)
    for headers in (department, reader):
        response = await intake_api.post(PATH, json=json_list([violator_row()]), headers=headers)
        assert_problem(response, 403)
    assert_problem(await intake_api.post(PATH, json=json_list([violator_row()])), 401)
    assert await stored_counts(sessionmaker) == before
    posted = (await intake_api.post(PATH, json=json_list([violator_row()]), headers=writer)).json()
    # Posting does not grant reading.
    assert_problem(await intake_api.get(posted["status_url"], headers=writer), 403)


async def test_an_idempotency_key_replays_the_first_answer(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await institution(sessionmaker)
    keyed = {**headers, **CSV, "Idempotency-Key": str(uuid.uuid4())}
    body = violator_list_csv([violator_row(n) for n in range(1, 3)])
    first = await intake_api.post(PATH, content=body, params={"batch_key": "b"}, headers=keyed)
    assert first.status_code == 201
    before = await stored_counts(sessionmaker)
    again = await intake_api.post(PATH, content=body, params={"batch_key": "b"}, headers=keyed)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await stored_counts(sessionmaker) == before


async def test_reviews_status_events_move_each_entry(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    _, headers = await institution(sessionmaker)
    rows = [violator_row(1), violator_row(2, notice_and_reply_on_record=True)]
    batch = (await intake_api.post(PATH, json=json_list(rows), headers=headers)).json()
    entries = (await intake_api.get(batch["entries_url"], headers=headers)).json()["items"]
    async with unit_of_work(sessionmaker) as session:
        await stage_message(
            session,
            CaseStatusChanged(
                submission_id=uuid.UUID(entries[1]["id"]),
                case_id=uuid.uuid4(),
                status="in_review",
                changed_at=utcnow(),
            ),
            producer="review",
            correlation_id="test",
        )

    await pump(sessionmaker, queue)

    moved = (await intake_api.get(batch["entries_url"], headers=headers)).json()["items"]
    assert [e["status"] for e in moved] == ["received", "in_review"]


async def test_a_list_judged_in_several_slices_keeps_every_row_once(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    _, headers = await institution(sessionmaker)
    bad = {7, 10_000, 10_001, 24_999}  # in the first, on the edge of, and in the last slice
    rows = [
        violator_row(n, rule="NO-SUCH-RULE" if n in bad else "CR1964-22") for n in range(1, 25_001)
    ]
    messages_before = await entry_messages(sessionmaker, queue)

    response = await intake_api.post(
        PATH,
        content=violator_list_csv(rows),
        params={"batch_key": "big"},
        headers={**headers, **CSV},
    )

    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["total_rows"], batch["accepted"], batch["rejected"]) == (25_000, 24_996, 4)
    assert [r["row"] for r in batch["rejected_rows"]] == sorted(bad)
    assert await entry_messages(sessionmaker, queue) == messages_before + 24_996
    # Every accepted row is announced once; a slice's message delivered again (as after a lost
    # acknowledgement) announces nothing more.
    async with sessionmaker() as session:
        staged = (
            await session.execute(
                text(
                    "SELECT message_type, envelope FROM intake.outbox_message "
                    "WHERE envelope -> 'payload' ->> 'batch_id' = :batch_id"
                ),
                {"batch_id": batch["id"]},
            )
        ).all()
    slices = [Envelope.model_validate(e) for t, e in staged if t == "violator_list.entries_stored"]
    announced = [
        e["payload"]["row_number"] for t, e in staged if t != "violator_list.entries_stored"
    ]
    assert len(slices) == 5
    assert sorted(announced) == [n for n in range(1, 25_001) if n not in bad]
    for envelope in slices:
        await deliver_again(queue, envelope, to="intake")
    assert await entry_messages(sessionmaker, queue) == messages_before + 24_996
    entries = await intake_api.get(
        batch["entries_url"], params={"offset": 9_995, "limit": 10}, headers=headers
    )
    # Its 24,996 messages are not this test's subject: left staged, they would swamp every later
    # test's pump (and review) in this run.
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "DELETE FROM intake.outbox_message "
                "WHERE envelope -> 'payload' ->> 'batch_id' = :batch_id"
            ),
            {"batch_id": batch["id"]},
        )
    assert [e["row_number"] for e in entries.json()["items"]] == [
        9_997,
        9_998,
        9_999,
        10_002,
        10_003,
        10_004,
        10_005,
        10_006,
        10_007,
        10_008,
    ]
