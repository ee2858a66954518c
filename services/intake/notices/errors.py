"""Why a notice, or an answer to it, is refused."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class NoticeNotFound(NotFound):
    code = "notice-not-found"
    title = "No such notice for this department"


class NoticeAnswered(Conflict):
    code = "notice-already-answered"
    title = "This notice takes no further reply"
