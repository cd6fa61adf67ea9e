"""Several branches' partitions in one Parquet file (a pack): the store's files, each branch still its own entry.

A worker writes its branch's partition alone (``partition.write_partition``); before the store's report is
computed from them (and at the latest when the store is saved), ``pack`` writes them ``PACK_BRANCHES`` at a time
into packs: their tables read back checked, one after the other in branch order (each branch's rows in the
order written), as one file with the same layout in zstd (``PACK_LEVEL``) and one row group. Each branch's
``Partition`` then names the pack, its first row in it and its rows (``first``, ``rows``; ``held``: the pack's
rows); the pack's size and SHA-256 are checked as a partition's are. A run that keeps a branch keeps its pack as it is (by name,
size and hash) when it keeps every branch of it and nothing comes between them; a pack of which a branch is read
again (``--update``), masked, or not all taken (a region's) has its other branches' rows read back checked and
packed anew with the new ones.

Why: one file per 500-complaint branch took 32.6 KiB, of which Parquet's footer 4.5 KiB and zstd starting afresh;
twenty branches a file take 21 KiB a branch at zstd 3 (docs/benchmarks.md, "Packs"), 19.4 KiB at zstd 14 with
the texts' encodings (``PACK_LEVEL``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xlcomplaints.store.partition import (
    _CASES_WRITE,
    SUFFIX,
    Partition,
    read_file,
    read_table,
    write_bytes,
)
from xlcomplaints.store.schema import CASES

#: Branches a pack holds: bytes per branch against the branches an ``--update`` of one of them writes again
#: (docs/benchmarks.md, "Packs": 32.6 KiB a branch alone, 22.3 at 10, 21.1 at 20, 20.5 at 50, zstd 3).
PACK_BRANCHES = 20
#: zstd's level for a pack: what the store keeps (a worker's staged partition is LZ4, ``partition._CASES_WRITE``).
#: The 100 packs of a 1,000,000-complaint bench store (docs/benchmarks.md, "The store under 40 MB"): 41.9 MB at
#: level 3 (with the texts' encodings, ``partition._TEXTS``), 40.2 at 12, 39.2 at 13, **38.8 at 14**, 38.8 at 15;
#: compressing them costs 1.6 s of CPU at 3 and 7.9 s at 14, of which the staged partitions' LZ4 pays back about half
#: (3.3 s: written and read back cheaper). 14 keeps the store under issue 22's 40 MB a million with room for the
#: manifest and the branches' table (0.7 MB); past 14, bytes hardly fall and the CPU keeps rising.
PACK_LEVEL = 14
_PACK_WRITE: dict[str, Any] = {**_CASES_WRITE, "compression": "zstd", "compression_level": PACK_LEVEL}
PACK_PREFIX = "pack-"


def is_pack(p: Partition) -> bool:
    """Whether ``p`` names its rows in a pack (or a store's file: every file a manifest names is one)."""
    return p.held is not None


def whole_files(parts: Sequence[Partition]) -> Iterator[tuple[bool, list[int]]]:
    """``parts`` (in branch order) in runs of one file each: (whether the run is the whole of its pack, to be
    kept as it is, its indices). A run is whole when it names every row of a pack, from its first, one after the
    other, and its file is met nowhere else."""
    runs: list[list[int]] = []
    for i, p in enumerate(parts):
        if runs and parts[runs[-1][0]].path == p.path:
            runs[-1].append(i)
        else:
            runs.append([i])
    seen: dict[str, int] = {}
    for run in runs:
        seen[parts[run[0]].path] = seen.get(parts[run[0]].path, 0) + 1
    for run in runs:
        first = parts[run[0]]
        at, whole = 0, is_pack(first) and seen[first.path] == 1
        for i in run:
            whole = whole and parts[i].first == at and parts[i].held == first.held and \
                (parts[i].size, parts[i].sha256) == (first.size, first.sha256)
            at += parts[i].rows
        yield whole and at == first.file_rows, run


def plan(parts: Sequence[Partition], size: int | None = None,
         apart: Collection[int] = ()) -> list[tuple[bool, list[int]]]:
    """The packs of ``parts`` (in branch order): each (kept as it is, its indices). Whole packs are kept (but for
    one holding a branch ``apart``); the branches between them are packed ``size`` (``PACK_BRANCHES``) at a time,
    in order."""
    step = size or PACK_BRANCHES
    out: list[tuple[bool, list[int]]] = []
    loose: list[int] = []

    def flush() -> None:
        for k in range(0, len(loose), step):
            out.append((False, loose[k:k + step]))
        loose.clear()

    for whole, run in whole_files(parts):
        if whole and not set(run) & set(apart):
            flush()
            out.append((True, run))
        else:
            loose.extend(run)
    flush()
    return out


def write_pack(folder: Path, parts: Sequence[Partition]) -> list[Partition]:
    """The branches ``parts`` (in order) as one new pack in ``folder``: each one's ``Partition`` there. Their
    tables are read back checked (a pack's file once)."""
    tables: list[pa.Table] = []
    read: tuple[str, pa.Table] | None = None
    for p in parts:
        if p.held is not None and (read is None or read[0] != p.path):
            read = (p.path, read_file(p))
        tables.append(read_table(p, file=read[1] if p.held is not None and read else None).cast(CASES))
    read = None
    table = pa.concat_tables(tables)
    del tables
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=max(1, table.num_rows), **_PACK_WRITE)
    written = write_bytes(folder, bytes(sink.getvalue()), table.num_rows, f"{PACK_PREFIX}{uuid.uuid4().hex}{SUFFIX}")
    out, at = [], 0
    for p in parts:
        out.append(replace(written, rows=p.rows, first=at, held=table.num_rows))
        at += p.rows
    return out


def pack(folder: Path, parts: Sequence[Partition], size: int | None = None,
         apart: Collection[int] = ()) -> list[Partition]:
    """``parts`` (in branch order) as packs: whole packs kept as they are, the others' branches (and those
    ``apart``) written into new packs in ``folder`` (``plan``), each as ``write_pack`` writes it."""
    out = list(parts)
    runs = [run for kept, run in plan(parts, size, apart) if not kept]
    for run, written in zip(runs, written_packs(folder, [[parts[i] for i in run] for run in runs]), strict=True):
        for i, p in zip(run, written, strict=True):
            out[i] = p
    return out


#: Packs written at once (``written_packs``): pyarrow reads, compresses and writes without Python's lock.
PACK_THREADS = min(4, os.cpu_count() or 1)


def written_packs(folder: Path, groups: Sequence[Sequence[Partition]]) -> list[list[Partition]]:
    """Each group of branches as one pack (``write_pack``), in order; up to ``PACK_THREADS`` packs written at
    once, in threads: a speed trick, fenced here. Buys, at 1,000,000 complaints (the 2,000 partitions of a
    bench store into 100 packs, a quiet 2-core machine, 2026-12-07, docs/benchmarks.md): 6.3–7.2 s of wall one
    pack at a time, 3.1–3.5 s two at a time, the same CPU; memory: a pack's tables per thread. The same packs byte for
    byte (``tests/test_store_pack.py::test_packs_written_in_threads_are_the_packs_written_one_by_one``). A group that
    fails stops the packs not yet begun; its error is raised."""
    if PACK_THREADS < 2 or len(groups) < 2:
        return [write_pack(folder, g) for g in groups]
    threads = ThreadPoolExecutor(PACK_THREADS, thread_name_prefix="xlc-pack")
    try:
        return list(threads.map(lambda g: write_pack(folder, g), groups))
    finally:
        threads.shutdown(wait=True, cancel_futures=True)
