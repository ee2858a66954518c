"""Why intake refuses a webhook request."""

from __future__ import annotations

from shared.errors import FieldProblem, InvalidInput, NotFound


class WebhookTargetRefused(InvalidInput):
    code = "webhook-target-refused"
    title = "The webhook URL may not be a target"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, errors=[FieldProblem(field="url", message=reason)])


class WebhookNotFound(NotFound):
    code = "webhook-not-found"
    title = "This client has no webhook"
