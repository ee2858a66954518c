"""deploy/docker-compose.yml, read as YAML (no Docker here): the services it runs, what waits
for what, the health checks, the one published port, the one image, and no secret in it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.deploy.support import API_PORTS, DEPLOY, SECRET_VARIABLES, SERVICES

APIS = [f"{service}-api" for service in SERVICES]
WORKERS = [f"{service}-worker" for service in SERVICES]
APP_SERVICES = ["migrate", *APIS, *WORKERS]
ENTRYPOINT = "/usr/local/bin/conduct-entrypoint"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def test_it_runs_the_databases_the_migration_and_each_api_and_worker(
    services: dict[str, Any],
) -> None:
    assert sorted(services) == sorted(["postgres", "redis", *APP_SERVICES])


def test_every_process_runs_the_one_image_with_its_role(services: dict[str, Any]) -> None:
    assert {services[name]["image"] for name in APP_SERVICES} == {"${CONDUCT_IMAGE:-conduct:local}"}
    builds = [services[name]["build"] for name in APP_SERVICES]
    assert all(build == {"context": "..", "dockerfile": "deploy/Dockerfile"} for build in builds)
    assert services["migrate"]["command"] == ["migrate"]
    for service in SERVICES:
        assert services[f"{service}-api"]["command"] == ["api", service]
        assert services[f"{service}-worker"]["command"] == ["worker", service]


def test_the_migration_runs_once_after_postgres_and_before_everything_else(
    services: dict[str, Any],
) -> None:
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in [*APIS, *WORKERS]:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name


def test_the_apis_are_healthy_when_alive_and_ready(services: dict[str, Any]) -> None:
    for service in SERVICES:
        test = services[f"{service}-api"]["healthcheck"]["test"]
        assert test == [
            "CMD",
            ENTRYPOINT,
            "probe",
            "http",
            "--port",
            str(API_PORTS[service]),
            "/healthz",
            "/readyz",
        ]


def test_the_workers_and_databases_have_health_checks(services: dict[str, Any]) -> None:
    for name in WORKERS:
        assert services[name]["healthcheck"]["test"] == ["CMD", ENTRYPOINT, "probe", "heartbeat"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_only_intake_publishes_a_port(services: dict[str, Any]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"intake-api"}
    assert services["intake-api"]["ports"] == ["${INTAKE_PUBLISH:-8001}:8001"]


def test_redis_keeps_an_append_only_file_and_never_evicts(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    assert options["--maxmemory-policy"] == "noeviction"
    assert services["redis"]["volumes"] == ["redis-data:/data"]


def test_the_processes_run_read_only_without_capabilities(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        service = services[name]
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp:size=64m,mode=1777"], name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_secrets_come_from_the_env_file_never_from_the_compose_file(
    services: dict[str, Any],
) -> None:
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        for variable in SECRET_VARIABLES & set(environment):
            assert "${" in environment[variable], (name, variable)
        assert "REGISTRY_CHECKPOINT_SIGNING_KEY" in environment or not name.startswith("registry")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")


def test_the_env_file_example_names_every_variable_the_compose_file_reads() -> None:
    compose_text = (DEPLOY / "docker-compose.yml").read_text()
    read = set(re.findall(r"\$\{([A-Z_]+)", compose_text))
    example = (DEPLOY / "compose.env.example").read_text()
    defined = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read == defined
    secrets = {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "PSEUDONYM_KEY"} | {
        "REGISTRY_CHECKPOINT_SIGNING_KEY"
    }
    for name in secrets:
        assert re.search(rf"^{name}=$", example, flags=re.MULTILINE), f"{name} is left blank"
