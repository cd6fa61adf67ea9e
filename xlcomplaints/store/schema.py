"""The facts store's tables as Arrow schemas, and ``Case`` ↔ Arrow without loss.

Two tables (what the JSON state file of earlier versions held, by column):

``CASES`` — one row per complaint of one branch file (``core.metrics.Case``), its stages flattened:

- ``branch`` … ``reopen_count``: the ``Case`` fields of the same names (``received_at`` a timestamp);
- per stage of ``core.policy.STAGES`` (``acknowledge``, ``first_contact``, ``report``, ``resolve``, ``reply``,
  ``callback``, ``close``), seven columns ``{stage}_status`` (the engine's status code, never null),
  ``{stage}_due``, ``{stage}_done`` (timestamps), ``{stage}_late_by`` (in ``{stage}_unit``), ``{stage}_unit``
  (``Unit`` value: working_days, calendar_days, working_hours, calendar_hours…), ``{stage}_took`` (how long it
  took in that unit, only for stages done in the period or the one before), ``{stage}_handler`` (its handler of
  record);
- ``callbacks``: the reached callback attempts by time, list of (``at``, ``outcome``, ``score``);
- ``due_months``: the decided deadlines by the month they fall due, list of (``month`` as ``Month.key`` =
  year * 12 + month - 1, and ``met``, ``missed``, ``overdue`` as bit sets of stages, ``1 << STAGES.index(stage)``);
- ``custom``: the office's own stages that apply, list of (``name``, ``label_en`` and the seven stage fields);
- ``office``: the report dimensions of the office's own columns, list of (``name``, ``value``);
- ``texts``: the typical-case texts (``consolidate.CASE_TEXTS``) of a complaint that may be a typical case of the
  period, null for the others (``FileSummary.texts``, keyed there by complaint number).

Times are wall-clock times of the branch's own day (``timestamp[us]``, no time zone), as the workbook has them;
a ``Case`` keeps them as ``Stamp`` ints (``core.metrics.months``), converted here both ways exactly.
Phone numbers are as the summary held them: masked unless the run had ``--show-contacts``.

``BRANCHES`` — one row per branch used by the report (the rest of ``FileSummary``): its code, name, file (path,
label, modification time), Settings it is judged by (repeat window, fewest complaints to rank a handler), its
problems (each one ``Problem`` as JSON, checked by pydantic when read back) and its partition file.

``from_table`` checks every column's type against the schema: a file of another shape is refused, not guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from xlcomplaints.core.metrics import Case, StageFact
from xlcomplaints.core.metrics.facts import CUSTOM_WIDTH, WIDTH
from xlcomplaints.core.metrics.months import MONTH_BITS, Stamp
from xlcomplaints.core.policy import STAGES

#: Bumped when a column changes meaning or type; a store of another version is refused ("consolidate again").
SCHEMA_VERSION = 1

TIME = pa.timestamp("us")
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
CALLBACK = pa.struct([pa.field("at", TIME, False), pa.field("outcome", TEXT, False), pa.field("score", pa.int64())])
DUE_MONTH = pa.struct([pa.field(n, pa.int64(), False) for n in ("month", "met", "missed", "overdue")])
CUSTOM = pa.struct([pa.field("name", TEXT, False), pa.field("label_en", TEXT, False),
                    *(pa.field(n, t, nullable) for n, t, nullable in STAGE_FIELDS)])
OFFICE = pa.struct([pa.field("name", TEXT, False), pa.field("value", TEXT)])
TEXT_FIELDS = ("content", "result", "root_cause", "corrective_action")  # consolidate.CASE_TEXTS
TEXTS = pa.struct([pa.field(n, TEXT) for n in TEXT_FIELDS])



def _list(item: pa.DataType) -> pa.DataType:
    """A list of ``item`` (never null), its element named as Parquet names it, so a table read back is of this schema."""
    return pa.list_(pa.field("element", item, False))


CASES = pa.schema([
    *(pa.field(n, t, nullable) for n, t, nullable in _HEAD),
    *(pa.field(f"{stage}_{n}", t, nullable) for stage in STAGES for n, t, nullable in STAGE_FIELDS),
    pa.field("callbacks", _list(CALLBACK), False), pa.field("due_months", _list(DUE_MONTH), False),
    pa.field("custom", _list(CUSTOM), False), pa.field("office", _list(OFFICE), False),
    pa.field("texts", TEXTS)])

BRANCHES = pa.schema([
    pa.field("branch", TEXT, False), pa.field("branch_name", TEXT, False), pa.field("path", TEXT, False),
    pa.field("label", TEXT, False), pa.field("mtime", pa.float64(), False),
    pa.field("repeat_window_days", pa.int64(), False), pa.field("rank_min_complaints", pa.int64(), False),
    pa.field("problems", _list(TEXT), False),  # each a Problem as JSON
    pa.field("partition", TEXT, False), pa.field("rows", pa.int64(), False)])

assert Case._fields[:len(_HEAD)] == tuple(n for n, _, _ in _HEAD)
assert Case._fields[len(_HEAD):] == ("stages", "callbacks", "due_months", "custom", "office")
assert len(STAGE_FIELDS) == WIDTH == len(StageFact._fields) and CUSTOM_WIDTH == 2 + WIDTH

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


def _to_us(s: Stamp | None) -> int | None:
    """A stamp as µs since 1970 of the same wall-clock time (Arrow's ``timestamp[us]``)."""
    return None if s is None else _start_us(s >> MONTH_BITS) + (s & _IN_MONTH)


def _stamps(column: pa.Array | pa.ChunkedArray) -> list[Stamp | None]:
    """A timestamp column's values as stamps (``_to_us``'s inverse), in C: the month's key above
    ``MONTH_BITS``, the µs since the month's first instant below."""
    key = pc.add(pc.multiply(pc.year(column).cast(pa.int64()), 12), pc.subtract(pc.month(column).cast(pa.int64()), 1))
    into = pc.subtract(column.cast(pa.int64()), pc.floor_temporal(column, 1, "month").cast(pa.int64()))
    return pc.add(pc.shift_left(key, MONTH_BITS), into).to_pylist()


def to_table(cases: Sequence[Case], texts: Mapping[str, Sequence[str | None]] | None = None) -> pa.Table:
    """The ``CASES`` table of one branch's cases (and its typical cases' texts, by complaint number)."""
    columns: dict[str, list[Any]] = {}
    for i, (name, kind, _) in enumerate(_HEAD):
        values: list[Any] = [c[i] for c in cases]
        columns[name] = [_to_us(v) for v in values] if kind == TIME else values
    for s, stage in enumerate(STAGES):
        for j, (name, kind, _) in enumerate(STAGE_FIELDS):
            values = [c.stages[s * WIDTH + j] for c in cases]
            columns[f"{stage}_{name}"] = [_to_us(v) for v in values] if kind == TIME else values
    columns["callbacks"] = [[{"at": _to_us(at), "outcome": o, "score": score} for at, o, score in c.callbacks]
                            for c in cases]
    columns["due_months"] = [[dict(zip(DUE_MONTH.names, m, strict=True)) for m in c.due_months] for c in cases]
    columns["custom"] = [[_custom(c.custom[i:i + CUSTOM_WIDTH]) for i in range(0, len(c.custom), CUSTOM_WIDTH)]
                         for c in cases]
    columns["office"] = [[{"name": c.office[i], "value": c.office[i + 1]} for i in range(0, len(c.office), 2)]
                         for c in cases]
    given = texts or {}
    columns["texts"] = [None if c.no is None or (words := given.get(c.no)) is None
                        else dict(zip(TEXT_FIELDS, words, strict=True)) for c in cases]
    return pa.Table.from_pydict(columns, schema=CASES)


def _custom(x: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(CUSTOM.names, x, strict=True))
    row["due"], row["done"] = _to_us(row["due"]), _to_us(row["done"])
    return row


class SchemaMismatch(ValueError):
    """A table that is not of the schema this version writes (another version's, or edited)."""


def check_schema(table: pa.Table, schema: pa.Schema, what: str) -> None:
    """Refuse a table whose columns, types or nullability are not ``schema``'s."""
    if not table.schema.equals(schema, check_metadata=False):
        raise SchemaMismatch(f"{what}: its columns are not those of facts store version {SCHEMA_VERSION}")
    for field in schema:
        if not field.nullable and table.column(field.name).null_count:
            raise SchemaMismatch(f"{what}: {field.name} holds an empty value")


def from_table(table: pa.Table) -> tuple[list[Case], dict[str, tuple[str | None, ...]]]:
    """The cases of a ``CASES`` table, and the texts by complaint number (``to_table``'s inverse)."""
    check_schema(table, CASES, "cases")
    n = table.num_rows
    head = [_stamps(table.column(name)) if kind == TIME else table.column(name).to_pylist()
            for name, kind, _ in _HEAD]
    fields = [_stamps(table.column(f"{stage}_{name}")) if kind == TIME else table.column(f"{stage}_{name}").to_pylist()
              for stage in STAGES for name, kind, _ in STAGE_FIELDS]
    stages = list(zip(*fields, strict=True)) if fields and n else [()] * n
    callbacks = _nested(table.column("callbacks"), ("at", "outcome", "score"), ("at",))
    due_months = _nested(table.column("due_months"), DUE_MONTH.names, ())
    custom = _nested(table.column("custom"), CUSTOM.names, ("due", "done"))
    office = _nested(table.column("office"), OFFICE.names, ())
    cases = [Case._make((*h, s, cb, dm, tuple(x for one in cu for x in one), tuple(x for one in of for x in one)))
             for h, s, cb, dm, cu, of in zip(zip(*head, strict=True), stages, callbacks, due_months, custom, office,
                                              strict=True)]
    nos = head[1]
    texts = {no: tuple(words.values()) for no, words in zip(nos, table.column("texts").to_pylist(), strict=True)
             if no is not None and words is not None}
    return cases, texts


def _nested(column: pa.ChunkedArray, names: Iterable[str], times: tuple[str, ...]) -> list[tuple[tuple[Any, ...], ...]]:
    """A list-of-struct column as tuples per row, each struct's fields in ``names`` order, times as stamps."""
    flat = pc.list_flatten(column)
    parts = [_stamps(pc.struct_field(flat, name)) if name in times else pc.struct_field(flat, name).to_pylist()
             for name in names]
    items = list(zip(*parts, strict=True)) if parts and len(flat) else []
    lengths = pc.list_value_length(column).to_pylist()
    out: list[tuple[tuple[Any, ...], ...]] = []
    at = 0
    for k in lengths:
        out.append(tuple(items[at:at + k]))
        at += k
    return out
