"""intake's settings: the shared ones plus what only intake reads (INTAKE_ prefix)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> IntakeSettings:
        self.refuse_development_pseudonym_key()
        return self


@lru_cache
def get_settings() -> IntakeSettings:
    return IntakeSettings()
