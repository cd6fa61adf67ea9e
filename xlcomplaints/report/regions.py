"""Regions: another consolidation of the same period among a consolidation's inputs.

A region (an operations department) consolidates its branches; head office then gives the
region's report by name (``north/月报-2026-10.xlsx``), or its facts store folder, among its inputs (a region that
kept its store in a shared ``--store`` folder: its report, with head office's ``--store`` naming that folder). The
region's branches are taken from the store written beside that report by the same run
(``report.facts``: refused if edited by hand or cut short), never re-read, and merged with the
other inputs as branch files are (``consolidate.merge``): a branch found twice — in two regions,
or in a region and as a workbook given directly — is listed on the Issues sheet and counted once,
from the copy whose workbook was saved last (unless only one holds complaints received in the
period). The region's own Issues (problems in its branches) come along, named with the region.

Refused before any branch is read (``WorkbookError``, nothing written): a store of another period
or kind of period, a report whose store is missing or of another run, a store whose report is
missing, a damaged store, a report with only an earlier version's JSON state beside it (consolidate the
region again), and a store written with phone numbers masked given to a run with
``--show-contacts`` (its numbers cannot be unmasked; a masked run masks every region's). The branches'
partitions, checked against the region's manifest (size, SHA-256, rows, branch), are not read back: the report is
computed from them where they lie, by the same queries as a branch's (``report.store_report``), and they are
copied into this run's store as they are (``report.facts.save_facts``, checked again). Only a region that showed
phone numbers, given to a run that masks, has its cases read back and masked (then the Python engine counts them).

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
from xlcomplaints.report.consolidate import with_cases
from xlcomplaints.report.facts import (
    OLD_STATE_SUFFIX,
    STORE_SUFFIX,
    StoreError,
    StoreOfAnotherPeriod,
    StoreOfAnotherRun,
    is_store,
    load_facts,
    old_state_path,
    store_path,
)
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.report.inputs import WORKBOOK_SUFFIXES, resolved
from xlcomplaints.report.masking import mask_summary
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, RUN_NAME
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

register_messages({
    "report.region_no_state": (
        "{path} 是月报表，但旁边没有它的汇总数据目录 {state}，不能作为区域汇总计入（区域的数据取自该目录）。"
        "请把该目录与报表放在一起再试，或在区域重新汇总；往期月报请用 --history 给出。",
        "{path} is a report but its facts store {state} is not beside it, so it cannot be counted as a region's "
        "consolidation (a region's data is read from that folder). Put the folder beside the report and try "
        "again, or consolidate the region again; earlier reports go after --history."),
    "report.region_old_state": (
        "{path} 旁边是旧版本的状态文件 {state}，本版本从汇总数据目录读取区域数据；请在区域重新汇总，以建立汇总数据目录 {store}。",
        "Beside {path} is the state file {state} of an earlier version; this version reads a region's data from its "
        "facts store: consolidate the region again to build the store ({store})."),
    "report.region_unpaired": (
        "{path} 与 {state} 不是同一次汇总写成的（或报表已不在），不能作为区域汇总计入；请在区域重新汇总后再给出。",
        "{path} and {state} were not written by the same run (or the report is gone), so they cannot be counted "
        "as a region's consolidation; consolidate the region again and give its new report."),
    "report.region_period": (
        "区域汇总 {path} 统计的是 {held}，本次汇总的是 {period}，不能合并；请给出同一期间的区域汇总。",
        "The region's consolidation {path} is of {held}, this run is of {period}: they cannot be merged; give the "
        "region's consolidation of the same period."),
    "report.region_damaged": (
        "区域汇总的数据目录 {state} 无法采用（{detail}），未作任何改动；请在区域重新汇总。",
        "The region's facts store {state} cannot be used ({detail}); nothing was written. Consolidate the region "
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

#: Between a region's name and what it names: ``north/月报-2026-10.xlsx › BJ01.xlsx``.
WITHIN = " › "


@dataclass(frozen=True)
class Region:
    """A region's consolidation given among the inputs: its report and the branches its store holds."""

    label: str  # how the report names the region's report (its file label)
    branches: tuple[FileSummary, ...]  # named with the region, masked if this run masks
    as_of: datetime


def report_of(store: Path) -> Path:
    """The report a store was written beside (``store_path``'s inverse)."""
    return store.with_name(store.name[: -len(STORE_SUFFIX)] + ".xlsx")


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
                  show_contacts: bool, where: Path | None = None) -> tuple[list[Path], list[Region]]:
    """The branch workbooks still to read, and the regions given by name among ``inputs`` (a report with
    its store beside it or in the folder ``where``, this run's ``--store``, or a store folder); raises
    ``WorkbookError`` for the refusals above."""
    named = {resolved(Path(i)) for i in inputs if not Path(i).is_dir()}
    workbooks: list[Path] = []
    regions: dict[Path, Region] = {}
    for store in (Path(i) for i in inputs):  # a store given as such: its report's region
        if store.is_dir() and is_store(store):
            report = report_of(store)
            if resolved(report) not in regions:
                regions[resolved(report)] = _load(report, store, report.name, _run_of(report), month, show_contacts)
    for p in paths:
        if resolved(p) not in named:
            workbooks.append(p)
            continue
        label = labels.get(p, p.name)
        if p.name.lower().endswith(OLD_STATE_SUFFIX):  # an earlier version's state given by name
            raise WorkbookError("report.region_old_state", path=label, state=p.name,
                                store=store_path(p.name[: -len(OLD_STATE_SUFFIX)] + ".xlsx").name)
        store = _store_of(p, where)
        if p.suffix.lower() in WORKBOOK_SUFFIXES and (is_store(store) or old_state_path(p).exists()):
            report = p
        else:
            workbooks.append(p)  # a branch, or a report without its store: said once read (``check_read``)
            continue
        run = _run_of(report)
        if run is None:  # a workbook that merely has a file of that name beside it
            workbooks.append(p)
            continue
        if not is_store(store):
            raise WorkbookError("report.region_old_state", path=label, state=old_state_path(p).name,
                                store=store.name)
        if resolved(report) not in regions:
            regions[resolved(report)] = _load(report, store, label, run, month, show_contacts)
    return workbooks, list(regions.values())


def _store_of(report: Path, where: Path | None) -> Path:
    """A region's report's store: beside it, else in the shared folder ``where`` (``--store``) under its name."""
    beside = store_path(report)
    if where is None or is_store(beside) or old_state_path(report).exists():
        return beside
    return store_path(report, where)


def _load(report: Path, store: Path, label: str, run: str | None, month: Period, show_contacts: bool) -> Region:
    if run is None:  # a store given alone, its report gone
        raise WorkbookError("report.region_unpaired", path=label, state=store.name)
    try:
        branches, as_of, shown = load_facts(store, month, run, cases=False)  # partitions named, not read back
    except StoreOfAnotherRun as e:
        raise WorkbookError("report.region_unpaired", path=label, state=store.name) from e
    except StoreOfAnotherPeriod as e:
        raise WorkbookError("report.region_period", path=label, held=e.held, period=str(month)) from e
    except StoreError as e:
        raise WorkbookError("report.region_damaged", state=store.name, detail=str(e)) from e
    if show_contacts and not shown:
        raise WorkbookError("report.region_masked", path=label)
    return Region(label, tuple(_in_region(f, label, not show_contacts, shown) for f in branches), as_of)


def _in_region(f: FileSummary, region: str, mask: bool, shown: bool) -> FileSummary:
    """A region's branch, named with the region (its problems too), masked if this run masks. Its partition
    stays where it is, in the region's store (the report is computed from it, and ``save_facts`` copies it into
    this run's store), unless this run masks what the region showed: then its cases are read back and masked
    (``mask_summary`` drops the partition: it is written again, masked)."""
    if mask and shown:
        f = with_cases(f)
    problems = tuple(p.model_copy(update={"file": f"{region}{WITHIN}{p.file}" if p.file else region})
                     for p in f.problems)
    # its path made the region's own: the same workbook read by two regions is two copies of the branch
    f = replace(f, path=f"{region}{WITHIN}{f.path}", label=f"{region}{WITHIN}{f.name}", problems=problems)
    return mask_summary(f) if mask else f


def check_read(files: Sequence[FileSummary], inputs: Iterable[str | Path], labels: Mapping[Path, str]) -> None:
    """Refuse a report given by name that was read as a workbook: its facts store is not beside it."""
    named = {resolved(Path(i)) for i in inputs if not Path(i).is_dir()}
    for f in files:
        if resolved(Path(f.path)) in named and any(p.code == "report.not_a_branch" for p in f.problems):
            p = Path(f.path)
            raise WorkbookError("report.region_no_state", path=labels.get(p, f.name), state=store_path(p).name)


def region_notes(regions: Sequence[Region], as_of: datetime) -> list[Problem]:
    """A warning for each region consolidated as of another time than this run."""
    return [Problem(level=Level.WARNING, code="report.region_as_of", file=r.label, params={
        "path": r.label, "then": f"{r.as_of:%Y-%m-%d %H:%M}", "now": f"{as_of:%Y-%m-%d %H:%M}"})
        for r in regions if r.as_of != as_of]
