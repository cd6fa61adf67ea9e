"""``xlcomplaints report`` and ``consolidate``: one branch's or many branches' report for a period."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlcomplaints.console import SAID, console, err, show_problems
from xlcomplaints.core.lists import OfficeLists
from xlcomplaints.core.problems import Level
from xlcomplaints.i18n import pick, say
from xlcomplaints.report.request import LONGEST_REGION_WAIT, REGION_WAIT
from xlcomplaints.workbook.errors import WorkbookError

if TYPE_CHECKING:
    from xlcomplaints.core.metrics import Period
    from xlcomplaints.report.request import ReportKind
from xlcomplaints.cli_base import (
    MV,
    H,
    Lang,
    PolicyOpt,
    WorkbookArg,
    _Command,
    _fail,
    _lang,
    _memory,
    _now,
    _refuse,
    app,
)

MonthOpt = Annotated[str | None, typer.Option("--month", help=H("month"), metavar=MV("month"))]
PeriodOpt = Annotated[str | None, typer.Option("--period", help=H("period"), metavar=MV("period"))]
FromOpt = Annotated[str | None, typer.Option("--from", help=H("from"), metavar=MV("date"))]
ToOpt = Annotated[str | None, typer.Option("--to", help=H("to"), metavar=MV("date"))]
Output = Annotated[Path, typer.Option("-o", "--output", help=H("output"), metavar=MV("xlsx"))]
AsOf = Annotated[str | None, typer.Option(
    "--now", help=H("as_of"), metavar=MV("time"))]
ShowContacts = Annotated[bool, typer.Option("--show-contacts", help=H("show_contacts"))]
History = Annotated[list[Path] | None, typer.Option(
    "--history", help=H("history"), metavar=MV("file"))]


def _policy_lists(policy: Path | None, lang: str) -> OfficeLists | None:
    """A head office's lists (``--policy``), or None; a file that cannot be used is refused."""
    from xlcomplaints.core.policy import PolicyFileError
    from xlcomplaints.policy_file import load_policy

    try:
        return load_policy(policy, lang).lists if policy else None
    except PolicyFileError as e:
        _refuse(e.message(lang), lang)


def _period(month: str | None, period: str | None, first: str | None, last: str | None, lang: str) -> Period:
    """The report's period from --month, --period or --from/--to (exactly one of them), or a refusal."""
    from xlcomplaints.core.metrics import Period, PeriodError

    given = [f"--month {month}" if month else "", f"--period {period}" if period else "",
             "--from/--to" if first or last else ""]
    try:
        if sum(bool(g) for g in given) > 1:
            raise PeriodError("period.twice", given=", ".join(g for g in given if g))
        if first or last:
            if not (first and last):
                raise PeriodError("period.half_range")
            return Period.days(first, last)
        text = month or period
        if not text:
            raise PeriodError("period.missing")
        return Period.parse(text)
    except PeriodError as e:
        _refuse(e.message(lang), lang)


def _run_report(inputs: list[Path], month: Period, output: Path, lang: str | None, now: str | None, show_contacts: bool,
                history: list[Path] | None, *, kind: ReportKind, workers: int | None = None, verbose: bool = False,
                policy: Path | None = None, scheduler: str | None = None, store: str | None = None,
                region_wait: float = REGION_WAIT) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xlcomplaints.report.distributed import Cluster, ClusterError, cluster_executor
    from xlcomplaints.report.facts import StoreError
    from xlcomplaints.report.run import (
        Contacts,
        NothingRead,
        ReportHooks,
        ReportRequest,
        report_flow,
    )
    from xlcomplaints.report.store_report import QueryMemoryError
    from xlcomplaints.store.layout import StoreLocationError, store_location

    lang = _lang(lang)
    m = month
    as_of = _now(now, lang) if now else None
    lists = _policy_lists(policy, lang)
    if scheduler and workers:
        _fail(ClusterError(Cluster.WORKERS_GIVEN.value), lang)
    try:
        where = store_location(store) if store is not None else None
    except StoreLocationError as e:
        _fail(e, lang)
    if kind.consolidates:
        _scanned(inputs, lang, verbose)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True, disable=not kind.consolidates)
    task = progress.add_task(say(SAID["report.reading"], lang), total=None)

    def read_one(_: object) -> None:
        progress.advance(task)
        if progress.tasks[0].finished:  # the rest (merge, compute, write) is the main process's alone
            progress.update(task, description=say(SAID["report.writing"], lang))

    try:
        with contextlib.ExitStack() as cluster:  # a Dask cluster's client, closed once the report is made
            # each worker must write its partitions where the store is made: checked before any file is sent
            probe = where or Path(output).absolute().parent
            executor = cluster.enter_context(cluster_executor(scheduler, store=probe)) if scheduler else None
            with progress, _memory(output, lang, "report.no_memory"):
                request = ReportRequest(tuple(inputs), m, output, kind, lang=lang, as_of=as_of,
                                        contacts=Contacts.of(show_contacts), history=tuple(history or ()), lists=lists,
                                        store=where, region_wait=region_wait)
                result = report_flow(request, ReportHooks(executor=executor, workers=workers, on_file=read_one,
                                                          on_start=lambda n: progress.update(task, total=n)))
    except ClusterError as e:  # said before any file is read
        _fail(e, lang)
    except NothingRead as e:
        show_problems(e.issues, lang, say(SAID["report.nothing_read"], lang))
        _refuse(say(SAID["report.no_input"], lang), lang)
    except StoreError as e:
        _refuse(say(SAID["report.cannot_update"], lang, detail=e), lang)
    except (WorkbookError, QueryMemoryError) as e:  # the report itself cannot be written, or computed in memory
        _fail(e, lang)
    rep, merged = result.report, result.consolidation
    errors = sum(p.level is Level.ERROR for p in rep.issues)
    received = int(rep.value("received") or 0)
    this = pick(lang, m.words("zh")[0], "period" if m.kind.value == "range" else m.kind.value)
    line = say(SAID["report.wrote"], lang, output=output, month=m.label(lang), branches=len(merged.branches),
               received=received, read=merged.complaints, this=this)
    if merged.unreadable:
        line += say(SAID["report.left_out"], lang, n=merged.unreadable)
    if merged.carried:
        line += say(SAID["report.carried"], lang, n=len(merged.carried))
    line += say(SAID["report.issues"], lang, n=len(rep.issues), errors=errors) if rep.issues else say(SAID["end"], lang)
    console.print(line, highlight=False, soft_wrap=True)


def _scanned(inputs: list[Path], lang: str, verbose: bool) -> None:
    """Refuse folders holding no workbook, saying what was looked for; count the files passed
    over in one line (each listed with ``verbose``)."""
    from xlcomplaints.report.inputs import (
        none_found,
        passed_over_line,
        passed_over_lines,
        scan_inputs,
    )

    scan = scan_inputs(inputs)
    if not scan.files:
        _refuse(none_found(scan, lang), lang)
    line = passed_over_line(scan, lang)
    if not line:
        return
    line = line[0].upper() + line[1:]
    if verbose:
        console.print(say(SAID["scan.listed"], lang, line=line), highlight=False, soft_wrap=True)
        for each in passed_over_lines(scan, lang):
            console.print(each, highlight=False, soft_wrap=True)
    else:
        console.print(say(SAID["scan.hint"], lang, line=line), highlight=False, soft_wrap=True)


@app.command(cls=_Command, help=H("report"))
def report(
    file: WorkbookArg,
    output: Output,
    month: MonthOpt = None,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    lang: Lang = None,
    now: AsOf = None,
    show_contacts: ShowContacts = False,
    history: History = None,
    policy: PolicyOpt = None,
) -> None:
    from xlcomplaints.report.request import ReportKind

    chosen = _period(month, period, first, last, _lang(lang))
    if os.path.isdir(file):  # a folder of branches is a consolidation (os.path: a name too long is no folder)
        lang = _lang(lang)
        _refuse(say(SAID["report.is_folder"], lang, file=file, month=chosen), lang)
    _run_report([file], chosen, output, lang, now, show_contacts, history, kind=ReportKind.BRANCH, policy=policy)


@app.command(cls=_Command, help=H("consolidate"))
def consolidate(
    inputs: Annotated[list[Path], typer.Argument(help=H("consolidate.inputs"), metavar=MV("inputs"), show_default=False)],
    output: Output,
    month: MonthOpt = None,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    lang: Lang = None,
    now: AsOf = None,
    show_contacts: ShowContacts = False,
    history: History = None,
    update: Annotated[bool, typer.Option(
        "--update", help=H("update"))] = False,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help=H("workers"), metavar=MV("n"))] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help=H("verbose"))] = False,
    policy: PolicyOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help=H("scheduler"), metavar=MV("address"))] = None,
    store: Annotated[str | None, typer.Option("--store", help=H("store"), metavar=MV("store"))] = None,
    region_wait: Annotated[int, typer.Option(
        "--region-wait", min=0, max=LONGEST_REGION_WAIT, help=H("region_wait"), metavar=MV("seconds"),
        show_default=False)] = REGION_WAIT,
) -> None:
    from xlcomplaints.report.request import ReportKind

    chosen = _period(month, period, first, last, _lang(lang))
    _run_report(inputs, chosen, output, lang, now, show_contacts, history,
                kind=ReportKind.UPDATE if update else ReportKind.CONSOLIDATION, workers=workers, verbose=verbose,
                policy=policy, scheduler=scheduler, store=store, region_wait=region_wait)
