"""Earlier periods' figures from their facts stores: the trend and last period's figures without ``--history`` reports.

A consolidation keeps its facts store (``report.facts``); a later period's run reads the earlier periods' stores
instead of their reports' sheets, by the same DuckDB queries as its own figures (``store.figures.Facts`` over a table
of periods), each store with the consolidation's rules across branches applied as its own run applied them
(``report.store_report.connect_merged``). Where the stores are:

- **found by name**: the report's name with its period put for each earlier one (``group-2026-10.xlsx`` →
  ``group-2026-09.facts``, ``group-2026-08.facts`` … back over the trend's twelve periods), beside the report or in
  the folder ``--store`` names (``earlier_stores``);
- **given with ``--history``**: a store folder (``group-2026-09.facts``), or a report whose store, of the same
  run, is beside it (its store is read, not its sheets).

From each store, in period order, what that period's report showed: its trend rows (``Facts.trend``, periods its
facts hold nothing of taken from the earlier stores and reports, as that report took them: ``merge_history``) and
its cover (figures, units, the breakdown sheets' counts, the backlog's ages: ``_cover``), the latter used as the
previous period's when this run's inputs hold nothing of it: computed for the previous period's store only, and for
an earlier one only when the cover after it asks for it (its store holding nothing of its own previous period; that
store is then opened again). The figures therefore equal those the reports give
(``tests/test_store_history.py``: the trend and cover sheets cell for cell).

A store that cannot be used — edited by hand or cut short (its digest, a partition's size or SHA-256), of
another version, of another kind of period, of this period or a later one — is passed over with a warning on the
Issues sheet, and the run goes on: a head office's report of the month should not wait on last year's store; the
period's figures then come from its report if that is given (a report with a damaged store beside it is read as
before, from its sheets), else the trend leaves the period out. A store found by name whose report of that name is of another run (that period
consolidated again and its store not replaced with it) is passed over the same way, and that report read from its
sheets instead (``report.history_store_unpaired``): its figures are the ones the period's report shows. A store of
another layout of the store, which this
version cannot query (``StoreOfAnotherVersion``: an earlier version wrote it), but whole and keeping the figures
its own run computed for its period and partitions (``kept_figures.kept_by_its_run``), gives those figures — what
its report showed, counted by that version's rules, as a report given with ``--history`` is read from its sheets —
and the Issues sheet says so (``report.history_store_older``). Phone numbers do not matter here: only counts,
rates and times are read from an earlier store, never a row, so a store masked otherwise than this run is used as
it is (its repeat rate is what its own run counted).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from xlcomplaints.core import metrics as M
from xlcomplaints.core.metrics import TREND_PERIODS, GroupRow, Period, TrendRow
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.facts import (
    MANIFEST,
    StoreError,
    StoreOfAnotherVersion,
    is_store,
    kept_bytes,
    load_facts,
    read_manifest,
    store_path,
)
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.report.history import History, read_history
from xlcomplaints.report.kept_figures import KeptCover, fitting, kept_by_its_run, kept_cover
from xlcomplaints.report.merging import Consolidation
from xlcomplaints.report.regions import run_of
from xlcomplaints.report.store_report import connect_merged, report_memory, said_out_of_memory
from xlcomplaints.report.summary import (
    COVER_KEYS,
    DIMENSIONS,
    Branch,
    Cover,
    breakdown_rows,
    cover_row,
    merge_history,
)
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, RUN_NAME
from xlcomplaints.store.figures import Facts
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

register_messages({
    "report.history_store_damaged": (
        "往期汇总数据目录 {store} 无法采用（{detail}），已跳过；该期的趋势与环比数字取自用 --history 给出的该期月报，"
        "未给出则从缺。",
        "The earlier period's facts store {store} cannot be used ({detail}) and was passed over; that period's trend "
        "and comparison figures come from its report if given with --history, else are left out."),
    "report.history_store_older": (
        "往期汇总数据目录 {store} 由另一版本的 xlcomplaints 写成，本版本无法重新统计；{period} 的趋势与环比数字取自该期汇总时"
        "保存的结果（按当时版本的规则计算）。如要按本版本的规则重算，请用本版本重新汇总该期。",
        "The earlier period's facts store {store} was written by another version of xlcomplaints, which this one "
        "cannot count again; {period}'s trend and comparison figures are those its own run kept (counted by that "
        "version's rules). To count it by this version's rules, consolidate that period again with this version."),
    "report.history_store_period": (
        "往期汇总数据目录 {store} 统计的是 {held}，不是本报表（{period}）之前同类期间的数据，已跳过。",
        "The facts store {store} is of {held}, not an earlier period of the same kind as this report's ({period}); "
        "it was passed over."),
    "report.history_store_unpaired": (
        "往期汇总数据目录 {store} 与旁边的月报 {report} 不是同一次汇总写成的（该期重新汇总后，数据目录未随报表更新），已跳过；"
        "该期的趋势与环比数字取自 {report} 的表格。",
        "The earlier period's facts store {store} was not written by the same run as the report {report} of its name "
        "(that period was consolidated again and its store not replaced with the report), so it was passed over; "
        "that period's trend and comparison figures are read from {report}'s sheets."),
})


@dataclass(frozen=True)
class Earlier:
    """An earlier period's store to read: where it is, how the Issues sheet names it, and the report it was given as
    (read from its sheets instead if the store cannot be used)."""

    store: Path
    label: str
    report: Path | None = None
    #: found by name: the report of that name, the store's own run's if there (else that report is read instead)
    beside: Path | None = None


@dataclass
class Sources:
    """Where the earlier periods' figures come from: reports read from their sheets, stores read by queries."""

    reports: list[Path] = field(default_factory=list)
    stores: list[Earlier] = field(default_factory=list)


def earlier_stores(output: Path, period: Period, where: Path | None = None) -> list[Earlier]:
    """The stores of this report's earlier periods found by name (see the module doc): none when the report's
    name does not hold its period's text (``2026-10``, ``2026-W43``, ``2026-Q4``, ``2026``) exactly once."""
    text, stem = str(period), output.stem
    if stem.count(text) != 1:
        return []
    found = []
    for i in range(1, TREND_PERIODS):
        name = stem.replace(text, str(period.shift(-i))) + output.suffix
        store = store_path(output.with_name(name), where)
        if (store / MANIFEST).is_file():
            found.append(Earlier(store, store.name, beside=output.with_name(name)))
    return found


def sources(history: Iterable[str | Path], found: Sequence[Earlier] = ()) -> Sources:
    """``--history`` split: store folders, and reports whose store of the same run is beside them, are read as
    stores; other reports and folders as before (``report.history``). ``found``: the stores found by name."""
    out = Sources(stores=list(found))
    for given in map(Path, history):
        if given.is_dir() and is_store(given):
            out.stores.append(Earlier(given, given.name))
        elif given.is_file() and (store_path(given) / MANIFEST).is_file() and _same_run(given, store_path(given)):
            out.stores.append(Earlier(store_path(given), given.name, given))  # named as given
        else:
            out.reports.append(given)
    return out


def _same_run(report: Path, store: Path) -> bool:
    """Whether the report holds the run id of the store beside it (else its sheets are read, as any report's)."""
    try:
        port = FileWorkbook(report)
        stamp, _ = find_stamps(port)
        run = read_manifest(store).run
    except (WorkbookError, StoreError, OSError):
        return False
    return stamp.kind == REPORT_TEMPLATE_KIND and any(
        n.name.lower() == RUN_NAME and n.local_sheet is None and n.value.strip().lstrip("=").strip('"') == run
        for n in port.names())


def earlier_figures(history: Iterable[str | Path], found: Sequence[Earlier], period: Period,
                    branches: Collection[str]) -> History:
    """The earlier periods' figures: from the reports given (``report.history.read_history``), then the stores
    given or found over them; a report given with a store that cannot be used is read from its sheets."""
    given = sources(history, found)
    earlier, fallback = with_stores(read_history(given.reports, branches), given.stores, period)
    if fallback:
        again = read_history(fallback, branches)
        for k, row in again.trend.items():
            earlier.trend.setdefault(k, row)
        for k, cover in again.covers.items():
            earlier.covers.setdefault(k, cover)
        earlier.problems.extend(again.problems)
        earlier.read.extend(again.read)
    return earlier


def with_stores(history: History, stores: Sequence[Earlier], period: Period) -> tuple[History, list[Path]]:
    """``history`` (from the reports given) with the figures of ``stores`` over it, a period in both from its
    store; and the reports to read after all (those given with a store that cannot be used)."""
    usable: list[tuple[Period, Earlier]] = []
    fallback: list[Path] = []
    older: dict[Path, StoreOfAnotherVersion] = {}  # the stores of another layout, each with its manifest read
    seen: set[Path] = set()
    for e in stores:
        if e.store.resolve() in seen:
            continue
        seen.add(e.store.resolve())
        try:
            try:
                m = read_manifest(e.store)
            except StoreOfAnotherVersion as err:  # its kept figures may still serve (``_by_its_run``)
                if err.manifest is None or err.manifest.figures is None:
                    raise
                m, older[e.store] = err.manifest, err
            held = Period.parse(m.period)
        except (StoreError, ValueError) as err:
            history.problems.append(_damaged(e, str(err)))
            fallback += [e.report] if e.report else []
            continue
        if e.beside is not None and run_of(e.beside) not in (None, m.run):  # a stale store: its report says otherwise
            history.problems.append(Problem(level=Level.WARNING, code="report.history_store_unpaired", file=e.label,
                                            params={"store": e.store.name, "report": e.beside.name}))
            fallback.append(e.beside)
            continue
        if held.kind is not period.kind or not held < period:
            history.problems.append(Problem(level=Level.WARNING, code="report.history_store_period", file=e.label,
                                            params={"store": e.store.name, "held": m.period, "period": str(period)}))
            continue
        if held >= period.shift(1 - TREND_PERIODS):
            usable.append((held, e))
    read: dict[Period, Earlier] = {}  # the stores read so far, by period
    kept: dict[Period, KeptCover] = {}  # their cover figures, where their store keeps them
    made: dict[Period, Cover] = {}  # their covers computed so far

    def cover_of(p: Period) -> Cover | None:
        """Period ``p``'s cover as its report showed it: from its store (computed now, once) if one was read,
        else from the report given for it."""
        if p in made or p not in read:
            return made.get(p, history.covers.get(p))
        figures = kept.get(p)
        if figures is None:
            try:
                _, _, figures = _figures(read[p], p, cover=True)  # its facts queried again
            except StoreError:  # changed since it was read: as if it had not been
                return history.covers.get(p)
        if figures is None:  # asked for: never None
            return history.covers.get(p)
        made[p] = _cover(figures, p, read[p].label, branches_of[p], partial(cover_of, p.shift(-1)))
        return made[p]

    last = period.shift(-1)
    branches_of: dict[Period, list[Branch]] = {}
    for held, e in sorted(usable, key=lambda x: x[0]):
        try:  # only last period's cover is shown; an earlier one only if a later one needs it
            figures: KeptCover | None
            if e.store in older:  # not to be queried by this version: what its own run kept
                branches, rows, figures = _by_its_run(e, held, older[e.store])
                history.problems.append(Problem(level=Level.WARNING, code="report.history_store_older", file=e.label,
                                                params={"store": e.store.name, "period": str(held)}))
            else:
                branches, rows, figures = _figures(e, held, cover=held == last)
        except StoreError as err:
            history.problems.append(_damaged(e, str(err)))
            fallback += [e.report] if e.report else []
            continue
        trend = merge_history(rows, history.trend)
        read[held], branches_of[held] = e, branches
        if figures is not None:
            kept[held] = figures
        if held == last and figures is not None:  # asked for: never None
            made[held] = _cover(figures, held, e.label, branches, partial(cover_of, held.shift(-1)))
        history.trend.update({r.month: r for r in trend})
        history.read.append(made.get(held) or Cover(e.label, {}, {}, branches=tuple(sorted(b.code for b in branches))))
    history.covers.update(made)
    return history, fallback


def _damaged(e: Earlier, detail: str) -> Problem:
    return Problem(level=Level.WARNING, code="report.history_store_damaged", file=e.label,
                   params={"store": e.store.name, "detail": detail})


def _figures(e: Earlier, period: Period, cover: bool) -> tuple[list[Branch], list[TrendRow], KeptCover | None]:
    """The store's branches, its trend rows and (``cover``, or kept anyway) its cover figures: those its own run
    kept in it if they fit (``report.kept_figures``), else its facts queried (``_open``). Every file of the store
    is checked either way (``load_facts``: the manifest's digest, each partition's size and SHA-256)."""
    summaries, as_of, _ = load_facts(e.store, period, cases=False)  # every partition checked, none read back
    if not summaries:
        raise StoreError(f"{e.store.name}: holds no branch")
    branches = [Branch(f.branch or "", f.branch_name, f.name) for f in summaries]
    m = read_manifest(e.store)
    found = fitting(kept_bytes(e.store, m), m, e.store.name)
    if found is not None:
        return branches, found.trend_rows(), found.cover
    limit = report_memory(_merged(summaries, period, as_of))
    with said_out_of_memory(limit):  # as the report's own compute: a refusal of ours, never DuckDB's raw error
        facts = _open(summaries, period, as_of, limit)
        try:
            return branches, facts.trend(period), kept_cover(facts, period, branches) if cover else None
        finally:
            facts.con.close()


def _by_its_run(e: Earlier, period: Period, err: StoreOfAnotherVersion) -> tuple[list[Branch], list[TrendRow], KeptCover]:
    """The branches, trend rows and cover figures a store of another layout keeps (``kept_figures.kept_by_its_run``),
    every file of it checked as ``_figures`` checks them; ``err`` raised again if it keeps none of its own."""
    m = err.manifest
    if m is None:
        raise err
    summaries, _, _ = load_facts(e.store, period, cases=False, manifest=m)
    found = kept_by_its_run(kept_bytes(e.store, m), m, e.store.name)
    if found is None:
        raise err
    return [Branch(f.branch or "", f.branch_name, f.name) for f in summaries], found.trend_rows(), found.cover


def _merged(summaries: list[FileSummary], period: Period, as_of: datetime) -> Consolidation:
    return Consolidation(period, as_of, summaries, branches={f.branch or "": f for f in summaries})


def _open(summaries: list[FileSummary], period: Period, as_of: datetime, limit: str | None = None) -> Facts:
    """DuckDB over the store's partitions with the rules across branches applied as its own run applied them
    (``connect_merged``; DuckDB's memory ``limit``, else as for a report of them): the caller closes it."""
    facts, _, _ = connect_merged(_merged(summaries, period, as_of), limit)
    return facts


def _cover(figures: KeptCover, period: Period, label: str, branches: list[Branch],
           before: Callable[[], Cover | None]) -> Cover:
    """What ``report.history.read_report`` reads back off the cover and breakdown sheets of the store's report:
    computed as ``report_from_store`` computes them, from the store's figures (``kept_figures.kept_cover``;
    ``before``: the cover of the period before, its report's ``previous_cover``, asked for only where the store
    holds nothing of that period)."""
    earlier = before() if not figures.holds_previous else None
    values: dict[str, float | None] = {}
    shown_units: dict[str, str] = {}
    for key in COVER_KEYS:
        m = M.METRICS[key]
        unit = next(iter(figures.units.get(m.stage) or ()), None) if m.kind == "duration" and m.stage else None
        value, previous = figures.figures[key]
        row = cover_row(key, value, previous, unit, earlier)
        values[key] = row.value
        if row.unit:
            shown_units[key] = row.unit
    # the breakdown sheets as that report printed them (no By-branch sheet for one branch): every row's count
    dims = tuple((d, v) for d, v in DIMENSIONS if d != "branch" or len(branches) > 1)
    rows = breakdown_rows(dims, earlier, branches, figures.breakdown)
    if "department" in rows:
        rows["department"] += [GroupRow(k, 0, 0, None, 0)
                               for k in figures.other_departments([g.key for g in rows["department"]])]
    return Cover(label, values, shown_units, {dim: _counts(r) for dim, r in rows.items()},
                 list(figures.backlog_ages), tuple(sorted(b.code for b in branches)))


def _counts(rows: list[GroupRow]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for r in rows:
        out[r.key] = out.get(r.key, 0) + r.count
    return out
