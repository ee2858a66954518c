"""Why a retention run is refused."""

from __future__ import annotations

from shared.errors import Conflict


class PreviewOutdated(Conflict):
    """What the policy would purge now is not what the preview showed (records became due,
    or were purged, since): preview again."""

    code = "retention-preview-outdated"
    title = "The retention preview no longer matches what would be purged"
