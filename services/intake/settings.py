"""intake's settings: the shared ones plus what only intake reads (INTAKE_ prefix)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)


@lru_cache
def get_settings() -> IntakeSettings:
    return IntakeSettings()
