"""intake's settings: the shared ones plus what only intake reads (INTAKE_ prefix)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    # Webhooks. Targets must be https on public addresses; a local development stack may allow
    # http and private, loopback or link-local targets (never in production).
    webhook_allow_private_targets: bool = False
    # Key that encrypts each webhook's signing secret at rest (a Fernet key is derived from it).
    # Unset, a key is derived from PSEUDONYM_KEY (under its own label), which production must
    # already set; set this to rotate the two apart.
    webhook_secret_key: SecretStr | None = None
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_read_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retries back off exponentially from the base up to the cap, with jitter, until the
    # window after the first attempt has passed; then the delivery is failed.
    webhook_retry_base_seconds: float = Field(default=10.0, ge=0)
    webhook_retry_cap_seconds: float = Field(default=3600.0, ge=0)
    webhook_retry_window_seconds: float = Field(default=24 * 3600.0, gt=0)
    # Deliveries one run of the delivery job claims, and sends at once.
    webhook_batch_size: int = Field(default=50, ge=1)
    webhook_concurrency: int = Field(default=10, ge=1)
    # Largest evidence snapshot (screenshot, PDF, saved HTML page) one upload may carry; a
    # larger body is refused with 413 before it is stored. Other bodies keep MAX_REQUEST_BYTES.
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Where snapshot bytes live: a directory every replica shares ("filesystem"), or an
    # S3-compatible bucket ("s3": AWS S3, MinIO, Ceph RGW...), named by their SHA-256 either way.
    evidence_store: Literal["filesystem", "s3"] = "filesystem"
    # The filesystem store's directory.
    evidence_directory: str = ".data/evidence"
    # The S3 store. Unset endpoint: AWS itself (the region's endpoint); set for MinIO and others
    # (then addressed path-style, http://host:9000/bucket/key). Unset keys: boto3's usual chain
    # (AWS_* variables, a web identity or instance role).
    evidence_s3_endpoint_url: str | None = None
    evidence_s3_bucket: str | None = None
    evidence_s3_region: str = "us-east-1"
    evidence_s3_access_key_id: str | None = None
    evidence_s3_secret_access_key: SecretStr | None = None
    # Prepended to every key: <prefix><first two hex digits>/<sha256>.
    evidence_s3_prefix: str = Field(
        default="evidence/", pattern=r"^([A-Za-z0-9_-][A-Za-z0-9._-]*/)*$"
    )
    # A snapshot this big or bigger goes up as a multipart upload in parts of this size (S3's
    # least part is 5 MiB); a smaller one is one PUT, so an upload never holds more than this.
    evidence_s3_part_bytes: int = Field(default=5 * 1024 * 1024, ge=5 * 1024 * 1024)
    evidence_s3_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    evidence_s3_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # A report about the same subject and the same link or snapshot as an open report received
    # within this many days is linked to it rather than opening a second case.
    duplicate_window_days: int = Field(default=30, ge=0)

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
        if self.environment == "production" and self.webhook_allow_private_targets:
            raise ValueError("INTAKE_WEBHOOK_ALLOW_PRIVATE_TARGETS is for local development only")
        if self.evidence_store == "s3" and not self.evidence_s3_bucket:
            raise ValueError("INTAKE_EVIDENCE_STORE=s3 needs INTAKE_EVIDENCE_S3_BUCKET")
        if (self.evidence_s3_access_key_id is None) != (self.evidence_s3_secret_access_key is None):
            raise ValueError(
                "Set both INTAKE_EVIDENCE_S3_ACCESS_KEY_ID and INTAKE_EVIDENCE_S3_SECRET_ACCESS_KEY, "
                "or neither (boto3's own credential chain)"
            )
        return self

    def webhook_sealing_key(self) -> str:
        """The secret that webhook signing secrets are encrypted under (see webhooks.signing)."""
        if self.webhook_secret_key is not None:
            return "webhook-secret-key:" + self.webhook_secret_key.get_secret_value()
        return "pseudonym-key:" + self.pseudonym_key.get_secret_value()


@lru_cache
def get_settings() -> IntakeSettings:
    return IntakeSettings()


async def current_settings() -> IntakeSettings:
    """The settings as a request dependency: async, so a request never waits for a thread
    to read them (FastAPI runs a plain function dependency in its thread pool)."""
    return get_settings()
