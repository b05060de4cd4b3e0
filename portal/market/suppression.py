"""Small-number suppression for commissioner pages (DESIGN.md §5): counts 1..threshold show as "c"."""

from __future__ import annotations

SUPPRESSED = "c"


def suppress(count: int, threshold: int) -> int | str:
    """Zero is shown (it reveals no child); 1..threshold is hidden; larger counts are shown."""
    return SUPPRESSED if 0 < count <= threshold else count
