"""One branch's facts as one Parquet file (a partition of the store), written and read back checked.

A worker writes its branch's cases with ``write_partition`` into the folder it is given (the store's
staging folder) and sends back only the ``Partition``: where the file is, its rows, its size and its
SHA-256. ``read_partition`` is the one way back to ``Case`` records: it refuses a file whose size or
hash is not the one recorded (cut short, edited, replaced) before Parquet parses a byte of it, and a
table of another shape (``schema.check_schema``). Nothing in a partition runs as code: Parquet is data.

A store keeps its branches in packs (``store.pack``): several branches' rows in one file, each branch's
``Partition`` naming the pack, its first row there and its rows (``first``, ``held``: the pack's rows).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xlcomplaints.core.metrics import Case
from xlcomplaints.store.schema import CASES, from_table, to_table

#: A worker's partition is staged, never kept: ``store.pack`` reads it back and writes it into a pack (zstd,
#: ``pack.PACK_LEVEL``) before the store is saved. So it is written with LZ4, the cheapest codec to write and read
#: back: 1.3 ms of CPU a 500-complaint bench partition instead of 2.2 at zstd 3, read back in 0.95 ms instead of 1.7,
#: 40 KiB instead of 33 (100 bench partitions, three rounds, 2026-12-07: docs/benchmarks.md, "The store under 40 MB").
#: The Arrow schema is not stored (the reader holds the file to ``CASES``) and neither are column statistics: a quarter
#: of each file's footer. Dictionaries only for the columns of few distinct values (codes,
#: dimensions, handlers, units): a dictionary of near-unique values (numbers, names, phones, durations) is a second
#: copy of them. Times (``schema.TIME``: whole ticks after the day of receipt, ``store.ticks``) in delta encoding
#: (``DELTA_BINARY_PACKED``): a complaint's stages are one list (schema version 3), so its times follow one another
#: in the column, hours apart, and each complaint's start again near 0 (schema version 4); but the due times in a
#: dictionary: counted from the day of receipt they are ends of days and whole hours, a few hundred values a file
#: (32.7 KiB a bench partition, 35.0 in delta encoding: docs/benchmarks.md).
#: Measured on twenty 500-complaint bench branches (2026-12-06, README "Shrinking the store"): 60.1 KiB a branch with
#: 49 stage columns side by side and times split by byte; 47.4 KiB with the stages as one list (zstd finds a
#: complaint's times together; the footer 4.7 KiB instead of 8.5), 46.3 KiB with delta encoding too. Schema 4's
#: ticks after receipt and no ``due_months``: ``store.ticks`` and docs/benchmarks.md.
#: Phones and names as their lengths, then their bytes together (``DELTA_LENGTH_BYTE_ARRAY``), and complaint numbers
#: as each one's prefix shared with the one before, then the rest (``DELTA_BYTE_ARRAY``): 3 % smaller packs at zstd 3
#: (43.1 → 41.9 MB per 1,000,000 bench complaints), DuckDB's load as fast (docs/benchmarks.md, "The store under 40 MB").
_TIMES = ["received_at", "stages.list.element.done", "callbacks.list.element.at", "custom.list.element.done"]
_TEXTS = {"phone": "DELTA_LENGTH_BYTE_ARRAY", "customer": "DELTA_LENGTH_BYTE_ARRAY", "no": "DELTA_BYTE_ARRAY"}
_FEW = ("branch", "case_type", "channel", "category", "severity", "validity", "department", "handler", "escalated",
        "escalation", "status", "reopen_count", "stages.list.element.status", "stages.list.element.unit",
        "stages.list.element.handler", "callbacks.list.element.outcome", "callbacks.list.element.score",
        "custom.list.element.name", "custom.list.element.label_en", "custom.list.element.status",
        "custom.list.element.unit", "custom.list.element.handler", "office.list.element.name",
        "office.list.element.value", "ticks.received", "ticks.due", "ticks.done", "ticks.at",
        "stages.list.element.due", "custom.list.element.due")
_WRITE: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "write_statistics": False,
                          "store_schema": False}
#: A worker's staged partition (above); ``pack._PACK_WRITE`` is the same layout in zstd.
_CASES_WRITE: dict[str, Any] = {**_WRITE, "compression": "lz4", "compression_level": None,
                                "use_dictionary": list(_FEW),
                                "column_encoding": {**dict.fromkeys(_TIMES, "DELTA_BINARY_PACKED"), **_TEXTS}}
SUFFIX = ".parquet"


class PartitionDamaged(ValueError):
    """A partition file that is missing, cut short, edited or of another shape."""


@dataclass(frozen=True)
class Partition:
    """A written partition: its file (absolute), rows, bytes and SHA-256 (hex) — the file's, which may be a
    pack of several branches (``store.pack``): then the branch's rows are ``rows`` from the row ``first``, of
    the ``held`` rows the file holds (None: the file holds this branch's rows alone, a worker's)."""

    path: str
    rows: int
    size: int
    sha256: str
    first: int = 0
    held: int | None = None

    @property
    def file_rows(self) -> int:
        """The rows of the whole file."""
        return self.rows if self.held is None else self.held

    @property
    def name(self) -> str:
        return Path(self.path).name


def table_bytes(table: pa.Table) -> bytes:
    """A table as Parquet bytes, as the store writes them."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **(_CASES_WRITE if table.schema.equals(CASES) else _WRITE))
    return bytes(sink.getvalue())


def write_bytes(folder: Path, data: bytes, rows: int, name: str | None = None) -> Partition:
    """``data`` as a new file in ``folder`` (a fresh name unless given), flushed to disk."""
    path = folder / (name or f"{uuid.uuid4().hex}{SUFFIX}")
    with open(path, "xb") as f:  # never over another file
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Partition(str(path), rows, len(data), hashlib.sha256(data).hexdigest())


def write_partition(folder: str | Path, cases: Sequence[Case],
                    texts: Mapping[str, Sequence[str | None]] | None = None) -> Partition:
    """One branch's cases (and its typical cases' texts) as a new partition file in ``folder``."""
    return write_bytes(Path(folder), table_bytes(to_table(cases, texts)), len(cases))


def checked_bytes(p: Partition) -> bytes:
    """The partition's bytes, refused unless they are the ones recorded."""
    try:
        data = Path(p.path).read_bytes()
    except FileNotFoundError:
        raise PartitionDamaged(f"{p.name}: missing") from None
    except OSError as e:
        raise PartitionDamaged(f"{p.name}: {e.strerror or type(e).__name__}") from e
    if len(data) != p.size or hashlib.sha256(data).hexdigest() != p.sha256:
        raise PartitionDamaged(f"{p.name}: not the file that was written (cut short or changed)")
    return data


def read_file(p: Partition) -> pa.Table:
    """The whole file of ``p`` (a pack: every branch's rows), checked (``checked_bytes``) and of the rows recorded."""
    data = checked_bytes(p)
    try:
        #: ``ParquetFile.read``, not ``read_table`` (a dataset for one file): a 500-complaint partition in 2.0 ms of
        #: CPU instead of 3.1 (300 bench partitions, three rounds, 2026-12-07), the same table; threads cost more here
        table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise PartitionDamaged(f"{p.name}: not a Parquet file ({e})") from e
    if table.num_rows != p.file_rows or p.first + p.rows > p.file_rows:
        raise PartitionDamaged(f"{p.name}: {table.num_rows} rows, {p.file_rows} recorded")
    return table


def read_table(p: Partition, schema: pa.Schema = CASES, file: pa.Table | None = None) -> pa.Table:
    """The partition's table (its rows of its file), checked (``read_file``; ``file``: its file already read so)."""
    table = read_file(p) if file is None else file
    return table if p.held is None else table.slice(p.first, p.rows)


def read_partition(p: Partition, file: pa.Table | None = None) -> tuple[list[Case], dict[str, tuple[str | None, ...]]]:
    """The cases of a partition and its typical cases' texts: the one way facts come back as ``Case``s (``file``:
    its file, already read by ``read_file``)."""
    table = read_table(p, file=file)
    try:
        return from_table(table)
    except ValueError as e:
        raise PartitionDamaged(f"{p.name}: {e}") from e
