"""/v1/evidence-files over HTTP: snapshots stored with their hash, size and type
(judged by content), size caps, refused archives and mislabelled files, the department wall,
the custody log written on every access, and links that the server never fetches."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.evidence.storage import EvidenceContentAltered
from services.intake.settings import IntakeSettings
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.evidence_support import (
    HTML,
    JPEG,
    PDF,
    PNG,
    EvidenceStore,
    department_token,
    evidence_rows,
    free_port,
    s3_store,
    upload,
    zip_bomb,
)
from tests.intake.support import assert_problem, department_report_count, intake_client
from tests.support import pump

MiB = 1024 * 1024


@pytest.fixture
async def evidence_api(evidence_store: EvidenceStore) -> AsyncIterator[httpx.AsyncClient]:
    """An intake app on the test's own evidence store: each test runs on a directory and on a
    bucket of a real S3-compatible server."""
    async with intake_client(**evidence_store.settings) as client:
        yield client


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (PDF, "application/pdf"),
        (HTML, "text/html; charset=utf-8"),
    ],
    ids=["png", "jpeg", "pdf", "html"],
)
async def test_snapshot_is_stored_with_its_hash_size_and_type(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
    content: bytes,
    media_type: str,
) -> None:
    _, token = await department_token(sessionmaker)

    response = await upload(evidence_api, token, content, media_type)

    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored["size_bytes"] == len(content)
    assert stored["media_type"] == media_type.split(";")[0]
    assert response.headers["location"] == f"/v1/evidence-files/{stored['id']}"
    assert evidence_store.names() == [stored["sha256"]]

    returned = await evidence_api.get(
        f"/v1/evidence-files/{stored['id']}/content", headers=bearer(token)
    )
    assert returned.status_code == 200
    assert returned.content == content
    assert returned.headers["content-type"].startswith(media_type.split(";")[0])
    # Never rendered in the API's origin, whatever the snapshot holds.
    assert returned.headers["content-disposition"].startswith("attachment")
    assert returned.headers["x-content-type-options"] == "nosniff"


REFUSED_TYPES: list[tuple[str, bytes, str, str]] = [
    ("png labelled pdf", PNG, "application/pdf", "Content-Type"),
    ("pdf labelled png", PDF, "image/png", "Content-Type"),
    ("html labelled jpeg", HTML, "image/jpeg", "Content-Type"),
    ("zip bomb labelled pdf", zip_bomb(), "application/pdf", "body"),
    ("zip bomb labelled zip", zip_bomb(), "application/zip", "Content-Type"),
    ("executable labelled png", b"MZ\x90\x00" + os.urandom(3000), "image/png", "body"),
    ("plain text labelled html", b"just some words, no markup", "text/html", "body"),
    ("no content type", PNG, "", "Content-Type"),
]


@pytest.mark.parametrize(
    ("case", "content", "media_type", "field"),
    REFUSED_TYPES,
    ids=[case[0] for case in REFUSED_TYPES],
)
async def test_archive_or_mislabelled_file_gets_415_and_nothing_is_stored(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
    case: str,
    content: bytes,
    media_type: str,
    field: str,
) -> None:
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)

    response = await upload(evidence_api, token, content, media_type)

    problem = assert_problem(response, 415)
    assert problem["code"] == "unsupported-snapshot-type"
    assert field in {error["field"] for error in problem["errors"]}, case
    assert evidence_store.names() == [], case
    assert await evidence_rows(sessionmaker) == before, case


async def test_zip_is_refused_saying_archives_are_not_accepted(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    problem = assert_problem(await upload(evidence_api, token, zip_bomb(), "image/png"), 415)
    assert "zip archive" in problem["detail"]
    assert "Archives and compressed files are refused" in problem["detail"]


async def test_empty_upload_gets_422(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    _, token = await department_token(sessionmaker)
    problem = assert_problem(await upload(evidence_api, token, b"", "image/png"), 422)
    assert [error["field"] for error in problem["errors"]] == ["body"]
    assert evidence_store.names() == []


async def test_snapshot_over_the_configured_cap_gets_413_and_nothing_is_stored(
    sessionmaker: async_sessionmaker[AsyncSession], evidence_store: EvidenceStore
) -> None:
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)
    async with intake_client(**evidence_store.settings, evidence_max_bytes=1000) as api:
        response = await upload(api, token, PNG, "image/png")
        just_fits = await upload(api, token, PNG[:1000], "image/png")

    assert_problem(response, 413)
    assert just_fits.status_code == 201, just_fits.text
    assert evidence_store.names() == [just_fits.json()["sha256"]]
    after = await evidence_rows(sessionmaker)
    assert after["intake.evidence_file"] == before["intake.evidence_file"] + 1


async def test_a_50_mb_upload_gets_413_and_nothing_is_stored(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    """Declared with Content-Length: refused before the body is read."""
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)

    response = await upload(evidence_api, token, PNG + b"\x00" * (50 * MiB), "image/png")

    assert_problem(response, 413)
    assert evidence_store.names() == []
    assert await evidence_rows(sessionmaker) == before


async def test_a_50_mb_upload_streamed_without_length_is_cut_off_and_nothing_is_stored(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    """Sent chunked, with no Content-Length: counted as it streams, the staged part removed."""
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)
    sent = 0

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        yield PNG
        for _ in range(50):
            sent += MiB
            yield b"\x00" * MiB

    response = await upload(evidence_api, token, fifty_megabytes(), "image/png")

    assert_problem(response, 413)
    assert sent < 50 * MiB, "the server read the whole body"
    assert evidence_store.names() == []
    assert await evidence_rows(sessionmaker) == before


async def test_only_a_departmental_credential_with_reports_write_may_upload(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    reader = await create_client(
        sessionmaker, organisation_code=unique_code("DEPT"), scopes=("status:read",)
    )
    institution = await create_client(
        sessionmaker,
        organisation_code=unique_code("MTI"),
        organisation_kind="institution",
        scopes=("reports:write",),
    )
    for token in (reader, institution):
        assert_problem(await upload(evidence_api, token, PNG, "image/png"), 403)
    assert_problem(
        await evidence_api.post(
            "/v1/evidence-files", content=PNG, headers={"Content-Type": "image/png"}
        ),
        401,
    )
    assert evidence_store.names() == []


async def test_another_departments_file_is_not_found(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await department_token(sessionmaker)
    _, stranger = await department_token(sessionmaker)
    file_id = (await upload(evidence_api, owner, PDF, "application/pdf")).json()["id"]
    before = await evidence_rows(sessionmaker)

    for path in (f"/v1/evidence-files/{file_id}", f"/v1/evidence-files/{file_id}/content"):
        problem = assert_problem(await evidence_api.get(path, headers=bearer(stranger)), 404)
        assert problem["code"] == "evidence-file-not-found"
    unknown = "/v1/evidence-files/00000000-0000-0000-0000-000000000000"
    assert_problem(await evidence_api.get(unknown, headers=bearer(owner)), 404)
    # A stranger's look leaves no line in the owner's custody log.
    assert await evidence_rows(sessionmaker) == before


async def test_every_access_is_a_line_in_the_custody_log(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    key_id = token.split(".", 1)[0]
    stored = (await upload(evidence_api, token, PNG, "image/png")).json()
    url = f"/v1/evidence-files/{stored['id']}"

    first = (await evidence_api.get(url, headers=bearer(token))).json()
    await evidence_api.get(f"{url}/content", headers=bearer(token))
    second = (await evidence_api.get(url, headers=bearer(token))).json()

    assert [(line["action"], line["note"]) for line in first["custody"]["lines"]] == [
        ("uploaded", None),
        ("read", "metadata and custody log"),
    ]
    lines = second["custody"]["lines"]
    assert [(line["sequence"], line["action"], line["note"]) for line in lines] == [
        (1, "uploaded", None),
        (2, "read", "metadata and custody log"),
        (3, "read", "content"),
        (4, "read", "metadata and custody log"),
    ]
    assert {line["actor"] for line in lines} == {f"client:{key_id}"}
    assert lines[0]["prev_hash"] == "0" * 64
    assert all(line["prev_hash"] == before["line_hash"] for before, line in pairwise(lines))
    assert second["custody"] == {**second["custody"], "intact": True, "first_bad_sequence": None}
    assert second["sha256"] == stored["sha256"] and second["content_url"] == f"{url}/content"


async def test_concurrent_reads_of_one_file_stay_one_linear_chain(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    url = f"/v1/evidence-files/{(await upload(evidence_api, token, PNG, 'image/png')).json()['id']}"

    answers = await asyncio.gather(
        *(evidence_api.get(f"{url}/content", headers=bearer(token)) for _ in range(8))
    )

    assert {answer.status_code for answer in answers} == {200}
    custody = (await evidence_api.get(url, headers=bearer(token))).json()["custody"]
    assert [line["sequence"] for line in custody["lines"]] == list(range(1, 11))
    assert custody["intact"] is True


async def test_a_tampered_custody_line_is_named(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    file_id = (await upload(evidence_api, token, JPEG, "image/jpeg")).json()["id"]
    url = f"/v1/evidence-files/{file_id}"
    await evidence_api.get(f"{url}/content", headers=bearer(token))
    # Someone with database access rewrites who took the file.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE intake.custody_line SET actor = 'client:ck_innocent' "
                "WHERE evidence_file_id = :id AND sequence = 2"
            ),
            {"id": file_id},
        )

    custody = (await evidence_api.get(url, headers=bearer(token))).json()["custody"]

    assert custody["intact"] is False
    assert custody["first_bad_sequence"] == 2
    assert "line 2" in custody["problem"]


async def test_an_upload_with_an_idempotency_key_is_stored_once(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)
    first = await upload(evidence_api, token, PDF, "application/pdf", **{"Idempotency-Key": "u1"})
    again = await upload(evidence_api, token, PDF, "application/pdf", **{"Idempotency-Key": "u1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    after = await evidence_rows(sessionmaker)
    assert after["intake.evidence_file"] == before["intake.evidence_file"] + 1


def report_with_snapshot(snapshot_file_id: str) -> dict[str, Any]:
    body = report_body()
    body["evidence"] = [
        {**body["evidence"][0], "snapshot_file_id": snapshot_file_id},
        {"kind": "other", "description": "Witness statement, no snapshot"},
    ]
    return body


@pytest.mark.usefixtures("catalogue")
async def test_a_report_names_its_snapshot_and_shows_its_hash_size_and_type(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    stored = (await upload(evidence_api, token, PNG, "image/png")).json()

    accepted = await evidence_api.post(
        "/v1/reports", json=report_with_snapshot(stored["id"]), headers=bearer(token)
    )

    assert accepted.status_code == 202, accepted.text
    report_id = accepted.json()["id"]
    report = (await evidence_api.get(f"/v1/reports/{report_id}", headers=bearer(token))).json()
    first, second = report["evidence"]
    assert first["snapshot"] == {
        "id": stored["id"],
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "size_bytes": len(PNG),
        "media_type": "image/png",
    }
    assert first["platform_post_id"] == "123" and first["author_handle"] == "@kamran"
    assert first["captured_by"] == "Focal Person" and first["captured_at"]
    assert second["snapshot"] is None
    custody = (
        await evidence_api.get(f"/v1/evidence-files/{stored['id']}", headers=bearer(token))
    ).json()["custody"]
    assert [(line["action"], line["note"]) for line in custody["lines"][:2]] == [
        ("uploaded", None),
        ("attached", f"evidence 0 of report {report_id}"),
    ]


@pytest.mark.usefixtures("catalogue")
async def test_another_departments_or_an_unknown_snapshot_cannot_be_named(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await department_token(sessionmaker)
    stranger_department, stranger = await department_token(sessionmaker)
    owners_file = (await upload(evidence_api, owner, PDF, "application/pdf")).json()["id"]
    before = await evidence_rows(sessionmaker)

    for snapshot_file_id in (owners_file, "00000000-0000-0000-0000-000000000000"):
        response = await evidence_api.post(
            "/v1/reports", json=report_with_snapshot(snapshot_file_id), headers=bearer(stranger)
        )
        problem = assert_problem(response, 422)
        assert [error["field"] for error in problem["errors"]] == ["evidence.0.snapshot_file_id"]

    assert await department_report_count(sessionmaker, stranger_department) == 0
    assert await evidence_rows(sessionmaker) == before


async def test_a_hand_over_is_a_line_naming_the_recipient(
    evidence_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await department_token(sessionmaker)
    _, stranger = await department_token(sessionmaker)
    url = f"/v1/evidence-files/{(await upload(evidence_api, owner, PDF, 'application/pdf')).json()['id']}"
    hand_over = {"recipient": "SMMU Health, inquiry officer", "note": "Sealed copy on USB"}

    response = await evidence_api.post(f"{url}/hand-overs", json=hand_over, headers=bearer(owner))

    assert response.status_code == 201, response.text
    assert response.json()["sequence"] == 2
    assert response.json()["recipient"] == "SMMU Health, inquiry officer"
    before = await evidence_rows(sessionmaker)
    for bad, field in (({"recipient": " "}, "recipient"), ({**hand_over, "to": "x"}, "to")):
        problem = assert_problem(
            await evidence_api.post(f"{url}/hand-overs", json=bad, headers=bearer(owner)), 422
        )
        assert field in {error["field"] for error in problem["errors"]}
    assert_problem(
        await evidence_api.post(f"{url}/hand-overs", json=hand_over, headers=bearer(stranger)), 404
    )
    assert await evidence_rows(sessionmaker) == before
    custody = (await evidence_api.get(url, headers=bearer(owner))).json()["custody"]
    assert [(line["action"], line["recipient"]) for line in custody["lines"]] == [
        ("uploaded", None),
        ("handed_over", "SMMU Health, inquiry officer"),
        ("read", None),
    ]
    assert custody["intact"] is True


@pytest.mark.usefixtures("catalogue")
async def test_evidence_links_are_data_never_fetched_by_the_server(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    """No SSRF surface: links to internal addresses are stored as written, and neither the API
    nor any worker handling the report ever connects to them."""
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("connected")
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    internal = f"http://127.0.0.1:{port}/latest/meta-data/iam"
    _, token = await department_token(sessionmaker)
    snapshot = (await upload(evidence_api, token, HTML, "text/html")).json()["id"]
    body = report_body(content_url=internal)
    body["evidence"] = [{"kind": "post", "url": internal, "snapshot_file_id": snapshot}]
    try:
        accepted = await evidence_api.post("/v1/reports", json=body, headers=bearer(token))
        assert accepted.status_code == 202, accepted.text
        await pump(sessionmaker, queue)
        report = (
            await evidence_api.get(accepted.json()["status_url"], headers=bearer(token))
        ).json()
    finally:
        server.close()
        await server.wait_closed()

    assert report["content_url"] == internal
    assert report["evidence"][0]["url"] == internal
    assert connections == []


async def test_an_evidence_store_that_cannot_be_written_gets_503_and_nothing_is_kept(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The store's directory lies under a plain file: every write fails, as on a lost mount."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)

    async with intake_client(evidence_directory=str(blocker / "evidence")) as api:
        response = await upload(api, token, PNG, "image/png")

    problem = assert_problem(response, 503)
    assert problem["code"] == "evidence-store-unavailable"
    assert response.headers["retry-after"] == "30"
    assert await evidence_rows(sessionmaker) == before


async def test_a_file_whose_bytes_the_store_lost_is_an_operators_problem(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    _, token = await department_token(sessionmaker)
    stored = (await upload(evidence_api, token, PNG, "image/png")).json()
    evidence_store.replace(stored["sha256"], None)

    response = await evidence_api.get(
        f"/v1/evidence-files/{stored['id']}/content", headers=bearer(token)
    )

    assert assert_problem(response, 500)["code"] == "evidence-content-missing"


async def test_a_snapshot_bigger_than_a_part_streams_up_and_back_whole(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    """7 MiB, sent chunked: on S3 a multipart upload (5 MiB parts) staged, copied to its hash's
    key and the staging object removed; the same bytes come back."""
    _, token = await department_token(sessionmaker)
    content = PDF + os.urandom(7 * MiB)

    async def in_chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), MiB):
            yield content[start : start + MiB]

    response = await upload(evidence_api, token, in_chunks(), "application/pdf")

    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored["size_bytes"] == len(content)
    assert evidence_store.names() == [stored["sha256"]]
    again = await upload(evidence_api, token, content, "application/pdf")
    assert again.json()["sha256"] == stored["sha256"]
    assert evidence_store.names() == [stored["sha256"]], "kept once, nothing left staged"
    returned = await evidence_api.get(
        f"/v1/evidence-files/{stored['id']}/content", headers=bearer(token)
    )
    assert returned.status_code == 200
    assert returned.content == content


async def test_a_snapshot_altered_in_the_store_is_never_handed_over_whole(
    evidence_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    evidence_store: EvidenceStore,
) -> None:
    """Someone with access to the disk or the bucket swaps the bytes: the download is checked
    against the SHA-256 as it streams and cut short before its last chunk."""
    _, token = await department_token(sessionmaker)
    stored = (await upload(evidence_api, token, PNG, "image/png")).json()
    altered = PNG[:-1] + bytes([PNG[-1] ^ 1])
    evidence_store.replace(stored["sha256"], altered)

    received = bytearray()
    with pytest.raises(EvidenceContentAltered, match="hash to something else"):
        async with evidence_api.stream(
            "GET", f"/v1/evidence-files/{stored['id']}/content", headers=bearer(token)
        ) as response:
            async for chunk in response.aiter_raw():
                received += chunk

    assert bytes(received) != altered and len(received) < len(altered)


async def test_an_unreachable_s3_store_gets_503_and_nothing_is_kept(
    sessionmaker: async_sessionmaker[AsyncSession], s3_endpoint: str
) -> None:
    """A bucket that does not exist, and an endpoint where nothing listens: 503, no rows."""
    _, token = await department_token(sessionmaker)
    before = await evidence_rows(sessionmaker)
    bucket_gone = s3_store(s3_endpoint).settings | {"evidence_s3_bucket": "no-such-bucket"}
    nobody_there = s3_store(s3_endpoint).settings | {
        "evidence_s3_endpoint_url": f"http://127.0.0.1:{free_port()}",
        "evidence_s3_connect_timeout_seconds": 0.5,
    }

    for settings in (bucket_gone, nobody_there):
        async with intake_client(**settings) as api:
            response = await upload(api, token, PNG, "image/png")
        problem = assert_problem(response, 503)
        assert problem["code"] == "evidence-store-unavailable"
        assert response.headers["retry-after"] == "30"
    assert await evidence_rows(sessionmaker) == before


def test_the_s3_store_needs_a_bucket_and_both_keys_or_neither() -> None:
    """Bad settings are refused when intake starts, naming the setting at fault."""
    with pytest.raises(ValueError, match="INTAKE_EVIDENCE_S3_BUCKET"):
        IntakeSettings(evidence_store="s3")
    with pytest.raises(ValueError, match="INTAKE_EVIDENCE_S3_SECRET_ACCESS_KEY"):
        IntakeSettings(
            evidence_store="s3", evidence_s3_bucket="evidence", evidence_s3_access_key_id="AK"
        )
    with pytest.raises(ValueError, match="evidence_s3_prefix"):
        IntakeSettings(evidence_store="s3", evidence_s3_bucket="evidence", evidence_s3_prefix="../")
    assert IntakeSettings(evidence_store="s3", evidence_s3_bucket="evidence").evidence_s3_prefix
