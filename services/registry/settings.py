"""registry's settings: the shared ones plus what only registry reads (REGISTRY_ prefix)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    # Records read per round trip when the chain is verified: memory stays flat however long
    # the ledger grows.
    verify_batch_size: int = Field(default=5000, ge=1, le=50_000)


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
