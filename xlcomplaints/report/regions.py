"""Regions: another consolidation of the same period among a consolidation's inputs.

A region (an operations department) consolidates its branches; head office then gives the
region's report by name (``north/月报-2026-10.xlsx``), or its state file, among its inputs. The
region's branches are taken from the state written beside that report by the same run
(``report.state``: refused if edited by hand or cut short), never re-read, and merged with the
other inputs as branch files are (``consolidate.merge``): a branch found twice — in two regions,
or in a region and as a workbook given directly — is listed on the Issues sheet and counted once,
from the copy whose workbook was saved last (unless only one holds complaints received in the
period). The region's own Issues (problems in its branches) come along, named with the region.

Refused before any branch is read (``WorkbookError``, nothing written): a state of another period
or kind of period, a report whose state is missing or of another run, a state file whose report is
missing, a damaged state, and a state written with phone numbers masked given to a run with
``--show-contacts`` (its numbers cannot be unmasked; a masked run masks every region's).

Reports found in a folder are still passed over with a warning (``report.not_a_branch``): a folder
of branches often holds earlier reports too, and only a report named on purpose stands for a region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.metrics import Period
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.report.inputs import WORKBOOK_SUFFIXES, resolved
from xlcomplaints.report.masking import mask_summary
from xlcomplaints.report.state import (
    StateError,
    StateOfAnotherPeriod,
    StateOfAnotherRun,
    load_state,
    state_path,
)
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, RUN_NAME
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

register_messages({
    "report.region_no_state": (
        "{path} 是月报表，但旁边没有它的状态文件 {state}，不能作为区域汇总计入（区域的数据取自该文件）。"
        "请把状态文件与报表放在一起再试，或在区域重新汇总；往期月报请用 --history 给出。",
        "{path} is a report but its state file {state} is not beside it, so it cannot be counted as a region's "
        "consolidation (a region's data is read from that file). Put the state file beside the report and try "
        "again, or consolidate the region again; earlier reports go after --history."),
    "report.region_unpaired": (
        "{path} 与 {state} 不是同一次汇总写成的（或报表已不在），不能作为区域汇总计入；请在区域重新汇总后再给出。",
        "{path} and {state} were not written by the same run (or the report is gone), so they cannot be counted "
        "as a region's consolidation; consolidate the region again and give its new report."),
    "report.region_period": (
        "区域汇总 {path} 统计的是 {held}，本次汇总的是 {period}，不能合并；请给出同一期间的区域汇总。",
        "The region's consolidation {path} is of {held}, this run is of {period}: they cannot be merged; give the "
        "region's consolidation of the same period."),
    "report.region_damaged": (
        "区域汇总的状态文件 {state} 无法采用（{detail}），未作任何改动；请在区域重新汇总。",
        "The region's state file {state} cannot be used ({detail}); nothing was written. Consolidate the region "
        "again."),
    "report.region_masked": (
        "区域汇总 {path} 的电话号码已打码，无法用 --show-contacts 显示完整号码；请去掉 --show-contacts，"
        "或让区域用 --show-contacts 重新汇总。",
        "The region's consolidation {path} has its phone numbers masked, which --show-contacts cannot unmask; "
        "leave out --show-contacts, or have the region consolidate again with --show-contacts."),
    "report.region_as_of": (
        "区域汇总 {path} 的统计时点为 {then}，本次为 {now}；其网点按 {then} 的状态计入。",
        "The region's consolidation {path} is as of {then}, this run as of {now}; its branches count as they "
        "stood then."),
})

STATE_SUFFIX = ".state.json.gz"
#: Between a region's name and what it names: ``north/月报-2026-10.xlsx › BJ01.xlsx``.
WITHIN = " › "


@dataclass(frozen=True)
class Region:
    """A region's consolidation given among the inputs: its report and the branches its state holds."""

    label: str  # how the report names the region's report (its file label)
    branches: tuple[FileSummary, ...]  # named with the region, masked if this run masks
    as_of: datetime


def report_of(state: Path) -> Path:
    """The report a state file was written beside (``state_path``'s inverse)."""
    return state.with_name(state.name[: -len(STATE_SUFFIX)] + ".xlsx")


def _run_of(report: Path) -> str | None:
    """The run id a consolidated report holds ("" if none); None if the file is not a report."""
    try:
        port = FileWorkbook(report)
        stamp, _ = find_stamps(port)
    except (WorkbookError, OSError):
        return None
    if stamp.kind != REPORT_TEMPLATE_KIND:
        return None
    return next((n.value.strip().lstrip("=").strip('"') for n in port.names()
                 if n.name.lower() == RUN_NAME and n.local_sheet is None), "")


def split_regions(inputs: Iterable[str | Path], paths: Sequence[Path], labels: Mapping[Path, str], month: Period,
                  show_contacts: bool) -> tuple[list[Path], list[Region]]:
    """The branch workbooks still to read, and the regions given by name among ``paths`` (a report with
    its state beside it, or a state file); raises ``WorkbookError`` for the refusals above."""
    named = {resolved(Path(i)) for i in inputs if not Path(i).is_dir()}
    workbooks: list[Path] = []
    regions: dict[Path, Region] = {}
    for p in paths:
        if resolved(p) not in named:
            workbooks.append(p)
            continue
        label = labels.get(p, p.name)
        if p.name.lower().endswith(STATE_SUFFIX):
            report, label = report_of(p), label[: -len(STATE_SUFFIX)] + ".xlsx"
        elif p.suffix.lower() in WORKBOOK_SUFFIXES and state_path(p).exists():
            report = p
        else:
            workbooks.append(p)  # a branch, or a report without its state: said once read (``check_read``)
            continue
        run = _run_of(report)
        if run is None and report == p:  # a workbook that merely has a file of that name beside it
            workbooks.append(p)
            continue
        if resolved(report) not in regions:
            regions[resolved(report)] = _load(report, label, run, month, show_contacts)
    return workbooks, list(regions.values())


def _load(report: Path, label: str, run: str | None, month: Period, show_contacts: bool) -> Region:
    state = state_path(report)
    if run is None:  # a state file given alone, its report gone
        raise WorkbookError("report.region_unpaired", path=label, state=state.name)
    try:
        branches, as_of, shown = load_state(state, month, run)
    except StateOfAnotherRun as e:
        raise WorkbookError("report.region_unpaired", path=label, state=state.name) from e
    except StateOfAnotherPeriod as e:
        raise WorkbookError("report.region_period", path=label, held=e.held, period=str(month)) from e
    except StateError as e:
        raise WorkbookError("report.region_damaged", state=state.name, detail=str(e)) from e
    if show_contacts and not shown:
        raise WorkbookError("report.region_masked", path=label)
    return Region(label, tuple(_in_region(f, label, not show_contacts) for f in branches), as_of)


def _in_region(f: FileSummary, region: str, mask: bool) -> FileSummary:
    """A region's branch, named with the region (its problems too), masked if this run masks."""
    problems = tuple(p.model_copy(update={"file": f"{region}{WITHIN}{p.file}" if p.file else region})
                     for p in f.problems)
    # its path made the region's own: the same workbook read by two regions is two copies of the branch
    f = replace(f, path=f"{region}{WITHIN}{f.path}", label=f"{region}{WITHIN}{f.name}", problems=problems)
    return mask_summary(f) if mask else f


def check_read(files: Sequence[FileSummary], inputs: Iterable[str | Path], labels: Mapping[Path, str]) -> None:
    """Refuse a report given by name that was read as a workbook: its state file is not beside it."""
    named = {resolved(Path(i)) for i in inputs if not Path(i).is_dir()}
    for f in files:
        if resolved(Path(f.path)) in named and any(p.code == "report.not_a_branch" for p in f.problems):
            p = Path(f.path)
            raise WorkbookError("report.region_no_state", path=labels.get(p, f.name), state=state_path(p).name)


def region_notes(regions: Sequence[Region], as_of: datetime) -> list[Problem]:
    """A warning for each region consolidated as of another time than this run."""
    return [Problem(level=Level.WARNING, code="report.region_as_of", file=r.label, params={
        "path": r.label, "then": f"{r.as_of:%Y-%m-%d %H:%M}", "now": f"{as_of:%Y-%m-%d %H:%M}"})
        for r in regions if r.as_of != as_of]
