"""Settings shared by every service: where the database and queue are, and how messages travel.

Each service subclasses `ServiceSettings` with its own `env_prefix` for what only it needs; the
fields here are read from unprefixed variables (DATABASE_URL, REDIS_URL...) so one environment
configures the whole stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in the repository for local development only; production must replace them.
DEVELOPMENT_PSEUDONYM_KEY = "development-pseudonym-key-change-me"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """What all three services read. Unprefixed variables, documented in the README."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["local", "test", "production"] = Field(
        default="local", validation_alias=_env("CONDUCT_ENVIRONMENT")
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/conduct",
        validation_alias=_env("DATABASE_URL"),
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias=_env("REDIS_URL"))
    # Namespaces the queues so several stacks (or test runs) can share one Redis.
    queue_prefix: str = Field(default="conduct", validation_alias=_env("QUEUE_PREFIX"))
    # Keyed hash that turns a reporter's identity into an opaque reference that review can
    # compare for conflicts of interest without learning who reported.
    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PSEUDONYM_KEY), validation_alias=_env("PSEUDONYM_KEY")
    )
    # Prefixed per service (INTAKE_RATE_LIMIT_PER_MINUTE, REVIEW_..., REGISTRY_...). Requests
    # one caller (an intake client, a member, a registry reader) may make per minute, all
    # replicas together; bursts up to this many, then refilled evenly. Generous: it stops a
    # runaway integration or script, not a busy person.
    rate_limit_per_minute: int = Field(default=600, ge=1)
    # Failed authentications one client address may make per minute before its requests are
    # refused with 429 unseen.
    auth_failures_per_minute: int = Field(default=20, ge=1)
    log_level: str = Field(default="INFO", validation_alias=_env("LOG_LEVEL"))
    # A worker serves its Prometheus metrics on this port (0: not served). One port per process:
    # set it per pod, or per worker on one host.
    worker_metrics_port: int = Field(
        default=0, ge=0, le=65535, validation_alias=_env("WORKER_METRICS_PORT")
    )
    log_json: bool = Field(default=True, validation_alias=_env("LOG_JSON"))
    database_pool_size: int = Field(default=10, validation_alias=_env("DATABASE_POOL_SIZE"))
    # A statement that runs longer than this is cancelled, so a stuck database cannot hold a
    # request or a job forever.
    database_statement_timeout_ms: int = Field(
        default=15_000, validation_alias=_env("DATABASE_STATEMENT_TIMEOUT_MS")
    )
    max_request_bytes: int = Field(default=1_048_576, validation_alias=_env("MAX_REQUEST_BYTES"))
    # arq reruns a job whose worker died only after job_timeout + 10 s, so keep it short.
    job_timeout_seconds: int = Field(default=20, validation_alias=_env("JOB_TIMEOUT_SECONDS"))
    # Attempts at a message before it lands in the dead-letter table.
    delivery_attempts: int = Field(default=5, validation_alias=_env("DELIVERY_ATTEMPTS"))
    relay_poll_seconds: float = Field(default=1.0, validation_alias=_env("RELAY_POLL_SECONDS"))
    # How often an idle worker asks Redis for work; arq's default (0.5 s) adds half a second
    # to every hop of a flow.
    worker_poll_seconds: float = Field(default=0.05, validation_alias=_env("WORKER_POLL_SECONDS"))
    # A message handed to Redis but with no arq result after this long is handed over again.
    relay_resend_after_seconds: float = Field(
        default=30.0, validation_alias=_env("RELAY_RESEND_AFTER_SECONDS")
    )
    # OpenTelemetry: spans are exported over OTLP/HTTP to this collector (e.g.
    # http://127.0.0.1:4318) when set; unset, tracing is off. See shared.tracing.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    # The name spans are exported under; the service's own name ("intake"...) when unset.
    otel_service_name: str | None = Field(default=None, validation_alias=_env("OTEL_SERVICE_NAME"))

    @property
    def async_database_url(self) -> str:
        return to_asyncpg_url(self.database_url)

    def refuse_development_pseudonym_key(self) -> None:
        """For the services that use the key (intake, review): production must set its own.
        Services that never pseudonymise need not be handed the secret at all."""
        if (
            self.environment == "production"
            and self.pseudonym_key.get_secret_value() == DEVELOPMENT_PSEUDONYM_KEY
        ):
            raise ValueError("PSEUDONYM_KEY must be set to a secret value in production")


def to_asyncpg_url(url: str) -> str:
    """SQLAlchemy's URL for asyncpg, from the plain postgresql:// URL users configure."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")


def to_plain_url(url: str) -> str:
    """The libpq-style URL that asyncpg.connect() takes."""
    return "postgresql://" + to_asyncpg_url(url)[len("postgresql+asyncpg://") :]
