"""The Python API: the same operations as the command line, on file paths.

    >>> import xlcomplaints as xc
    >>> xc.new_workbook("bj01.xlsx", branch_code="BJ01", branch_name="北京一店")
    >>> problems = xc.validate("bj01.xlsx")
    >>> result = xc.refresh("bj01.xlsx", now=datetime(2026, 11, 22, 9))
    >>> run = xc.monthly_report("bj01.xlsx", "2026-10", "bj01-2026-10.xlsx")
    >>> run = xc.consolidate(["branches/"], "2026-10", "group-2026-10.xlsx")
    >>> run.report.cover, run.consolidation.issues
    >>> form = xc.handling_form("bj01.xlsx", ["BJ01-2610006"], "BJ01-2610006.pdf")

Whole-file problems raise ``WorkbookError`` (``.message(lang)`` says why); cell problems
come back as ``Problem`` objects; a report with no usable input raises ``NothingRead``; a consolidation whose
report DuckDB cannot compute in the memory it is given raises ``QueryMemoryError``
(``xlcomplaints.report.store_report``; ``XLCOMPLAINTS_DUCKDB_MEMORY`` gives it more). All but ``NothingRead`` are
``xlcomplaints.errors.XlcError``s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from xlcomplaints.core.models import Settings
from xlcomplaints.core.problems import Problem
from xlcomplaints.flows import FlowResult, assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.report.request import REGION_WAIT
from xlcomplaints.templates.build import build_branch_workbook
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.owners import Leftover

if TYPE_CHECKING:
    from xlcomplaints.core.metrics import Month, Period
    from xlcomplaints.form.run import FormResult
    from xlcomplaints.report.consolidate import FileSummary
    from xlcomplaints.report.run import RunResult
    from xlcomplaints.upgrading import UpgradeResult


@dataclass
class FileResult(FlowResult):
    """What ``refresh`` or ``assign_ids`` did to a file: the flow's result, and ``tidied``: what runs
    killed mid-save had left beside the workbook (temporaries with customer data, a workbook moved
    aside) and was cleared away or put back first — as the command line does and says."""

    tidied: list[Leftover] = field(default_factory=list)

    @classmethod
    def of(cls, result: FlowResult, wb: FileWorkbook) -> FileResult:
        return cls(**{f.name: getattr(result, f.name) for f in fields(FlowResult)}, tidied=list(wb.tidied))


def new_workbook(path: str | Path, *, branch_code: str, branch_name: str = "", lang: str = "zh",
                 overwrite: bool = False, preset: str | None = None) -> Path:
    """A new branch workbook from the current template, with this branch's settings; ``preset``
    (``policy_file.presets()``) writes an industry's lists on Lists and its limits on Settings."""
    from xlcomplaints.policy_file import load_policy, preset_path

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    chosen = load_policy(preset_path(preset), lang) if preset else None
    settings = Settings(branch_code=branch_code, branch_name=branch_name, language=lang,
                        policy=chosen.rules if chosen else ())
    build_branch_workbook(path, lang=lang, settings=settings, created=None, lists=chosen.lists if chosen else None)
    return path


def validate(path: str | Path, *, now: datetime | None = None, lang: str = "zh") -> list[Problem]:
    return validate_flow(FileWorkbook(path), now=now or datetime.now(), lang=lang).problems


def refresh(path: str | Path, *, now: datetime | None = None, lang: str = "zh",
            policy: str | Path | None = None) -> FileResult:
    """Deadlines and statuses; ``policy`` is a head office's TOML rules file replacing the workbook's."""
    from xlcomplaints.policy_file import load_policy_file

    rules = load_policy_file(policy, lang) if policy else None
    wb = FileWorkbook(path, tidy=True)
    return FileResult.of(refresh_flow(wb, now=now or datetime.now(), lang=lang, policy=rules), wb)


def upgrade(path: str | Path, *, dry_run: bool = False) -> UpgradeResult:
    """Bring a branch workbook of an older template version to the current one (``xlcomplaints upgrade``)."""
    from xlcomplaints.upgrading import upgrade_flow

    return upgrade_flow(FileWorkbook(path, tidy=not dry_run), dry_run=dry_run)


def assign_ids(path: str | Path, *, now: datetime | None = None, lang: str = "zh") -> FileResult:
    """Numbers for complaints without one, from the workbook's pattern; existing numbers never change."""
    wb = FileWorkbook(path, tidy=True)
    return FileResult.of(assign_ids_flow(wb, now=now or datetime.now(), lang=lang), wb)


def monthly_report(path: str | Path, month: str | Month | Period, output: str | Path, *, lang: str = "zh",
                   as_of: datetime | None = None, now: datetime | None = None,
                   history: Sequence[str | Path] = ()) -> RunResult:
    """One branch's report (``month`` as ``"2026-10"``, ``"2026-W43"``, ``"2026-Q4"``, ``"2026"``,
    ``"2026-10-19..2026-10-25"``, a ``Month`` or a ``Period``); ``history``:
    earlier reports, for the 12-month trend and, when the branch holds none of it, last month."""
    from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow

    return report_flow(ReportRequest((Path(path),), _month(month), Path(output), ReportKind.BRANCH, lang=lang,
                                     as_of=as_of, now=now, history=tuple(Path(p) for p in history)))


def consolidate(inputs: Sequence[str | Path], month: str | Month | Period, output: str | Path, *, lang: str = "zh",
                as_of: datetime | None = None, now: datetime | None = None, show_contacts: bool = False,
                update: bool = False, history: Sequence[str | Path] = (), executor: Executor | None = None,
                workers: int | None = None, on_file: Callable[[FileSummary], None] | None = None,
                policy: str | Path | None = None, store: str | Path | None = None,
                region_wait: float = REGION_WAIT) -> RunResult:
    """Many branches' workbooks (files or folders) in one monthly report, each read once in parallel.

    ``executor``: any ``concurrent.futures`` executor — a distributed one too, if its workers can
    reach the files — else a process pool of ``workers`` (one per core). ``update``: replace the
    branches given in the last run's report and keep the others. ``on_file`` is called as each
    file is read (for a progress bar). ``policy``: a head office's file whose ``[lists]`` every
    branch's values are put on (``report.imposed``). ``store``: the folder (or ``file://`` URL) the facts
    store is kept in, as ``--store`` (default: beside the report; the same again for an update). A Dask
    client's executor has each worker write a small file where the store is made first, as ``--scheduler``
    does: one that cannot raises ``ClusterError`` (``cluster.store_unwritable``) before any file is read.
    ``region_wait``: how long, in seconds, to wait for a region whose own run is writing its store at that moment, as
    ``--region-wait`` (0 to 3600; then ``WorkbookError`` ``report.region_changing``).
    """
    from xlcomplaints.policy_file import load_policy
    from xlcomplaints.report.distributed import probe_executor
    from xlcomplaints.report.run import (
        Contacts,
        ReportHooks,
        ReportKind,
        ReportRequest,
        report_flow,
    )
    from xlcomplaints.store.layout import store_location

    lists = load_policy(policy, lang).lists if policy else None
    where = store_location(store) if store is not None else None
    if executor is not None:  # a Dask client's: each worker must write where the store is made (as --scheduler)
        probe_executor(executor, where or Path(output).absolute().parent)
    request = ReportRequest(tuple(Path(p) for p in inputs), _month(month), Path(output),
                            ReportKind.UPDATE if update else ReportKind.CONSOLIDATION, lang=lang, as_of=as_of,
                            now=now, contacts=Contacts.of(show_contacts), history=tuple(Path(p) for p in history),
                            lists=lists, store=where, region_wait=region_wait)
    return report_flow(request, ReportHooks(executor=executor, workers=workers, on_file=on_file))


def handling_form(path: str | Path, numbers: Sequence[str], output: str | Path | None = None, *,
                  now: datetime | None = None, lang: str = "zh", mask: bool = False) -> FormResult:
    """The handling form (投诉处理单) of each complaint numbered in ``numbers``, one A4 page each, to
    ``output`` (``.xlsx``, or ``.pdf`` through LibreOffice; default: next to the workbook); the
    workbook is only read. ``mask``: phone numbers masked. Raises ``WorkbookError``
    ``form.not_found`` when no number is found; ``FormResult.not_found`` names the others."""
    from xlcomplaints.form.run import form_flow

    path = Path(path)
    return form_flow(FileWorkbook(path, tidy=True), numbers, None if output is None else Path(output),
                     now=now or datetime.now(), lang=lang, mask=mask, source=path)


def _month(month: str | Month | Period) -> Period:
    from xlcomplaints.core.metrics import as_period

    return as_period(month)
