"""Signed checkpoints as auditors read them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CheckpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    record_count: int
    head_sequence: int
    head_hash: str
    signed_at: datetime
    signature: str = Field(description="Ed25519 over the canonical JSON of the four fields above")
    public_key: str = Field(description="The registry's Ed25519 public key, base64 raw bytes")


class CheckpointList(BaseModel):
    items: list[CheckpointRead]
