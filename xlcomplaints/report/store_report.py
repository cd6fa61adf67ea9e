"""A consolidation's report computed from its facts store (DuckDB), the main process holding no branch's cases.

``report_from_store`` gives the same ``MonthlyReport`` as ``report.summary.build`` over the merged cases
(``tests/test_store_report.py`` compares the two workbooks cell for cell): every figure and table is a
``store.figures.Facts`` query over the partitions the workers wrote; the lists that print a complaint's
details (Overdue detail, Closed late, Typical cases) fetch only the rows they print, read back from their
partitions as ``Case``s (``rows_of``). What stays in Python, as its inputs are small: the earlier reports
(``--history``: their trend rows and the previous period's cover, read from those workbooks), the By-handler
ranking (over the handlers' rows), the order of the By-branch sheet, and the warnings for complaint numbers
met in more than one branch (``duplicate_issues``: over the few rows holding such a number).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xlcomplaints.core import metrics as M
from xlcomplaints.core.metrics import GroupRow, Period, TrendRow
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.errors import XlcError
from xlcomplaints.report.facts import StoreError
from xlcomplaints.report.file_summary import DEFAULT_REPEAT_WINDOW, FileSummary
from xlcomplaints.report.merging import Consolidation, _problem
from xlcomplaints.report.summary import (
    COVER_KEYS,
    DIMENSIONS,
    Branch,
    Cover,
    MonthlyReport,
    Texts,
    TypicalRow,
    breakdown_rows,
    cover_row,
    merge_history,
    previous_counts,
)
from xlcomplaints.spec.report import office_dimension
from xlcomplaints.spec.vocab import Vocabulary
from xlcomplaints.store import ticks
from xlcomplaints.store.facts_sql import ORDINAL, _literal, connect_parquet, temp_folder
from xlcomplaints.store.figures import BY_DEPARTMENT, BY_HANDLER, Facts, by_office_column
from xlcomplaints.store.figures import DIMENSIONS as FIELDS
from xlcomplaints.store.merge_sql import (
    count_once,
    numbers_in_two_branches,
    repeats_across_branches,
)
from xlcomplaints.store.partition import Partition
from xlcomplaints.store.queries import DUE_CUT, MISSED_CUT
from xlcomplaints.store.schema import CASES, SchemaMismatch, from_table

#: DuckDB's memory in the main process: past it, its tables spill to its temporary folder (out of core), so the
#: head office's process stays small whatever the number of complaints. The main process's peak follows it
#: (500,000 complaints: 479 MiB at 256 MB, 318 MiB at 128 MB, for 16 % more CPU; README, Benchmarks).
MEMORY_LIMIT = "192MB"
#: ... and as much for every 1,000,000 complaints loaded past the first: a fixed limit is too small for some of the queries'
#: operators that cannot spill (a consolidation of 10,000,000 complaints stopped on DuckDB's "Out of Memory" at
#: 192 MB, issue 22's 20,000-branch run); 192 MB held at 1,000,000 and the operators' need grows with the rows.
_LIMIT_PER_MILLION_MB = 192


#: The environment variable that gives DuckDB another memory limit than ``memory_limit_for``'s (``4GB``, ``1500MB``):
#: for a head office whose consolidation stopped on DuckDB's Out of Memory on a PC with more to give. Checked before
#: any file is read (``check_memory_setting``).
MEMORY_VARIABLE = "XLCOMPLAINTS_DUCKDB_MEMORY"
_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)

register_messages({
    "report.query_no_memory": (
        "汇总报表的查询引擎（DuckDB）内存不足，报表未写出，汇总数据目录未改动：它的内存上限为 {limit}，超出部分写到临时"
        "文件夹 {temp} 也没能完成（{detail}）。可以：分批汇总（例如各区域先汇总各自的网点，总部再汇总各区域）；在内存更多的"
        "电脑上运行，或用环境变量 " + MEMORY_VARIABLE + " 给它更多内存（如 4GB）；并确保 {temp} 所在磁盘有足够空间"
        "（环境变量 TMPDIR 或 TEMP 可把它改到空间充足的磁盘）。",
        "The report's query engine (DuckDB) ran out of memory: no report was written and the facts store is "
        "unchanged. Its memory limit was {limit}, and spilling past it to the temporary folder {temp} did not "
        "suffice ({detail}). Consolidate in smaller batches (each region its branches, then head office the "
        "regions), run it on a PC with more memory or give DuckDB more with the environment variable "
        + MEMORY_VARIABLE + " (4GB, say), and make sure the disk of {temp} has room (the environment variable "
        "TMPDIR or TEMP can move it to another disk)."),
    "report.memory_setting": (
        "环境变量 " + MEMORY_VARIABLE + " 的值 {value} 不是内存大小（应如 4GB、1500MB）；未读取任何文件，未写出报表。",
        "The environment variable " + MEMORY_VARIABLE + " is {value}, not an amount of memory (4GB or 1500MB, "
        "say); no file was read and no report written."),
})


class QueryMemoryError(XlcError):
    """DuckDB ran out of the memory it was given while computing a consolidation's report (and spilling to its
    temporary folder did not help), or ``XLCOMPLAINTS_DUCKDB_MEMORY`` is not an amount: a refusal (exit code 2),
    nothing written. ``code``: ``report.query_no_memory`` (``params``: ``limit``, ``temp``, ``detail``) or
    ``report.memory_setting``."""


def memory_limit_for(complaints: int) -> str:
    """DuckDB's memory limit for ``complaints`` loaded: ``MEMORY_LIMIT``, and as much again for every further
    1,000,000 (10,000,000 complaints: 1,920 MB)."""
    return f"{max(1, -(-complaints // 1_000_000)) * _LIMIT_PER_MILLION_MB}MB"


def check_memory_setting() -> str | None:
    """``XLCOMPLAINTS_DUCKDB_MEMORY`` as given (None: not set); ``QueryMemoryError`` if it is not an amount."""
    value = os.environ.get(MEMORY_VARIABLE, "").strip()
    if not value:
        return None
    if not _AMOUNT.fullmatch(value):
        raise QueryMemoryError("report.memory_setting", value=value)
    return value.replace(" ", "")


def report_memory(merged: Consolidation) -> str:
    """DuckDB's memory for the report of ``merged``: ``XLCOMPLAINTS_DUCKDB_MEMORY`` if set, else ``memory_limit_for``
    the complaints its partitions hold."""
    return check_memory_setting() or memory_limit_for(
        sum(f.partition.rows for f in merged.branches.values() if f.partition is not None))


@contextlib.contextmanager
def said_out_of_memory(limit: str) -> Iterator[None]:
    """DuckDB's Out of Memory, met computing a report at ``limit``, said as ``QueryMemoryError``."""
    try:
        yield
    except duckdb.OutOfMemoryException as e:
        detail = str(e).split("\n", 1)[0].removeprefix("Out of Memory Error: ").strip()
        raise QueryMemoryError("report.query_no_memory", limit=limit, temp=str(temp_folder()), detail=detail) from e


#: The tables ``store.facts_sql`` loads (``merge_sql`` adds and drops its own as it goes).
_LOADED = ("cases", "stages", "callbacks", "custom", "office")
#: Rows made ``Case``s at a time (``rows_of``): ``from_table``'s columns as Python lists, on the way to the cases, for
#: this many rows only, not for every listed row at once (issue 22, h24m: docs/benchmarks.md).
_CHUNK = 10_000
_ROW_BITS = 32  # ``store.facts_sql.ORDINAL``: a row's ordinal is (its file's place, from 1, << 32) + its row


def origins(facts: Facts, cids: Sequence[int]) -> dict[int, int]:
    """Of each complaint ``cids``, the row its record is read from: the record kept where a number was met twice
    (``cases.origin``, ``store.merge_sql.count_once``)."""
    if not cids:
        return {}
    return dict(facts.con.execute("SELECT cid, origin FROM cases WHERE cid IN (SELECT unnest($ids))",
                                  {"ids": list(set(cids))}).fetchall())


def release(facts: Facts) -> None:
    """DuckDB's loaded tables dropped, once every figure is computed: the memory they hold (DuckDB's whole limit
    once the store outgrows it: 1,920 MB at 10,000,000 complaints) given back before the printed lists' rows become
    ``Case``s (``rows_of``), rather than both held at once (issue 22, h24m: docs/benchmarks.md). The connection
    still reads the partitions' files."""
    for table in (*_LOADED, DUE_CUT, MISSED_CUT):  # and the stages' cuts (``Facts._source``)
        facts.con.execute(f"DROP TABLE IF EXISTS {table}")


def rows_of(facts: Facts, paths: Sequence[str | Path], origin: Mapping[int, int],
            texts_of: Sequence[int] = ()) -> dict[int, tuple[M.Case, Texts]]:
    """The complaints of ``origin`` (each cid's row: ``origins``) as ``Case``s, read from the partitions they came
    from (only those rows, in one DuckDB scan of the files holding them: a file read on its own costs more to open
    than its rows do, issue 22); with their typical-case texts for those in ``texts_of`` (else none), read from
    the typical cases' files alone. Reads the files only, none of DuckDB's tables (``release``)."""
    if not origin:
        return {}
    table, wanted = _rows_at(facts, paths, sorted(set(origin.values())))
    table = table.select(CASES.names).cast(CASES)
    cases = [c for batch in table.to_batches(_CHUNK) for c in from_table(pa.Table.from_batches([batch]))[0]]
    del table
    by_origin = dict(zip(wanted, cases, strict=True))
    worded = {origin[cid] for cid in texts_of if cid in origin}
    texts: dict[tuple[int, str, str], Texts] = {}
    if worded:  # by number in the typical case's file, as the branch's summary held them (the last row wins)
        held = sorted({o >> _ROW_BITS for o in worded})
        rows = facts.con.sql(
            f"SELECT file_index AS k, branch, no, arg_max(texts, file_row_number) AS texts FROM "
            f"{_source(paths, held)} WHERE no IS NOT NULL AND texts IS NOT NULL GROUP BY ALL").fetchall()
        texts = {(held[k], branch, no): tuple(words.values()) for k, branch, no, words in rows}  # a pack's branches
    out: dict[int, tuple[M.Case, Texts]] = {}
    for cid, o in origin.items():
        c = by_origin[o]
        out[cid] = (c, texts.get((o >> _ROW_BITS, c.branch, c.no or ""), ()) if o in worded else ())
    return out


def _source(paths: Sequence[str | Path], held: Sequence[int]) -> str:
    """``read_parquet`` of the files ``held`` (their places in ``paths``, from 1), in that order."""
    files = "[" + ", ".join(_literal(str(paths[f - 1])) for f in held) + "]"
    return f"read_parquet({files}, file_row_number = true, hive_partitioning = false)"


def _rows_at(facts: Facts, paths: Sequence[str | Path], at: Sequence[int]) -> tuple[pa.Table, list[int]]:
    """The rows of the ordinals ``at`` (``store.facts_sql.ORDINAL`` over ``paths``), read from the files holding
    them alone, and each row's ordinal."""
    held = sorted({o >> _ROW_BITS for o in at})
    place = {f: k for k, f in enumerate(held, start=1)}  # a file's place among those read, from 1
    low = (1 << _ROW_BITS) - 1
    table = facts.con.sql(f"SELECT * EXCLUDE (file_row_number), {ORDINAL} AS _at FROM {_source(paths, held)} "
                          "WHERE _at IN (SELECT unnest($at))",
                          params={"at": [(place[o >> _ROW_BITS] << _ROW_BITS) + (o & low) for o in at]}
                          ).to_arrow_table()
    return table, [(held[(a >> _ROW_BITS) - 1] << _ROW_BITS) + (a & low) for a in table.column("_at").to_pylist()]


def duplicate_issues(facts: Facts, names: Mapping[str, str], rows: list[tuple[str, str, int, int]] | None = None,
                     ) -> list[Problem]:
    """``merging._count_once``'s warnings (a number in two branches' files, which one was kept), from the
    rows holding such a number (``rows``: ``store.merge_sql.numbers_in_two_branches``, asked once for both), in the
    order the consolidation meets them. ``names``: branch → its file's name. Asked before
    ``store.merge_sql.count_once`` changes the tables."""
    kept: dict[str, tuple[str, int]] = {}
    out = []
    for no, branch, _, done in numbers_in_two_branches(facts.con) if rows is None else rows:
        if no not in kept:
            kept[no] = (branch, done)
            continue
        first, first_done = kept[no]
        if first == branch:
            continue
        winner = branch if done > first_done else first
        out.append(_problem("report.duplicate_no", names[branch], Level.WARNING, no=no, branch=branch,
                            other=names[first], other_branch=first, kept=names[winner]))
        if winner == branch:
            kept[no] = (branch, done)
    return out


def report_from_store(facts: Facts, paths: Sequence[str | Path], month: Period, as_of: datetime, *,
                      branches: Sequence[Branch],
                      issues: Sequence[Problem] = (), history: Mapping[Period, TrendRow] | None = None,
                      contacts_shown: bool = False, previous_cover: Cover | None = None,
                      dimensions: tuple[tuple[str, Vocabulary | None], ...] = DIMENSIONS,
                      rank_min: int = 5, relabelled: Callable[[M.Case], M.Case] | None = None) -> MonthlyReport:
    """``report.summary.build``'s report from ``facts`` (the store's partitions ``paths``, in the order
    connected, the consolidation's rules applied): the same figures, rows and order. ``relabelled``: what a
    complaint read back from its partition becomes once head office's lists are put on it, as the tables have
    it (``report.imposed.impose_on_store``)."""
    prev = month.shift(-1)
    partial = facts.partial_from(prev)
    received_prev = facts.metric("received", [prev])[0].get(None) or 0
    earlier = previous_cover if previous_cover is not None and not received_prev else None
    figures = facts.cover(month, keys=COVER_KEYS)
    units = facts.units()
    cover = []
    for key in COVER_KEYS:
        m = M.METRICS[key]
        unit: str | None = next(iter(units.get(m.stage) or ()), None) if m.kind == "duration" and m.stage else None
        value, previous = figures[key][None]
        cover.append(cover_row(key, value, previous, unit, earlier))
    office = facts.office_dimensions()
    facts.prefetch_breakdowns(month, [d for d, _ in dimensions if d in FIELDS] + [by_office_column(n) for n in office])
    breakdowns = breakdown_rows(dimensions, earlier, branches,
                                lambda dim, order, counts: facts.breakdown(month, dim, order, previous=counts))
    handlers = facts.people(month, BY_HANDLER)
    departments = facts.people(month, BY_DEPARTMENT, [g.key for g in breakdowns["department"]])
    breakdowns["department"] += [GroupRow(r.key, 0, 0, None, 0) for r in departments[len(breakdowns["department"]):]]
    for name in office:
        breakdowns[office_dimension(name)] = facts.breakdown(month, by_office_column(name),
                                                             previous=previous_counts(earlier, office_dimension(name)))
    overdue = facts.overdue_detail(month)
    late = facts.closed_late(month)
    typical = facts.typical(month)
    custom_stages = facts.custom_labels()
    backlog_ages = (facts.backlog_ages(month)[None], (
        earlier.backlog_ages if earlier is not None and earlier.backlog_ages is not None
        else facts.backlog_ages(prev)[None]))
    stages, trend, unreadable = facts.stage_table(month), facts.trend(month), facts.unreadable_received()
    origin = origins(facts, [c for c, _ in overdue] + late + [c for c, _ in typical])
    release(facts)  # every figure is computed: DuckDB's memory back before the listed rows are made
    fetched = rows_of(facts, paths, origin, [c for c, _ in typical])
    if relabelled is not None:
        fetched = {cid: (relabelled(c), texts) for cid, (c, texts) in fetched.items()}
    return MonthlyReport(
        office_dimensions=office, custom_stages=custom_stages,
        month=month, as_of=as_of, branches=sorted(branches, key=lambda b: b.code), cover=cover,
        breakdowns=breakdowns, backlog_ages=backlog_ages, stages=stages,
        overdue=[_deadline(fetched[cid][0], stage) for cid, stage in overdue],
        closed_late=[fetched[cid][0] for cid in late],
        trend=merge_history(trend, history or {}), issues=list(issues),
        contacts_shown=contacts_shown,
        typical=[TypicalRow(fetched[cid][0], reasons, fetched[cid][1]) for cid, reasons in typical],
        previous_from=earlier.file if earlier else None,
        previous_partial=partial if earlier is None else None,
        unreadable_received=unreadable, dimensions=dimensions,
        handlers=handlers, ranking=M.ranking(handlers, rank_min), rank_min=rank_min,
        departments={r.key: r for r in departments},
    )


def _deadline(c: M.Case, stage: str) -> M.Deadline:
    """A row of the Overdue detail: a built-in stage's facts, or the office's own stage's."""
    if stage in STAGES:
        return M.Deadline(c, stage, c.stage(stage))
    return next(M.Deadline(c, name, fact) for name, _, fact in c.custom_stages() if name == stage)


def computable(merged: Consolidation) -> bool:
    """Whether the report can be computed from the store: every branch's facts in a partition the main
    process did not read back (a region's branches too: copied, or masked, into the run's staging folder)."""
    return bool(merged.branches) and all(f.partition is not None and not f.cases for f in merged.branches.values())


def holds_received(f: FileSummary, month: Period) -> bool:
    """Whether a summary's partition holds a complaint received in ``month`` (its received times alone read)."""
    if f.cases or f.partition is None:
        return any(c.received_at is not None and M.stamp(month.start) <= c.received_at < M.stamp(month.end)
                   for c in f.cases)
    p = f.partition
    table = pq.read_table(p.path, columns=["received_at", "ticks"])  # store.ticks
    table = (table if p.held is None else table.slice(p.first, p.rows)).combine_chunks()  # its rows of its pack
    at, _ = ticks.decode(table.column("received_at").chunk(0), pc.struct_field(table.column("ticks").chunk(0), "received"), {})
    column = at.cast(pa.timestamp("us"))
    start, end = pa.scalar(month.start, column.type), pa.scalar(month.end, column.type)
    return bool(pc.any(pc.and_(pc.greater_equal(column, start), pc.less(column, end))).as_py())


def connect_merged(merged: Consolidation, memory_limit: str | None = None,
                   ) -> tuple[Facts, list[str], list[Problem]]:
    """DuckDB over the merged branches' partitions in branch order (as ``merging.merge`` meets them), the
    consolidation's rules across branches applied (``store.merge_sql``; ``merged.counted`` set to the complaints
    left); the warnings they give. DuckDB's memory: ``memory_limit``, else ``report_memory(merged)`` (the rows
    loaded, or ``XLCOMPLAINTS_DUCKDB_MEMORY``); its Out of Memory is raised as it is (``said_out_of_memory``).
    Raises ``StoreError`` for a partition that is not its branch's rows, as many as
    recorded (a kept partition is checked by its size and hash only, not parsed: ``report.facts.load_facts``)."""
    codes = sorted(merged.branches)
    parts = [merged.branches[code].partition for code in codes]
    paths = files_of(parts)  # type: ignore[arg-type]
    limit = memory_limit or report_memory(merged)
    try:
        facts = Facts(connect_parquet(paths, memory_limit=limit))
    except duckdb.OutOfMemoryException:
        raise
    except (duckdb.Error, SchemaMismatch) as e:  # a partition whose hash was forged with its manifest's: not our table
        raise StoreError(f"a partition is not a facts table ({e})") from e
    try:
        _check_loaded(facts, codes, parts, paths)  # type: ignore[arg-type]
    except StoreError:
        facts.con.close()
        raise
    twice = numbers_in_two_branches(facts.con)  # asked once for the warnings and the rule
    issues = duplicate_issues(facts, {code: merged.branches[code].name for code in codes}, twice)
    count_once(facts.con, twice)
    merged.counted = facts.con.execute("SELECT count(*) FROM cases").fetchone()[0]  # type: ignore[index]
    repeats_across_branches(facts.con, {code: merged.branches[code].repeat_window_days for code in codes},
                            DEFAULT_REPEAT_WINDOW)
    return facts, paths, issues


def files_of(parts: Sequence[Partition]) -> list[str]:
    """The files of ``parts`` (in branch order), each once, in that order: a pack's branches side by side
    (``store.pack``), so the files' rows, read one after the other, are the branches' in order. ``StoreError``
    if a file's branches are not side by side."""
    paths: list[str] = []
    for p in parts:
        if not paths or paths[-1] != p.path:
            paths.append(str(p.path))
    if len(set(paths)) != len(paths):
        raise StoreError("a pack's branches are not side by side")
    return paths


def _check_loaded(facts: Facts, codes: Sequence[str], parts: Sequence[Partition], paths: Sequence[str]) -> None:
    """Each branch's rows, as DuckDB loaded them (the ``n``-th file's rows have ``cid >> 32 == n``, their row in
    it ``cid`` past that), are its branch's, as many as recorded and where recorded in its pack, and every row
    of every file is a branch's so named: one query over the loaded complaints, instead of parsing every kept
    partition a second time in Python (found by h23u: 2,000 partitions checked in 0.4 s by their hash)."""
    low = (1 << _ROW_BITS) - 1
    found = {(pos, branch): (lo, hi, n) for pos, branch, lo, hi, n in facts.con.execute(
        f"SELECT cid >> {_ROW_BITS}, branch, min(cid & {low}), max(cid & {low}), count(*) FROM cases GROUP BY ALL"
    ).fetchall()}
    place = {path: k for k, path in enumerate(paths, 1)}
    wanted = {(place[p.path], code): (p.first, p.first + p.rows - 1, p.rows)
              for code, p in zip(codes, parts, strict=True) if p.rows}
    if found != wanted:
        wrong = next(key for key in sorted(set(found) | set(wanted), key=lambda k: (k[0], str(k[1])))
                     if found.get(key) != wanted.get(key))
        raise StoreError(f"{Path(paths[wrong[0] - 1]).name}: holds another branch's cases or "
                         "another number of rows than recorded")
