"""Regions: another consolidation of the same period among a consolidation's inputs.

A region (an operations department) consolidates its branches; head office then gives the
region's report by name (``north/月报-2026-10.xlsx``), or its facts store folder, among its inputs (a region that
kept its store in a shared ``--store`` folder: its report, with head office's ``--store`` naming that folder). The
region's branches are taken from the store written beside that report by the same run
(``report.facts``: refused if edited by hand or cut short), never re-read, and merged with the
other inputs as branch files are (``merging.merge``): a branch found twice — in two regions,
or in a region and as a workbook given directly — is listed on the Issues sheet and counted once,
from the copy whose workbook was saved last (unless only one holds complaints received in the
period). The region's own Issues (problems in its branches) come along, named with the region, and so do the files
it could not use (its manifest's ``left_out``): on the Issues sheet and in the cover's count of files left out, as
a full run over the same files says them; and its notes on the files it set aside (``set_aside``: another version of
a branch used), as a full run would set them aside.

Refused before any branch is read (``WorkbookError``, nothing written): a store of another period
or kind of period, a report whose store is missing or of another run, a store whose report is
missing, a damaged store, a report with only an earlier version's JSON state beside it (consolidate the
region again), and a store written with phone numbers masked given to a run with
``--show-contacts`` (its numbers cannot be unmasked; a masked run masks every region's).

``split_regions`` finds the regions among the inputs; ``read_regions`` reads them once the run's staging folder
is made: the branches' partitions, checked against the region's manifest (size, SHA-256; rows and branch once
loaded), are copied into this run's staging folder before anything is computed, and the report is computed from
those copies (``report.store_report``) and commits them with its store (``report.facts.save_facts``). A region
that showed phone numbers, given to a run that masks, has each partition read back, masked and written there
instead (``masking.mask_partition``, as a masked ``--update`` does), so its report too comes from the store.
Once copied, nothing of the region's store is read again: a region consolidating again while head office rolls
it up cannot take a file away mid-read. Every byte used is checked against the one manifest read, so what is
counted is one whole consolidation of the region, never half of two. Readers take no lock (head office may only
read the region's folder, and never stops a region's run): a partition gone or changed, or a report and manifest
of two runs, is judged by looking again — the region's manifest or report changed since, or its store's lock held
by a live run (``held.writer_of``: the region's run is saving its store) — and the region is read again from its
new manifest (said on the Issues sheet, ``report.region_reread``), waiting while that run holds its lock, at most
``REGION_WAIT`` seconds or what the run says (``--region-wait``), then refused (``report.region_changing``). A lock
left by a killed run is not waited for: the store is judged as it is. A region whose run is going on, its last
store whole, is counted as that store holds it, and the Issues sheet says so (``report.region_running``).

A region given to an ``--update`` replaces all it held at the last run (``held_then``: its branches' paths start with
its report's), as a file given again does: a branch it no longer holds is not carried.

Reports found in a folder are still passed over with a warning (``report.not_a_branch``): a folder
of branches often holds earlier reports too, and only a report named on purpose stands for a region.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.metrics import Period
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.facts import (
    MANIFEST,
    OLD_STATE_SUFFIX,
    STORE_SUFFIX,
    StoreError,
    StoreOfAnotherPeriod,
    StoreOfAnotherRun,
    is_store,
    load_facts,
    old_state_path,
    read_manifest,
    store_path,
)
from xlcomplaints.report.file_summary import WITHIN, FileSummary
from xlcomplaints.report.held import writer_of
from xlcomplaints.report.inputs import WORKBOOK_SUFFIXES, as_stored, resolved
from xlcomplaints.report.masking import mask_partition, mask_summary
from xlcomplaints.report.request import REGION_WAIT
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, RUN_NAME
from xlcomplaints.store.partition import Partition, PartitionDamaged, checked_bytes, write_bytes
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.filekind import write_reason
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
    "report.region_changing": (
        "区域汇总 {path} 的数据目录 {state} 在读取期间一再改变（区域正在重新汇总，已等候 {seconds} 秒），未作任何改动；"
        "请等区域汇总结束后再试。",
        "The region's facts store {state} of {path} kept changing while it was read (the region is consolidating "
        "again; waited {seconds} s); nothing was written. Try again once the region's run is done."),
    "report.region_reread": (
        "区域汇总 {path} 在本次读取期间重新汇总了，计入的是它新的汇总（读取 {tries} 次）；读到一半的数据未计入。",
        "The region's consolidation {path} was consolidated again while this run read it; its new consolidation "
        "is counted (read {tries} times), nothing half-read."),
    "report.region_running": (
        "读取区域汇总 {path} 时，区域正在重新汇总（进程 {pid}，开始于 {since}）；计入的是它上一次完成的汇总，"
        "区域汇总完成后可用 --update 给出它的新报表。",
        "The region {path} was consolidating again when this run read it (process {pid}, since {since}); its last "
        "finished consolidation is counted. Once its run is done, give its new report with --update."),
    "report.region_as_of": (
        "区域汇总 {path} 的统计时点为 {then}，本次为 {now}；其网点按 {then} 的状态计入。",
        "The region's consolidation {path} is as of {then}, this run as of {now}; its branches count as they "
        "stood then."),
})



_POLL = 0.2
#: The refusals a region's run writing its store at that moment would explain: looked at again before they stand.
_UNSETTLED = ("report.region_unpaired", "report.region_damaged")


@dataclass(frozen=True)
class Given:
    """A region's consolidation found among the inputs, not yet read: its report, its store, its label."""

    report: Path
    store: Path
    label: str


@dataclass(frozen=True)
class Region:
    """A region's consolidation given among the inputs: its report and the branches its store holds."""

    label: str  # how the report names the region's report (its file label)
    branches: tuple[FileSummary, ...]  # named with the region, masked if this run masks; partitions copied here
    as_of: datetime
    notes: tuple[Problem, ...] = ()  # what reading it met: a run of the region going on, or a re-read
    left_out: tuple[FileSummary, ...] = ()  # the files the region could not use, named with the region
    set_aside: tuple[Problem, ...] = ()  # its notes on the files it set aside, named with the region


def report_of(store: Path) -> Path:
    """The report a store was written beside (``store_path``'s inverse)."""
    return store.with_name(store.name[: -len(STORE_SUFFIX)] + ".xlsx")


def run_of(report: Path) -> str | None:
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


def split_regions(inputs: Iterable[str | Path], paths: Sequence[Path], labels: Mapping[Path, str],
                  where: Path | None = None) -> tuple[list[Path], list[Given]]:
    """The branch workbooks still to read, and the regions given by name among ``inputs`` (a report with
    its store beside it or in the folder ``where``, this run's ``--store``, or a store folder), read later by
    ``read_regions``; raises ``WorkbookError`` for a report with only an earlier version's state."""
    named = {resolved(Path(i)) for i in inputs if not os.path.isdir(i)}
    workbooks: list[Path] = []
    regions: dict[Path, Given] = {}
    for store in (Path(i) for i in inputs):  # a store given as such: its report's region
        if os.path.isdir(store) and is_store(store):
            report = report_of(store)
            regions.setdefault(resolved(report), Given(report, store, report.name))
    for p in paths:
        if resolved(p) not in named:
            workbooks.append(p)
            continue
        label = labels.get(p, p.name)
        if p.name.lower().endswith(OLD_STATE_SUFFIX):  # an earlier version's state given by name
            raise WorkbookError("report.region_old_state", path=label, state=p.name,
                                store=store_path(p.name[: -len(OLD_STATE_SUFFIX)] + ".xlsx").name)
        store = _store_of(p, where)
        if p.suffix.lower() in WORKBOOK_SUFFIXES and (is_store(store) or os.path.exists(old_state_path(p))):
            report = p
        else:
            workbooks.append(p)  # a branch, or a report without its store: said once read (``check_read``)
            continue
        if run_of(report) is None:  # a workbook that merely has a file of that name beside it
            workbooks.append(p)
            continue
        if not is_store(store):
            raise WorkbookError("report.region_old_state", path=label, state=old_state_path(p).name,
                                store=store.name)
        regions.setdefault(resolved(report), Given(report, store, label))
    return workbooks, list(regions.values())


def _store_of(report: Path, where: Path | None) -> Path:
    """A region's report's store: beside it, else in the shared folder ``where`` (``--store``) under its name; beside
    it and there, the one of the report's run (a store the region kept beside its report before it kept it there is
    an earlier run's: never used, and no reason to refuse the one of its run)."""
    beside = store_path(report)
    if where is None or not is_store(beside) and os.path.exists(old_state_path(report)):
        return beside
    shared = store_path(report, where)
    if not is_store(beside) or not is_store(shared) or shared.resolve() == beside.resolve():
        return beside if is_store(beside) else shared
    return shared if _run_in(shared) == run_of(report) != _run_in(beside) else beside


def _run_in(store: Path) -> str | None:
    """The run that wrote the store (None: no manifest of ours to say)."""
    try:
        return read_manifest(store).run
    except (StoreError, OSError):
        return None


def read_regions(given: Sequence[Given], folder: str | None, month: Period, show_contacts: bool,
                 wait: float = REGION_WAIT) -> list[Region]:
    """Each region's branches, their partitions copied (masked if this run masks what the region showed) into
    ``folder``, this run's staging folder, before anything is computed (see the module doc); raises
    ``WorkbookError`` for the refusals above, and ``report.region_changing`` for a region whose store kept
    changing for ``wait`` seconds."""
    if not given:
        return []
    if folder is None:
        raise ValueError("a region is read into a consolidation's staging folder")
    return [_read(g, Path(folder), month, show_contacts, wait) for g in given]


def _read(g: Given, folder: Path, month: Period, show_contacts: bool, wait: float) -> Region:
    """One region read whole from one manifest, looked at again and read anew while its own run is writing it
    (for at most ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    tries = 0
    while True:
        tries += 1
        seen = _looked(g)
        writer = writer_of(g.store)
        try:
            region = _load(g, seen[0], month, show_contacts, folder)
        except WorkbookError as e:
            if e.code not in _UNSETTLED:
                raise
            if _looked(g) == seen and writer is None and writer_of(g.store) is None:
                raise  # nothing is writing the region: its store is as the refusal says
            if time.monotonic() >= deadline:
                raise WorkbookError("report.region_changing", path=g.label, state=g.store.name,
                                    seconds=f"{wait:g}") from e
            _pause()
            continue
        notes = []
        if tries > 1:
            notes.append(Problem(level=Level.WARNING, code="report.region_reread", file=g.label,
                                 params={"path": g.label, "tries": tries}))
        if writer is not None and (writer := writer_of(g.store)) is not None:  # its run goes on: the last one counted
            notes.append(Problem(level=Level.WARNING, code="report.region_running", file=g.label, params={
                "path": g.label, "pid": writer.get("pid", "?"), "since": writer.get("since", "?")}))
        return replace(region, notes=tuple(notes))


def _pause() -> None:
    """Wait a moment before the region is looked at again (its run saving its store)."""
    time.sleep(_POLL)


def _looked(g: Given) -> tuple[str | None, str | None]:
    """The region as it stands now: its report's run id, and its manifest's SHA-256 (None: not there)."""
    try:
        manifest: str | None = hashlib.sha256((g.store / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        manifest = None
    return run_of(g.report), manifest


def _load(g: Given, run: str | None, month: Period, show_contacts: bool, folder: Path) -> Region:
    """The region's branches as its manifest names them, their partitions copied into ``folder``."""
    label, store = g.label, g.store
    if run is None:  # a store given alone, its report gone
        raise WorkbookError("report.region_unpaired", path=label, state=store.name)
    try:
        manifest = read_manifest(store)  # its files left out too, of the same manifest
        branches, as_of, shown = load_facts(store, month, run, cases=False, manifest=manifest)  # partitions named
    except StoreOfAnotherRun as e:
        raise WorkbookError("report.region_unpaired", path=label, state=store.name) from e
    except StoreOfAnotherPeriod as e:
        raise WorkbookError("report.region_period", path=label, held=e.held, period=str(month)) from e
    except StoreError as e:
        raise WorkbookError("report.region_damaged", state=store.name, detail=str(e)) from e
    if show_contacts and not shown:
        raise WorkbookError("report.region_masked", path=label)
    mask = not show_contacts
    copied: list[FileSummary] = []
    files: dict[str, Partition] = {}  # each of the region's packs copied once, whatever of it is taken
    try:
        for f in branches:
            copied.append(_copied(_in_region(f, g, mask), folder, mask and shown, files))
    except (PartitionDamaged, OSError) as e:
        for path in {*(f.partition.path for f in copied if f.partition is not None),
                     *(c.path for c in files.values())}:  # what this attempt copied: nothing half-read is kept
            with contextlib.suppress(OSError):
                Path(path).unlink()
        if isinstance(e, PartitionDamaged):  # gone or changed since its manifest was read
            raise WorkbookError("report.region_damaged", state=store.name, detail=f"{store.name}: {e}") from e
        raise WorkbookError("file.write_failed", path=str(folder), **write_reason(e)) from e
    # the files it could not read (those it set aside are said by its notes, ``set_aside``)
    left_out = tuple(_in_region(e.left_out().file, g, mask) for e in manifest.left_out if e.error is not None)
    set_aside = tuple(_named(Problem.model_validate_json(p), label) for p in manifest.set_aside)
    return Region(label, tuple(copied), as_of, left_out=left_out, set_aside=set_aside)


def within(g: Given) -> str:
    """What the path of each of the region's branches starts with: its report's, whatever it is labelled as
    (``held_then``)."""
    return f"{resolved(g.report)}{WITHIN}"


def held_then(given: Sequence[Given], previous: Sequence[FileSummary]) -> list[FileSummary]:
    """The last run's branches (and files left out) but those of a region given now: a region's new consolidation
    replaces all it held then (a branch it no longer holds is not carried), as a file given again does."""
    now = tuple(within(g) for g in given)
    return [f for f in previous if not f.path.startswith(now)] if now else list(previous)


def not_given(regions: Sequence[Region], read_now: Collection[str]) -> list[FileSummary]:
    """The files the regions could not use, but those given to this run as workbooks (``read_now``: ``inputs.as_stored``): a file
    read here is counted or said by what it is now, as a file given to an ``--update`` replaces what it was then."""
    return [f for r in regions for f in r.left_out if as_stored(Path(f.workbook)) not in read_now]


def _in_region(f: FileSummary, g: Given, mask: bool) -> FileSummary:
    """A region's branch, or a file it could not use, named with the region (its problems too, masked if this run
    masks)."""
    region = g.label

    def named(p: Problem) -> Problem:
        return _named(p, region)

    # its path made the region's own (its report's, as a later --update finds it: ``held_then``): the same workbook
    # read by two regions is two copies of the branch
    f = replace(f, path=f"{within(g)}{f.path}", label=f"{region}{WITHIN}{f.name}",
                problems=tuple(map(named, f.problems)), error=None if f.error is None else named(f.error))
    return mask_summary(f) if mask else f


def _named(p: Problem, region: str) -> Problem:
    """A region's problem, its file named with the region."""
    return p.model_copy(update={"file": f"{region}{WITHIN}{p.file}" if p.file else region})


def _copied(f: FileSummary, folder: Path, unmasked: bool, files: dict[str, Partition]) -> FileSummary:
    """A region's branch with its pack copied into ``folder`` byte for byte (once: ``files``, by the region's path),
    checked against the region's manifest; ``unmasked`` (the region showed phone numbers, this run masks them): read
    back, masked and written there instead (``masking.mask_partition``; copied as it is if masking changes nothing).
    A pack of which the run takes every branch, unmasked, is kept as it is; else its branches are packed anew
    (``report.facts.pack_branches``)."""
    if unmasked:
        f = mask_partition(f, str(folder))
    part = f.partition
    if part is not None and Path(part.path).parent != folder:
        if part.path not in files:
            files[part.path] = write_bytes(folder, checked_bytes(part), part.file_rows)
        f = replace(f, partition=replace(part, path=files[part.path].path))
    return f


def check_read(files: Sequence[FileSummary], inputs: Iterable[str | Path], labels: Mapping[Path, str]) -> None:
    """Refuse a report given by name that was read as a workbook: its facts store is not beside it."""
    named = {resolved(Path(i)) for i in inputs if not os.path.isdir(i)}
    for f in files:
        if resolved(Path(f.path)) in named and any(p.code == "report.not_a_branch" for p in f.problems):
            p = Path(f.path)
            raise WorkbookError("report.region_no_state", path=labels.get(p, f.name), state=store_path(p).name)


def region_notes(regions: Sequence[Region], as_of: datetime) -> list[Problem]:
    """What reading each region met (``Region.notes``), and a warning for each region consolidated as of another
    time than this run."""
    return [*(n for r in regions for n in r.notes), *(
        Problem(level=Level.WARNING, code="report.region_as_of", file=r.label, params={
            "path": r.label, "then": f"{r.as_of:%Y-%m-%d %H:%M}", "now": f"{as_of:%Y-%m-%d %H:%M}"})
        for r in regions if r.as_of != as_of)]
