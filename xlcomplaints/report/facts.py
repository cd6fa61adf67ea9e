# Over 400 lines: the store's manifest, save and load are one format, read and written together.
"""The consolidation's facts store: a period's branches kept beside the report, for ``--update`` and regions.

``consolidate … -o group-2026-10.xlsx`` keeps the folder ``group-2026-10.facts/`` beside the report (or in
the shared folder ``--store`` names, where Dask workers on other PCs write too: ``store.layout``)::

    manifest.json                                       what the store holds (below): the one file replaced last
    branches-<run>.parquet                              one row per branch (``store.schema.BRANCHES``)
    figures-<run>.json                                  the period's own figures (``report.kept_figures``)
    period=2026-10/pack-<id>.parquet                    the branches' cases (``CASES``), 20 branches a pack

Each worker writes its branch's partition into the run's staging folder (``.staging-<run>/``) and sends
back only where it is; before the report is computed from them (``store.pack``, ``pack_branches``), they are
packed twenty branches a file, in branch order, and a branch's entry in the manifest names its pack, its first
row there and its rows. Once the report is saved, ``save_facts`` packs what is not packed yet (a run of the
Python engine), moves the new packs into place, keeps the previous run's packs untouched when every branch of
one is kept (``--update`` writes again only the packs of the branches it re-read), writes the branches table
and then replaces ``manifest.json`` in one rename.
A run killed at any moment leaves the previous manifest and every file it names as they were (files no
manifest names are removed by the next save); a report whose save failed leaves no trace of its run.

The manifest names the store's format and version, the run that wrote it (the report beside it holds the
same id: ``--update`` uses a store only with the report of its run), the period, the as-of time, whether
phone numbers are shown, per branch its pack file, first row, rows, and the pack's size and SHA-256, and the figures file's (the
period's figures its run computed from those partitions, for a later period's trend and cover: version 2; a store
of version 1 has none and is queried as before), the files the run read and did not count (``left_out``,
``LeftOutEntry``: unreadable, with their words; or set aside as an older copy of a branch, with when it was saved and
whether it held the period, for an ``--update``'s merging rules) and its notes on the files it set aside (``set_aside``:
another version of a branch used), which a head office taking the run as a region's says too (``report.regions``),
each written only where there are some (the store's version 4; else 3); every file's path absolute
(``file_summary.stored_path``); a digest of all that closes it. Loading refuses, with what is wrong, a manifest edited by hand (its digest), of another version,
run or period, and a partition missing, cut short or changed (its size and hash, checked before it is
parsed). Everything is data (JSON, Parquet): nothing in a store runs as code. Phone numbers are as the
summaries held them: masked unless the run had ``--show-contacts`` (``report.masking``).

A report's ``.state.json.gz`` beside it is the JSON state of an earlier version: it is not read
(``OldStateFile``: "consolidate again to build the store").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xlcomplaints.core.metrics import Month, Period, as_period
from xlcomplaints.core.problems import Problem
from xlcomplaints.i18n import printable
from xlcomplaints.report.file_summary import FileSummary, stored_path
from xlcomplaints.report.merging import SET_ASIDE, Consolidation, LeftOut
from xlcomplaints.store.layout import MANIFEST, STORE_SUFFIX, is_store, store_path
from xlcomplaints.store.pack import pack
from xlcomplaints.store.partition import (
    SUFFIX,
    Partition,
    PartitionDamaged,
    checked_bytes,
    read_file,
    read_partition,
    read_table,
    table_bytes,
    write_bytes,
    write_partition,
)
from xlcomplaints.store.schema import BRANCHES, SCHEMA_VERSION
from xlcomplaints.workbook.owners import default_mode

FORMAT: Literal["xlcomplaints.facts-store"] = "xlcomplaints.facts-store"
#: 2: the period's figures kept (``figures``: ``report.kept_figures``); 3: branches in packs (``store.pack``: an entry's
#: ``first`` row in its file). An earlier version refuses a store of version 3 ("written by another version").
VERSION = 3
#: A store of version 3 that also names the files its run left out or set aside (``left_out``, ``set_aside``): an
#: earlier xlcomplaints, which knows neither, says it is "written by another version" rather than damaged. A store
#: with neither is written as version 3, as before.
VERSION_NOTES = 4
#: A store of version 1 holds no figures: a later period's run queries it. One of version 1 or 2 has a file per
#: branch: each read as a pack of one branch (the same rows, ``first`` 0), kept as it is by an ``--update``.
_READS = (1, 2, 3, 4)
OLD_STATE_SUFFIX = ".state.json.gz"
_STAGING = ".staging-"
__all__ = ["MANIFEST", "STORE_SUFFIX", "is_store", "store_path"]  # where a store is (``store.layout``)
_MANIFEST_LIMIT = 256 * 2**20  # 20,000 branches take about 5 MB
_FIGURES_LIMIT = 256 * 2**20  # the kept figures of 20,000 branches take about 3 MB


class StoreError(ValueError):
    """The store is missing, damaged, or of another version."""


class StoreOfAnotherRun(StoreError):
    """The store was not written by the run that wrote the report beside it (a run killed between
    writing the two, say): the pair cannot be trusted together."""


class StoreOfAnotherVersion(StoreError):
    """The store was written by another version of the store's layout. ``manifest``: its manifest, whole (its digest
    matches) and of a form this version reads, where it is so (an earlier layout of the same manifest: what a later
    period's trend may still take from the figures it keeps, ``report.store_history``), else None."""

    def __init__(self, message: str, manifest: Manifest | None) -> None:
        super().__init__(message)
        self.manifest = manifest


class StoreOfAnotherPeriod(StoreError):
    """The store holds another period (or kind of period) than the run's: ``held``, its label."""

    def __init__(self, message: str, held: str) -> None:
        super().__init__(message)
        self.held = held


def old_state_path(output: str | Path) -> Path:
    """Where an earlier version kept the report's JSON state (``group-2026-10.state.json.gz``)."""
    p = Path(output)
    return p.with_name(f"{p.stem}{OLD_STATE_SUFFIX}")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class FileEntry(_Strict):
    """A file of the store: where (relative to the store, ``/``-separated, inside it), rows, bytes, SHA-256."""

    file: str
    rows: int = Field(ge=0)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("file")
    @classmethod
    def _inside(cls, v: str) -> str:
        p = PurePosixPath(v)
        if not v or "\\" in v or p.is_absolute() or any(part in ("", ".", "..") for part in v.split("/")):
            raise ValueError("not a file inside the store")
        return v

    def partition(self, store: Path) -> Partition:
        return Partition(str(store.joinpath(*self.file.split("/"))), self.rows, self.size, self.sha256)


class BranchEntry(FileEntry):
    """A branch's rows: ``rows`` of ``file`` (a pack) from its row ``first``; ``size`` and ``sha256`` the pack's."""

    branch: str
    first: int = Field(default=0, ge=0)


class LeftOutEntry(_Strict):
    """A file the run read and did not count (``report.merging.LeftOut``): where it is (``stored_path``), how the
    report names it, when it was saved; unreadable (``error``, and its ``problems``: each a ``Problem`` as JSON), or
    set aside as a copy of ``branch`` (``holds``: whether it held complaints received in the period)."""

    path: str
    label: str
    mtime: float
    branch: str | None = None
    branch_name: str = ""
    holds: bool = False
    error: str | None = None
    problems: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, left: LeftOut) -> LeftOutEntry:
        f = left.file
        return cls(path=printable(stored_path(f.path)), label=printable(f.name), mtime=f.mtime, branch=f.branch, branch_name=f.branch_name,
                   holds=left.holds, error=None if f.error is None else f.error.model_dump_json(),
                   problems=[p.model_dump_json() for p in f.problems])

    def left_out(self) -> LeftOut:
        """The file again, as the merging rules weigh it (``ValidationError`` for a note that is not a problem)."""
        return LeftOut(FileSummary(
            self.path, self.mtime, self.branch, self.branch_name, label=self.label,
            error=None if self.error is None else Problem.model_validate_json(self.error),
            problems=tuple(Problem.model_validate_json(p) for p in self.problems)), self.holds)


class Manifest(_Strict):
    format: Literal["xlcomplaints.facts-store"]
    version: int
    schema_version: int
    run: str
    period: str
    period_kind: str
    as_of: str
    contacts_shown: bool
    branches: FileEntry
    partitions: list[BranchEntry]
    figures: FileEntry | None = None  # the period's figures (``report.kept_figures``); none in version 1
    #: the files the run read and did not count (written only where there are some: a store without is as before)
    left_out: list[LeftOutEntry] = Field(default_factory=list)
    #: the run's notes on the files it set aside (``SET_ASIDE``: another version of a branch used), each a ``Problem``
    #: as JSON; written only where there are some
    set_aside: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _packed(self) -> Manifest:
        """Each pack's branches side by side, in branch order, its rows one after the other from the first, none
        named twice, the pack's size and hash the same in each: what ``branch_partitions`` relies on."""
        seen: set[str] = set()
        last: BranchEntry | None = None
        at = 0
        for e in self.partitions:
            if last is not None and e.branch <= last.branch:
                raise ValueError("branches out of order, or named twice")
            if last is None or e.file != last.file:
                if e.file in seen:
                    raise ValueError(f"{e.file}: its branches are not side by side")
                seen.add(e.file)
                at = 0
            elif (e.size, e.sha256) != (last.size, last.sha256):
                raise ValueError(f"{e.file}: two sizes or hashes")
            if e.first != at:
                raise ValueError(f"{e.file}: branch {e.branch}'s rows overlap another's, or leave a gap")
            at += e.rows
            last = e
        return self

    def branch_partitions(self, store: Path) -> list[Partition]:
        """Each branch's rows in its pack, in the manifest's order (``Partition.held``: its pack's rows)."""
        held: dict[str, int] = {}
        for e in self.partitions:
            held[e.file] = held.get(e.file, 0) + e.rows
        return [replace(e.partition(store), first=e.first, held=held[e.file]) for e in self.partitions]


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()).hexdigest()


class Staging:
    """The folder a run's workers write their partitions into, inside the store (renamed into place on save);
    the store beside ``output``, or in the folder ``where`` (``--store``: ``store.layout.store_location``)."""

    def __init__(self, output: str | Path, run: str, where: Path | None = None) -> None:
        self.store = store_path(output, where)
        self.path = self.store / f"{_STAGING}{run}"
        self._clearing: list[threading.Thread] = []

    def open(self) -> str:
        """Make the folder; its path for the workers, absolute (a worker on another PC writes there too)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return str(self.path.absolute())

    def holds(self, p: Partition) -> bool:
        return Path(p.path).parent == self.path.absolute()

    def clear(self, paths: Sequence[str]) -> None:
        """Remove the staged files ``paths``, no longer named (packed), in a thread beside the run's report: 2,000
        files took 1.5–5 s of wall on this machine's disk, little CPU (docs/benchmarks.md, "Packs"). ``settle``
        waits for it."""
        mine = [p for p in paths if Path(p).parent == self.path.absolute()]
        if mine:
            self._clearing.append(threading.Thread(target=_unlink_all, args=(mine,), name="xlcomplaints-clear"))
            self._clearing[-1].start()

    def settle(self) -> None:
        """Wait until the files ``clear`` was given are removed."""
        while self._clearing:
            self._clearing.pop().join()

    def abandon(self) -> None:
        self.settle()
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.store.rmdir()  # only if the run left it empty (a store that never held a manifest)


def _unlink_all(paths: Sequence[str]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.unlink(p)


def _part_dir(period: Period) -> str:
    return f"period={quote(str(period), safe='')}"


def pack_branches(result: Consolidation, staging: Staging, codes: Sequence[str] | None = None,
                  parts: Sequence[Partition] | None = None) -> list[Partition]:
    """The branches ``codes`` of ``result`` (all, sorted, by default; ``parts``: their partitions, else theirs) in
    packs (``store.pack``): the packs of the previous store (or a region's, copied) kept where every branch of one
    is kept and nothing comes between them, the rest packed anew into the staging folder; each summary's
    ``partition`` set to its rows in its pack. A partition outside the store and the staging folder is packed anew
    (read back checked), never named where it lies."""
    codes = sorted(result.branches) if codes is None else codes
    if parts is None:
        parts = [p for p in (result.branches[c].partition for c in codes) if p is not None]
        if len(parts) != len(codes):
            raise ValueError("a branch without its partition is packed by save_facts")
    store = staging.store.absolute()
    elsewhere = {i for i, p in enumerate(parts) if not staging.holds(p)
                 and not Path(p.path).absolute().is_relative_to(store)}
    packed = pack(Path(staging.open()), parts, apart=elsewhere)
    for code, part in zip(codes, packed, strict=True):
        result.branches[code] = replace(result.branches[code], partition=part)
    staging.clear(sorted({p.path for p in parts} - {p.path for p in packed}))  # the workers' files, now packed
    return packed


def _branch_rows(result: Consolidation, entries: Sequence[BranchEntry]) -> pa.Table:
    # A path's bytes that are not valid Unicode (a GBK name unzipped on Linux) cannot be stored as text: kept as
    # \\xNN (i18n.printable); such a file is matched again by its branch code, as a path from elsewhere is.
    rows = [{"branch": e.branch, "branch_name": f.branch_name, "path": printable(stored_path(f.path)),
             "label": printable(f.name), "mtime": f.mtime,
             "repeat_window_days": f.repeat_window_days, "rank_min_complaints": f.rank_min_complaints,
             "problems": [p.model_dump_json() for p in f.problems], "partition": e.file, "rows": e.rows}
            for e in entries for f in (result.branches[e.branch],)]
    return pa.Table.from_pylist(rows, schema=BRANCHES)


def save_facts(output: str | Path, result: Consolidation, run: str, staging: Staging,
               figures: bytes | None = None) -> Path:
    """Write the store of ``result`` beside ``output`` (see the module doc), with the period's ``figures`` its
    run computed from those partitions (``report.kept_figures``: none if it did not); raises OSError if it
    cannot be."""
    store = staging.store
    staged = Path(staging.open())  # absolute; ``store`` as the report was named, as a kept partition's path is
    codes = sorted(result.branches)
    parts = pack_branches(result, staging, codes, [write_partition(staged, f.cases, f.texts) if f.partition is None
                                                   else f.partition for f in (result.branches[c] for c in codes)])
    folder = store / _part_dir(result.month)
    moved: dict[str, str] = {}
    entries: list[BranchEntry] = []
    for code, part in zip(codes, parts, strict=True):
        if staging.holds(part):
            if part.path not in moved:
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(part.path, folder / part.name)
                moved[part.path] = str(folder / part.name)
            part = replace(part, path=moved[part.path])
        rel = Path(part.path).relative_to(store).as_posix()
        entries.append(BranchEntry(branch=code, file=rel, rows=part.rows, size=part.size, sha256=part.sha256,
                                   first=part.first))
    table = write_bytes(staged, table_bytes(_branch_rows(result, entries)), len(entries), f"branches-{run}{SUFFIX}")
    os.replace(table.path, store / Path(table.path).name)
    kept = None
    if figures is not None:
        kept = write_bytes(staged, figures, 1, f"figures-{run}.json")
        os.replace(kept.path, store / kept.name)
    body = Manifest(format=FORMAT, version=VERSION, schema_version=SCHEMA_VERSION, run=run,
                    period=str(result.month), period_kind=result.month.kind.value,
                    as_of=result.as_of.isoformat(timespec="seconds"), contacts_shown=result.contacts_shown,
                    branches=FileEntry(file=Path(table.path).name, rows=table.rows, size=table.size,
                                       sha256=table.sha256),
                    partitions=entries,
                    figures=None if kept is None else FileEntry(file=kept.name, rows=1, size=kept.size,
                                                                sha256=kept.sha256),
                    left_out=[LeftOutEntry.of(f) for f in result.left_out],
                    set_aside=[p.model_dump_json() for p in result.issues if p.code in SET_ASIDE]).model_dump(mode="json")
    for name in ("left_out", "set_aside"):
        if not body[name]:  # a store of none is as an earlier version of this layout wrote and reads it
            del body[name]
        else:
            body["version"] = VERSION_NOTES
    text = json.dumps({**body, "digest": _digest(body)}, ensure_ascii=False, indent=1).encode()
    pending = staged / MANIFEST
    with open(pending, "wb") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(pending, default_mode())
    os.replace(pending, store / MANIFEST)  # the store is now this run's
    staging.settle()
    _sweep(store, {e.file for e in entries} | {Path(table.path).name} | ({kept.name} if kept else set()))
    return store


def _sweep(store: Path, kept: set[str]) -> None:
    """Remove what no manifest names any more: earlier runs' partitions and branches tables, staging
    folders (this run's, and those of runs killed before they saved). Only our own kinds of file."""
    for item in store.iterdir():
        if item.name.startswith(_STAGING) and item.is_dir():
            shutil.rmtree(item, ignore_errors=True)
        elif (item.name.startswith("branches-") and item.name.endswith(SUFFIX) or item.name.startswith("figures-")
              and item.name.endswith(".json")) and item.name not in kept:
            item.unlink(missing_ok=True)
        elif item.name.startswith("period=") and item.is_dir():
            for f in [*item.glob("*" + SUFFIX), *item.glob("branch=*/*" + SUFFIX)]:  # packs; version 2's partitions
                if f.relative_to(store).as_posix() not in kept:
                    f.unlink(missing_ok=True)
            for d in [*item.glob("branch=*"), item]:
                with contextlib.suppress(OSError):
                    d.rmdir()  # emptied


def read_manifest(store: Path) -> Manifest:
    """The store's manifest, checked (format, version, digest, fields); ``StoreError`` says what is wrong."""
    path = store / MANIFEST
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MANIFEST_LIMIT + 1)
    except FileNotFoundError:
        raise StoreError(f"{store}: not found") from None  # the whole path: beside the report, or in --store
    except OSError as e:
        raise StoreError(f"{store.name}: {e.strerror or type(e).__name__}") from e
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise StoreError(f"{store.name}/{MANIFEST}: damaged or cut short ({e})") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StoreError(f"{store.name}: not a facts store")
    if doc.get("version") not in _READS or doc.get("schema_version") != SCHEMA_VERSION:
        raise StoreOfAnotherVersion(
            f"{store.name}: written by another version of xlcomplaints (store version "
            f"{doc.get('version')}.{doc.get('schema_version')}, this one reads {VERSION}.{SCHEMA_VERSION});"
            " consolidate all branches without --update", _of_another_layout(doc))
    digest = doc.pop("digest", None)
    if digest != _digest(doc):
        raise StoreError(f"{store.name}/{MANIFEST}: edited by hand or damaged (its digest does not match)")
    try:
        return Manifest.model_validate(doc)
    except ValidationError as e:
        raise StoreError(f"{store.name}/{MANIFEST}: damaged ({e.error_count()} error(s): {e.errors()[0]['msg']})") from e


def _of_another_layout(doc: dict[str, Any]) -> Manifest | None:
    """The manifest ``doc`` of a store of another layout, if it is whole (its digest), of a manifest version this one
    reads and of its fields; else None."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    if doc.get("version") not in _READS or doc.get("digest") != _digest(body):
        return None
    try:
        return Manifest.model_validate(body)
    except ValidationError:
        return None


def kept_bytes(store: Path, m: Manifest) -> bytes | None:
    """The bytes of the period's figures the manifest ``m`` names (None: it names none), refused unless they are
    the ones recorded (``StoreError``)."""
    if m.figures is None:
        return None
    if m.figures.size > _FIGURES_LIMIT:
        raise StoreError(f"{store.name}: its figures file is too large to be ours")
    try:
        return checked_bytes(m.figures.partition(store))
    except PartitionDamaged as e:
        raise StoreError(f"{store.name}: {e}") from e


def load_facts(store: Path, month: Period | Month, run: str | None = None, *, cases: bool = True,
               manifest: Manifest | None = None) -> tuple[list[FileSummary], datetime, bool]:
    """The branches of a previous run of the period ``month``: (summaries, as-of time, contacts shown).
    Not ``cases``: each summary without its cases and texts, its partition checked by size and SHA-256 (not
    parsed: ``store_report.connect_merged`` checks its rows and branch once DuckDB has loaded it) and named
    instead (``FileSummary.partition``), for a report computed from the store.

    ``run``: the run id the report beside it holds; a store of another run is refused (``StoreOfAnotherRun``),
    as are one of another period (``StoreOfAnotherPeriod``) and a damaged one (``StoreError``). ``manifest``: the
    store's, already read (``read_manifest``; or ``StoreOfAnotherVersion.manifest``: its branches only, ``cases``
    False)."""
    month = as_period(month)
    if manifest is not None and cases and manifest.schema_version != SCHEMA_VERSION:
        raise ValueError("a store of another layout is not read back as cases")
    m = manifest or read_manifest(store)
    if run is not None and m.run != run:
        raise StoreOfAnotherRun(f"{store.name}: written by another run than the report beside it")
    if (m.period_kind, m.period) != (month.kind.value, str(month)):
        raise StoreOfAnotherPeriod(f"{store.name}: holds {m.period} ({m.period_kind}), not {month} "
                                   f"({month.kind.value})", m.period)
    try:
        rows = read_table(m.branches.partition(store), BRANCHES).to_pylist()
        if [r["branch"] for r in rows] != [e.branch for e in m.partitions] or \
                [(r["partition"], r["rows"]) for r in rows] != [(e.file, e.rows) for e in m.partitions]:
            raise StoreError(f"{store.name}: its branches table and its manifest disagree")
        out = []
        read: tuple[str, pa.Table | None] = ("", None)  # the pack last read (a pack's branches are side by side)
        for r, e, part in zip(rows, m.partitions, m.branch_partitions(store), strict=True):
            if read[0] != part.path:  # its bytes checked here once; as cases, its rows and branch below, else
                read = (part.path, read_file(part) if cases else None)  # once loaded (``store_report.connect_merged``)
                if not cases:
                    checked_bytes(part)
            if cases:
                held, texts = read_partition(part, read[1])
                branches = {c.branch for c in held}
            else:
                held, texts, branches = [], {}, set()
            if branches - {e.branch}:
                raise StoreError(f"{store.name}/{e.file}: holds another branch's cases")
            out.append(FileSummary(r["path"], r["mtime"], e.branch, r["branch_name"], tuple(held),
                                   tuple(Problem.model_validate_json(p) for p in r["problems"]), texts=texts,
                                   repeat_window_days=_whole(r["repeat_window_days"]),
                                   rank_min_complaints=_whole(r["rank_min_complaints"]), label=r["label"],
                                   partition=part))
        return out, datetime.fromisoformat(m.as_of), m.contacts_shown
    except PartitionDamaged as e:
        raise StoreError(f"{store.name}: {e}") from e
    except (ValidationError, ValueError, TypeError) as e:  # the branches table's values
        if isinstance(e, StoreError):
            raise
        raise StoreError(f"{store.name}: damaged ({type(e).__name__}: {e})") from e


def _whole(n: int) -> int:
    if n < 0:
        raise ValueError("a negative number of days or complaints")
    return n



def left_out(store: Path, m: Manifest) -> list[LeftOut]:
    """The files the run of the manifest ``m`` read and did not count (none before version 4), for an ``--update``
    (``report.merging``); a note that is not a problem is refused as a damaged store."""
    try:
        return [e.left_out() for e in m.left_out]
    except ValidationError as e:
        raise StoreError(f"{store.name}: damaged ({type(e).__name__}: {e})") from e
