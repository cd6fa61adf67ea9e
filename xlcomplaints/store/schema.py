"""The facts store's tables as Arrow schemas, and ``Case`` ↔ Arrow without loss.

Two tables (what the JSON state file of earlier versions held, by column):

``CASES`` — one row per complaint of one branch file (``core.metrics.Case``), its stages in one list:

- ``branch`` … ``reopen_count``: the ``Case`` fields of the same names (``received_at`` a timestamp);
- ``stages``: one item per stage of ``core.policy.STAGES``, in that order (``acknowledge``, ``first_contact``,
  ``report``, ``resolve``, ``reply``, ``callback``, ``close``: always seven), each (``status``: the engine's status
  code, never null; ``due``, ``done``: timestamps; ``late_by``: in ``unit``; ``unit``: ``Unit`` value, working_days,
  calendar_days, working_hours, calendar_hours…; ``took``: how long it took in that unit, only for stages done in
  the period or the one before; ``handler``: its handler of record). In DuckDB ``stages[4].done`` is the resolve
  stage's done time (lists count from 1). One list rather than 49 columns side by side (as schema version 2
  had them): a complaint's times lie next to each other in the file, which zstd and delta encoding use, and the
  footer describes 7 columns instead of 49 (``store.partition`` says what it measured);
- ``callbacks``: the reached callback attempts by time, list of (``at``, ``outcome``, ``score``);
- ``custom``: the office's own stages that apply, list of (``name``, ``label_en`` and the seven stage fields);
- ``office``: the report dimensions of the office's own columns, list of (``name``, ``value``);
- ``texts``: the typical-case texts (``consolidate.CASE_TEXTS``) of a complaint that may be a typical case of the
  period, null for the others (``FileSummary.texts``, keyed there by complaint number).

Times are wall-clock times of the branch's own day (no time zone), as the workbook has them, kept as whole
ticks (``store.ticks``, schema version 4): ``received_at`` as ticks since 1970, every other time of a complaint
(``due``, ``done``, a callback's ``at``) as ticks after its ``received_at``, each column in the coarsest tick (a
day … a µs) that loses nothing in that file, named by the ``ticks`` column (``TICKS``: µs per tick of
``received``, ``due``, ``done``, ``at``; the same on every row of a file). A ``Case`` keeps times as ``Stamp`` ints
(``core.metrics.months``, µs), converted here both ways exactly.
Phone numbers are as the summary held them: masked unless the run had ``--show-contacts``.

``BRANCHES`` — one row per branch used by the report (the rest of ``FileSummary``): its code, name, file (path,
label, modification time), Settings it is judged by (repeat window, fewest complaints to rank a handler), its
problems (each one ``Problem`` as JSON, checked by pydantic when read back) and its partition file.

``from_table`` checks every column's type against the schema: a file of another shape is refused, not guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import accumulate, chain, islice
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from xlcomplaints.core.metrics import Case, StageFact
from xlcomplaints.core.metrics.facts import (
    CUSTOM_WIDTH,
    ESCALATION_OF,
    OVERALL_STATUS_OF,
    STAGE_STATUS_OF,
    UNIT_OF,
    WIDTH,
    due_months,
)
from xlcomplaints.core.metrics.months import MONTH_BITS, Stamp
from xlcomplaints.core.policy import STAGES
from xlcomplaints.store import ticks

#: Bumped when a column changes meaning or type; a store of another version is refused ("consolidate again").
#: 2: times in ms (``timestamp[ms]``) unless one is finer. 3: a complaint's stages in one list column, ``stages``.
#: 4: times as whole ticks after receipt (``store.ticks``); ``due_months`` made again from the stages when read.
SCHEMA_VERSION = 4

TIME = pa.int64()  # ticks (``store.ticks``): since 1970 for ``received_at``, after it for the others
_TIMED_NAMES = frozenset({"received_at", "due", "done", "at"})  # the columns and list fields of type TIME
TEXT = pa.string()
_HEAD: tuple[tuple[str, pa.DataType, bool], ...] = (  # (Case field, type, nullable)
    ("branch", TEXT, False), ("no", TEXT, True), ("received_at", TIME, True), ("case_type", TEXT, True),
    ("channel", TEXT, True), ("category", TEXT, True), ("severity", TEXT, True), ("validity", TEXT, True),
    ("department", TEXT, True), ("handler", TEXT, True), ("customer", TEXT, True), ("phone", TEXT, True),
    ("escalated", pa.bool_(), False), ("escalation", TEXT, False), ("status", TEXT, False),
    ("repeat_of", TEXT, True), ("reopen_count", pa.int64(), False))
#: A stage's columns, after ``StageFact``'s fields (``done_at`` is ``done`` here).
STAGE_FIELDS: tuple[tuple[str, pa.DataType, bool], ...] = (
    ("status", TEXT, False), ("due", TIME, True), ("done", TIME, True), ("late_by", pa.float64(), True),
    ("unit", TEXT, True), ("took", pa.float64(), True), ("handler", TEXT, True))
STAGE = pa.struct([pa.field(n, t, nullable) for n, t, nullable in STAGE_FIELDS])
CALLBACK = pa.struct([pa.field("at", TIME, False), pa.field("outcome", TEXT, False), pa.field("score", pa.int64())])
CUSTOM = pa.struct([pa.field("name", TEXT, False), pa.field("label_en", TEXT, False),
                    *(pa.field(n, t, nullable) for n, t, nullable in STAGE_FIELDS)])
OFFICE = pa.struct([pa.field("name", TEXT, False), pa.field("value", TEXT)])
TEXT_FIELDS = ("content", "result", "root_cause", "corrective_action")  # consolidate.CASE_TEXTS
TEXTS = pa.struct([pa.field(n, TEXT) for n in TEXT_FIELDS])
#: µs per tick of each time column (``store.ticks``): ``received`` (``received_at``), ``due`` and ``done`` (of the
#: stages and the custom stages), ``at`` (the callbacks').
TICK_FIELDS = ("received", "due", "done", "at")
TICKS = pa.struct([pa.field(n, pa.int64(), False) for n in TICK_FIELDS])


def _list(item: pa.DataType) -> pa.DataType:
    """A list of ``item`` (never null), its element named as Parquet names it, so a table read back is of this schema."""
    return pa.list_(pa.field("element", item, False))


CASES = pa.schema([
    *(pa.field(n, t, nullable) for n, t, nullable in _HEAD),
    pa.field("stages", _list(STAGE), False), pa.field("callbacks", _list(CALLBACK), False),
    pa.field("custom", _list(CUSTOM), False), pa.field("office", _list(OFFICE), False),
    pa.field("texts", TEXTS), pa.field("ticks", TICKS, False)])

BRANCHES = pa.schema([
    pa.field("branch", TEXT, False), pa.field("branch_name", TEXT, False), pa.field("path", TEXT, False),
    pa.field("label", TEXT, False), pa.field("mtime", pa.float64(), False),
    pa.field("repeat_window_days", pa.int64(), False), pa.field("rank_min_complaints", pa.int64(), False),
    pa.field("problems", _list(TEXT), False),  # each a Problem as JSON
    pa.field("partition", TEXT, False), pa.field("rows", pa.int64(), False)])

assert Case._fields[:len(_HEAD)] == tuple(n for n, _, _ in _HEAD)
assert Case._fields[len(_HEAD):] == ("stages", "callbacks", "due_months", "custom", "office")
assert len(STAGE_FIELDS) == WIDTH == len(StageFact._fields) and CUSTOM_WIDTH == 2 + WIDTH == CUSTOM.num_fields

_EPOCH = datetime(1970, 1, 1)
_IN_MONTH = (1 << MONTH_BITS) - 1
_month_us: dict[int, int] = {}  # Month.key → µs from 1970 to the month's first instant (no state: a fixed fact)


def _start_us(key: int) -> int:
    us = _month_us.get(key)
    if us is None:
        year, month = divmod(key, 12)
        us = _month_us[key] = (datetime(year, month + 1, 1) - _EPOCH) // _US
    return us


_US = datetime(1970, 1, 1, 0, 0, 0, 1) - _EPOCH
_MICROS = pa.timestamp("us")


def _stamps(column: pa.Array | pa.ChunkedArray) -> list[Stamp | None]:
    """µs since 1970 (int64) as stamps (``_times``'s inverse), in C: the month's key above ``MONTH_BITS``, the µs
    since the month's first instant below."""
    column = column.cast(_MICROS)
    key = pc.add(pc.multiply(pc.year(column).cast(pa.int64()), 12), pc.subtract(pc.month(column).cast(pa.int64()), 1))
    into = pc.subtract(column.cast(pa.int64()), pc.floor_temporal(column, 1, "month").cast(pa.int64()))
    return pc.add(pc.shift_left(key, MONTH_BITS), into).to_pylist()


def _times(values: Sequence[Stamp | None]) -> pa.Array:
    """Stamps as µs since 1970 (int64) of the same wall-clock time: each month's first instant looked up once."""
    stamps = pa.array(values, pa.int64())
    keys = pc.shift_right(stamps, MONTH_BITS)
    months = pc.unique(keys).drop_null()
    starts = pa.array([_start_us(k) for k in months.to_pylist()], pa.int64())
    start = pc.take(starts, pc.index_in(keys, value_set=months))
    return pc.add(start, pc.bit_wise_and(stamps, _IN_MONTH))


def to_table(cases: Sequence[Case], texts: Mapping[str, Sequence[str | None]] | None = None) -> pa.Table:
    """The ``CASES`` table of one branch's cases (and its typical cases' texts, by complaint number).

    Built a column at a time (``zip`` turns the cases into columns in C, pyarrow makes each array, times
    are converted by ``_times``, then made ticks by ``store.ticks.encode``): measured 2.5 ms for a 500-complaint
    bench branch (schema 3), against 6.9 ms row by row."""
    n = len(cases)
    head = list(zip(*cases, strict=True))[:len(_HEAD)] if n else [()] * len(_HEAD)
    arrays = [_times(col) if name in _TIMED_NAMES else pa.array(col, kind)
              for col, (name, kind, _) in zip(head, _HEAD, strict=True)]
    lists = {"stages": _flat_list([c.stages for c in cases], STAGE),
             "callbacks": _lists([c.callbacks for c in cases], CALLBACK),
             "custom": _flat_list([c.custom for c in cases], CUSTOM),  # CUSTOM_WIDTH a stage
             "office": _flat_list([c.office for c in cases], OFFICE)}  # name, value, name, value …
    received = [name for name, _, _ in _HEAD].index("received_at")
    arrays[received], lists, tick = _ticked(arrays[received], lists)
    arrays += lists.values()
    given = texts or {}
    words = [None if c.no is None else given.get(c.no) for c in cases]
    present = [w is not None for w in words]
    filled = [tuple(w) if w is not None else (None,) * len(TEXT_FIELDS) for w in words]
    columns = list(zip(*filled, strict=True)) if n else [()] * len(TEXT_FIELDS)
    arrays.append(pa.StructArray.from_arrays([pa.array(col, TEXT) for col in columns], fields=list(TEXTS),
                                             mask=pa.array([not p for p in present], pa.bool_())))
    arrays.append(pa.StructArray.from_arrays([pa.repeat(pa.scalar(tick[f], pa.int64()), n) for f in TICK_FIELDS],
                                             fields=list(TICKS)))
    return pa.Table.from_arrays(arrays, schema=CASES)


#: Of each list column, its time fields and the tick each is kept in (``TICK_FIELDS``).
_TIMED = {"stages": {"due": "due", "done": "done"}, "callbacks": {"at": "at"}, "custom": {"due": "due", "done": "done"}}


def _ticked(received: pa.Array, lists: dict[str, pa.ListArray]) -> tuple[pa.Array, dict[str, pa.ListArray],
                                                                             dict[str, int]]:
    """``received`` and the lists' times (µs since 1970) as ticks (``store.ticks.encode``): the stages' and the
    custom stages' ``due`` in one tick, their ``done`` in one; and the tick of each of ``TICK_FIELDS``."""
    times: dict[str, list[tuple[pa.Array, pa.Array]]] = {t: [] for t in TICK_FIELDS[1:]}
    for name, fields in _TIMED.items():
        rows = pc.list_parent_indices(lists[name])
        for field, kind in fields.items():
            times[kind].append((lists[name].values.field(field), rows))
    joined = {t: (pa.concat_arrays([v for v, _ in parts]), pa.concat_arrays([r for _, r in parts]))
              for t, parts in times.items()}
    at, encoded, tick = ticks.encode(received, joined)
    out = dict(lists)
    for t in times:  # cut back into each list's part, in the order joined
        start = 0
        for name, fields in _TIMED.items():
            if t in fields.values():
                field = next(f for f, k in fields.items() if k == t)
                size = len(out[name].values)
                out[name] = _with_field(out[name], field, encoded[t].slice(start, size))
                start += size
    return at, out, tick


def _with_field(column: pa.ListArray, name: str, values: pa.Array) -> pa.ListArray:
    """A list-of-struct column with its items' field ``name`` replaced by ``values``."""
    items = column.values
    kind = items.type
    fields = [values if f.name == name else items.field(f.name) for f in kind]
    return pa.ListArray.from_arrays(column.offsets, pa.StructArray.from_arrays(fields, fields=list(kind)),
                                    type=column.type)


def _flat_list(rows: Sequence[Sequence[Any]], kind: pa.StructType) -> pa.ListArray:
    """``_lists`` of rows each holding its items' fields one after another (``Case.stages``: ``WIDTH`` a stage,
    ``Case.custom``: ``CUSTOM_WIDTH``, ``Case.office``: 2):
    the fields made columns by slicing all rows' values joined, not each item cut out first (0.35 ms of the
    1.1 ms the stages took a 500-complaint bench branch, 2026-12-07; the same table)."""
    width = kind.num_fields
    flat = list(chain.from_iterable(rows))
    values = pa.StructArray.from_arrays(
        [_times(flat[i::width]) if field.name in _TIMED_NAMES else pa.array(flat[i::width], field.type)
         for i, field in enumerate(kind)],
        fields=list(kind))
    offsets = pa.array(list(accumulate((len(row) // width for row in rows), initial=0)), pa.int32())
    return pa.ListArray.from_arrays(offsets, values, type=_list(kind))


def _lists(rows: Sequence[Sequence[Sequence[Any]]], kind: pa.StructType) -> pa.ListArray:
    """A list-of-struct column from each row's items (tuples of the struct's fields, times as stamps: µs since
    1970 here, ticks once ``_ticked``)."""
    flat = [item for row in rows for item in row]
    columns = list(zip(*flat, strict=True)) if flat else [()] * kind.num_fields
    values = pa.StructArray.from_arrays(
        [_times(col) if field.name in _TIMED_NAMES else pa.array(col, field.type)
         for col, field in zip(columns, kind, strict=True)],
        fields=list(kind))
    offsets = pa.array(list(accumulate((len(row) for row in rows), initial=0)), pa.int32())
    return pa.ListArray.from_arrays(offsets, values, type=_list(kind))


#: The columns holding the engine's codes (a stage's by its field name), and each code's enum (``core.status``).
_CODES: dict[str, Mapping[Any, Any]] = {"status": STAGE_STATUS_OF, "unit": UNIT_OF}
_COLUMN_CODES: dict[str, Mapping[Any, Any]] = {"escalation": ESCALATION_OF, "status": OVERALL_STATUS_OF}


class SchemaMismatch(ValueError):
    """A table that is not of the schema this version writes (another version's, or edited)."""


def check_schema(table: pa.Table, schema: pa.Schema, what: str) -> None:
    """Refuse a table whose columns, types or nullability are not ``schema``'s; for ``CASES``, ticks not of
    ``store.ticks.TICKS``."""
    if not table.schema.equals(schema, check_metadata=False):
        raise SchemaMismatch(f"{what}: its columns are not those of facts store version {SCHEMA_VERSION}")
    for field in schema:
        if not field.nullable and table.column(field.name).null_count:
            raise SchemaMismatch(f"{what}: {field.name} holds an empty value")
    if schema is CASES and table.num_rows:
        known = pa.array(ticks.TICKS, pa.int64())
        column = table.column("ticks")
        if not all(pc.all(pc.is_in(pc.struct_field(column, f), value_set=known)).as_py() for f in TICK_FIELDS):
            raise SchemaMismatch(f"{what}: a tick the store does not write")


def from_table(table: pa.Table) -> tuple[list[Case], dict[str, tuple[str | None, ...]]]:
    """The cases of a ``CASES`` table, and the texts by complaint number (``to_table``'s inverse; ``due_months``
    made again from the stages, ``core.metrics.facts.due_months``)."""
    check_schema(table, CASES, "cases")
    table = table.combine_chunks()
    n = table.num_rows
    names = [name for name, _, _ in _HEAD]
    try:
        received, times = _untick(table)
    except pa.ArrowInvalid as e:
        raise SchemaMismatch(f"cases: a time out of range ({e})") from None
    columns = [_stamps(received) if name == "received_at" else table.column(name).to_pylist() for name in names]
    try:  # the engine's codes are enums (``core.status``): the plain codes Parquet keeps made them again
        columns = [list(map(codes.__getitem__, col)) if (codes := _COLUMN_CODES.get(name)) else col
                   for name, col in zip(names, columns, strict=True)]
    except KeyError as e:
        raise SchemaMismatch(f"cases: a code the engine does not know: {e}") from None
    head = columns
    if pc.any(pc.not_equal(pc.list_value_length(table.column("stages")), len(STAGES))).as_py():
        raise SchemaMismatch(f"cases: a complaint without its {len(STAGES)} stages")
    stages = [tuple(x for one in row for x in one)
              for row in _nested(table.column("stages"), STAGE.names, times["stages"], _CODES)]
    callbacks = _nested(table.column("callbacks"), ("at", "outcome", "score"), times["callbacks"])
    custom = _nested(table.column("custom"), CUSTOM.names, times["custom"], _CODES)
    office = _nested(table.column("office"), OFFICE.names, {})
    cases = [Case._make((*h, s, cb, due_months(s), tuple(x for one in cu for x in one),
                         tuple(x for one in of for x in one)))
             for h, s, cb, cu, of in zip(zip(*head, strict=True), stages, callbacks, custom, office, strict=True)]
    nos = head[1]
    texts = {no: tuple(words.values()) for no, words in zip(nos, table.column("texts").to_pylist(), strict=True)
             if no is not None and words is not None} if n else {}
    return cases, texts


def _untick(table: pa.Table) -> tuple[pa.Array, dict[str, dict[str, pa.Array]]]:
    """``received_at`` and the lists' times as µs since 1970 (``store.ticks.decode``), by list and field."""
    tick = table.column("ticks").chunk(0) if table.num_rows else pa.array([], TICKS)
    parts = {}
    for name, fields in _TIMED.items():
        column = table.column(name).chunk(0) if table.num_rows else pa.array([], CASES.field(name).type)
        rows = pc.list_parent_indices(column)
        for field, kind in fields.items():
            parts[f"{name}.{field}"] = (pc.struct_field(pc.list_flatten(column), field), rows, pc.struct_field(tick, kind))
    received = table.column("received_at").chunk(0) if table.num_rows else pa.array([], pa.int64())
    at, decoded = ticks.decode(received, pc.struct_field(tick, "received"), parts)
    return at, {name: {field: decoded[f"{name}.{field}"] for field in fields} for name, fields in _TIMED.items()}


def _nested(column: pa.ChunkedArray, names: Iterable[str], times: Mapping[str, pa.Array],
            codes: Mapping[str, Mapping[Any, Any]] | None = None) -> list[tuple[tuple[Any, ...], ...]]:
    """A list-of-struct column as tuples per row, each struct's fields in ``names`` order, the fields in ``times``
    taken from there (µs since 1970) as stamps, the fields named in ``codes`` made the engine's enums."""
    flat = pc.list_flatten(column)
    if not len(flat):  # no row has any (an office without custom stages or dimensions)
        return [()] * len(column)
    parts = [_stamps(times[name]) if name in times else pc.struct_field(flat, name).to_pylist() for name in names]
    if codes:
        try:
            parts = [list(map(codes[name].__getitem__, part)) if name in codes else part
                     for name, part in zip(names, parts, strict=True)]
        except KeyError as e:
            raise SchemaMismatch(f"stages: a code the engine does not know: {e}") from None
    items = iter(list(zip(*parts, strict=True)))
    return [tuple(islice(items, k)) if k else () for k in pc.list_value_length(column).to_pylist()]
