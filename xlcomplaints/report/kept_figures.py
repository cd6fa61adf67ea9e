"""A period's own figures, kept in its facts store for the later periods' trend and cover (``figures-<run>.json``).

What a later period's run needs of an earlier period's store (``report.store_history``) is that period's figures:
its trend rows and what its report's cover and breakdown sheets showed. Its own run computed them already, from
the same DuckDB tables: ``keep`` asks them of the run's connection (the consolidation's rules across branches
applied, before head office's lists relabel anything: what ``store_history`` computes from the store's partitions)
and ``report.facts.save_facts`` writes them into the store, named in the manifest with their size and SHA-256 like a
partition. A later run reads them (``fitting``) instead of loading the store's facts into DuckDB, and computes from
them, as from the store, the cover that report showed (``store_history._cover``: the figures before the report's
own previous-period rules, which depend on the earlier reports and stores this run has). Kept, per store:

- the trend rows (``Facts.trend``), and whether the store holds a complaint of the period before;
- the cover's figures of the period and the period before (``COVER_KEYS``, whole set), each stage's units;
- per breakdown dimension (branch included) every value's row as ``Facts.breakdown`` gives it without an earlier
  report's counts (``core.metrics.group_rows`` makes them again with those counts), the departments of the
  By-department figures, the backlog's ages.

Used only when they fit, else the store is queried as before (the same figures, cell for cell:
``tests/test_kept_figures.py``): the file is of this format, was computed by these rules (``rules()``: a digest of
the source of the modules that compute the figures, or the version where the source is not installed, so a
changed query or rule is never answered by figures of the old one), for the store's period, from the very partitions the manifest names (their branches, rows and SHA-256, so a
partition swapped under a manifest made again is queried, and refused, as before). A figures file that is not
the one the manifest names (edited, cut short) makes the store refused, as a damaged partition does. Phone numbers
are not in it: counts, rates, times and the values of the breakdowns' dimensions only. Parsed by pydantic, strict:
nothing in it runs as code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xlcomplaints.core.metrics import AGE_BUCKETS, TREND_PERIODS, GroupRow, Period, TrendRow
from xlcomplaints.core.metrics.people import COUNT_FIGURES, PersonRow
from xlcomplaints.core.metrics.tables import group_rows
from xlcomplaints.report.facts import Manifest, StoreError
from xlcomplaints.report.summary import COVER_KEYS, DIMENSIONS, Branch, breakdown_rows
from xlcomplaints.store.figures import (
    ALL,
    BY_DEPARTMENT,
    BY_HANDLER,
    Facts,
    Grouping,
    Key,
    by_dimension,
)
from xlcomplaints.store.figures import DIMENSIONS as FIELDS
from xlcomplaints.store.queries import PEOPLE_QUERIES, QUERIES

FORMAT: Literal["xlcomplaints.period-figures"] = "xlcomplaints.period-figures"
Number = int | float | None


@cache
def rules() -> str:
    """A digest of the source of the modules that compute the kept figures (the store's tables and queries, the
    periods, this module): figures kept by another version of them are not used, but computed again."""
    root = Path(__file__).resolve().parents[1]
    files = [*sorted((root / "store").glob("*.py")), *sorted((root / "core" / "metrics").glob("*.py")),
             root / "report" / "store_report.py", Path(__file__).resolve()]
    h = hashlib.sha256()
    try:
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    except OSError:  # installed without its source (a frozen program): the version stands for it
        from xlcomplaints import __version__
        return f"version {__version__}, source not readable"
    return h.hexdigest()


def partitions_digest(entries: Sequence[tuple[str, int, str]]) -> str:
    """The partitions the figures are computed from: (branch, rows, SHA-256) of each, in branch order."""
    return hashlib.sha256(json.dumps(sorted(entries), separators=(",", ":")).encode()).hexdigest()


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class KeptRow(_Strict):
    """A breakdown's row: ``core.metrics.GroupRow``."""

    key: str | None
    count: int = Field(ge=0)
    previous: int = Field(ge=0)
    on_time_rate: float | None
    late: int = Field(ge=0)


class KeptTrend(_Strict):
    """A trend row: ``core.metrics.TrendRow``."""

    period: str
    received: int | None
    closed: int | None
    on_time_rate: float | None
    satisfaction_rate: float | None


class KeptCover(_Strict):
    """What ``store_history._cover`` asks of a store's facts for its period."""

    holds_previous: bool
    figures: dict[str, tuple[Number, Number]]
    units: dict[str, list[str]]
    breakdowns: dict[str, list[KeptRow]]
    departments: list[str | None]
    backlog_ages: list[int]

    def breakdown(self, dim: str, order: Sequence[str], previous: Mapping[str | None, int] | None) -> list[GroupRow]:
        """``Facts.breakdown(period, dim, order, previous=previous)`` of the store, from its kept rows."""
        rows = self.breakdowns[dim]
        return group_rows({r.key: r.count for r in rows}, {r.key: r.previous for r in rows},
                          {r.key: r.on_time_rate for r in rows}, {r.key: r.late for r in rows}, order, previous)

    def other_departments(self, keys: Sequence[str | None]) -> list[str | None]:
        """``Facts.people(period, BY_DEPARTMENT, keys)``'s departments after ``keys``."""
        shown = set(keys)
        return [k for k in self.departments if k not in shown]


class KeptFigures(_Strict):
    format: Literal["xlcomplaints.period-figures"]
    rules: str
    period: str
    partitions: str
    trend: list[KeptTrend]
    cover: KeptCover

    def trend_rows(self) -> list[TrendRow]:
        return [TrendRow(Period.parse(r.period), r.received, r.closed, r.on_time_rate, r.satisfaction_rate)
                for r in self.trend]


def kept_cover(facts: Facts, period: Period, branches: Sequence[Branch]) -> KeptCover:
    """The cover figures of ``period`` that ``store_history._cover`` reads, from ``facts``."""
    kept: dict[str, list[KeptRow]] = {}

    def rows_of(dim: str, order: Sequence[str], counts: object) -> list[GroupRow]:
        rows = facts.breakdown(period, dim, order)
        kept[dim] = [KeptRow(key=r.key, count=r.count, previous=r.previous, on_time_rate=r.on_time_rate,
                             late=r.late) for r in rows]
        return rows

    facts.prefetch_breakdowns(period, [d for d, _ in DIMENSIONS if d in FIELDS])  # one scan for them all
    breakdown_rows(DIMENSIONS, None, branches, rows_of)  # each dimension with the order its sheet has
    return KeptCover(
        holds_previous=bool(facts.metric("received", [period.shift(-1)])[0].get(None)),
        figures={k: v[None] for k, v in facts.cover(period, keys=COVER_KEYS).items()},
        units=facts.units(), breakdowns=kept,
        departments=[r.key for r in facts.people(period, BY_DEPARTMENT)],
        backlog_ages=list(facts.backlog_ages(period)[None]))


def keep(facts: Facts, period: Period, branches: Sequence[Branch], partitions: Sequence[tuple[str, int, str]],
         ) -> KeptFigures:
    """The figures of ``period`` a later run reads from the store (see the module doc), from ``facts`` over the
    store's ``partitions`` ((branch, rows, SHA-256) each), the rules across branches applied."""
    trend = [KeptTrend(period=str(r.month), received=r.received, closed=r.closed, on_time_rate=r.on_time_rate,
                       satisfaction_rate=r.satisfaction_rate) for r in facts.trend(period)]
    return KeptFigures(format=FORMAT, rules=rules(), period=str(period), partitions=partitions_digest(partitions),
                       trend=trend, cover=kept_cover(facts, period, branches))


def as_bytes(kept: KeptFigures) -> bytes:
    return kept.model_dump_json().encode()


def fitting(data: bytes | None, m: Manifest, name: str) -> KeptFigures | None:
    """The kept figures ``data`` (the file the manifest ``m`` names, its bytes checked) if they fit (see the module
    doc), else None: the store is queried. ``StoreError`` if they are not a figures file at all (``name``: the
    store's, for the message)."""
    kept = _parsed(data, name)
    if kept is None or kept.rules != rules() or not _of_store(kept, m):
        return None
    return kept


def kept_by_its_run(data: bytes | None, m: Manifest, name: str) -> KeptFigures | None:
    """The figures ``data`` a store of another layout (``report.facts.StoreOfAnotherVersion``) keeps, which this
    version cannot query, if they are of its period and partitions: what its period's report showed, counted by the
    rules of the version that wrote them (``rules`` not compared), as a report given with ``--history`` is read from
    its sheets. None if it keeps none, or none of it; ``StoreError`` if they are not a figures file at all."""
    kept = _parsed(data, name)
    return kept if kept is not None and _of_store(kept, m) else None


def _parsed(data: bytes | None, name: str) -> KeptFigures | None:
    """The figures file ``data`` parsed and checked whole (None: the store keeps none); ``StoreError`` if damaged."""
    if data is None:
        return None
    try:
        kept = KeptFigures.model_validate_json(data)
        kept.trend_rows()  # each period's name read
    except (ValidationError, ValueError) as e:
        detail = f"{e.error_count()} error(s): {e.errors()[0]['msg']}" if isinstance(e, ValidationError) else str(e)
        raise StoreError(f"{name}: its figures file is damaged ({detail})") from e
    cover = kept.cover
    if not (set(COVER_KEYS) <= cover.figures.keys() and {d for d, _ in DIMENSIONS} <= cover.breakdowns.keys()
            and len(cover.backlog_ages) == len(AGE_BUCKETS)):
        raise StoreError(f"{name}: its figures file is damaged (figures missing)")
    return kept


def _of_store(kept: KeptFigures, m: Manifest) -> bool:
    """Whether ``kept`` were computed for the period of the manifest ``m`` from the very partitions it names."""
    wanted = partitions_digest([(e.branch, e.rows, e.sha256) for e in m.partitions])
    return (kept.period, kept.partitions) == (m.period, wanted)


class AskedOnce(Facts):
    """``Facts`` answering the trend, the cover's figures, the units, the backlog's ages, each breakdown's figures
    and each grouping's people once per question.

    Speed, fenced here: the run's report (``store_report.report_from_store``) asks of its tables some of the
    questions ``keep`` asks for the figures the store keeps. Buys, at 1,000,000 complaints (the 2,000 bench
    branches' October store, one process, ``time.process_time``, 2 rounds, load about 12): ``keep`` 13.1–14.0 s of
    CPU and the report's same questions 8.4–8.9 s more with ``Facts``, 12.3–12.7 s for both with this: the kept
    figures cost the run about 4 s instead of 13 (at 100,000 complaints 0.24 s instead of 0.7). Only while the tables
    stay as they were (not with head office's lists, which relabel them between the two: ``report.run._compute``).
    The breakdowns' figures and the people of a grouping shared too: an ``--update`` of 10 at 1 M took 34.7, 36.8 s
    of CPU instead of 37.7, 39.3 s (``bench_update.py``, docs/benchmarks.md).
    Held to ``Facts`` by ``tests/test_kept_figures.py::test_asked_once_answers_as_facts`` and the report's
    cell-for-cell tests."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        super().__init__(con)
        self._answers: dict[tuple[object, ...], Any] = {}

    def _once(self, question: tuple[object, ...], ask: Callable[[], Any]) -> Any:
        if question not in self._answers:
            self._answers[question] = ask()
        return self._answers[question]

    def trend(self, period: Period, branch: str | None = None, periods: int = TREND_PERIODS) -> list[TrendRow]:
        return self._once(("trend", period, branch, periods),
                          lambda: super(AskedOnce, self).trend(period, branch, periods))

    def cover(self, period: Period, by: Grouping = ALL, branch: str | None = None,
              keys: Sequence[str] = tuple(QUERIES)) -> dict[str, dict[Key, tuple[Any, Any]]]:
        return self._once(("cover", period, by, branch, tuple(keys)),
                          lambda: super(AskedOnce, self).cover(period, by, branch, keys))

    def units(self, branch: str | None = None) -> dict[str, list[str]]:
        return self._once(("units", branch), lambda: super(AskedOnce, self).units(branch))

    def backlog_ages(self, period: Period, by: Grouping = ALL, branch: str | None = None) -> dict[Key, list[int]]:
        return self._once(("ages", period, by, branch),
                          lambda: super(AskedOnce, self).backlog_ages(period, by, branch))

    def prefetch_breakdowns(self, period: Period, dimensions: Sequence[str | Grouping], branch: str | None = None,
                            ) -> None:
        """Only the dimensions not asked before queried (each grouping set of ``_sets`` is its own answer, whatever
        the others asked with it); those asked before put back for ``breakdown``."""
        bys = [by_dimension(d) if isinstance(d, str) else d for d in dimensions]
        new = [by for by in bys if ("breakdown", period, by, branch) not in self._answers]
        super().prefetch_breakdowns(period, new, branch)
        for by in new:
            self._answers[("breakdown", period, by, branch)] = self._prefetched[(period, by, branch)]
        for by in bys:
            self._prefetched[(period, by, branch)] = self._answers[("breakdown", period, by, branch)]

    def people(self, period: Period, by: Grouping = BY_HANDLER, keys: Sequence[Key] = (),
               branch: str | None = None) -> list[PersonRow]:
        """The rows asked once without ``keys``, then ordered as ``Facts.people`` orders them: ``keys`` first (a key
        nobody counts under: every figure 0 or None), then the rest in the order found."""
        rows = self._once(("people", period, by, branch), lambda: super(AskedOnce, self).people(period, by, (), branch))
        found = {r.key: r for r in rows}
        first = set(keys)
        return [found.get(k) or PersonRow(k, {name: 0 if name in COUNT_FIGURES else None for name in PEOPLE_QUERIES})
                for k in keys] + [r for r in rows if r.key not in first]
