"""The screen's gate before a notice, apart from the screen itself so the procedure can ask it
without importing the screen (which drives the procedure's dismissal)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.models import Case
from services.review.screening.errors import ScreenRequired
from services.review.screening.models import ConfidentialOutcome, DisclosureScreen


async def require_screen_to_proceed(session: AsyncSession, *, case: Case) -> None:
    """Serving a notice needs the protected-disclosure screen done with the outcome 'proceed',
    or the chair's re-screening that returned the case from the confidential channel."""
    screen = await session.get(DisclosureScreen, case.id)
    if screen is not None and screen.outcome == "confidential_channel":
        channel = await session.get(ConfidentialOutcome, case.id)
        if channel is not None and channel.outcome == "returned":
            return
    if screen is None or screen.outcome != "proceed":
        raise ScreenRequired(
            "Serving the notice needs the protected-disclosure screen done with the outcome "
            f"'proceed' first (POST /v1/cases/{case.id}/screen)."
        )
