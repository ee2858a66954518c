"""intake's settings: the shared ones plus what only intake reads (INTAKE_ prefix)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    # Requests one client may make per minute, all replicas together; bursts up to this many,
    # then refilled evenly. Generous: it stops a runaway integration, not a busy portal.
    rate_limit_per_minute: int = Field(default=600, ge=1)
    # Failed authentications one client address may make per minute before its requests are
    # refused with 429 unseen.
    auth_failures_per_minute: int = Field(default=20, ge=1)

    # A violator list may hold this many rows; a longer one is refused whole (422).
    violator_list_max_rows: int = Field(default=100_000, ge=1)
    # The body cap of POST /v1/violator-lists alone (other routes keep MAX_REQUEST_BYTES): a
    # 100,000-row CSV is some 25 MB, its JSON form some 40 MB; 50 MB and more is refused (413).
    violator_list_max_bytes: int = Field(default=45 * 1024 * 1024, ge=1)
    # The statement timeout inside a list's transaction (COPY of 100,000 rows and the
    # INSERT ... SELECTs after it), in place of DATABASE_STATEMENT_TIMEOUT_MS.
    violator_list_statement_timeout_ms: int = Field(default=120_000, ge=1)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> IntakeSettings:
        self.refuse_development_pseudonym_key()
        return self


@lru_cache
def get_settings() -> IntakeSettings:
    return IntakeSettings()
