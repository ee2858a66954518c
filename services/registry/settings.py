"""registry's settings: the shared ones plus what only registry reads (REGISTRY_ prefix)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    # Records read per round trip by the record-by-record verifier (verify_ledger): memory
    # stays flat however long the ledger grows.
    verify_batch_size: int = Field(default=5000, ge=1, le=50_000)
    # Parts of the chain GET /v1/audit/verify checks at once inside PostgreSQL, each on its own
    # connection (services/registry/ledger/verification.py): about the database's cores.
    verify_segments: int = Field(default=4, ge=1, le=32)
    # Ed25519 private key (32 raw bytes, base64) that signs the ledger's checkpoints. Local and
    # test runs use a development key; in production the worker (the only signer) refuses to
    # start without a real one, and the API need not be given it.
    checkpoint_signing_key: SecretStr | None = None
    # An append-only file that receives a JSON line per checkpoint (a copy outside the database).
    checkpoint_file: Path | None = None
    checkpoint_every_minutes: int = Field(default=5, ge=1, le=60)
    # Calendar days after a violation's effective date during which the employee may appeal;
    # no sanction may be ordered until they have passed (services/registry/sanctions/lifecycle.py).
    appeal_window_days: int = Field(default=30, ge=0, le=365)
    # The longest a CSV export of violations may run (its statement timeout): one export is one
    # long statement, unlike a request, which DATABASE_STATEMENT_TIMEOUT_MS bounds.
    export_timeout_seconds: int = Field(default=600, ge=1, le=3600)

    def require_signing_key(self) -> None:
        if self.environment == "production" and self.checkpoint_signing_key is None:
            raise ValueError("REGISTRY_CHECKPOINT_SIGNING_KEY must be set in production")


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()


async def current_settings() -> RegistrySettings:
    """The settings as a request dependency: async, so a request never waits for a thread
    to read them (FastAPI runs a plain function dependency in its thread pool)."""
    return get_settings()
