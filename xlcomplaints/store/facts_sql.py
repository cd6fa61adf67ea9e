"""The facts store's ``CASES`` table as the three relations the report's queries read (DuckDB, in process).

``store.schema.CASES`` holds one row per complaint, its stages side by side (``{stage}_status`` …) and its
reached callbacks as a list. The queries (``store.queries``) read it as:

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

Times are ``TIMESTAMP`` (wall-clock, no time zone), as the store keeps them. They are made once per
connection, read once from the ``CASES`` rows and an ``ordinal``: an Arrow table in memory
(``connect_table``) or the store's Parquet partitions (``connect_parquet``, in the order given, rows in file
order) — the same SQL over either. Only the columns named in ``_READ`` are read; DuckDB keeps the tables in
its own columnar form and, past ``memory_limit``, spills them to its temporary folder (out of core).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from xlcomplaints.core.policy import STAGES

#: The columns of ``cases`` (a stage or callback meets them through its ``cid``).
_CASE = ("branch", "no", "case_type", "channel", "category", "severity", "validity", "department",
         "handler AS case_handler", "resolve_handler AS handler_of_record", "office", "close_done AS closed",
         "validity IS DISTINCT FROM 'invalid' AS handled")
_CASE_COLUMNS = ", ".join(_CASE)
#: Of ``CASES``, the columns read: the rest (typical-case texts, due months, escalation …) stays in the files.
_READ = ("branch", "no", "customer", "phone", "received_at", "case_type", "channel", "category", "severity", "validity", "department",
         "handler", "escalated", "repeat_of", "reopen_count", "callbacks", "custom", "office",
         *(f"{s}_{f}" for s in STAGES for f in ("status", "due", "done", "late_by", "unit", "took", "handler")))

CASES_VIEW = ("CREATE OR REPLACE TEMP TABLE cases AS SELECT ordinal AS cid, ordinal AS origin, " + _CASE_COLUMNS +
              ", customer, phone, received_at AS received, escalated, repeat_of, reopen_count FROM facts")

#: Of its complaint, what each stage's and callback's row holds too: the whole set's and each branch's figures
#: read them without a join (``store.figures.Grouping.local``).
_OWN = "branch, validity IS DISTINCT FROM 'invalid' AS handled, close_done AS closed"

STAGES_VIEW = "CREATE OR REPLACE TEMP TABLE stages AS " + "\nUNION ALL ".join(
    f"SELECT ordinal AS cid, '{s}' AS stage, {i} AS idx, {s}_status AS status, {s}_due AS due, {s}_done AS done, "
    f"{s}_late_by AS late_by, {s}_unit AS unit, {s}_took AS took, {s}_handler AS handler, {_OWN} FROM facts"
    for i, s in enumerate(STAGES))

CALLBACKS_VIEW = (
    "CREATE OR REPLACE TEMP TABLE callbacks AS SELECT cid, seq, cb.at AS at, cb.outcome AS outcome, "
    "cb.score AS score, branch, handled, closed FROM (SELECT ordinal AS cid, unnest(callbacks) AS cb, "
    f"generate_subscripts(callbacks, 1) AS seq, {_OWN} FROM facts)")

CUSTOM_VIEW = (
    "CREATE OR REPLACE TEMP TABLE custom AS SELECT cid, pos, x.name AS name, x.label_en AS label_en, "
    "x.status AS status, x.due AS due, x.done AS done, x.unit AS unit FROM (SELECT ordinal AS cid, "
    "unnest(custom) AS x, generate_subscripts(custom, 1) AS pos FROM facts)")

OFFICE_VIEW = (
    "CREATE OR REPLACE TEMP TABLE office AS SELECT cid, pos, x.name AS name, x.value AS value FROM "
    "(SELECT ordinal AS cid, unnest(office) AS x, generate_subscripts(office, 1) AS pos FROM facts)")


def _views(con: duckdb.DuckDBPyConnection, source: str) -> duckdb.DuckDBPyConnection:
    """The relations, made once from ``source`` (read once, only the columns used, into DuckDB's own tables)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE facts AS SELECT ordinal, {', '.join(_READ)} FROM {source}")
    for sql in (CASES_VIEW, STAGES_VIEW, CALLBACKS_VIEW, CUSTOM_VIEW, OFFICE_VIEW):
        con.execute(sql)
    con.execute("DROP TABLE facts")
    return con


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
    con.execute(f"SET temp_directory = {_literal(str(Path(tempfile.gettempdir()) / 'xlcomplaints-duckdb'))}")
    if memory_limit:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
    if not paths:
        raise ValueError("no facts: the store has no partition")
    files = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    return _views(con, f"(SELECT *, (list_position({files}, filename)::BIGINT << 32) + file_row_number AS ordinal "
                       f"FROM read_parquet({files}, filename = true, file_row_number = true, hive_partitioning = false))")


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
