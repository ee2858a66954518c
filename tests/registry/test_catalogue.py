"""The catalogues: rules and penalties seeded by registry's migrations and readable over HTTP;
the rules published to intake and review through registry's outbox."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import Envelope, RulesCataloguePublished
from tests.factories import bearer
from tests.registry.factories import issue_reader

SEEDED_CODES = {
    "CR1964-18",
    "CR1964-22",
    "CR1987-18",
    "CR1987-22",
    "NOTIF-USE-WITHOUT-PERMISSION",
    "NOTIF-POLITICAL-SECTARIAN",
    "NOTIF-MISLEADING-INFORMATION",
    "NOTIF-GROUP-ADMINISTRATOR",
}


async def test_any_reader_lists_the_current_rules(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue_reader(sessionmaker, role="dashboard")
    response = await registry_api.get("/v1/catalogue/rules", headers=bearer(token))
    assert response.status_code == 200, response.text
    catalogue: dict[str, Any] = response.json()
    assert catalogue["catalogue_version"] == 1
    assert {rule["code"] for rule in catalogue["rules"]} == SEEDED_CODES
    rule_22 = next(rule for rule in catalogue["rules"] if rule["code"] == "CR1964-22")
    assert rule_22["source"] == "Government Servants (Conduct) Rules 1964"
    assert "embarrassing" in rule_22["clause"]
    assert rule_22["reply_window_working_days"] == 14


async def test_the_catalogue_needs_a_credential(registry_api: httpx.AsyncClient) -> None:
    response = await registry_api.get("/v1/catalogue/rules")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_migration_stages_one_publication_per_consumer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT destination, message_type, envelope FROM registry.outbox_message "
                    "WHERE message_type = 'catalogue.rules_published' ORDER BY destination"
                )
            )
        ).all()
        seeded = (
            await session.execute(
                text(
                    "SELECT code, title, reply_window_working_days FROM registry.rule "
                    "WHERE catalogue_version = 1"
                )
            )
        ).all()
    assert [row.destination for row in rows] == sorted(RulesCataloguePublished.consumers)
    for row in rows:
        # Exactly what Envelope would have written: parsing and dumping again changes nothing.
        envelope = Envelope.model_validate(row.envelope)
        assert envelope.model_dump(mode="json") == row.envelope
        assert (envelope.type, envelope.producer) == (row.message_type, "registry")
        published = RulesCataloguePublished.model_validate(envelope.payload)
        assert published.catalogue_version == 1
        assert {
            (rule.code, rule.title, rule.reply_window_working_days) for rule in published.rules
        } == {tuple(rule) for rule in seeded}


SEEDED_PENALTIES = [
    ("ED2020-CENSURE", "minor", False),
    ("ED2020-WITHHOLD-PROMOTION", "minor", True),
    ("ED2020-WITHHOLD-INCREMENT", "minor", True),
    ("ED2020-RECOVERY", "minor", False),
    ("ED2020-REDUCTION", "major", False),
    ("ED2020-COMPULSORY-RETIREMENT", "major", False),
    ("ED2020-REMOVAL", "major", False),
    ("ED2020-DISMISSAL", "major", False),
]


async def test_any_reader_lists_the_penalties_minor_before_major(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue_reader(sessionmaker, role="dashboard")
    response = await registry_api.get("/v1/catalogue/penalties", headers=bearer(token))
    assert response.status_code == 200, response.text
    catalogue: dict[str, Any] = response.json()
    assert catalogue["catalogue_version"] == 1
    assert "Efficiency and Discipline" in catalogue["note"]
    assert [
        (penalty["code"], penalty["penalty_class"], penalty["time_bound"])
        for penalty in catalogue["penalties"]
    ] == SEEDED_PENALTIES
    assert all(penalty["title"] and penalty["description"] for penalty in catalogue["penalties"])
    unauthenticated = await registry_api.get("/v1/catalogue/penalties")
    assert unauthenticated.status_code == 401
