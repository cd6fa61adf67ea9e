"""The facts store's ``CASES`` table as the three relations the report's queries read (DuckDB, in process).

``store.schema.CASES`` holds one row per complaint, its stages as a list of seven (``stages[4].done``: the
resolve stage's, in ``core.policy.STAGES`` order) and its reached callbacks as a list. The queries (``store.queries``) read it as:

- ``cases``: one row per complaint — ``cid`` (its place in the input: the order the Python engine meets
  it in, which breaks ties between units), ``origin`` (the row it was read from: ``cid`` until
  ``store.merge_sql.count_once`` puts a record in another's place), ``branch``, ``no``, its dimensions (``case_type`` …
  ``department``, ``case_handler``: the Register's 处理人), ``received`` (``received_at``), ``closed`` (the
  close stage's done time), ``handler_of_record`` (the resolve stage's handler), ``office`` (the office's
  own columns), ``customer``, ``phone`` (as the store has it: masked unless ``--show-contacts``; what
  repeats across branches are found by), ``escalated``, ``repeat_of``, ``reopen_count``, and ``handled`` (validity is not 无效;
  blank counts as handled, as ``Case.handled`` says);
- ``stages``: one row per complaint and built-in stage (``core.policy.STAGES``, ``idx`` its place),
  ``status``, ``due``, ``done``, ``late_by``, ``unit``, ``took``, ``handler``, and its complaint's
  ``branch``, ``handled`` and ``closed``;
- ``callbacks``: one row per reached callback attempt, ``seq`` its place in the complaint's list
  (by time; of one time, in sheet order), ``at``, ``outcome``, ``score``, and its complaint's ``branch``,
  ``handled`` and ``closed``;
- ``custom``: one row per office's own stage that applies to a complaint (``Case.custom``), ``pos`` its
  place, ``name``, ``label_en``, ``status``, ``due``, ``done``, ``unit``;
- ``office``: one row per report dimension of the office's own columns (``Case.office``), ``pos``,
  ``name``, ``value``.

The engine's codes the queries filter, group and join on are DuckDB ``ENUM``s (``CODES``): ``stages.stage``,
``stages.status`` and ``stages.unit``; the rest is text as the store has it.

Times are ``TIMESTAMP`` (wall-clock, no time zone), made from the whole ticks the store keeps them in
(``store.ticks``: ``_TIMES``, ``_FLAT`` and the callbacks' and custom stages' tables). They are made once per
connection, read once from the ``CASES`` rows and an ``ordinal``: an Arrow table in memory
(``connect_table``) or the store's Parquet partitions (``connect_parquet``, in the order given, rows in file
order) — the same SQL over either. Only the columns named in ``_READ`` are read (and the stages' as ``_FLAT``), the
stages' first, then the others' (``_load``); DuckDB keeps the tables in its own columnar form and, past
``memory_limit``, spills them to its temporary folder (out of core).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.status import StageStatus
from xlcomplaints.store import ticks
from xlcomplaints.store.schema import SchemaMismatch

#: A stage's fields, as ``schema.STAGE`` has them.
_FIELDS = ("status", "due", "done", "late_by", "unit", "took", "handler")


#: The engine's codes kept as DuckDB ``ENUM``s (type name → its values), from the code's own enums: a byte a row
#: instead of a string, so each scan of the 7,000,000 stages of 1,000,000 complaints that filters or groups on them
#: costs less (docs/benchmarks.md, h27e). Each type's values are declared in the order of their text (``sorted``,
#: byte order of these ASCII codes), so an ``ORDER BY``, ``min`` or comparison gives what the text would; a value
#: not among them refuses the store (``SchemaMismatch``), as ``schema.from_table`` does.
CODES: dict[str, tuple[str, ...]] = {
    "stage_code": tuple(sorted(STAGES)),
    "stage_status": tuple(sorted(s.value for s in StageStatus)),
    "unit_code": tuple(sorted(u.value for u in Unit)),
}
#: A stage's fields kept as a code, and the type each is (the stage's name is ``stage_code``).
_FIELD_CODE = {"status": "stage_status", "unit": "unit_code"}


def _stage(stage: str, field: str) -> str:
    """A stage's field as the ``facts`` table holds it: one column per stage and field (``s3_handler``: the resolve
    stage's handler), each read once from the complaint's ``stages`` list (``_FLAT``)."""
    return f"s{STAGES.index(stage)}_{field}"


_CLOSED = _stage("close", "done")
#: The columns of ``cases`` (a stage or callback meets them through its ``cid``).
_CASE = ("branch", "no", "case_type", "channel", "category", "severity", "validity", "department",
         "handler AS case_handler", f"{_stage('resolve', 'handler')} AS handler_of_record", "office",
         f"{_CLOSED} AS closed", "validity IS DISTINCT FROM 'invalid' AS handled")
_CASE_COLUMNS = ", ".join(_CASE)
#: Of ``CASES``, the columns read: the rest (typical-case texts, due months, escalation …) stays in the files.
_READ = ("branch", "no", "customer", "phone", "case_type", "channel", "category", "severity", "validity", "department",
         "handler", "escalated", "repeat_of", "reopen_count", "callbacks", "custom", "office")
#: The times as ``TIMESTAMP``s, from the ticks the files keep (``store.ticks``, ``ticks.sql``): ``received`` (the
#: complaint's), ``_base`` (µs since 1970 the others count from: the midnight of its receipt), ``_ticks`` (µs per tick of each).
_TIMES = (f"{ticks.sql('received_at', 'received')} AS received", "_base",
          "ticks AS _ticks")


def _flat(i: int, field: str) -> str:
    """The ``i``-th stage's ``field`` (from 0) read from the list: times as ``TIMESTAMP``s, codes as their ``ENUM``."""
    item = f"stages[{i + 1}].{field}"
    if field in ("due", "done"):
        return ticks.sql(item, field, "_base")
    return f"{item}::{_FIELD_CODE[field]}" if field in _FIELD_CODE else item


#: The ``stages`` list read as 49 plain columns (``stages[4].handler AS s3_handler``: DuckDB counts from 1), in the
#: one pass that reads the files.
_FLAT = tuple(f"{_flat(i, f)} AS {_stage(s, f)}" for i, s in enumerate(STAGES) for f in _FIELDS)

#: ``cases``, ``callbacks``, ``custom`` and ``office`` made from ``{facts}``: a relation holding the ``CASES`` row's
#: columns they use (``_READ``, ``_TIMES``) and, for the first two, its stages' ``_OF_STAGES``.
CASES_VIEW = ("CREATE OR REPLACE TEMP TABLE cases AS SELECT ordinal AS cid, ordinal AS origin, " + _CASE_COLUMNS +
              ", customer, phone, received, escalated, repeat_of, reopen_count FROM {facts}")

#: Of its complaint, what each stage's and callback's row holds too: the whole set's and each branch's figures
#: read them without a join (``store.figures.Grouping.local``).
_OWN = f"branch, validity IS DISTINCT FROM 'invalid' AS handled, {_CLOSED} AS closed"

#: One projection per stage, of plain columns, so ``stages`` is stored stage by stage: a query of one stage
#: (``s.stage = 'resolve'``) skips the others' row groups. Buys, at 1,000,000 complaints (docs/benchmarks.md): the
#: seven projections ``stages[i].field`` of the list column (schema 3's first loader) read the list seven times, 7–8.5 s
#: of CPU; one ``unnest`` of it took 2.5 s but mixed the stages (each one-stage query then read all seven: the times
#: taken 0.9 s instead of 0.14 s a query); the list read once as ``_FLAT`` and projected stage by stage: 2.8 s, the
#: queries as fast as before. The same rows as the plain reading (``tests/test_facts_store.py``'s
#: ``test_stages_as_the_list_has_them``).
STAGES_VIEW = "CREATE OR REPLACE TEMP TABLE stages AS " + "\nUNION ALL ".join(
    f"SELECT ordinal AS cid, '{s}'::stage_code AS stage, {i} AS idx, "
    + ", ".join(f"{_stage(s, f)} AS {f}" for f in _FIELDS)
    + f", {_OWN} FROM facts" for i, s in enumerate(STAGES))

CALLBACKS_VIEW = (
    "CREATE OR REPLACE TEMP TABLE callbacks AS SELECT cid, seq, make_timestamp(_base + cb.at * _ticks.at) AS at, "
    "cb.outcome AS outcome, cb.score AS score, branch, handled, closed FROM (SELECT ordinal AS cid, "
    f"unnest(callbacks) AS cb, generate_subscripts(callbacks, 1) AS seq, _base, _ticks, {_OWN} FROM {{facts}})")

CUSTOM_VIEW = (
    "CREATE OR REPLACE TEMP TABLE custom AS SELECT cid, pos, x.name AS name, x.label_en AS label_en, "
    "x.status AS status, make_timestamp(_base + x.due * _ticks.due) AS due, "
    "make_timestamp(_base + x.done * _ticks.done) AS done, x.unit AS unit FROM (SELECT ordinal AS cid, "
    "unnest(custom) AS x, generate_subscripts(custom, 1) AS pos, _base, _ticks FROM {facts})")

OFFICE_VIEW = (
    "CREATE OR REPLACE TEMP TABLE office AS SELECT cid, pos, x.name AS name, x.value AS value FROM "
    "(SELECT ordinal AS cid, unnest(office) AS x, generate_subscripts(office, 1) AS pos FROM {facts})")


#: A row's ordinal in ``read_parquet(files, file_row_number = true)``: its file's place in the list (from 1) << 32,
#: plus its row in the file. ``file_index`` is DuckDB's own column for the file's place (from 0); looking the
#: file's name up in the list of 2,000 names instead cost about 1,000 string comparisons a row (issue 22).
ORDINAL = "((file_index + 1)::BIGINT << 32) + file_row_number"


#: A join of a condition other than equality whose smaller side has fewer rows than this is a nested loop (DuckDB's
#: default: 5). A figure's periods are such a side: two for the cover, twelve for the trend, which DuckDB joined to the
#: 7,000,000 stages of 1,000,000 complaints by sorting them (a piecewise merge join); comparing each row with twelve
#: periods costs less. Buys: the trend at 1 M took 2.5–2.6 s of CPU instead of 4.9–5.1 s (docs/benchmarks.md); the
#: same rows (``tests/test_store_queries.py``'s ``test_the_trend_by_nested_loops_or_merge_joins``).
NESTED_LOOP_ROWS = 64


def _views(con: duckdb.DuckDBPyConnection, source: str) -> duckdb.DuckDBPyConnection:
    """The relations, made once from ``source`` (only the columns used, into DuckDB's own tables: ``_load``).

    No query relies on the order DuckDB keeps rows in (each orders what it gives, by ``cid`` where the engine's
    order matters), so DuckDB is told not to keep it: reading 1,000 partitions (500,000 complaints) then took
    6.5 s of CPU instead of 10.3 s and peaked at 403 MiB instead of 436 (docs/benchmarks.md)."""
    con.execute("SET enable_progress_bar = false")  # DuckDB prints one on the console past 2 s: not ours to show
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET nested_loop_join_threshold = {NESTED_LOOP_ROWS}")
    declare_codes(con)
    _load(con, f"(SELECT *, {ticks.DAY_SQL} AS _base FROM {source})")  # a row's day made once
    return con


#: Of a complaint's stages, what ``cases`` and ``callbacks`` hold too (``_CASE``, ``_OWN``), kept by ``_load``.
_OF_STAGES = ("ordinal", _stage("resolve", "handler"), _CLOSED)


def _load(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """``cases``, ``stages``, ``callbacks``, ``custom`` and ``office`` from ``rows`` (``CASES`` rows with their
    ``ordinal`` and ``_base``), ``stages`` first: a speed trick, fenced here.

    Plainly, one ``facts`` table would hold every column the relations use (``_READ``, ``_TIMES``, ``_FLAT``) and
    each relation be made from it. Here ``facts`` holds only what ``stages`` is made from (``_FLAT``, and the
    complaint's ``branch`` and ``validity``); once ``stages`` is made, it is dropped, keeping ``_OF_STAGES``; then
    ``cases`` and ``callbacks`` are read from ``rows`` again, joined to those by ``ordinal``, and ``custom`` and
    ``office`` read from ``rows`` alone. The files' other columns cost little to read again (0.25 s of CPU at
    1,000,000 complaints); what this spares is a table of them held beside the stages and written past DuckDB's
    memory limit to its temporary folder (zstd-compressed by DuckDB as it spills). Buys, at 1,000,000 complaints
    (the 100 packs of a bench store, 192 MB, alternating four times, docs/benchmarks.md "The store's load at
    1,000,000 complaints"): 6.3–6.8 s of CPU instead of 7.8–8.6 s, the same peak. The same relations, row for row
    (``tests/test_facts_store.py``'s ``test_the_load_gives_the_relations_one_facts_table_gives``)."""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE facts AS SELECT ordinal, branch, validity, {', '.join(_FLAT)} "
                    f"FROM {rows}")
    except duckdb.ConversionException as e:  # a code not of its ENUM (a store edited, or of a later code)
        raise SchemaMismatch(f"cases: a value the store does not write ({str(e).splitlines()[0]})") from None
    con.execute(STAGES_VIEW)
    con.execute(f"CREATE OR REPLACE TEMP TABLE of_stages AS SELECT {', '.join(_OF_STAGES)} FROM facts")
    con.execute("DROP TABLE facts")
    cases = ", ".join(c for c in _READ if c not in ("callbacks", "custom")) + ", " + _TIMES[0]
    for sql, columns in ((CASES_VIEW, cases), (CALLBACKS_VIEW, "branch, validity, callbacks, _base, ticks AS _ticks")):
        con.execute(sql.format(facts=f"(SELECT * FROM (SELECT ordinal, {columns} FROM {rows}) "
                                     f"JOIN of_stages USING (ordinal))"))
    con.execute("DROP TABLE of_stages")
    con.execute(CUSTOM_VIEW.format(facts=f"(SELECT ordinal, custom, _base, ticks AS _ticks FROM {rows})"))
    con.execute(OFFICE_VIEW.format(facts=f"(SELECT ordinal, office FROM {rows})"))


def declare_codes(con: duckdb.DuckDBPyConnection) -> None:
    """``CODES``'s ``ENUM`` types, made (again) in ``con``."""
    for name, values in CODES.items():
        con.execute(f"CREATE OR REPLACE TYPE {name} AS ENUM ({', '.join(map(_literal, values))})")


def connect_table(table: pa.Table, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A connection whose ``facts`` is ``table`` (a ``CASES`` table, e.g. ``schema.to_table(cases)``)."""
    con = con or duckdb.connect()
    facts = table.append_column("ordinal", pa.array(range(table.num_rows), pa.int64()))
    con.register("facts_arrow", facts)
    try:
        return _views(con, "facts_arrow")
    finally:
        con.unregister("facts_arrow")


def connect_parquet(paths: Sequence[Path | str], con: duckdb.DuckDBPyConnection | None = None,
                    memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection whose ``facts`` are the Parquet files ``paths`` (the store's partitions), read where
    they lie: DuckDB streams them and spills to disk past ``memory_limit`` (out of core). Each row's ``branch`` is
    the file's own, not its folder's name (``branch=…``: no hive partitioning), so a partition checked by its hash
    only is still checked for its branch once loaded."""
    con = con or duckdb.connect()
    con.execute(f"SET temp_directory = {_literal(str(temp_folder()))}")
    if memory_limit:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
    if not paths:
        raise ValueError("no facts: the store has no partition")
    files = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    return _views(con, f"(SELECT *, {ORDINAL} AS ordinal FROM read_parquet({files}, file_row_number = true, "
                       f"hive_partitioning = false))")


def temp_folder() -> Path:
    """Where DuckDB spills past its memory limit: a folder in the system's temporary folder (``TMPDIR``, ``TEMP``)."""
    return Path(tempfile.gettempdir()) / "xlcomplaints-duckdb"


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
