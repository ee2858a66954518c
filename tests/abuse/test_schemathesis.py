"""S7: schemathesis against each service's own OpenAPI document, with data that fits it
(positive) and data that does not (negative), sent in-process to the app with a valid
credential of the role the policy lets call each route, so that requests get past
authentication. Each response must be no 5xx, carry no traceback, SQL or driver text, and
match the document (status, content type, headers, body schema); a request that breaks the
document must be refused (4xx).

Path ids are a fresh organisation's real objects (tests/abuse/world.py) half of the time in
positive mode, so handlers run past their 404, and random otherwise. Short in CI: a few
examples per operation and mode (S7_EXAMPLES, default 6; `S7_EXAMPLES=200` for a long run),
no shrinking, no example database."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import SERVICES, Service
from tests.abuse.apps import APPS, UNAUTHENTICATED_PATHS, routes
from tests.abuse.policy import POLICY, object_ids
from tests.abuse.world import Organisation, seed_world

Sessionmaker = async_sessionmaker[AsyncSession]
EXAMPLES = int(os.environ.get("S7_EXAMPLES", "6"))

# What must never reach a caller: a Python traceback, SQL, or the database driver's words.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|sqlalchemy|asyncpg|"
    r"psycopg|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.+\bSET\b|\bDELETE FROM\b|"
    r"violates (?:foreign key|unique|check|not-null) constraint|UniqueViolation|"
    r"ForeignKeyViolation|DataError|IntegrityError|ProgrammingError|redis\.exceptions",
    re.IGNORECASE,
)


def no_leaks(ctx: Any, response: Response, case: Case) -> bool | None:
    """No traceback, SQL or driver text in the body or a header."""
    seen = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    found = LEAKS.search(seen)
    if found:
        raise AssertionError(f"the response gives away {found.group()!r}: {response.text[:300]}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    no_leaks,
]


# A violator list's rows are judged one by one: a row that breaks the row schema is a rejected
# row of a 201 answer (by design, so one bad row never refuses its neighbours), not a 4xx.
ROWS_JUDGED_ONE_BY_ONE = {("intake", "POST", "/v1/violator-lists")}


def app_of(service: Service, **settings: Any) -> Any:
    """A fresh app of the service whose limiters never get in the way of the run."""
    create_app, dependency, settings_class = APPS[service]
    app = create_app()
    relaxed = settings_class(
        rate_limit_per_minute=10**9, auth_failures_per_minute=10**9, **settings
    )
    app.dependency_overrides[dependency] = lambda: relaxed
    return app


def operations() -> Iterator[tuple[Service, str, str]]:
    for service, method, path in routes():
        if path not in UNAUTHENTICATED_PATHS:
            yield service, method, path


@pytest.fixture(scope="module")
async def organisation(
    sessionmaker: Sessionmaker, catalogue: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Organisation, str]:
    """A world of its own: positive calls act on its objects, never on the shared world's."""
    directory = str(tmp_path_factory.mktemp("s7-evidence"))
    return (await seed_world(sessionmaker, directory)).a, directory


@pytest.fixture(scope="module")
def schemas(organisation: tuple[Organisation, str]) -> dict[Service, Any]:
    _, directory = organisation
    loaded: dict[Service, Any] = {}
    for service in SERVICES:
        own = {"evidence_directory": directory} if service == "intake" else {}
        app = app_of(service, **own)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema.config.generation.update(
            max_examples=EXAMPLES, no_shrink=True, database="none", deterministic=False
        )
        loaded[service] = schema
    return loaded


@pytest.mark.parametrize(
    ("service", "method", "path"), list(operations()), ids=[" ".join(o) for o in operations()]
)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_5xx_no_leak_and_no_schema_mismatch(
    schemas: dict[Service, Any],
    organisation: tuple[Organisation, str],
    service: Service,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    org, _ = organisation
    route = (service, method, path)
    roles = sorted(POLICY[route]) or ["chair"]
    headers = org.headers(roles[0])
    operation = schemas[service][path][method.lower()]
    strategy = operation.as_strategy(generation_mode=mode)
    if mode == GenerationMode.POSITIVE and "{" in path:
        ids = object_ids(path, org.ids)
        names = re.findall(r"\{(\w+)\}", path)
        strategy = st.one_of(
            strategy,
            operation.as_strategy(
                generation_mode=mode, path_parameters={name: ids[name] for name in names}
            ),
        )
    checks = CHECKS
    if mode == GenerationMode.NEGATIVE and route not in ROWS_JUDGED_ONE_BY_ONE:
        checks = [*CHECKS, negative_data_rejection]

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def exercise(case: Case) -> None:
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        case.validate_response(response, checks=checks)

    try:
        exercise()
    except hypothesis.errors.Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameters, no body): the positive
        # run covers it.
        assert mode == GenerationMode.NEGATIVE
