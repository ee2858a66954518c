"""Scale-out on one machine: two uvicorn processes per API and two arq workers per service,
driven by a burst of concurrent portals, still give every report exactly one case and every
countersigned determination exactly one ledger record; and both of review's workers took part,
so the result proves the work was shared, not merely that one process coped alone."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.settings import to_plain_url
from tests.e2e.test_walking_skeleton import eventually
from tests.factories import bearer, report_body
from tests.scripted_member import take_to_violation
from tests.stack import RunningStack, isolated_stack

pytestmark = pytest.mark.e2e
REPORTS = 40
CLIENTS = 8
TAKEN_TO_THE_REGISTRY = 4
PROCESSES = 2


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with isolated_stack(
        label="scale",
        data_dir=tmp_path_factory.mktemp("scale"),
        api_processes=PROCESSES,
        workers=PROCESSES,
        # The test reads who did what from the processes' INFO lines.
        extra_env={"LOG_LEVEL": "INFO", "LOG_JSON": "true"},
    ) as stack:
        yield stack


async def count_by(database_url: str, sql: str, ids: list[str]) -> dict[str, int]:
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        rows = await connection.fetch(sql, ids)
    finally:
        await connection.close()
    return {row["id"]: row["n"] for row in rows}


def logged(log: Path) -> Iterator[dict[str, Any]]:
    """The JSON lines of a process's log (LOG_JSON=true); other lines (arq's own) skipped."""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                continue


def processed_by(log: Path) -> Counter[str]:
    """The message types a worker process logged as processed."""
    return Counter(
        entry.get("message_type", "?")
        for entry in logged(log)
        if entry.get("event") == "message processed"
    )


async def test_two_processes_of_each_still_give_exactly_once(scaled_stack: RunningStack) -> None:
    urls, tokens = scaled_stack.urls, scaled_stack.tokens
    members = [tokens["review_member_1"], tokens["review_member_2"]]
    names = scaled_stack.stack.names
    assert {
        f"{service}-worker-{n}" for service in ("intake", "review", "registry") for n in (1, 2)
    } <= set(names)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=20) as http:
        # A burst from several portals at once: CLIENTS concurrent submitters.
        pending = asyncio.Queue[int]()
        for number in range(REPORTS):
            pending.put_nowait(number)
        acknowledged: list[str] = []

        async def portal() -> None:
            while not pending.empty():
                pending.get_nowait()
                response = await http.post(
                    f"{urls['intake']}/v1/reports",
                    json=report_body(),
                    headers=bearer(tokens["portal_health"]),
                )
                assert response.status_code == 202, response.text
                acknowledged.append(response.json()["id"])

        await asyncio.gather(*(portal() for _ in range(CLIENTS)))
        assert len(set(acknowledged)) == REPORTS

        # Every acknowledged report reaches review as exactly one case.
        cases_sql = (
            "SELECT submission_id::text AS id, count(*) AS n FROM review.case "
            "WHERE submission_id::text = ANY($1::text[]) GROUP BY submission_id"
        )

        async def all_cases() -> dict[str, int] | None:
            counts = await count_by(scaled_stack.database_url, cases_sql, acknowledged)
            return counts if len(counts) == REPORTS else None

        counts = await eventually(all_cases, within=40)
        assert {report: n for report, n in counts.items() if n != 1} == {}

        # A few are taken through notice .. countersign to the registry, concurrently.
        async def assigned() -> list[tuple[str, dict[str, Any]]] | None:
            found: list[tuple[str, dict[str, Any]]] = []
            for token in members:
                items = (
                    await http.get(f"{urls['review']}/v1/cases", headers=bearer(token))
                ).json()["items"]
                found += [
                    (token, item)
                    for item in items
                    if item["state"] == "assigned" and item["submission_id"] in acknowledged
                ]
            return found if len(found) >= TAKEN_TO_THE_REGISTRY else None

        chosen = (await eventually(assigned))[:TAKEN_TO_THE_REGISTRY]

        async def determine(member: str, case: dict[str, Any]) -> None:
            case_url = f"{urls['review']}/v1/cases/{case['id']}"
            await take_to_violation(http, case_url, bearer(member))
            countersigned = await http.post(
                f"{case_url}/countersign", headers=bearer(tokens["review_chair"])
            )
            assert countersigned.status_code == 200, countersigned.text

        await asyncio.gather(*(determine(member, case) for member, case in chosen))
        case_ids = [case["id"] for _, case in chosen]
        records_sql = (
            "SELECT case_id::text AS id, count(*) AS n FROM registry.ledger_record "
            "WHERE record_kind = 'violation' AND case_id::text = ANY($1::text[]) "
            "GROUP BY case_id"
        )

        async def all_recorded() -> dict[str, int] | None:
            found = await count_by(scaled_stack.database_url, records_sql, case_ids)
            return found if len(found) == len(case_ids) else None

        recorded = await eventually(all_recorded, within=30)
        assert {case: n for case, n in recorded.items() if n != 1} == {}
        verify = await http.get(
            f"{urls['registry']}/v1/audit/verify", headers=bearer(tokens["registry_auditor"])
        )
        assert verify.json()["status"] == "intact", verify.text
    assert time.monotonic() - started < 60

    log_dir = scaled_stack.stack.log_dir
    assert log_dir is not None
    # Each API ran as PROCESSES uvicorn processes (each logs its own start).
    for service in ("intake", "review", "registry"):
        starts = sum(
            entry.get("event") == "api started" for entry in logged(log_dir / f"{service}-api.log")
        )
        assert starts == PROCESSES, (service, starts)
    # Both review workers did part of the work: the queue was shared, not left to one.
    per_worker = {
        n: processed_by(log_dir / f"review-worker-{n}.log") for n in range(1, PROCESSES + 1)
    }
    assert all(sum(seen.values()) > 0 for seen in per_worker.values()), per_worker
    assert sum(sum(seen.values()) for seen in per_worker.values()) >= REPORTS, per_worker
