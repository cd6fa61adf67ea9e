"""Pauses (waiting on the customer, 冷处理): clipped to after the start and merged before they stop the clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from xlcomplaints.core.calendar.units import _as_datetime


def _merge_pauses(
    start: datetime, pauses: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Sort, clip to after ``start`` and merge overlapping or touching pauses."""
    clipped: list[tuple[datetime, datetime]] = []
    for ps, pe in pauses:
        ps, pe = _as_datetime(ps), _as_datetime(pe)
        if pe < ps:
            raise ValueError(f"pause ends ({pe}) before it starts ({ps})")
        if pe <= start:
            continue
        clipped.append((max(ps, start), pe))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for ps, pe in clipped:
        if merged and ps <= merged[-1][1]:
            if pe > merged[-1][1]:
                merged[-1] = (merged[-1][0], pe)
        else:
            merged.append((ps, pe))
    return merged
