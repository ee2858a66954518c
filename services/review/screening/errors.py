"""Why the protected-disclosure screen, or a step it gates, is refused."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class ScreenRequired(Conflict):
    code = "disclosure-screen-required"
    title = "The protected-disclosure screen must let the charge go forward first"


class ScreenNotOpen(Conflict):
    code = "disclosure-screen-not-open"
    title = "The protected-disclosure screen cannot be taken now"


class ScreenNotFound(NotFound):
    code = "disclosure-screen-not-found"
    title = "This case has not been screened yet"
