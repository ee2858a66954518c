"""The statistics domain's settings (REGISTRY_STATISTICS_ prefix)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StatisticsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGISTRY_STATISTICS_", extra="ignore", frozen=True
    )

    # Any count below this reads "<min_cell>" for every reader of statistics, so that no one
    # can be singled out from a dashboard (services/registry/statistics/suppression.py).
    min_cell: int = Field(default=5, ge=1, le=1000)
    # Groups fetched per round trip when the CSV export streams.
    export_batch_size: int = Field(default=500, ge=1, le=50_000)


@lru_cache
def get_statistics_settings() -> StatisticsSettings:
    return StatisticsSettings()


async def current_statistics_settings() -> StatisticsSettings:
    """As a request dependency: async, so no thread pool hop per request."""
    return get_statistics_settings()
