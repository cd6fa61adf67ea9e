"""``CaseIndex``: the cases filed once under the months each definition looks at; and the primitives over it."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from itertools import repeat
from operator import and_
from typing import Any, NamedTuple

from xlcomplaints.core.metrics.facts import (
    _CLOSED_AT,
    _DONE,
    _FIRST,
    _SECOND,
    _STAGE_OFFSETS,
    _THIRD,
    _TOOK,
    _UNIT,
    STAGE_INDEX,
    WIDTH,
    Case,
    StageFact,
)
from xlcomplaints.core.metrics.months import Month, Stamp, month_key, month_start, time_of
from xlcomplaints.core.policy import STAGES


class Deadline(NamedTuple):
    case: Case
    stage: str
    fact: StageFact


#: Durations of one month: (stage, unit) → times taken, shortest first.
Took = dict[tuple[str, str | None], list[float]]


def _stages_in(bits: int) -> list[int]:
    """The indexes (in STAGES) of a set of stages."""
    return [i for i in range(len(STAGES)) if bits >> i & 1]


def _sum_by(keys: Iterable[Any], amounts: Iterable[int]) -> Counter[Any]:
    """Amounts added up per key: the (key, amount) pairs counted by built-ins, then a few products."""
    out: Counter[Any] = Counter()
    for (key, amount), times in Counter(zip(keys, amounts, strict=True)).items():
        out[key] += amount * times
    return out


def _file_callbacks(c: Case, by_month: dict[int, list[tuple[Case, str, int | None]]]) -> None:
    """A complaint's reached callbacks by month; in time order, so each month's last one wins."""
    last: dict[int, tuple[str, int | None]] = {}
    for at, outcome, score in c.callbacks:
        last[month_key(at)] = (outcome, score)
    for k, (outcome, score) in last.items():
        by_month[k].append((c, outcome, score))


def _durations(timed: Sequence[Case]) -> tuple[dict[int, Took], dict[str, list[str]]]:
    """Times taken, by month done and (stage, unit), shortest first; and the units each stage's
    durations were measured in, most used first (policies may differ), ties in order of appearance.

    Complaint by complaint, all its stages at once: one visit to each complaint's facts in
    memory is quicker than a pass per stage over all of them (measured).
    """
    took: dict[int, Took] = defaultdict(lambda: defaultdict(list))
    counts: Counter[tuple[str, str]] = Counter()
    for c in timed:
        stages = c.stages
        for j, stage in _STAGE_OFFSETS:
            value = stages[j + _TOOK]
            if value is not None:
                unit = stages[j + _UNIT]
                took[month_key(stages[j + _DONE])][(stage, unit)].append(value)
                if unit:
                    counts[(stage, unit)] += 1
    for lists in took.values():
        for values in lists.values():
            values.sort()
    units: dict[str, list[str]] = {s: [] for s in STAGES}
    for (stage, unit), _ in counts.most_common():
        units[stage].append(unit)
    return took, units


class DueMonthRows(NamedTuple):
    """The handled complaints with deadlines falling due in one month, by column: the complaint,
    how many of them it met and missed, and which stages it missed (bits, as in ``DueMonth``)."""

    cases: list[Case]
    met: list[int]
    missed: list[int]
    missed_stages: list[int]


class CaseIndex:
    """The cases, filed once under the months each definition looks at (received, closed, due...).

    The one pass over all cases does only what any month needs (lists per month); the rest —
    a month's totals, its deadlines by stage, its durations, who was open when — is worked
    out from those lists on first use and kept, so a report pays for the months it shows.
    """

    def __init__(self, cases: Sequence[Case]) -> None:
        self.cases = cases
        received: dict[int, list[Case]] = defaultdict(list)
        closed: dict[int, list[Case]] = defaultdict(list)  # handled only, like all below
        never_closed: list[Case] = []  # received at a known time
        due: dict[int, list[tuple[Case, int, int]]] = defaultdict(list)  # (case, met, missed stages)
        callbacks: dict[int, list[tuple[Case, str, int | None]]] = defaultdict(list)
        overdue: list[tuple[Case, int]] = []  # with the stages still not done at the as-of time
        timed: list[Case] = []  # with a duration measured
        untimed = (None,) * len(STAGES)
        for c in cases:  # the hot loop of a consolidation: appends to locals, helpers for the rare cases
            t = c.received_at
            if t is not None:
                received[month_key(t)].append(c)
            if c.validity == "invalid":  # left out of every rate and average, callbacks included
                continue
            calls = c.callbacks
            if len(calls) == 1:
                at, outcome, score = calls[0]
                callbacks[month_key(at)].append((c, outcome, score))
            elif calls:
                _file_callbacks(c, callbacks)
            late = 0
            for k, met, missed, still in c.due_months:
                due[k].append((c, met, missed))
                late |= still
            if late:
                overdue.append((c, late))
            stages = c.stages
            closed_at = stages[_CLOSED_AT]
            if closed_at is not None:
                closed[month_key(closed_at)].append(c)
            elif t is not None:
                never_closed.append(c)
            if stages[_TOOK::WIDTH] != untimed:
                timed.append(c)
        self._received, self._closed, self._never_closed = received, closed, never_closed
        self._due, self._callbacks, self._overdue = due, callbacks, overdue
        self._took, self.units = _durations(timed)
        self._memo: dict[tuple[str, int], Any] = {}

    def _remember(self, kind: str, key: int, make: Callable[[], Any]) -> Any:
        if (kind, key) not in self._memo:
            self._memo[(kind, key)] = make()
        return self._memo[(kind, key)]

    def received(self, m: Month) -> list[Case]:
        return self._received.get(m.key, [])

    def handled(self, m: Month) -> list[Case]:
        """Received in the month and not invalid."""
        return self._remember("handled", m.key, lambda: [c for c in self.received(m) if c.validity != "invalid"])

    def closed(self, m: Month) -> list[Case]:
        return self._closed.get(m.key, [])

    def due(self, m: Month) -> DueMonthRows:
        """Who has deadlines falling due in the month, with the number met and missed."""
        def columns() -> DueMonthRows:
            rows = self._due.get(m.key, [])
            missed = list(map(_THIRD, rows))
            return DueMonthRows(list(map(_FIRST, rows)), list(map(int.bit_count, map(_SECOND, rows))),
                                list(map(int.bit_count, missed)), missed)
        return self._remember("due", m.key, columns)

    def tally(self, m: Month) -> tuple[int, int, int]:
        """The month's deadlines met, missed, and the complaints with a missed one."""
        def count() -> tuple[int, int, int]:
            rows = self._due.get(m.key, [])
            missed = list(map(int.bit_count, map(_THIRD, rows)))
            return sum(map(int.bit_count, map(_SECOND, rows))), sum(missed), len(missed) - missed.count(0)
        return self._remember("tally", m.key, count)

    def stage_tally(self, m: Month, stage: str) -> tuple[int, int]:
        """The month's deadlines of one stage, met and missed."""
        def count() -> tuple[int, int]:
            bit = 1 << STAGE_INDEX[stage]
            rows = self._due.get(m.key, [])
            met = list(map(and_, map(_SECOND, rows), repeat(bit)))
            missed = list(map(and_, map(_THIRD, rows), repeat(bit)))
            return len(met) - met.count(0), len(missed) - missed.count(0)
        return self._remember(f"tally:{stage}", m.key, count)

    def missed(self, m: Month) -> list[Deadline]:
        """The month's missed deadlines one by one, complaint by complaint in stage order."""
        def find() -> list[Deadline]:
            due = self.due(m)
            return [Deadline(c, STAGES[i], c.stage(STAGES[i]))
                    for c, bits in zip(due.cases, due.missed_stages, strict=True) if bits for i in _stages_in(bits)]
        return self._remember("missed", m.key, find)

    def took(self, m: Month) -> Took:
        """Times taken by stages done in the month, per (stage, unit), shortest first."""
        return self._took.get(m.key, {})

    def callbacks(self, m: Month) -> list[tuple[Case, str, int | None]]:
        return self._callbacks.get(m.key, [])

    def open_at(self, t: Stamp) -> list[Case]:
        """Handled complaints received before ``t`` and not closed by then (remembered: month
        ends and starts are asked for more than once). Only those never closed or closed in
        ``t``'s month or later can be, so only those are looked at."""
        def find() -> list[Case]:
            out = [c for c in self._never_closed if c.received_at < t]  # type: ignore[operator]
            for k, closed in self._closed.items():
                if k >= month_key(t):
                    out += [c for c in closed if (r := c.received_at) is not None and r < t and c.stages[_CLOSED_AT] >= t]
            return out
        return self._remember("open", t, find)

    @cached_property
    def open_overdue(self) -> list[Deadline]:
        """Every deadline still not done at the as-of time, whatever month it fell due."""
        return [Deadline(c, STAGES[i], c.stage(STAGES[i])) for c, bits in self._overdue for i in _stages_in(bits)]

    def months(self) -> list[Month]:
        """Months with any complaint received, oldest first."""
        return [Month.from_key(k) for k in sorted(k for k, v in self._received.items() if v)]


AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 3), (4, 7), (8, 14), (15, None))


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest value, so 90 % of cases took no longer."""
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def age_bucket(days: int) -> int:
    for i, (lo, hi) in enumerate(AGE_BUCKETS):
        if days >= lo and (hi is None or days <= hi):
            return i
    return 0


def backlog_ages(ix: CaseIndex, m: Month) -> list[int]:
    """Carried-over backlog by age at the start of the month (calendar days since receipt)."""
    counts = [0] * len(AGE_BUCKETS)
    for c in ix.open_at(month_start(m)):
        assert c.received_at is not None
        counts[age_bucket((m.start - time_of(c.received_at)).days)] += 1
    return counts


def durations(ix: CaseIndex, m: Month, stage: str, unit: str | None = None) -> list[float]:
    """Times taken by the stage for complaints that completed it in the month, in ``unit``
    (default: the unit most of the stage's policy rules use), shortest first."""
    if unit is None:
        units = ix.units.get(stage, [])
        if not units:
            return []
        unit = units[0]
    return ix.took(m).get((stage, unit), [])
