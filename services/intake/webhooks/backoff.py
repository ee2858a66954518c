"""When a failed webhook delivery is tried again, and when intake stops trying.

Exponential backoff from a base up to a cap, with jitter (a random half to whole of the step), so
a receiver that was down is not hit by every pending delivery at the same moment when it comes
back. The last retry falls at the end of the window after the first attempt; a delivery that
fails then is failed for good.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def retry_delay(
    attempts: int, *, base_seconds: float, cap_seconds: float, rng: random.Random | None = None
) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1 for the first)."""
    step = min(cap_seconds, base_seconds * 2 ** min(max(attempts - 1, 0), 32))
    jitter = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=step * jitter)


def next_attempt_at(
    *,
    attempts: int,
    now: datetime,
    first_attempted_at: datetime,
    window: timedelta,
    base_seconds: float,
    cap_seconds: float,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after a failed attempt, or None once the window is spent."""
    give_up_at = first_attempted_at + window
    if now >= give_up_at:
        return None
    delay = retry_delay(attempts, base_seconds=base_seconds, cap_seconds=cap_seconds, rng=rng)
    return min(now + delay, give_up_at)
