"""The demo data of a local run: migrate the three schemas, seed a monitoring unit and client
credentials, and write the tokens to .data/dev-credentials.json (mode 0600).

This is the composition root for local runs, so it may call into every service's seed module.
A second run reuses the data and the tokens that still work.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from shared.db import create_engine, create_sessionmaker, unit_of_work
from shared.migrations import upgrade_all
from shared.settings import ServiceSettings

CREDENTIALS_FILE = "dev-credentials.json"
SERVICE_URLS = {
    "intake": "http://127.0.0.1:8001",
    "review": "http://127.0.0.1:8002",
    "registry": "http://127.0.0.1:8003",
}


async def seed_all(database_url: str, known_tokens: dict[str, str]) -> dict[str, str]:
    from services.intake.seed import seed_demo as seed_intake
    from services.registry.seed import seed_demo as seed_registry
    from services.review.seed import seed_demo as seed_review

    settings = ServiceSettings.model_validate({"DATABASE_URL": database_url})
    engine = create_engine(settings, application_name="demo-seed")
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            tokens = await seed_intake(session, known_tokens=known_tokens)
            tokens |= await seed_review(session, known_tokens=known_tokens)
            tokens |= await seed_registry(session, known_tokens=known_tokens)
        return tokens
    finally:
        await engine.dispose()


def prepare_demo(database_url: str, redis_url: str, data_dir: Path) -> Path:
    """Migrate, seed, and write the demo credentials; returns the credentials file's path."""
    upgrade_all(database_url)
    path = data_dir / CREDENTIALS_FILE
    known: dict[str, str] = {}
    if path.exists():
        try:
            known = dict(json.loads(path.read_text()).get("tokens", {}))
        except (ValueError, AttributeError):
            known = {}
    tokens = asyncio.run(seed_all(database_url, known))
    document = {
        "urls": SERVICE_URLS,
        "tokens": tokens,
        "notes": {
            "portal_health": "departmental portal of HEALTH: POST /v1/reports on intake",
            "mti_lrh": "MTI system of MTI-LRH: violator lists on intake",
            "review_chair": "chair of SMMU-HEALTH on review: countersigns",
            "review_member_1": "member of SMMU-HEALTH on review",
            "review_member_2": "member of SMMU-HEALTH on review",
            "registry_auditor": "auditor on registry: violations and /v1/audit/verify",
            "review_registry_reader": (
                "review's own reader on registry: the permission check at triage"
            ),
            "registry_competent_authority": (
                "competent authority of HEALTH on registry: records sanctions on violations"
            ),
        },
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle, indent=2)
    return path


def review_registry_link(tokens: dict[str, str], registry_url: str) -> dict[str, str]:
    """How review's worker asks registry at triage in a local stack: registry's URL and
    review's own reader token. Settings already in the environment win."""
    link = {
        "REVIEW_REGISTRY_URL": registry_url,
        "REVIEW_REGISTRY_READER_TOKEN": tokens.get("review_registry_reader", ""),
    }
    return {name: value for name, value in link.items() if value and name not in os.environ}
