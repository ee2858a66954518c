"""intake's store of Idempotency-Key answers (shared.idempotency has the rules)."""

from __future__ import annotations

from services.intake.base import IntakeBase
from shared.idempotency import IdempotencyKeyColumns


class IdempotencyKey(IdempotencyKeyColumns, IntakeBase):
    pass
