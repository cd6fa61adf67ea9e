"""``CaseIndex``: the cases filed once under the months each definition looks at; and the primitives over it.

A period that is one whole month is read straight from those lists; any other (a week, a quarter, a
range of days) from the lists of the months it overlaps, kept to what falls in [start, end).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from itertools import repeat
from operator import and_
from typing import Any, NamedTuple

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.metrics.facts import (
    _CLOSED_AT,
    _DONE,
    _DUE,
    _FIRST,
    _SECOND,
    _STAGE_OFFSETS,
    _THIRD,
    _TOOK,
    _UNIT,
    MISSED,
    STAGE_INDEX,
    WIDTH,
    Case,
    StageFact,
)
from xlcomplaints.core.metrics.months import Stamp, month_key, stamp, time_of
from xlcomplaints.core.metrics.periods import Period
from xlcomplaints.core.policy import STAGES


class Deadline(NamedTuple):
    case: Case
    stage: str
    fact: StageFact


#: Durations of one month: (stage, unit) → times taken, shortest first.
Took = dict[tuple[str, Unit | None], list[float]]


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


def _durations(timed: Sequence[Case]) -> tuple[dict[int, Took], dict[str, list[Unit]]]:
    """Times taken, by month done and (stage, unit), shortest first; and the units each stage's
    durations were measured in, most used first (policies may differ), ties in order of appearance.

    Complaint by complaint, all its stages at once: one visit to each complaint's facts in
    memory is quicker than a pass per stage over all of them (measured).
    """
    took: dict[int, Took] = defaultdict(lambda: defaultdict(list))
    counts: Counter[tuple[str, Unit]] = Counter()
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
    units: dict[str, list[Unit]] = {s: [] for s in STAGES}
    for (stage, unit), _ in counts.most_common():
        units[stage].append(unit)
    return took, units


def _took_between(timed: Sequence[Case], lo: Stamp, hi: Stamp) -> Took:
    """Times taken by stages done in [lo, hi), per (stage, unit), shortest first (as ``_durations``)."""
    took: Took = defaultdict(list)
    for c in timed:
        stages = c.stages
        for j, stage in _STAGE_OFFSETS:
            value = stages[j + _TOOK]
            if value is not None and lo <= stages[j + _DONE] < hi:
                took[(stage, stages[j + _UNIT])].append(value)
    for values in took.values():
        values.sort()
    return dict(took)


def _due_mask(c: Case, lo: Stamp, hi: Stamp) -> int:
    """The stages (bits) of a complaint whose due time falls in [lo, hi)."""
    stages, bits = c.stages, 0
    for i in range(len(STAGES)):
        due = stages[i * WIDTH + _DUE]
        if due is not None and lo <= due < hi:
            bits |= 1 << i
    return bits


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
        missed_any: list[Case] = []  # with any deadline missed, whenever
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
            late = ever = 0
            for k, met, missed, still in c.due_months:
                due[k].append((c, met, missed))
                late |= still
                ever |= missed
            if late:
                overdue.append((c, late))
            if ever:
                missed_any.append(c)
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
        self._timed, self._missed_any = timed, missed_any
        self._memo: dict[tuple[str, Any], Any] = {}

    def _remember(self, kind: str, key: Any, make: Callable[[], Any]) -> Any:
        if (kind, key) not in self._memo:
            self._memo[(kind, key)] = make()
        return self._memo[(kind, key)]

    def _kept(self, kind: str, by_month: dict[int, list[Any]], p: Period, inside: Callable[[Any, Stamp, Stamp], bool]
              ) -> list[Any]:
        """One month's list as it is; any other period's from the months it overlaps, those ``inside`` it."""
        whole = p.whole_month
        if whole is not None:
            return by_month.get(whole.key, [])

        def keep() -> list[Any]:
            lo, hi = stamp(p.start), stamp(p.end)
            return [x for k in p.month_keys for x in by_month.get(k, ()) if inside(x, lo, hi)]
        return self._remember(kind, p, keep)

    def received(self, p: Period) -> list[Case]:
        return self._kept("received", self._received, p, lambda c, lo, hi: lo <= c.received_at < hi)

    def handled(self, p: Period) -> list[Case]:
        """Received in the period and not invalid."""
        return self._remember("handled", p, lambda: [c for c in self.received(p) if c.validity != "invalid"])

    def closed(self, p: Period) -> list[Case]:
        return self._kept("closed", self._closed, p, lambda c, lo, hi: lo <= c.stages[_CLOSED_AT] < hi)

    def _due_rows(self, p: Period) -> list[tuple[Case, int, int]]:
        """(complaint, met, missed stages) of the deadlines falling due in the period."""
        whole = p.whole_month
        if whole is not None:
            return self._due.get(whole.key, [])

        def keep() -> list[tuple[Case, int, int]]:  # one row per complaint, its months' stages together
            lo, hi = stamp(p.start), stamp(p.end)
            out: dict[int, tuple[Case, int, int]] = {}
            for k in p.month_keys:
                for c, met, missed in self._due.get(k, ()):
                    mask = _due_mask(c, lo, hi)
                    if (met | missed) & mask:
                        _, met_before, missed_before = out.get(id(c), (c, 0, 0))
                        out[id(c)] = (c, met_before | met & mask, missed_before | missed & mask)
            return list(out.values())
        return self._remember("due_rows", p, keep)

    def due(self, p: Period) -> DueMonthRows:
        """Who has deadlines falling due in the period, with the number met and missed."""
        def columns() -> DueMonthRows:
            rows = self._due_rows(p)
            missed = list(map(_THIRD, rows))
            return DueMonthRows(list(map(_FIRST, rows)), list(map(int.bit_count, map(_SECOND, rows))),
                                list(map(int.bit_count, missed)), missed)
        return self._remember("due", p, columns)

    def due_bits(self, p: Period) -> list[tuple[Case, int, int]]:
        """Who has deadlines falling due in the period: (complaint, stages met, stages missed), as bits."""
        return self._due_rows(p)

    def tally(self, p: Period) -> tuple[int, int, int]:
        """The period's deadlines met, missed, and the complaints with a missed one."""
        def count() -> tuple[int, int, int]:
            rows = self._due_rows(p)
            missed = list(map(int.bit_count, map(_THIRD, rows)))
            return sum(map(int.bit_count, map(_SECOND, rows))), sum(missed), len(missed) - missed.count(0)
        return self._remember("tally", p, count)

    def stage_tally(self, p: Period, stage: str) -> tuple[int, int]:
        """The period's deadlines of one stage, met and missed."""
        def count() -> tuple[int, int]:
            bit = 1 << STAGE_INDEX[stage]
            rows = self._due_rows(p)
            met = list(map(and_, map(_SECOND, rows), repeat(bit)))
            missed = list(map(and_, map(_THIRD, rows), repeat(bit)))
            return len(met) - met.count(0), len(missed) - missed.count(0)
        return self._remember(f"tally:{stage}", p, count)

    def missed(self, p: Period) -> list[Deadline]:
        """The period's missed deadlines one by one, complaint by complaint in stage order."""
        def find() -> list[Deadline]:
            due = self.due(p)
            return [Deadline(c, STAGES[i], c.stage(STAGES[i]))
                    for c, bits in zip(due.cases, due.missed_stages, strict=True) if bits for i in _stages_in(bits)]
        return self._remember("missed", p, find)

    def took(self, p: Period) -> Took:
        """Times taken by stages done in the period, per (stage, unit), shortest first."""
        whole = p.whole_month
        if whole is not None:
            return self._took.get(whole.key, {})
        return self._remember("took", p, lambda: _took_between(self._timed, stamp(p.start), stamp(p.end)))

    def callbacks(self, p: Period) -> list[tuple[Case, str, int | None]]:
        """Each handled complaint's last reached callback in the period: (complaint, outcome, score)."""
        whole = p.whole_month
        if whole is not None:
            return self._callbacks.get(whole.key, [])

        def last() -> list[tuple[Case, str, int | None]]:
            lo, hi = stamp(p.start), stamp(p.end)
            seen: dict[int, Case] = {}
            for k in p.month_keys:
                for c, _, _ in self._callbacks.get(k, ()):
                    seen.setdefault(id(c), c)
            out = []
            for c in seen.values():
                inside = [(outcome, score) for at, outcome, score in c.callbacks if lo <= at < hi]
                if inside:
                    out.append((c, *inside[-1]))
            return out
        return self._remember("callbacks", p, last)

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

    def overdue_at(self, t: Stamp) -> list[Case]:
        """Handled complaints not closed before ``t`` with a stage whose deadline passed before ``t`` and
        that was not done before ``t`` (missed in the end: done late, still overdue, or missed at the
        close). At or after the as-of time that is those overdue at the as-of time."""
        def find() -> list[Case]:
            out = []
            for c in self._missed_any:  # handled ones only, as filed above
                stages = c.stages
                if (closed := stages[_CLOSED_AT]) is not None and closed < t:
                    continue
                for j in range(0, len(stages), WIDTH):
                    due, done = stages[j + _DUE], stages[j + _DONE]
                    if stages[j] in MISSED and due is not None and due < t and (done is None or done >= t):
                        out.append(c)
                        break
            return out
        return self._remember("overdue_at", t, find)

    @cached_property
    def open_overdue(self) -> list[Deadline]:
        """Every deadline still not done at the as-of time, whatever month it fell due."""
        return [Deadline(c, STAGES[i], c.stage(STAGES[i])) for c, bits in self._overdue for i in _stages_in(bits)]

    def first_received(self) -> Stamp | None:
        """When the earliest complaint with a readable received time was received (None: none has one)."""
        keys = [k for k, v in self._received.items() if v]
        return min(c.received_at for c in self._received[min(keys)]) if keys else None  # type: ignore[type-var]

    @cached_property
    def custom(self) -> list[Deadline]:
        """Every custom stage of the handled complaints (the office's own, ``Case.custom``), complaint by
        complaint in stage order; few, so filed under no month."""
        return [Deadline(c, name, fact) for c in self.cases if c.custom and c.validity != "invalid"
                for name, _, fact in c.custom_stages()]

    @cached_property
    def custom_labels(self) -> dict[str, str]:
        """Each custom stage's name → its English label, in the order the stages first appear."""
        return {name: en for c in self.cases if c.custom for name, en, _ in c.custom_stages()}


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


def backlog_ages(ix: CaseIndex, m: Period) -> list[int]:
    """Carried-over backlog by age at the start of the period (calendar days since receipt)."""
    counts = [0] * len(AGE_BUCKETS)
    for c in ix.open_at(stamp(m.start)):
        assert c.received_at is not None
        counts[age_bucket((m.start - time_of(c.received_at)).days)] += 1
    return counts


def durations(ix: CaseIndex, m: Period, stage: str, unit: Unit | None = None) -> list[float]:
    """Times taken by the stage for complaints that completed it in the period, in ``unit``
    (default: the unit most of the stage's policy rules use), shortest first."""
    if unit is None:
        units = ix.units.get(stage, [])
        if not units:
            return []
        unit = units[0]
    return ix.took(m).get((stage, unit), [])
