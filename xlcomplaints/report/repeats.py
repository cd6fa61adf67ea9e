"""Repeat complaints across branches: each branch's engine saw only its own register, so a consolidation
marks a complaint repeating, at another branch, one the same customer made about the same category."""

from __future__ import annotations

from datetime import timedelta
from operator import attrgetter

from xlcomplaints.core.lifecycle import contact_key, repeat_pairs
from xlcomplaints.core.metrics import Case, time_of
from xlcomplaints.report.file_summary import DEFAULT_REPEAT_WINDOW


def _customer(phone: str | None, name: str | None) -> str | None:
    """Who complained, as each branch's engine tells (``contact_key``), except that a masked number
    counts only together with the name: numbers alike in their first 3 and last 4 digits are not rare."""
    if phone and "*" in phone:
        return f"masked:{phone}:{name.strip()}" if name and name.strip() else None
    return contact_key(phone, name)


_who = attrgetter("no", "received_at", "validity", "category", "phone", "customer")


def mark_repeats_across_branches(cases: list[Case], windows: dict[str, int]) -> None:
    """A complaint repeating, at another branch, one the same customer made about the same category
    is a repeat complaint too (``lifecycle.repeat_pairs``); each branch's engine saw only its own
    register. "Within the window" is the later complaint's branch's window, as its own engine would
    have judged it."""
    window = {code: timedelta(days=days) for code, days in windows.items()}
    default = timedelta(days=DEFAULT_REPEAT_WINDOW)
    before: int
    after: int
    for before, after in repeat_pairs(((i, *_who(c)) for i, c in enumerate(cases)), who=_customer):
        earlier, later = cases[before], cases[after]
        if (later.branch != earlier.branch and later.repeat_of is None and
                time_of(later.received_at) - time_of(earlier.received_at)  # type: ignore[arg-type]
                <= window.get(later.branch, default)):
            cases[after] = later._replace(repeat_of=earlier.no)
