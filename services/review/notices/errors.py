"""Why an extension of the reply window is refused."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class ExtensionNotOpen(Conflict):
    code = "extension-not-open"
    title = "The reply window cannot be extended now"


class ExtensionNotFound(NotFound):
    code = "extension-not-found"
    title = "No such extension request on this case"
