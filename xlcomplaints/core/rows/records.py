"""Rows under the header to records, a block at a time, with every unreadable cell located; totals lines left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, compress, count, islice, repeat, zip_longest
from types import MemberDescriptorType
from typing import Any, TypeVar

from xlcomplaints.core.models import Record
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.core.rows.columns import _column
from xlcomplaints.core.rows.headers import HEADER_SCAN_ROWS, Layout, _blank, find_layout
from xlcomplaints.spec.model import SheetSpec

M = TypeVar("M", bound=Record)


def read_records(grid: Sequence[Sequence[object]], layout: Layout, model: type[M], *,
                 date1904: bool = False) -> tuple[list[M], list[Problem]]:
    """Every non-blank row under the header as a record; unreadable cells become None plus a problem."""
    numbered = ((r, grid[r - 1]) for r in range(layout.header_row + 1, min(layout.last_row, len(grid)) + 1))
    records, problems, _ = _records(numbered, layout, model, date1904=date1904)
    return records, problems


def read_table(rows: Iterable[Sequence[object]], spec: SheetSpec, sheet: str, model: type[M], *,
               date1904: bool = False,
               tap: Callable[[Layout], Callable[[int, Sequence[object]], None] | None] | None = None,
               ) -> tuple[Layout | None, list[M], list[Problem]]:
    """Like find_layout + read_records, over rows as they stream from the file.

    Only the rows near the top are held (to find the header); the rest are read one at
    a time, so a 50,000-row register never sits in memory as a grid of cells. ``tap``, given
    the layout found, is shown each row below the header (its number, its cells) as it passes (unless it
    returns None: nothing to show them to).
    """
    it = iter(rows)
    head = list(islice(it, HEADER_SCAN_ROWS))
    layout, problems = find_layout(head, spec, sheet)
    if layout is None:
        return None, [], problems
    numbered: Iterable[tuple[int, Sequence[object]]] = zip(
        count(layout.header_row + 1), chain(head[layout.header_row:], it), strict=False)
    visit = tap(layout) if tap is not None else None
    if visit is not None:
        numbered = _shown(numbered, visit)
    records, more, last = _records(numbered, layout, model, date1904=date1904)
    layout.last_row = max(last, layout.header_row)
    return layout, records, problems + more


def _shown(numbered: Iterable[tuple[int, Sequence[object]]],
           visit: Callable[[int, Sequence[object]], None]) -> Iterator[tuple[int, Sequence[object]]]:
    for r, row in numbered:
        visit(r, row)
        yield r, row


def _records(numbered: Iterable[tuple[int, Sequence[object]]], layout: Layout, model: type[M], *,
             date1904: bool = False) -> tuple[list[M], list[Problem], int]:
    """Rows to records a block at a time, each column parsed in bulk.

    Most columns' cells already are their values (times calamine read as datetimes, clean
    names and codes): checked at once, they are taken as they are. In the others, values
    repeat (channels, severities), so each distinct one is parsed once and the column is
    mapped through the result; per cell only C-level work remains. Blocks keep memory flat
    on long sheets.
    Problems come out in reading order: row by row, then column by column.
    """
    records: list[M] = []
    problems: list[tuple[int, int, Problem]] = []
    last = 0
    cols = [(c, layout.columns[c.key] - 1) for c in layout.spec.input_columns if c.key in layout.columns]
    computed = [layout.columns[c.key] - 1 for c in layout.spec.computed_columns if c.key in layout.columns]
    names = [c.key for c, _ in cols]
    key_at = {c - 1: k for k, c in layout.columns.items()}  # a sheet column's spec key, if it has one
    # Fields the sheet lacks keep their defaults.
    defaults = {f.name: f.default for f in dataclasses.fields(model)}
    make = _maker(model)
    it = iter(numbered)
    while block := list(islice(it, BLOCK_ROWS)):
        numbers = [r for r, _ in block]
        grid = list(zip_longest(*(row for _, row in block)))
        columns = [_column(grid[i] if i < len(grid) else (None,) * len(block), col, date1904)
                   for col, i in cols]
        if any(not c.blanks for c in columns):  # a column filled on every row (the numbers, as a rule): all rows are
            filled = [True] * len(block)
        else:
            filled = [any(t) for t in zip(*(c.filled for c in columns), strict=True)] if columns else [False] * len(block)
        for i, c in _totals_rows(grid):  # one warning for the line, none for its cells; no record
            filled[i] = False
            layout.totals_rows.append(numbers[i])
            problems.append((numbers[i], -1, layout.totals_problem(numbers[i], c + 1, key_at.get(c), grid[c][i])))
        for j in computed:  # the last row still holding computed values (none: one count per column)
            cells_ = grid[j] if j < len(grid) else ()
            if cells_.count(None) + cells_.count("") < len(cells_):
                at = next((i for i in range(len(cells_) - 1, -1, -1) if not _blank(cells_[i])), None)
                if at is not None:
                    layout.computed_to = max(layout.computed_to, numbers[at])
        for pos, ((col, _), column) in enumerate(zip(cols, columns, strict=True)):
            for i, code, raw, params in column.problems(col.required):
                if filled[i]:
                    problem = layout.problem(Level.ERROR, code, numbers[i], col.key, raw, **params)
                    problems.append((numbers[i], pos, problem))
        # Each record's values in the model's field order, zipped by built-ins, made by its constructor.
        by_field: dict[str, Iterable[Any]] = {"row": numbers, **{n: c.values for n, c in zip(names, columns, strict=True)}}
        rows = zip(*(by_field.get(name) or repeat(default) for name, default in defaults.items()), strict=False)
        records += map(make, compress(rows, filled))
        last = next((n for n, f in zip(reversed(numbers), reversed(filled), strict=True) if f), last)
    problems.sort(key=lambda t: (t[0], t[1]))
    return records, [p for _, _, p in problems], last


def _maker(model: type[M]) -> Callable[[Sequence[Any]], M]:
    """``model(*values)``, the values in the model's field order: the one speed trick of the read's records.

    A frozen slotted record's generated ``__init__`` sets each field through ``object.__setattr__`` (the
    frozen class forbids its own), a look-up and a call per field; here each slot's own descriptor sets it,
    which is what that call ends in, in a function written for the model as ``dataclasses`` writes its
    ``__init__`` (from the number of its fields alone: no name in it comes from the model or a file).
    Measured (2026-12-07, 500 records each, best of 5): ``Complaint`` 1.36 → 0.70 ms, ``TrackingStep``
    0.38 → 0.16 ms, ``CallbackAttempt`` 0.38 → 0.26 ms: about 1.2 ms of a 500-complaint bench branch's read
    (500 Register, 894 Tracking, 520 Callbacks rows).
    Taken only for a record whose every field is a slot set by ``__init__``, with nothing run after it
    (``__post_init__``); any other model is made by its constructor. ``tests/test_reader.py`` holds the
    records made so equal to the constructor's, field by field, for every model the reader makes.
    """
    made: Callable[[Sequence[Any]], M] | None = _MAKERS.get(model)
    if made is None:
        made = _MAKERS[model] = _written(model)
    return made


#: One function per model for the process, as ``dataclasses`` writes one ``__init__`` per class (written when a
#: model is first read: compiled again for each sheet read, it cost back part of what it spares).
_MAKERS: dict[type, Callable[[Sequence[Any]], Any]] = {}


def _written(model: type[M]) -> Callable[[Sequence[Any]], M]:
    fields = dataclasses.fields(model)
    if hasattr(model, "__post_init__") or not all(
            f.init and isinstance(getattr(model, f.name, None), MemberDescriptorType) for f in fields):
        return lambda values: model(*values)
    n = range(len(fields))  # the source names no field: values and setters by position only
    source = (f"def make(values):\n    ({', '.join(f'v{i}' for i in n)},) = values\n    record = new(model)\n"
              + "".join(f"    set{i}(record, v{i})\n" for i in n) + "    return record\n")
    scope: dict[str, Any] = {"new": object.__new__, "model": model,
                             **{f"set{i}": getattr(model, f.name).__set__ for i, f in zip(n, fields, strict=True)}}
    exec(source, scope)  # as dataclasses writes __init__: one straight line of code per field
    written: Callable[[Sequence[Any]], M] = scope["make"]
    return written


#: What the first cell of a totals line says (compared without spaces, case or a trailing colon);
#: the Chinese words also when more follows (``合计：61 宗``).
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "总数", "total", "totals", "subtotal", "grandtotal", "sum"})
_TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")
#: An ASCII value ending in one of these is no totals word (each ends in a letter): a branch coded S… numbers its
#: complaints S…-25120001, which would otherwise each be looked at (0.37 → 0.13 ms a 500-complaint file).
_DIGITS = frozenset("0123456789")
assert all(not w.isascii() or w[-1] not in _DIGITS for w in TOTAL_WORDS)
#: The first letters, either case, of the totals words written in ASCII: an ASCII value starting with another is none.
_ASCII_FIRST = "".join(sorted({c for w in TOTAL_WORDS if w.isascii() for c in (w[0], w[0].upper())}))


#: How far from the left a totals line's word may stand: offices write it in the first column,
#: or in the second or third when the first holds a 序号 (row number) or is left blank.
TOTALS_COLUMNS = 3


def _totals_rows(grid: Sequence[Sequence[object]]) -> list[tuple[int, int]]:
    """(row, column) indexes of each row of a block (columns of cells) whose first non-blank cell,
    in one of the sheet's first ``TOTALS_COLUMNS`` columns, marks a totals line, as offices add
    under a register. Most rows are passed over at the first column."""
    found: list[tuple[int, int]] = []
    rows: Sequence[int] = range(len(grid[0])) if grid else ()
    for at, column in enumerate(grid[:TOTALS_COLUMNS]):
        words, blanks = _total_words({column[i] for i in rows})
        found += [(i, at) for i in rows if column[i] in words] if words else []
        rows = [i for i in rows if column[i] in blanks] if blanks else ()  # the word may stand further right
        if not rows:
            break
    return sorted(found)


def _total_words(values: Iterable[object]) -> tuple[set[object], set[object]]:
    """Of a column's distinct values, those that mark a totals line, and the blank ones."""
    words: set[object] = set()
    blanks: set[object] = set()
    for v in values:  # an ASCII word starts as one of them and ends in a letter: complaint numbers pass at once
        if v is None:
            blanks.add(v)
        elif isinstance(v, str) and (not v.isascii() or (v.lstrip()[:1] in _ASCII_FIRST and v[-1:] not in _DIGITS)):
            # (a blank one is in: "" starts with "" and ends in "")
            t = "".join(v.split())
            if not t:
                blanks.add(v)
            elif len(v) <= 30 and ((t := t.rstrip(":：").lower()) in TOTAL_WORDS or t.startswith(_TOTAL_PREFIXES)):
                words.add(v)
    return words, blanks


#: Rows read and parsed together: large enough for bulk work, small enough to stay flat.
BLOCK_ROWS = 2048
