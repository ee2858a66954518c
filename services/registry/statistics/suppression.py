"""Small-cell suppression: what keeps a dashboard from singling anyone out.

The rule, applied to every number a statistics response or export carries:
- a count below the threshold (REGISTRY_STATISTICS_MIN_CELL, default 5) reads "<5" (the
  threshold as set), never the number; a count of zero is not a group and is not listed;
- a total reads "<5" when it is itself below the threshold, and is withheld (null) whenever
  any group is suppressed: the total less the groups shown would give the suppressed cell back;
- the days from report to record (median, p90) are given only over at least the threshold's
  number of records, otherwise they read "<5" too, as does the record count.
"""

from __future__ import annotations

SuppressedCount = int | str


def suppressed_marker(min_cell: int) -> str:
    return f"<{min_cell}"


def cell(count: int, *, min_cell: int) -> SuppressedCount:
    """The count as a dashboard may see it."""
    return count if count >= min_cell else suppressed_marker(min_cell)


def total(count: int, *, cells: list[int], min_cell: int) -> SuppressedCount | None:
    """The total as a dashboard may see it: None (withheld) if it would reveal a suppressed
    cell by subtraction."""
    if count < min_cell:
        return suppressed_marker(min_cell)
    if any(value < min_cell for value in cells):
        return None
    return count
