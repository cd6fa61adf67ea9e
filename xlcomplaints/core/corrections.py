"""Rows refresh cannot compute: what the clerk must correct, said where the clerk looks.

A complaint without a readable received time (``2026/10/32``, ``11/5/2026``, or blank) has no
deadline to count from. Refresh does not guess one: the row's next action says which cell to
correct, its stage statuses and escalation are left blank (not 不适用 or 无), it is listed on the Overdue sheet under its own
heading and counted on the Summary; ``assign-ids`` names it among the rows it skipped.
Pure over the records, their layout and the problems read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from xlcomplaints.core.models import Complaint
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.rows import Layout
from xlcomplaints.i18n import say


class Fix(StrEnum):
    """Why a row needs correcting before it can be computed."""

    RECEIVED_UNREADABLE = "received.unreadable"
    RECEIVED_BLANK = "received.blank"


#: The next action written in the row (Register and Overdue), by why.
ACTIONS: dict[Fix, tuple[str, str]] = {
    Fix.RECEIVED_UNREADABLE: ("受理时间无法识别，请改正 {cell}", "The received time cannot be read: correct {cell}"),
    Fix.RECEIVED_BLANK: ("受理时间为空，请填写 {cell}", "No received time: fill in {cell}"),
}
#: The Overdue sheet's heading over these rows, and the Summary's line counting them.
HEADING = ("需改正的行（受理时间无法识别或为空，无法计算时限）",
           "Rows needing correction (no readable received time, so no deadline)")
MESSAGES = {
    "numbering.skipped": ("第 {line} 行未编号：{reason_zh}。", "Row {line} was not numbered: {reason_en}."),
}
register_messages(MESSAGES)


@dataclass(frozen=True)
class Correction:
    """A row that needs correcting: the cell to correct, why, and the value as typed."""

    row: int
    cell: str
    fix: Fix
    value: str | None = None

    def action(self, lang: str) -> str:
        return say(ACTIONS[self.fix], lang, cell=self.cell)


def find_corrections(complaints: Iterable[Complaint], layout: Layout | None,
                     problems: Sequence[Problem]) -> dict[int, Correction]:
    """Row → Correction for every complaint whose received time could not be read (or is blank)."""
    if layout is None or "received_at" not in layout.columns:
        return {}
    typed = {p.cell: p.value for p in problems
             if p.sheet == layout.sheet and p.level is Level.ERROR and p.code != "required" and p.cell}
    out: dict[int, Correction] = {}
    for c in complaints:
        if c.received_at is None and c.row is not None:
            cell = layout.cell(c.row, "received_at") or ""
            unreadable = cell in typed
            out[c.row] = Correction(c.row, cell, Fix.RECEIVED_UNREADABLE if unreadable else Fix.RECEIVED_BLANK,
                                    typed.get(cell))
    return out


def skipped_numbering(corrections: Mapping[int, Correction], complaints: Iterable[Complaint],
                      layout: Layout) -> list[Problem]:
    """Each complaint ``assign-ids`` left without a number, located, with why (zh and en)."""
    out = []
    for c in complaints:
        fix = corrections.get(c.row or 0)
        if fix is not None and not c.no:
            out.append(layout.problem(Level.WARNING, "numbering.skipped", c.row, "received_at", fix.value,
                                      line=c.row, reason_zh=fix.action("zh"), reason_en=fix.action("en")))
    return out
