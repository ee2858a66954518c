"""The base of every request body a caller sends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictInput(BaseModel):
    """Unknown fields are refused (422 naming them), so nobody can set a server-owned field
    (id, status, department, assignee, hashes...)."""

    model_config = ConfigDict(extra="forbid")
