"""The report's figures from the facts store: ``store.queries`` run for periods and groupings (DuckDB).

Past 400 lines because ``Facts`` reads as one unit: the views of a grouping and every question asked through them.

``Facts(con)`` over a connection made by ``store.facts_sql`` (an Arrow table, or the store's Parquet
files) answers what ``core.metrics`` answers over a ``CaseIndex``: ``metric`` (any registered figure,
for any periods, for the whole set, one branch, or grouped by branch, handler, any dimension),
``cover`` (this and the previous period), ``trend``, ``backlog_ages`` and ``breakdown``.
``figures_from_parquet`` is the one call over Parquet files (a report's store: ``report.store_figures``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.metrics.index import AGE_BUCKETS, rate
from xlcomplaints.core.metrics.months import stamp
from xlcomplaints.core.metrics.people import COUNT_FIGURES, PersonRow
from xlcomplaints.core.metrics.periods import Period
from xlcomplaints.core.metrics.tables import (
    TREND_METRICS,
    TREND_PERIODS,
    GroupRow,
    StageRow,
    TrendRow,
    group_rows,
)
from xlcomplaints.core.metrics.typical import TYPICAL_MAX, TYPICAL_REASONS
from xlcomplaints.core.policy import STAGES
from xlcomplaints.store.facts_sql import _literal, connect_parquet
from xlcomplaints.store.queries import (
    BACKLOG_AGES,
    CLOSED_LATE,
    CUSTOM_STAGES,
    DUE_BY_COMPLAINT,
    DUE_COLUMNS,
    DUE_CUT,
    DUE_RATE_LATE,
    DUE_WITHIN,
    FIRST_BY_BRANCH,
    FIRST_RECEIVED,
    MISSED_COLUMNS,
    MISSED_CUT,
    MISSED_ONLY,
    MISSED_WHERE,
    OFFICE_NAMES,
    OVERDUE_DETAIL,
    PEOPLE_TOGETHER,
    QUERIES,
    STAGE_TALLY,
    STAGE_TIMES,
    TOGETHER,
    TYPICAL,
    UNITS_ALL,
    UNREADABLE_RECEIVED,
)

Key = str | None


def _unit(code: str | None) -> Unit | None:
    """A unit code DuckDB gives back as text, as the engine's enum."""
    return None if code is None else Unit(code)


@dataclass(frozen=True)
class Grouping:
    """Whom a complaint counts for (``case``: an SQL expression over its complaint's columns, which the rows of
    ``cases``, ``stages`` and ``callbacks`` all hold), whom a stage deadline counts for (``stage``, default the
    same) and the scope a stage's unit is chosen in (``units``, default the same)."""

    case: str
    stage: str | None = None
    units: str | None = None
    #: Whether ``case`` reads only what a stage's and a callback's rows hold of their complaint (``branch``):
    #: no join for those (the join costs about half of such a figure's query).
    local: bool = False
    #: Whether ``stage`` and ``units`` read only a stage's own columns (``handler``), ``case`` not: the stages not
    #: joined to their complaints, the callbacks still are (By-handler's figures over the stages: a join of the
    #: 7,000,000 stages of 1,000,000 complaints saved per query; its people 2.1 → 1.7 s of CPU).
    stages_alone: bool = False


#: The whole set (one group, ``None``), each branch on its own (as a report of that branch alone).
ALL = Grouping("NULL::VARCHAR", local=True)
BY_BRANCH = Grouping("branch", local=True)
#: As ``core.metrics.people``: a stage's deadline counts for its handler of record, a complaint for its own;
#: times in the unit of the whole set.
BY_HANDLER = Grouping("handler_of_record", "handler", "NULL::VARCHAR", stages_alone=True)
BY_DEPARTMENT = Grouping("department", None, "NULL::VARCHAR")
#: ``Case`` fields a breakdown may be by → the column that holds them (``handler``: the Register's).
DIMENSIONS = {"branch": "branch", "case_type": "case_type", "channel": "channel", "category": "category",
              "severity": "severity", "validity": "validity", "department": "department", "handler": "case_handler"}


def by_dimension(field: str) -> Grouping:
    """Grouped by one of the complaint's own fields (a breakdown's dimension)."""
    if field not in DIMENSIONS:
        raise ValueError(f"not a dimension: {field}")
    return Grouping(DIMENSIONS[field])


def by_office_column(name: str) -> Grouping:
    """Grouped by the value of the office's own column ``name`` (``Case.office_value``: the first one kept)."""
    return Grouping(f"struct_extract(list_filter(office, lambda x: x.name = {_literal(name)})[1], 'value')")


def _ts(t: datetime) -> str:
    return f"TIMESTAMP '{t.isoformat(sep=' ')}'"


class Facts:
    """The figures of the facts behind ``con`` (whose ``cases``, ``stages``, ``callbacks`` are made)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._grouping: tuple[Grouping, str | None] | None = None
        self._groups: list[Key] | None = None
        self._period_rows: tuple[Period, ...] = ()
        self._prefetched: dict[tuple[Period, Grouping, str | None], tuple[dict[Key, Any], ...]] = {}
        self._source_of: str | None = None  # the stages ``fs`` reads (``_source``)
        self._cut: tuple[datetime, datetime] | None = None  # the times ``DUE_CUT``'s stages are due within
        self._missed_cut = False  # whether ``MISSED_CUT`` is made

    def _group(self, by: Grouping, branch: str | None, stages: str = "stages") -> None:
        """The views of ``by`` (``fc``, ``fs``, ``fb``), ``fs`` over ``stages`` (``_source``'s)."""
        source = stages
        if self._grouping == (by, branch) and self._source_of == source:
            return
        where = "" if branch is None else f" WHERE branch = {_literal(branch)}"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW fc AS SELECT *, {by.case} AS g FROM cases{where}")
        if by.local:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW fs AS SELECT *, {by.stage or by.case} AS g, "
                             f"{by.units or by.case} AS ug FROM {source}{where}")
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW fb AS SELECT *, {by.case} AS g FROM callbacks{where}")
        else:
            own = "EXCLUDE (cid, branch, handled, closed"
            if by.stages_alone:
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW fs AS SELECT *, {by.stage} AS g, {by.units} AS ug "
                                 f"FROM {source}{where}")
            else:
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW fs AS SELECT s.*, c.* {own}, g), "
                                 f"{by.stage or 'c.g'} AS g, {by.units or 'c.g'} AS ug FROM {source} s JOIN fc c USING (cid)")
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW fb AS SELECT b.*, c.* {own}) "
                             "FROM callbacks b JOIN fc c USING (cid)")
        if self._grouping != (by, branch):
            self._groups = None
        self._grouping, self._source_of = (by, branch), source

    def _source(self, sql: str) -> str:
        """The stages ``sql`` reads: ``stages``; or rows of it cut once (speed, fenced here): for a query of
        ``store.queries.DUE_WITHIN`` asked for the report's period or the one before (at most two periods), the
        stages due within them (``DUE_CUT``); for one of ``MISSED_ONLY``, the stages whose deadline was missed
        (``MISSED_CUT``).

        Such a query reads only the rows of its cut (its own condition), so the cut gives it what ``stages`` gives;
        and each scanned the 7,000,000 stage rows of 1,000,000 complaints (0.3–0.7 s of CPU each), a cut a fraction
        of them. Buys, at 1,000,000 complaints (the bench's October store, one process, ``time.process_time``): the
        period's deadlines (the cover's, By-handler's and By-department's, the breakdowns', the Stage times sheet's)
        2.8 → 0.5 s of CPU for a cut of 0.6 s; the overdue figures and list 2.2 → 0.2 s for a cut of 0.9 s.
        A cut is made once the tables are final, the rules across branches applied (``store.merge_sql``),
        and ``stages`` is not changed after (head office's lists change ``cases`` only). Held to ``stages`` by
        ``tests/test_store_queries.py::test_figures_asked_together``."""
        if sql in MISSED_ONLY:
            if not self._missed_cut:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {MISSED_CUT} AS SELECT {MISSED_COLUMNS} FROM stages "
                                 f"WHERE {MISSED_WHERE}")
                self._missed_cut = True
            return MISSED_CUT
        if sql not in DUE_WITHIN or not 0 < len(self._period_rows) <= 2:
            return "stages"
        last = max(self._period_rows, key=lambda k: k.end)
        lo, hi = min(min(k.start for k in self._period_rows), last.previous.start), last.end
        if self._cut is None or not (self._cut[0] <= lo and hi <= self._cut[1]):
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {DUE_CUT} AS SELECT {DUE_COLUMNS} FROM stages "
                             f"WHERE due >= {_ts(lo)} AND due < {_ts(hi)}")
            self._cut = (lo, hi)
        return DUE_CUT

    def _periods(self, periods: Sequence[Period]) -> None:
        if tuple(periods) == self._period_rows:
            return
        self._period_rows = tuple(periods)
        rows = ", ".join(f"({i}, {_ts(p.start)}, {_ts(p.end)})" for i, p in enumerate(periods))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE periods AS SELECT * FROM (VALUES {rows}) t(p, lo, hi)")

    def groups(self, by: Grouping = ALL, branch: str | None = None) -> list[Key]:
        """Every value complaints count under (the branches, the handlers …), in order, blank last."""
        if self._grouping != (by, branch):
            self._group(by, branch)
        if self._groups is None:
            found = [r[0] for r in self.con.execute("SELECT DISTINCT g FROM fc").fetchall()]
            self._groups = sorted(found, key=lambda k: (k is None, str(k)))
        return self._groups

    def metric(self, key: str, periods: Sequence[Period], by: Grouping = ALL, branch: str | None = None,
               ) -> list[dict[Key, Any]]:
        """The figure ``key`` for each period, by group (with ``ALL``: ``{None: value}``); ``branch``
        keeps to that branch's complaints. Every group that has complaints has its value (0 or None)."""
        q = QUERIES[key]
        self._periods(periods)
        self._group(by, branch, self._source(q.sql))
        out: list[dict[Key, Any]] = [dict.fromkeys(self.groups(by, branch), 0 if q.count else None)
                                     for _ in periods]
        if by == ALL:
            for d in out:
                d.setdefault(None, 0 if q.count else None)
        for p, g, value in self.con.execute(q.sql).fetchall():
            out[p][g] = value
        return out

    def metrics(self, sql: str, counts: Sequence[bool], periods: Sequence[Period], by: Grouping = ALL,
                branch: str | None = None) -> list[list[dict[Key, Any]]]:
        """``metric`` for a query giving several figures at once (``(p, g, value …)``; ``counts``: which are
        counts): for each period, each figure's values by group."""
        self._periods(periods)
        self._group(by, branch, self._source(sql))
        groups = self.groups(by, branch)
        out: list[list[dict[Key, Any]]] = [[dict.fromkeys(groups, 0 if count else None) for count in counts]
                                           for _ in periods]
        if by == ALL:
            for figures in out:
                for d, count in zip(figures, counts, strict=True):
                    d.setdefault(None, 0 if count else None)
        for p, g, *values in self.con.execute(sql).fetchall():
            for d, value in zip(out[p], values, strict=True):
                d[g] = value
        return out

    def cover(self, period: Period, by: Grouping = ALL, branch: str | None = None,
              keys: Sequence[str] = tuple(QUERIES)) -> dict[str, dict[Key, tuple[Any, Any]]]:
        """Each figure of this period and the previous one, by group: ``{key: {group: (this, previous)}}``."""
        periods = [period, period.previous]
        together = self._together(keys, periods, by, branch)
        out = {}
        for key in keys:
            now, before = together[key] if key in together else self.metric(key, periods, by, branch)
            out[key] = {g: (now[g], before.get(g, None)) for g in now}
        return out

    def _together(self, keys: Sequence[str], periods: Sequence[Period], by: Grouping, branch: str | None,
                  ) -> dict[str, list[dict[Key, Any]]]:
        """``metric`` of those ``keys`` that ``store.queries.TOGETHER`` asks in one query with another of them,
        one query for them all (speed, fenced here; what it buys and its test: ``TOGETHER``)."""
        out: dict[str, list[dict[Key, Any]]] = {}
        for names, sql in TOGETHER.items():
            if sum(name in keys for name in names) < 2:
                continue
            figures = self.metrics(sql, [QUERIES[name].count for name in names], periods, by, branch)
            for i, name in enumerate(names):
                if name in keys:
                    out[name] = [per_period[i] for per_period in figures]
        return out

    def backlog_ages(self, period: Period, by: Grouping = ALL, branch: str | None = None) -> dict[Key, list[int]]:
        """The backlog carried into the period by age (``AGE_BUCKETS``), by group."""
        self._group(by, branch)
        self._periods([period])
        out = {g: [0] * len(AGE_BUCKETS) for g in self.groups(by, branch)}
        if by == ALL:
            out.setdefault(None, [0] * len(AGE_BUCKETS))
        for _, g, bucket, n in self.con.execute(BACKLOG_AGES).fetchall():
            out[g][bucket] = n
        return out

    def trend(self, period: Period, branch: str | None = None, periods: int = TREND_PERIODS) -> list[TrendRow]:
        """``core.metrics.trend``: the periods of ``period``'s kind up to it, from the first holding a complaint."""
        self._group(ALL, branch)
        first = self.con.execute(FIRST_RECEIVED).fetchone()
        at = first[0] if first else None
        shown = [period.shift(-i) for i in range(periods - 1, 0, -1)]
        shown = [] if at is None else [k for k in shown if stamp(k.end) > stamp(at)]
        shown.append(period)
        columns = [self.metric(key, shown, ALL, branch) for key in TREND_METRICS]
        return [TrendRow(k, *(c[i][None] for c in columns)) for i, k in enumerate(shown)]

    def _sets(self, sql: str, counts: Sequence[bool], periods: Sequence[Period], bys: Sequence[Grouping],
              branch: str | None, found: list[list[Key]] | None = None,
              ) -> tuple[list[list[list[dict[Key, Any]]]], list[list[Key]]]:
        """``metrics`` of one query for several groupings at once, one scan: the query's ``GROUP BY ALL`` made
        ``GROUPING SETS`` of (period, each grouping's value). Per grouping, what ``metrics`` gives for it; and each
        grouping's values (``found``: those of an earlier call with the same groupings, not asked again).

        Buys: a breakdown sheet's figures joined the stages to the complaints once per sheet (7 joins of
        7,000,000 stage rows at 1 M complaints, 3.2 s); one join for all sheets. Held to ``metrics`` by
        ``tests/test_store_queries.py`` (``test_breakdowns_in_one_query``) and the report's cell-for-cell tests."""
        where = "" if branch is None else f" WHERE branch = {_literal(branch)}"
        gs = [f"g_{i}" for i in range(len(bys))]
        self.con.execute("CREATE OR REPLACE TEMP VIEW fc AS SELECT *, "
                         + ", ".join(f"({by.case}) AS {g}" for by, g in zip(bys, gs, strict=True))
                         + f", NULL::VARCHAR AS g FROM cases{where}")
        own = "EXCLUDE (cid, branch, handled, closed"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW fs AS SELECT s.*, c.* {own}) FROM stages s JOIN fc c USING (cid)")
        self._grouping, self._groups = None, None
        self._periods(periods)
        alias = "s" if " FROM fs s " in sql else "c"
        head, tail = f"SELECT p.p, {alias}.g,", "GROUP BY ALL"
        if sql.count(head) != 1 or sql.count(tail) != 1:
            raise ValueError("not a query of one grouping")
        out: list[list[list[dict[Key, Any]]]] = [[[{} for _ in counts] for _ in periods] for _ in bys]
        full = (1 << len(gs)) - 1
        place = {full ^ (1 << (len(gs) - 1 - i)): i for i in range(len(gs))}  # grouping_id of each set
        keys: list[list[Key]] = found if found is not None else [[] for _ in bys]
        if found is None:
            for gid, *values in self.con.execute(
                    "SELECT DISTINCT grouping_id(" + ", ".join(gs) + "), " + ", ".join(gs) + " FROM fc GROUP BY "
                    "GROUPING SETS (" + ", ".join(f"({g})" for g in gs) + ")").fetchall():
                keys[place[gid]].append(values[place[gid]])
        for i, found_keys in enumerate(keys):
            for per_period in out[i]:
                for d, count in zip(per_period, counts, strict=True):
                    d.update(dict.fromkeys(sorted(found_keys, key=lambda k: (k is None, str(k))), 0 if count else None))
        grouped = sql.replace(head, f"SELECT p.p, grouping_id({', '.join(f'{alias}.{g}' for g in gs)}), "
                                    + ", ".join(f"{alias}.{g}" for g in gs) + ",").replace(
            tail, "GROUP BY GROUPING SETS (" + ", ".join(f"(p.p, {alias}.{g})" for g in gs) + ")")
        n = len(gs)
        for p, gid, *row in self.con.execute(grouped).fetchall():
            i = place[gid]
            for d, value in zip(out[i][p], row[n:], strict=True):
                d[row[i]] = value
        self._grouping, self._groups = None, None
        return out, keys

    def prefetch_breakdowns(self, period: Period, dimensions: Sequence[str | Grouping], branch: str | None = None,
                            ) -> None:
        """The figures of ``breakdown`` for every one of ``dimensions`` at once (``_sets``), kept for it."""
        bys = [by_dimension(d) if isinstance(d, str) else d for d in dimensions]
        if not bys:
            return
        received, found = self._sets(QUERIES["received"].sql, (True,), [period, period.previous], bys, branch)
        self._periods([period])
        due_by_complaint = DUE_BY_COMPLAINT.format(stages=self._source(DUE_BY_COMPLAINT))  # speed: its doc
        due, _ = self._sets(due_by_complaint, (False, True), [period], bys, branch, found)
        for by, r, d in zip(bys, received, due, strict=True):
            self._prefetched[(period, by, branch)] = (r[0][0], r[1][0], d[0][0], d[0][1])

    def breakdown(self, period: Period, dimension: str | Grouping, order: Sequence[str] = (),
                  branch: str | None = None, previous: Mapping[Key, int] | None = None) -> list[GroupRow]:
        """``core.metrics.breakdown``: received (this and the previous period), on-time rate and complaints with
        a missed deadline per value of ``dimension`` (a field, or ``by_office_column``) — the ``received``,
        ``on_time_rate`` and ``late_complaints`` queries, grouped by that value; ``previous``: the previous
        period's counts instead (from that period's report). Read from ``prefetch_breakdowns`` when it was asked."""
        by = by_dimension(dimension) if isinstance(dimension, str) else dimension
        kept = self._prefetched.pop((period, by, branch), None)
        if kept is not None:
            now, before, rates, late = (dict(x) for x in kept)
        else:
            now, before = self.metric("received", [period, period.previous], by, branch)
            rates, late = self.metrics(DUE_RATE_LATE, (False, True), [period], by, branch)[0]
        return group_rows(now, before, rates, late, order, previous)

    def people(self, period: Period, by: Grouping = BY_HANDLER, keys: Sequence[Key] = (),
               branch: str | None = None) -> list[PersonRow]:
        """``core.metrics.people``: every By-handler figure per person (or department), ``keys`` first, then
        by complaints to handle (most first), then name, '(blank)' last."""
        self._group(by, branch)
        self._periods([period])
        columns: dict[str, dict[Key, Any]] = {}
        rows: dict[str, list[tuple[Any, ...]]] = {}  # a query giving several figures run once
        for name, (sql, i) in PEOPLE_TOGETHER.items():  # speed: some figures asked together (its doc)
            if sql not in rows:
                self._group(by, branch, self._source(sql))
                rows[sql] = self.con.execute(sql).fetchall()
            columns[name] = {g: values[i] for _, g, *values in rows[sql]}
        found: set[Key] = set(keys)
        for values in columns.values():
            found |= set(values)
        handled = columns["handled"]
        rest = sorted((k for k in found if k not in keys), key=lambda k: (k is None, -handled.get(k, 0), str(k)))
        return [PersonRow(k, {name: values.get(k, 0 if name in COUNT_FIGURES else None)
                              for name, values in columns.items()}) for k in (*keys, *rest)]

    def stage_table(self, period: Period, branch: str | None = None) -> list[StageRow]:
        """``core.metrics.stage_table``: per stage its deadlines due in the period and met, and per unit its
        times' median and 90th percentile; then the office's own stages (``custom_stage_rows``)."""
        self._periods([period])
        self._group(ALL, branch, self._source(STAGE_TALLY))
        tally = {stage: (met, missed) for _, stage, met, missed in self.con.execute(STAGE_TALLY).fetchall()}
        self._group(ALL, branch)
        times: dict[str, list[tuple[str | None, Any, Any]]] = {}
        for stage, unit, _, med, p90 in self.con.execute(STAGE_TIMES).fetchall():
            times.setdefault(stage, []).append((unit, med, p90))
        rows = []
        for stage in STAGES:
            met, missed = tally.get(stage, (0, 0))
            n = met + missed
            for i, (unit, med, p90) in enumerate(times.get(stage) or [(None, None, None)]):
                first = i == 0
                rows.append(StageRow(stage, n if first else 0, met if first else 0, rate(met, n) if first else None,
                                     med, p90, _unit(unit)))
        return rows + [StageRow(name, n, met, rate(met, n), None, None, _unit(unit))
                       for name, _, n, met, unit in self.con.execute(CUSTOM_STAGES).fetchall()]

    def custom_labels(self, branch: str | None = None) -> dict[str, str]:
        """``CaseIndex.custom_labels``: each office's own stage → its English label, in the order they appear."""
        self._group(ALL, branch)
        self._periods([Period.year(2000)])  # any: the names and labels are of every period
        return {name: label for name, label, *_ in self.con.execute(CUSTOM_STAGES).fetchall()}

    def units(self, branch: str | None = None) -> dict[str, list[str]]:
        """``CaseIndex.units``: each stage's units, most used first."""
        self._group(ALL, branch)
        found = dict(self.con.execute(UNITS_ALL).fetchall())
        return {stage: list(found.get(stage) or []) for stage in STAGES}

    def typical(self, period: Period, n: int = TYPICAL_MAX, branch: str | None = None,
                ) -> list[tuple[int, tuple[str, ...]]]:
        """``core.metrics.typical_cases``: (complaint ``cid``, its reasons), the most telling first."""
        self._group(ALL, branch)
        self._periods([period])
        return [(cid, tuple(r for r, yes in zip(TYPICAL_REASONS, flags, strict=True) if yes))
                for cid, *flags in self.con.execute(TYPICAL.format(limit=int(n))).fetchall()]

    def partial_from(self, previous: Period, branch: str | None = None) -> datetime | None:
        """``report.summary.partial_from``: the latest of the branches' first times received, when it falls
        after the previous period's start."""
        self._group(ALL, branch)
        firsts = [t for _, t in self.con.execute(FIRST_BY_BRANCH).fetchall()]
        latest = max(firsts, default=None)
        return latest if latest is not None and latest > previous.start else None

    def unreadable_received(self, branch: str | None = None) -> int:
        self._group(ALL, branch)
        row = self.con.execute(UNREADABLE_RECEIVED).fetchone()
        return int(row[0]) if row else 0

    def office_dimensions(self, branch: str | None = None) -> list[str]:
        """The office's own columns the complaints are broken down by, in the order they first appear."""
        self._group(ALL, branch)
        return [str(name) for (name,) in self.con.execute(OFFICE_NAMES).fetchall()]

    def overdue_detail(self, period: Period, top: int | None = None, branch: str | None = None,
                       ) -> list[tuple[int, str]]:
        """``core.metrics.overdue_detail`` (the office's own stages included), the first ``top`` rows (all: None), as (complaint
        ``cid``, stage): the ``cid`` is the complaint's row in the facts (``store.facts_sql``)."""
        self._periods([period])
        self._group(ALL, branch, self._source(OVERDUE_DETAIL))
        sql = OVERDUE_DETAIL + ("" if top is None else f" LIMIT {int(top)}")
        return [(cid, stage) for cid, stage in self.con.execute(sql).fetchall()]

    def keys(self, cids: Sequence[int]) -> list[tuple[str, str | None]]:
        """The (branch, complaint number) of each complaint ``cid``, in that order."""
        found = dict(((cid, (b, no)) for cid, b, no in self.con.execute(
            "SELECT cid, branch, no FROM cases WHERE cid IN (SELECT unnest($ids))", {"ids": list(cids)}).fetchall()))
        return [found[c] for c in cids]

    def closed_late(self, period: Period, branch: str | None = None) -> list[int]:
        """``core.metrics.closed_late``: the complaints (``cid``) closed in the period after their close deadline."""
        self._group(ALL, branch)
        self._periods([period])
        return [cid for (cid,) in self.con.execute(CLOSED_LATE).fetchall()]


def figures_from_parquet(paths: Sequence[Path | str], period: Period, by: Grouping = ALL,
                         memory_limit: str | None = None) -> dict[str, dict[Key, tuple[Any, Any]]]:
    """Every registered figure of ``period`` and the previous one from ``CASES`` Parquet files, without loading
    a ``Case``: ``{key: {group: (this, previous)}}`` (a report's store: ``report.store_figures``)."""
    con = connect_parquet(paths, memory_limit=memory_limit)
    try:
        return Facts(con).cover(period, by)
    finally:
        con.close()
