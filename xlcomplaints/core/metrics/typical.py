"""Typical cases (典型案例): the month's complaints worth analysing one by one, and why."""

from __future__ import annotations

from typing import NamedTuple

from xlcomplaints.core.metrics.facts import _STATUS, MISSED, WIDTH, Case
from xlcomplaints.core.metrics.index import CaseIndex
from xlcomplaints.core.metrics.months import Month

#: Why a complaint is a typical case (典型案例), the most telling first.
TYPICAL_REASONS = ("major", "escalated", "reopened", "repeat", "late")
TYPICAL_MAX = 20
TYPICAL_DEFINITION = (
    f"本月受理、值得逐宗分析的投诉（最多{TYPICAL_MAX}宗）：重大投诉、投诉升级、重新处理过、重复投诉、有环节未按时完成的。"
    "符合条件多的在前；同样多时逐项比较，依次是重大、升级、重新处理、重复、超时（先比是否重大，重大的在前；"
    "再比是否升级；依此类推），再按受理时间先后。无效投诉不计。",
    f"Complaints received in the month worth analysing one by one (at most {TYPICAL_MAX}): major, escalated, "
    "reopened, repeat complaints and those that missed a deadline. Those meeting more of these come first; among "
    "those meeting as many, the reasons are compared one by one in that order (major ones first; then, among "
    "those alike on that, escalated ones first; and so on), then by time received. Invalid complaints are left out.",
)


class TypicalCase(NamedTuple):
    case: Case
    reasons: tuple[str, ...]  # TYPICAL_REASONS that apply, in that order


def typical_reasons(c: Case) -> tuple[str, ...]:
    """Which TYPICAL_REASONS apply to a handled complaint (none to an invalid one)."""
    if not c.handled:
        return ()
    found = (c.severity == "major", c.escalated, c.reopen_count > 0, c.repeat_of is not None,
             any(s in MISSED for s in c.stages[_STATUS::WIDTH]))
    return tuple(r for r, yes in zip(TYPICAL_REASONS, found, strict=True) if yes)


def typical_cases(ix: CaseIndex, m: Month, n: int = TYPICAL_MAX) -> list[TypicalCase]:
    """The month's typical cases (see TYPICAL_DEFINITION), the most telling first."""
    found = [TypicalCase(c, reasons) for c in ix.received(m) if (reasons := typical_reasons(c))]
    found.sort(key=lambda t: (-len(t.reasons), tuple(r not in t.reasons for r in TYPICAL_REASONS),
                              t.case.received_at or 0, t.case.branch, t.case.no or ""))
    return found[:n]
