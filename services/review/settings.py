"""review's settings: the shared ones plus what only review reads (REVIEW_ prefix)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", frozen=True)

    # Public holidays, skipped like weekends by every working-day count (reply windows, stage
    # deadlines). A JSON list of ISO dates: REVIEW_PUBLIC_HOLIDAYS='["2026-12-25"]'.
    public_holidays: frozenset[date] = frozenset()
    # Used when a case's rules are not (yet) in the local catalogue replica.
    default_reply_window_working_days: int = Field(default=14, ge=1, le=90)

    # How long a case may sit untouched at each stage before it is escalated to the unit's
    # chair, in working days. The reply window (notice_issued) has its own clock and lapses
    # instead; a determination awaiting the chair's countersignature is the chair's own step.
    received_deadline_working_days: int = Field(default=2, ge=1, le=90)
    assigned_deadline_working_days: int = Field(default=3, ge=1, le=90)
    in_review_deadline_working_days: int = Field(default=10, ge=1, le=90)
    hearing_deadline_working_days: int = Field(default=10, ge=1, le=90)
    determination_deadline_working_days: int = Field(default=10, ge=1, le=90)

    # How many days before a granted permission expires its case is reminded of renewal.
    permission_renewal_reminder_days: int = Field(default=30, ge=1, le=365)

    # Calendar days, from the day a violation finding became final (the chair's
    # countersignature: the violation's effective date in registry), within which an appeal
    # may be filed. Keep it equal to REGISTRY_APPEAL_WINDOW_DAYS, which holds sanctions back.
    appeal_window_days: int = Field(default=30, ge=0, le=365)
    # Days after the appeal window before an unappealed violation's case is closed, so that an
    # appeal filed in time but entered late can still be recorded.
    close_grace_days: int = Field(default=7, ge=0, le=90)

    # The permission check at triage asks registry over HTTP (GET /v1/permissions/check) with a
    # registry reader credential (role auditor, bound to no department). Unset: every check
    # answers 'unknown'. REVIEW_REGISTRY_URL='http://registry:8003', REVIEW_REGISTRY_READER_TOKEN.
    registry_url: str | None = None
    registry_reader_token: SecretStr | None = None

    @field_validator("registry_url", "registry_reader_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (a compose file's `${VAR:-}`) means not configured."""
        return None if value == "" else value

    # Each attempt's timeout, and how many attempts before the answer is 'unknown'.
    registry_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    registry_attempts: int = Field(default=3, ge=1, le=10)
    # A check left 'unknown' because registry could not be asked is asked again every this
    # many minutes, at most this many times, while the case is still before its notice.
    registry_recheck_minutes: int = Field(default=5, ge=1, le=1440)
    registry_recheck_limit: int = Field(default=12, ge=0, le=1000)
    # The longest extension of a reply window one request may ask for, in working days.
    max_extension_working_days: int = Field(default=30, ge=1, le=90)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> ReviewSettings:
        self.refuse_development_pseudonym_key()
        return self


@lru_cache
def get_settings() -> ReviewSettings:
    return ReviewSettings()


async def current_settings() -> ReviewSettings:
    """The settings as a request dependency: async, so a request never waits for a thread
    to read them (FastAPI runs a plain function dependency in its thread pool)."""
    return get_settings()
