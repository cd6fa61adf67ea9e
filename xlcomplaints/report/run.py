# Over 400 lines: the one flow every report takes, step by step, with the small helpers only it uses.
"""The report flow: one branch's report, a consolidation, or an update of one (``ReportKind``).

``report_flow(ReportRequest(...), ReportHooks(...))`` reads the inputs (in parallel for a
consolidation), merges them, computes the report, writes the workbook and — for consolidations —
the facts store that lets an update (``ReportKind.UPDATE``) re-run one branch's period without
re-reading the others (``report.facts``: the workers write their branches' partitions into it while
they read, and it is committed once the report is saved). The command line, the button, the Python API and the demo each build a request
(``report/request.py``) and call it; the result is a ``RunResult``.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.lists import OfficeLists
from xlcomplaints.core.metrics import Period, default_period_as_of
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.consolidate import (
    FileSummary,
    collector_paused,
    read_all,
    read_file,
    with_cases,
)
from xlcomplaints.report.facts import (
    Staging,
    StoreError,
    StoreOfAnotherRun,
    left_out,
    load_facts,
    old_state_path,
    pack_branches,
    read_manifest,
    save_facts,
    store_path,
)
from xlcomplaints.report.file_summary import DEFAULT_RANK_MIN
from xlcomplaints.report.held import held
from xlcomplaints.report.history import History
from xlcomplaints.report.imposed import dimensions, impose, impose_on_store
from xlcomplaints.report.inputs import as_stored, expand_inputs, file_labels, resolved
from xlcomplaints.report.kept_figures import AskedOnce, as_bytes, keep
from xlcomplaints.report.masking import mask_partition, mask_summary
from xlcomplaints.report.merging import Consolidation, LeftOut, merge
from xlcomplaints.report.regions import (
    Given,
    check_read,
    held_then,
    not_given,
    read_regions,
    region_notes,
    split_regions,
)
from xlcomplaints.report.request import Contacts, ReportHooks, ReportKind, ReportRequest
from xlcomplaints.report.store_history import Earlier, earlier_figures, earlier_stores
from xlcomplaints.report.store_report import (
    check_memory_setting,
    computable,
    connect_merged,
    holds_received,
    report_from_store,
    report_memory,
    said_out_of_memory,
)
from xlcomplaints.report.summary import Branch, MonthlyReport, branch_codes, build
from xlcomplaints.report.workbook import write_report
from xlcomplaints.spec import TEMPLATE_NAMES
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, RUN_NAME
from xlcomplaints.store.partition import PartitionDamaged
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.filekind import write_reason
from xlcomplaints.workbook.reader import find_stamps
from xlcomplaints.workbook.safety import (
    WorkbookChangedError,
    WorkbookLockedError,
    atomic_write,
    check_writable,
)

register_messages({
    "report.output_taken": (
        "{path} 已存在，但不是月报表（{what}），未覆盖。请给报表另起一个文件名。",
        "{path} exists and is not a monthly report ({what_en}); it is left as it is. Give the report another file name."),
    "report.output_folder": ("文件夹 {folder} 不存在，报表无法写入。",
                             "The folder {folder} does not exist; the report cannot be written there."),
    "report.output_suffix": ("报表须写成 .xlsx 文件，不能写到 {path}。",
                             "The report is written as an .xlsx file, not to {path}."),
    "report.history_branches": (
        "往期月报 {path} 统计的网点与本报表不同（本报表有、它没有的：{missing}；它有、本报表没有的：{extra}），"
        "取自它的月份按它的数字采用。",
        "The earlier report {path} counted other branches than this report (here, not there: {missing}; there, "
        "not here: {extra}); the months taken from it keep its figures."),
    "report.old_state": (
        "{path} 旁边是旧版本的状态文件 {state}，本版本改用汇总数据目录 {store}，无法 --update；请不带 --update 重新汇总"
        "全部网点，以建立汇总数据目录。",
        "Beside {path} is the state file {state} of an earlier version; this version keeps a facts store ({store}) "
        "instead, so --update cannot be used: consolidate again without --update to build the store."),
    "report.state_unpaired": (
        "{path} 与 {state} 不是同一次汇总写成的（上次汇总可能中途中断），无法 --update；请不带 --update 重新汇总全部网点。",
        "{path} and {state} were not written by the same run (the last one may have been interrupted), so --update "
        "cannot use them; consolidate all branches again without --update."),
    "report.carried_as_of": (
        "网点 {branches} 的数据沿用上次汇总（统计时点 {then}），本次统计时点为 {now}。",
        "Branches {branches} keep the data of the previous run (as of {then}); this run is as of {now}."),
})


class NothingRead(Exception):
    """No input could be used: nothing to report. ``issues`` say why, file by file."""

    def __init__(self, issues: list[Problem]) -> None:
        super().__init__("nothing could be read")
        self.issues = issues


@dataclass
class RunResult:
    report: MonthlyReport
    consolidation: Consolidation
    output: Path
    state: Path | None  # a consolidation's facts store (``report.facts``), None for one branch's report
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase: read, merge, compute, write, store
    run_id: str | None = None  # a consolidation's, in its report and its facts store


class _Laps:
    """Seconds spent in each phase, for the benchmark and for curious users."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name], self._clock = now - self._clock, now


def report_flow(request: ReportRequest, hooks: ReportHooks | None = None) -> RunResult:
    """Read, merge, compute and write the report ``request`` asks for (``hooks``: how the files are
    read and who is told); raises ``NothingRead`` (writing nothing) when no input is usable,
    ``WorkbookError`` when the report cannot be written (open in Excel, say), ``QueryMemoryError`` (writing
    nothing) when DuckDB runs out of memory computing a consolidation's report."""
    hooks = hooks or ReportHooks()
    month, output, kind = request.period, request.output, request.kind
    inputs, show_contacts = request.inputs, request.shows_contacts
    _check_output(output)
    if kind.consolidates:
        check_memory_setting()  # XLCOMPLAINTS_DUCKDB_MEMORY, if set, refused now rather than after every file is read
    run = uuid.uuid4().hex if kind.consolidates else None  # pairs the report with its facts store
    now = request.now or datetime.now().replace(microsecond=0)
    as_of = request.as_of or default_period_as_of(month, now)
    store = store_path(output, request.store) if kind.consolidates else None  # two reports may share a --store
    with held(output, store) as notes, collector_paused():
        report_run = _check_taken(output)  # under the lock: what it finds stays so
        previous: list[FileSummary] = []
        left_before: list[LeftOut] = []  # the files the last run read and did not count (``report.merging``)
        then, shown_then = as_of, show_contacts
        # a consolidation's figures from its store (``report.store_report``), no branch's cases held here
        from_store = kind.consolidates and not hooks.python_engine
        if kind is ReportKind.UPDATE:
            previous, left_before, then, shown_then = _previous_run(output, report_run, month, show_contacts,
                                                                    request.store, from_store)
        contacts_shown = show_contacts and shown_then
        lap = _Laps()
        paths = expand_inputs(inputs) if kind.consolidates else list(inputs)
        paths = [p for p in paths if resolved(p) != output.resolve()]  # the last run's report, in the same folder
        given: list[Given] = []
        if kind.consolidates:  # regions' reports given by name: their branches from their stores (``report.regions``)
            paths, given = split_regions(inputs, paths, file_labels(paths), request.store)
        read_now = {as_stored(p) for p in paths}  # a file given replaces what it held, unreadable, gone or another's now
        previous = held_then(given, [f for f in previous if as_stored(Path(f.path)) not in read_now])
        still = {f.path for f in held_then(given, [g.file for g in left_before])}  # a region given now: all anew
        left_before = [g for g in left_before if g.file.path in still and as_stored(Path(g.file.path)) not in read_now]
        if not paths and not previous and not given:  # an empty folder, say: what was looked for, and where
            raise NothingRead([Problem(level=Level.ERROR, code="scan.none_found", params={
                "folders": ", ".join(str(p) for p in inputs)})])
        if hooks.on_start is not None:
            hooks.on_start(len(paths))
        # files of the same name are told apart by their folders, the previous run's ones too
        labels = file_labels([*paths, *(Path(f.path) for f in previous)])
        staging = Staging(output, run, request.store) if kind.consolidates and run else None  # the workers' partitions, until saved
        try:
            folder = _open(staging)
            # each region's partitions copied (masked if this run masks what it showed) before anything is computed
            regions = read_regions(given, folder, month, show_contacts, request.region_wait)
            if from_store and shown_then and not show_contacts and folder is not None:  # one branch at a time
                try:
                    previous = [mask_partition(f, folder) for f in previous]
                except PartitionDamaged as e:  # changed since the store was checked: refused as a damaged store
                    raise StoreError(f"{Path(folder).parent.name}: {e}") from e
            files = _read(paths, request, as_of, max(now, as_of), hooks, labels, folder, read_back=not from_store)
            lap("read")
            if kind.consolidates:
                check_read(files, inputs, labels)
            notes += region_notes(regions, as_of)
            files += [f if from_store else with_cases(f) for r in regions for f in r.branches]  # copied here
            files += not_given(regions, read_now)  # the files the regions could not use: said, counted
            merged = merge(files, month, as_of, previous=previous, contacts_shown=contacts_shown,
                           received_in=holds_received, left_before=left_before)
            if from_store and not computable(merged):  # a summary without its partition: the cases read back after all
                files, previous = [with_cases(f) for f in files], [with_cases(f) for f in previous]
                merged = merge(files, month, as_of, previous=previous, contacts_shown=contacts_shown,
                               left_before=left_before)
                from_store = False
            merged.issues += [p for r in regions for p in r.set_aside]  # kept in this store too, for a roll-up of it
            if request.lists is not None and not from_store:  # from the store: on its tables (``_compute``)
                impose(merged, request.lists)
            lap("merge")
            if not merged.branches:
                raise NothingRead(merged.issues)
            if from_store and staging is not None:  # packs before the report reads them (``store.pack``)
                _pack(merged, staging)
                lap("pack")
            # the files behind the whole report, as a full run over them counts them: an update's carried ones too
            behind = len(files) + len(previous) + len(left_before)
            report, kept = _compute(merged, month, as_of, then, request.history, contacts_shown, behind, lap,
                                    notes, request.lists, from_store, earlier_stores(output, month, request.store))
            _save(output, report, request.lang, run)
            lap("write")
            store = None
            if staging is not None and run:
                try:
                    store = save_facts(output, merged, run, staging, kept)
                except OSError as e:  # the report is saved; its store is not: --update refuses the pair
                    raise WorkbookError("file.write_failed", path=str(staging.store),
                                        **write_reason(e)) from e
                old_state_path(output).unlink(missing_ok=True)  # an earlier version's, now replaced by the store
                lap("store")
        finally:
            if staging is not None:
                staging.abandon()  # what is left of it: everything, if the run failed before its store was saved
        return RunResult(report, merged, output, store, lap.times, run)


def _pack(merged: Consolidation, staging: Staging) -> None:
    """The merged branches in packs (``report.facts.pack_branches``): a kept pack changed since the store was
    checked is refused as a damaged store; a pack that cannot be written, as a write that failed."""
    try:
        pack_branches(merged, staging)
    except PartitionDamaged as e:
        raise StoreError(f"{staging.store.name}: {e}") from e
    except OSError as e:
        raise WorkbookError("file.write_failed", path=str(staging.store), **write_reason(e)) from e


def _open(staging: Staging | None) -> str | None:
    """The staging folder made, for the workers (None: a branch's report keeps no store)."""
    if staging is None:
        return None
    try:
        return staging.open()
    except OSError as e:  # a file of that name, say: said before any branch is read
        raise WorkbookError("file.write_failed", path=str(staging.store), **write_reason(e)) from e


def _compute(merged: Consolidation, month: Period, as_of: datetime, then: datetime, history: Sequence[str | Path],
             contacts_shown: bool, files_read: int, lap: _Laps, run_notes: list[Problem],
             lists: OfficeLists | None = None, from_store: bool = False, stores: Sequence[Earlier] = (),
             ) -> tuple[MonthlyReport, bytes | None]:
    """The report's figures from the merged cases (``from_store``: from the merged branches' partitions,
    ``report.store_report``), with notes on the run, carried branches and history (earlier reports, and earlier
    periods' facts stores, ``stores`` those found by name: ``report.store_history``); and, from the store, the
    period's figures a later period's run reads instead of its partitions (``report.kept_figures``)."""
    notes = list(run_notes)
    if merged.carried and then != as_of:
        notes.append(Problem(level=Level.WARNING, code="report.carried_as_of", params={
            "branches": ", ".join(merged.carried), "then": f"{then:%Y-%m-%d %H:%M}",
            "now": f"{as_of:%Y-%m-%d %H:%M}"}))
    earlier = earlier_figures(history, stores, month, list(merged.branches))
    notes += _other_branches(earlier, list(merged.branches))
    branches = [Branch(code, f.branch_name, f.name) for code, f in merged.branches.items()]
    rank_min = max((f.rank_min_complaints for f in merged.branches.values()), default=DEFAULT_RANK_MIN)
    if from_store:
        limit = report_memory(merged)
        with said_out_of_memory(limit):  # DuckDB's Out of Memory said as a refusal (``QueryMemoryError``)
            facts, paths, duplicates = connect_merged(merged, limit)
            if lists is None:  # the report and the kept figures ask the same questions of tables that stay as they are
                facts = AskedOnce(facts.con)
            try:
                merged.issues += duplicates
                # before head office's lists relabel the tables: as a later run computes them from the partitions
                kept = as_bytes(keep(facts, month, branches, [(code, f.partition.rows, f.partition.sha256)  # type: ignore[union-attr]
                                                              for code, f in merged.branches.items()]))
                relabelled = impose_on_store(facts.con, merged, lists) if lists is not None else None
                report = report_from_store(
                    facts, paths, month, as_of, branches=branches, issues=[*notes, *earlier.problems, *merged.issues],
                    history=earlier.trend, contacts_shown=contacts_shown,
                    previous_cover=earlier.covers.get(month.shift(-1)), dimensions=dimensions(merged, lists),
                    rank_min=rank_min, relabelled=relabelled)
            finally:
                facts.con.close()
        report.files_read, report.files_failed = files_read, merged.unreadable
        lap("compute")
        return report, kept
    texts = {(code, no): words for code, f in merged.branches.items() for no, words in f.texts.items()}
    report = build(merged.cases, month, as_of, branches=branches,
                   issues=[*notes, *earlier.problems, *merged.issues], history=earlier.trend,
                   contacts_shown=contacts_shown, texts=texts, previous_cover=earlier.covers.get(month.shift(-1)),
                   dimensions=dimensions(merged, lists),
                   rank_min=rank_min)
    report.files_read, report.files_failed = files_read, merged.unreadable
    lap("compute")
    return report, None  # no facts queried: a later run queries the store's partitions


def _check_output(output: Path) -> None:
    """Refuse an output that cannot be written, said now, not after every branch was read."""
    if output.suffix.lower() != ".xlsx":
        raise WorkbookError("report.output_suffix", path=output.name)
    if not output.parent.is_dir():
        raise WorkbookError("report.output_folder", folder=str(output.parent))


def _check_taken(output: Path) -> str | None:
    """Refuse an output that is not ours to replace: only an earlier monthly report is overwritten
    (a report written over a branch workbook would lose the register; there is no backup of it).
    The earlier report's run id ("" if it has none), None if there is no earlier report."""
    if not output.exists():
        return None
    try:  # open in Excel: that says more than what the file is
        check_writable(output, None)
    except WorkbookLockedError as e:
        raise _locked(output, e) from e
    try:
        earlier = FileWorkbook(output)
        stamp, _ = find_stamps(earlier)
    except WorkbookError as e:
        raise WorkbookError("report.output_taken", path=output.name, what="不是 xlcomplaints 生成的文件",
                            what_en="not a file xlcomplaints made") from e
    if stamp.kind != REPORT_TEMPLATE_KIND:
        zh, en = TEMPLATE_NAMES.get(stamp.kind, (stamp.kind, stamp.kind))
        raise WorkbookError("report.output_taken", path=output.name, what=zh, what_en=en)
    return next((n.value.strip().lstrip("=").strip('"') for n in earlier.names()
                 if n.name.lower() == RUN_NAME and n.local_sheet is None), "")


def _other_branches(earlier: History, codes: Sequence[str]) -> list[Problem]:
    """A warning for each earlier report that counted other branches than this report (a group's
    report given to one branch's, say): its months are not this report's branches' figures."""
    out = []
    ours = set(codes)
    for cover in earlier.read:
        if cover.branches:  # the report names them
            theirs = set(cover.branches)
        elif shown := cover.breakdowns.get("branch"):  # an older report of several branches: its By-branch sheet
            theirs = {c for c in branch_codes(shown, codes) if c is not None}
        else:
            continue
        if theirs != ours:
            out.append(Problem(level=Level.WARNING, code="report.history_branches", file=cover.file, params={
                "path": cover.file, "missing": _some(ours - theirs), "extra": _some(theirs - ours)}))
    return out


def _some(codes: set[str], shown: int = 5) -> str:
    """A few branch codes, "—" for none."""
    listed = sorted(codes)
    return ", ".join(listed[:shown]) + (f" … (+{len(listed) - shown})" if len(listed) > shown else "") or "—"


def _previous_run(output: Path, report_run: str | None, month: Period, show_contacts: bool,
                  where: Path | None = None, from_store: bool = False,
                  ) -> tuple[list[FileSummary], list[LeftOut], datetime, bool]:
    """The branches of the last consolidation into ``output`` (masked if this run masks, but those of a store
    that showed contacts when ``from_store``: ``masking.mask_partition`` rewrites their partitions once the run's
    staging folder is made), the files it read and did not count (masked likewise), the time they were computed as
    of, and whether that run showed contacts. The facts store must be of the run that wrote the report there
    (``report_run``); else the pair is refused.
    An earlier version's JSON state beside the report, with no store, is said to be one."""
    store = store_path(output, where)  # ``--store``: the folder it was kept in (``ReportRequest.store``)
    if not (store / "manifest.json").exists() and old_state_path(output).exists():
        raise WorkbookError("report.old_state", path=output.name, state=old_state_path(output).name, store=store.name)
    try:
        m = read_manifest(store)
        previous, then, shown_then = load_facts(store, month, report_run or "", cases=not from_store, manifest=m)
    except StoreOfAnotherRun as e:
        raise WorkbookError("report.state_unpaired", path=output.name, state=store.name) from e
    left = left_out(store, m)
    if not show_contacts and shown_then:
        left = [replace(f, file=mask_summary(f.file)) for f in left]
    if not show_contacts and not (from_store and shown_then):  # masked already unless that run showed them
        previous = [mask_summary(with_cases(f) if shown_then else f) for f in previous]
    return previous, left, then, shown_then


def _read(paths: Sequence[Path], request: ReportRequest, as_of: datetime, now: datetime, hooks: ReportHooks,
          labels: Mapping[Path, str], staging: str | None = None, read_back: bool = True) -> list[FileSummary]:
    month, shown, lang = request.period, request.shows_contacts, request.lang
    if request.kind.consolidates:
        return read_all(paths, month, as_of=as_of, now=now, show_contacts=shown, lang=lang,
                        executor=hooks.executor, workers=hooks.workers, on_file=hooks.on_file, labels=labels,
                        staging=staging, read_back=read_back)
    files = []
    for p in paths:  # one branch: no pool to start
        files.append(read_file(str(p), month, as_of, now, shown, lang, labels[p]))
        if hooks.on_file is not None:
            hooks.on_file(files[-1])
    return files


def _save(output: Path, report: MonthlyReport, lang: str, run: str | None) -> None:
    """Write the workbook whole or not at all, and never under a copy open in Excel."""
    buffer = io.BytesIO()
    write_report(buffer, report, lang=lang, run=run)
    try:
        atomic_write(output, buffer.getvalue(), backup=False)
    except WorkbookLockedError as e:
        raise _locked(output, e) from e
    except WorkbookChangedError as e:  # a file of another program's appeared at the name meanwhile
        raise WorkbookError("file.changed", path=output.name) from e
    except OSError as e:
        raise WorkbookError("file.write_failed", path=str(output), **write_reason(e)) from e


def _locked(output: Path, e: WorkbookLockedError) -> WorkbookError:
    return WorkbookError("file.locked", path=output.name, lock=e.lock_path.name if e.lock_path else "")


__all__ = ["Contacts", "NothingRead", "ReportHooks", "ReportKind", "ReportRequest", "RunResult", "report_flow"]
