"""The retention domain's settings (REGISTRY_RETENTION_ prefix): the policy the daily job
applies, and what spent sanctions take off the dashboards."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# What leaves the dashboards once a sanction is spent or expunged: the sanction (penalty
# counts and inconsistency flags), the sanction and the violation version it was imposed on
# (once every sanction on that version is spent or expunged), or nothing.
SpentLeave = Literal["sanction", "sanction_and_violation", "nothing"]


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_RETENTION_", extra="ignore", frozen=True)

    # Days after a cleared outcome (a cleared finding, or a violation set aside on appeal)
    # took effect before its case's records lose their personal data.
    cleared_days: int = Field(default=365, ge=0, le=36_500)
    spent_leave: SpentLeave = "sanction"
    # The hour (UTC) at which the worker applies the policy each day.
    run_at_hour: int = Field(default=2, ge=0, le=23)


@lru_cache
def get_retention_settings() -> RetentionSettings:
    return RetentionSettings()


async def current_retention_settings() -> RetentionSettings:
    """The settings as a request dependency: async, so a request never waits for a thread
    to read them (FastAPI runs a plain function dependency in its thread pool)."""
    return get_retention_settings()
