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
    # Largest evidence snapshot (screenshot, PDF, saved HTML page) one upload may carry; a
    # larger body is refused with 413 before it is stored. Other bodies keep MAX_REQUEST_BYTES.
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Where the filesystem evidence store keeps snapshot bytes, named by their SHA-256.
    evidence_directory: str = ".data/evidence"
    # A report about the same subject and the same link or snapshot as an open report received
    # within this many days is linked to it rather than opening a second case.
    duplicate_window_days: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> IntakeSettings:
        self.refuse_development_pseudonym_key()
        return self


@lru_cache
def get_settings() -> IntakeSettings:
    return IntakeSettings()
