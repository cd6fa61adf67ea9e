"""A consolidated report's figures straight from its facts store (``REPORT.facts/``), by DuckDB, no ``Case`` loaded.

``connect_store`` checks the store as ``report.facts.load_facts`` does — its manifest (format, version, digest)
and every partition's size and SHA-256 — before DuckDB reads a byte of Parquet, then opens the partitions in
the manifest's order (branch by branch, as the consolidation counted them). ``figures_from_store`` gives every
registered figure of the store's period and the previous one, ``{key: {group: (this, previous)}}``.

What the store's partitions hold is each branch's facts as its file was read: the consolidation's two rules
across branches (``report.merging.merge``: a complaint number in two branches' files counted once; a repeat
complaint made at another branch, by that branch's repeat window from the store's branches table) are applied
to the tables once, by ``store.merge_sql``, before any figure (``tests/test_store_queries.py`` holds every
figure the written report shows to DuckDB over its store, on sets that meet both rules and sets that do not).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from xlcomplaints.core.metrics.periods import Period, PeriodKind
from xlcomplaints.report.facts import StoreError, read_manifest
from xlcomplaints.report.file_summary import DEFAULT_REPEAT_WINDOW
from xlcomplaints.store.facts_sql import connect_parquet
from xlcomplaints.store.figures import ALL, Facts, Grouping, Key
from xlcomplaints.store.merge_sql import count_once, repeats_across_branches
from xlcomplaints.store.partition import PartitionDamaged, checked_bytes, read_table
from xlcomplaints.store.schema import BRANCHES, SchemaMismatch


def connect_store(store: Path | str, memory_limit: str | None = None) -> tuple[duckdb.DuckDBPyConnection, Period]:
    """A DuckDB connection over the store's checked partitions, and the period the store was written for
    (its durations are measured for that period and the one before). Raises ``StoreError`` for a store
    edited, cut short or of another version."""
    folder = Path(store)
    m = read_manifest(folder)
    paths: list[str] = []
    for part in m.branch_partitions(folder):
        if paths and paths[-1] == part.path:  # a pack's next branch
            continue
        try:
            checked_bytes(part)  # the bytes recorded, or refused; DuckDB then reads the file checked
        except PartitionDamaged as err:
            raise StoreError(f"{folder.name}: {err}") from err
        paths.append(part.path)
    try:
        windows = {r["branch"]: r["repeat_window_days"]
                   for r in read_table(m.branches.partition(folder), BRANCHES).to_pylist()}
    except PartitionDamaged as err:
        raise StoreError(f"{folder.name}: {err}") from err
    kind = PeriodKind(m.period_kind)
    period = Period.parse(m.period)
    if period.kind is not kind:
        raise StoreError(f"{folder.name}: holds {m.period} ({m.period_kind})")
    try:
        con = connect_parquet(paths, memory_limit=memory_limit)
    except SchemaMismatch as err:  # a partition whose hash was forged with its manifest's
        raise StoreError(f"{folder.name}: {err}") from err
    count_once(con)
    repeats_across_branches(con, windows, DEFAULT_REPEAT_WINDOW)
    return con, period


def figures_from_store(store: Path | str, period: Period | None = None, by: Grouping = ALL,
                       memory_limit: str | None = None) -> dict[str, dict[Key, tuple[Any, Any]]]:
    """Every registered figure of ``period`` (default: the store's own) and the previous one, by group. The
    store's facts are those of its run: times taken are measured for its period and the one before only, and
    statuses are as of its as-of time, so another period's durations are None and its as-of figures the run's."""
    con, held = connect_store(store, memory_limit)
    try:
        return Facts(con).cover(period or held, by)
    finally:
        con.close()
