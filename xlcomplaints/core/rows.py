"""Turn a sheet's cell grid into records, locating every cell that cannot be read.

Pure: the grid comes from any adapter (calamine over a file, or xlwings). Headers are
found by label in zh or en, or by key, whatever row they sit on near the top and in
whatever order the office put the columns; the office's own columns are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import chain, compress, count, islice, repeat, zip_longest
from operator import is_not
from typing import Any, TypeGuard, TypeVar

from pydantic import BaseModel

from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.spec.model import ColType, Column, Field, SheetSpec

M = TypeVar("M", bound=BaseModel)
HEADER_SCAN_ROWS = 10
#: Longer text is a record, not a header: no label is near this long (normalising it is not free).
HEADER_MAX_CHARS = 80

MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项“{column}”为空。", "Required field '{column}' is empty."),
    "column.missing": ("工作表缺少必需的列“{column}”（查找了表头：{looked_for}）。",
                       "The sheet has no '{column}' column, which is required (looked for headers: {looked_for_en})."),
    "column.duplicate": ("列“{column}”出现了两次，只读取第一列（{first}）。",
                         "Column '{column}' appears twice; only the first ({first}) is read."),
    "column.duplicate_computed": ("列“{column}”出现了两次（{first}、{second}），分不清哪一列由 xlcomplaints 计算，"
                                  "两列都不写入。请改掉自己所加那一列的标题。",
                                  "Column '{column}' appears twice ({first}, {second}): which one xlcomplaints "
                                  "computes is unclear, so neither is written. Rename the column you added."),
    "column.computed_missing": ("工作表没有计算列 {columns}，刷新时无法写入。可从模板复制这些列（标题须一致）。",
                                "The sheet has no computed column {columns_en}; refresh cannot write it. Copy the "
                                "columns from the template (same headers)."),
    "header.not_found": ("找不到表头行（应含“{columns}”等列）。", "No header row found (expected columns such as '{columns}')."),
    "number.too_small": ("数值 {value} 小于允许的最小值 {min}。", "{value} is below the minimum {min}."),
    "number.too_large": ("数值 {value} 大于允许的最大值 {max}。", "{value} is above the maximum {max}."),
    "setting.unknown": ("无法识别的设置项“{value}”，已忽略。", "Unknown setting '{value}' ignored."),
    "row.totals": ("第 {line} 行看起来是合计行，不是一条记录，未计入。合计见“汇总”表；自己的合计请放在另一张工作表。",
                   "Row {line} looks like a totals line, not a record; it is left out. Totals are on the Summary "
                   "sheet; keep your own on another sheet."),
}
register_messages(MESSAGES)


def _label_keys(col: Column | Field) -> set[str]:
    return {cells.header_key(col.zh), cells.header_key(col.en), cells.header_key(col.key)}


#: Required-field markers offices put around a header (``*受理时间``, ``受理时间(必填)``), compared
#: after ``cells.header_key`` (full-width forms folded, spaces and brackets gone, lower case).
HEADER_MARKS = ("必填项", "必填", "选填", "required", "optional")
_STARS = "*※"


def _unmarked(key: str) -> str:
    """A header key without required-field markers at either end."""
    while True:
        bare = key.strip(_STARS)
        for mark in HEADER_MARKS:
            bare = bare.removeprefix(mark).removesuffix(mark)
        if bare == key or not bare:
            return bare or key
        key = bare


def header_keys(value: str) -> tuple[str, ...]:
    """The keys a header cell is matched under: the whole text, then its first line (a note
    typed after a line break: ``受理时间\n(必填)``, ``受理时间\n格式 2026-11-03``), each without
    markers. ``投诉\n编号`` is matched whole; the first line only when the whole is not a label."""
    whole = _unmarked(cells.header_key(value))
    first, _, rest = cells.normalize_text(value).partition("\n")
    return (whole, _unmarked(cells.header_key(first))) if rest else (whole,)


#: How a header matched its column: by the column's own label (zh, en or key), or by a synonym.
#: A label beats a synonym: an office column 登记时间 beside our 受理时间 stays the office's.
BY_LABEL, BY_SYNONYM = 0, 1


@dataclass
class Layout:
    """Where a spec's columns sit in an actual sheet (1-based), and where data starts."""

    sheet: str
    spec: SheetSpec
    header_row: int
    columns: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    last_row: int = 0
    #: The last row under the header where one of the spec's computed columns holds something
    #: (refresh clears them on rows that are no longer records, up to here).
    computed_to: int = 0
    #: Rows read as totals lines (合计…): neither records nor cleared.
    totals_rows: list[int] = field(default_factory=list)

    def cell(self, row: int, key: str) -> str | None:
        col = self.columns.get(key)
        return a1(row, col) if col else None

    def totals_problem(self, row: int, col: int, key: str | None, raw: object) -> Problem:
        """The warning for a totals line, at the cell holding its word (a column of the office's own too)."""
        found = self.problem(Level.WARNING, "row.totals", row, key, raw, line=row)
        return found if key else found.model_copy(update={"cell": a1(row, col)})

    def problem(self, level: Level, code: str, row: int | None, key: str | None, raw: Any = None,
                **params: Any) -> Problem:
        """A problem at (row, column key); ``raw`` is the cell as typed, ``params`` feed the message."""
        column = self.headers.get(key, "") if key else None
        if key and not column:
            column = self.spec.column(key).zh
        cell = self.cell(row, key) if (row is not None and key) else None
        return Problem(level=level, code=code, sheet=self.sheet, cell=cell, column=column,
                       value=None if raw is None else _show(raw), params={"column": column, **params})


def _show(value: Any) -> str:
    """A cell as a problem shows it: a time as Excel would, whatever calamine made of it (a date, a time of day)."""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    else:
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@cache
def _labels(spec: SheetSpec) -> dict[str, tuple[str, int]]:
    """Every header key a spec's columns answer to → the column's key and how it matched (specs
    are constants; ``tests/test_spec_templates.py`` holds every key to one column per sheet)."""
    found = {_unmarked(cells.header_key(s)): (c.key, BY_SYNONYM) for c in spec.columns for s in c.synonyms}
    found.update({label: (c.key, BY_LABEL) for c in spec.columns for label in _label_keys(c)})
    return found


def looked_for(col: Column, lang: str = "zh") -> str:
    """The headers a column is found under, as a message lists them."""
    return ("、" if lang == "zh" else ", ").join(dict.fromkeys((col.zh, col.en, *col.synonyms)))


def _match(by_label: dict[str, tuple[str, int]], keys: tuple[str, ...] | None) -> tuple[str, int] | None:
    for k in keys or ():
        if k in by_label:
            return by_label[k]
    return None


def find_layout(grid: Sequence[Sequence[object]], spec: SheetSpec, sheet: str,
                start_row: int = 1) -> tuple[Layout | None, list[Problem]]:
    """Find the header row (best match near the top) and map columns to keys."""
    by_label = _labels(spec)
    scanned: list[tuple[int, list[tuple[str, int] | None]]] = []
    best_row, best_hits = 0, 0
    for r in range(start_row - 1, min(len(grid), start_row - 1 + HEADER_SCAN_ROWS)):
        keys = [_match(by_label, header_keys(v)) if isinstance(v, str) and len(v) <= HEADER_MAX_CHARS else None
                for v in grid[r]]
        scanned.append((r, keys))
        hits = sum(1 for k in keys if k is not None)
        if hits > best_hits:
            best_row, best_hits = r + 1, hits
        if best_hits >= len(spec.columns):  # every column found: no row below can match better
            break
    if best_hits < max(1, min(3, len(spec.columns) // 2)):
        names = " / ".join(c.zh for c in spec.columns[:3])
        return None, [Problem(level=Level.ERROR, code="header.not_found", sheet=sheet, params={"columns": names})]
    layout = Layout(sheet=sheet, spec=spec, header_row=best_row)
    problems: list[Problem] = []
    matched = next(keys for r, keys in scanned if r + 1 == best_row)
    # A column's own label beats a synonym: only the best way each column was matched is read.
    best = {m[0]: m[1] for m in sorted(filter(None, matched), key=lambda m: -m[1])}
    ambiguous: dict[str, int] = {}  # a computed column's key → a second column with its header
    for c, (m, value) in enumerate(zip(matched, grid[best_row - 1], strict=False), start=1):
        if m is None or m[1] != best[m[0]]:
            continue
        key = m[0]
        if key not in layout.columns:
            layout.columns[key] = c
            layout.headers[key] = " ".join(str(value).split())
        elif spec.column(key).computed:  # written by refresh: over which one? Neither (a clerk's column is one).
            ambiguous.setdefault(key, c)
        else:
            problems.append(layout.problem(Level.WARNING, "column.duplicate", None, None,
                                           column=str(value).strip(), first=a1(best_row, layout.columns[key])))
    for key, second in ambiguous.items():
        problems.append(layout.problem(Level.WARNING, "column.duplicate_computed", None, None,
                                       column=layout.headers.pop(key), first=a1(best_row, layout.columns.pop(key)),
                                       second=a1(best_row, second)))
    for col in spec.columns:  # a column refresh or numbering needs is missed as much as a required one
        if (col.required or col.needed_for) and col.key not in layout.columns:
            problems.append(Problem(level=Level.ERROR, code="column.missing", sheet=sheet, column=col.zh,
                                    params={"column": f"{col.zh} / {col.en}", "looked_for": looked_for(col),
                                            "looked_for_en": looked_for(col, "en")}))
    lost = [c for c in spec.computed_columns if c.key not in layout.columns and c.key not in ambiguous]
    if lost and not spec.owned:  # owned sheets are rebuilt whole, headers and all
        more = len(lost) - 5
        problems.append(Problem(level=Level.WARNING, code="column.computed_missing", sheet=sheet, params={
            "columns": "、".join(f"“{c.zh}”" for c in lost[:5]) + (f" 等 {len(lost)} 列" if more > 0 else ""),
            "columns_en": ", ".join(f"'{c.en}'" for c in lost[:5]) + (f" and {more} more" if more > 0 else "")}))
    layout.last_row = _last_data_row(grid, layout)
    return layout, problems


def _last_data_row(grid: Sequence[Sequence[object]], layout: Layout) -> int:
    """The last row with any of our input columns filled: trailing blank rows are not records."""
    input_cols = [layout.columns[c.key] - 1 for c in layout.spec.input_columns if c.key in layout.columns]
    for r in range(len(grid), layout.header_row, -1):
        row = grid[r - 1]
        if any(i < len(row) and not _blank(row[i]) for i in input_cols):
            return r
    return layout.header_row


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_cell(value: object, col: Column | Field, *, date1904: bool = False) -> Any:
    """One cell to a typed value; raises ``cells.CellError`` when it cannot be read."""
    t = col.type
    if t in (ColType.TEXT, ColType.LONGTEXT):
        return cells.parse_text(value, max_len=getattr(col, "max_len", None))
    if t is ColType.CODE:  # matched across sheets: full-width forms and ASCII case folded (bj01 is BJ01)
        text = cells.parse_text(value, max_len=getattr(col, "max_len", None))
        return cells.fold_code(text) or None if text else None
    if t is ColType.DATETIME:
        return cells.parse_datetime(value, date1904=date1904)
    if t is ColType.DATE:
        return cells.parse_date(value, date1904=date1904)
    if t is ColType.TIME:
        return cells.parse_time(value)
    if t is ColType.PHONE:
        return cells.parse_phone(value)
    if t is ColType.BOOL:
        return cells.parse_bool(value)
    if t is ColType.CHOICE:
        assert col.vocab is not None
        return cells.parse_choice(value, col.vocab.choices)
    number = cells.parse_int(value) if t is ColType.INT else cells.parse_number(value)
    if t is ColType.PERCENT and number is not None:
        return number
    if number is not None:
        if col.min_value is not None and number < col.min_value:
            raise cells.CellError("number.too_small", value=number, min=f"{col.min_value:g}")
        if col.max_value is not None and number > col.max_value:
            raise cells.CellError("number.too_large", value=number, max=f"{col.max_value:g}")
    return number


def read_records(grid: Sequence[Sequence[object]], layout: Layout, model: type[M], *,
                 date1904: bool = False,
                 keep: Callable[[dict[str, Any]], bool] | None = None) -> tuple[list[M], list[Problem]]:
    """Every non-blank row under the header as a model; unreadable cells become None plus a problem."""
    numbered = ((r, grid[r - 1]) for r in range(layout.header_row + 1, min(layout.last_row, len(grid)) + 1))
    records, problems, _ = _records(numbered, layout, model, date1904=date1904, keep=keep)
    return records, problems


def read_table(rows: Iterable[Sequence[object]], spec: SheetSpec, sheet: str, model: type[M], *,
               date1904: bool = False, tap: Callable[[Layout], Callable[[int, Sequence[object]], None]] | None = None,
               ) -> tuple[Layout | None, list[M], list[Problem]]:
    """Like find_layout + read_records, over rows as they stream from the file.

    Only the rows near the top are held (to find the header); the rest are read one at
    a time, so a 50,000-row register never sits in memory as a grid of cells. ``tap``, given
    the layout found, is shown each row below the header (its number, its cells) as it passes.
    """
    it = iter(rows)
    head = list(islice(it, HEADER_SCAN_ROWS))
    layout, problems = find_layout(head, spec, sheet)
    if layout is None:
        return None, [], problems
    numbered: Iterable[tuple[int, Sequence[object]]] = zip(
        count(layout.header_row + 1), chain(head[layout.header_row:], it), strict=False)
    if tap is not None:
        numbered = _shown(numbered, tap(layout))
    records, more, last = _records(numbered, layout, model, date1904=date1904)
    layout.last_row = max(last, layout.header_row)
    return layout, records, problems + more


def _shown(numbered: Iterable[tuple[int, Sequence[object]]],
           visit: Callable[[int, Sequence[object]], None]) -> Iterator[tuple[int, Sequence[object]]]:
    for r, row in numbered:
        visit(r, row)
        yield r, row


def construct(model: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """A record from values already parsed to their fields' types, every field present.

    The same instance ``model.model_construct`` builds (``__dict__``, fields set, no
    extras, no private state), without its walk over every field for defaults, which
    was a quarter of reading a register; the slots are set through their descriptors.
    ``tests/test_reader.py`` holds it equal to full validation.
    """
    obj = _new(model)
    _set_attr(obj, "__dict__", data)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_new, _set_attr = object.__new__, object.__setattr__
_set_fields_set, _set_extra, _set_private = (
    vars(BaseModel)[slot].__set__ for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))


def _records(numbered: Iterable[tuple[int, Sequence[object]]], layout: Layout, model: type[M], *,
             date1904: bool = False, keep: Callable[[dict[str, Any]], bool] | None = None,
             ) -> tuple[list[M], list[Problem], int]:
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
    # Fields the sheet lacks keep their defaults; every record shares one fields set.
    fields = tuple(model.model_fields)
    defaults = {name: f.default for name, f in model.model_fields.items()}
    fields_set = {"row", *names}
    it = iter(numbered)
    while block := list(islice(it, BLOCK_ROWS)):
        numbers = [r for r, _ in block]
        grid = list(zip_longest(*(row for _, row in block)))
        columns = [_column(grid[i] if i < len(grid) else (None,) * len(block), col, date1904)
                   for col, i in cols]
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
        # Each record's values in the model's field order, zipped and made into dicts by built-ins.
        by_field: dict[str, Iterable[Any]] = {"row": numbers, **{n: c.values for n, c in zip(names, columns, strict=True)}}
        rows = zip(*(by_field.get(name) or repeat(default) for name, default in defaults.items()), strict=False)
        kept = compress(map(dict, map(zip, repeat(fields), rows)), filled)
        records += (construct(model, data, fields_set) for data in kept if keep is None or keep(data))
        last = next((n for n, f in zip(reversed(numbers), reversed(filled), strict=True) if f), last)
    problems.sort(key=lambda t: (t[0], t[1]))
    return records, [p for _, _, p in problems], last


#: What the first cell of a totals line says (compared without spaces, case or a trailing colon);
#: the Chinese words also when more follows (``合计：61 宗``).
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "总数", "total", "totals", "subtotal", "grandtotal", "sum"})
_TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")


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
    for v in values:  # an ASCII word must start with t or s: complaint numbers are mostly passed at once
        if v is None:
            blanks.add(v)
        elif isinstance(v, str) and (not v.isascii() or v.lstrip()[:1] in "TtSs"):  # (or is blank: "" is in)
            t = "".join(v.split())
            if not t:
                blanks.add(v)
            elif len(v) <= 30 and ((t := t.rstrip(":：").lower()) in TOTAL_WORDS or t.startswith(_TOTAL_PREFIXES)):
                words.add(v)
    return words, blanks


#: Rows read and parsed together: large enough for bulk work, small enough to stay flat.
BLOCK_ROWS = 2048
_NUMBERS = frozenset({bool, int, float})
_EARLIEST, _AFTER_LATEST = datetime(cells.MIN_YEAR, 1, 1), datetime(cells.MAX_YEAR + 1, 1, 1)


@dataclass
class _Column:
    """One column of a block: the raw cells (as keys) and what each distinct key reads as —
    a value, None for a blank cell (nothing left once cleaned), or the CellError it raised."""

    keys: list[object]
    parsed: dict[object, Any]
    errors: bool  # some key raised
    blanks: bool  # some key is blank

    @property
    def values(self) -> Iterable[Any]:
        if not self.errors:
            return map(self.parsed.__getitem__, self.keys)
        clean = {k: None if isinstance(p, cells.CellError) else p for k, p in self.parsed.items()}
        return map(clean.__getitem__, self.keys)

    @property
    def filled(self) -> Iterable[bool]:
        if not self.blanks:
            return repeat(True, len(self.keys))
        return map(is_not, map(self.parsed.__getitem__, self.keys), repeat(None))

    def problems(self, required: bool) -> Iterator[tuple[int, str, object, dict[str, Any]]]:
        """(index, code, raw cell, message params) of each unreadable or required-but-blank cell."""
        if not (self.errors or (required and self.blanks)):
            return
        bad = {k for k, p in self.parsed.items() if isinstance(p, cells.CellError) or (required and p is None)}
        for i, k in enumerate(self.keys):
            if k in bad:
                error = self.parsed[k]
                if error is None:
                    yield i, "required", None, {}
                else:
                    yield i, error.code, _raw(k), error.params


class _CleanColumn:
    """A column of a block whose every filled cell already is its value (the usual column):
    no distinct values to look up, the cells are the values (an empty string read as blank)."""

    def __init__(self, cells: list[object], blanks: int, empty_strings: int) -> None:
        self.cells, self.blanks, self.empty_strings = cells, blanks, empty_strings

    @property
    def values(self) -> list[Any]:
        if not self.empty_strings:
            return self.cells
        return [None if v == "" else v for v in self.cells]

    @property
    def filled(self) -> Iterable[bool]:
        if not self.blanks:
            return repeat(True, len(self.cells))
        return map(is_not, self.values, repeat(None))

    def problems(self, required: bool) -> Iterator[tuple[int, str, object, dict[str, Any]]]:
        if required and self.blanks:
            for i, v in enumerate(self.values):
                if v is None:
                    yield i, "required", None, {}


def _raw(key: object) -> object:
    return key[1] if isinstance(key, _Typed) else key


class _Typed(tuple):
    """(type, value): keeps 1, 1.0 and True apart in a column that mixes them."""


def _column(raw: Sequence[object], col: Column, date1904: bool) -> _Column | _CleanColumn:
    keys: list[object] = list(raw)
    max_len = getattr(col, "max_len", None)
    all_as_is = _ALL_AS_IS.get(col.type)
    if all_as_is is not None:  # the usual column: blank cells aside, every value already clean?
        present = list(filter(None, keys))  # drops None and "" (and any other false value: counted below)
        nones, empty_strings = keys.count(None), keys.count("")
        if len(present) + nones + empty_strings == len(keys) and (not present or all_as_is(present, max_len)):
            # Equal values as one object: names, dates, texts repeat down a column, and a 50,000-row
            # register keeps them all (50 MiB more, one object per cell).
            keys = list(map(dict(zip(keys, keys, strict=True)).__getitem__, keys))
            return _CleanColumn(keys, nones + empty_strings, empty_strings)
    parsed: dict[object, Any] = dict.fromkeys(keys)
    if len(set(map(type, parsed)) & _NUMBERS) > 1:  # equal as dict keys, but they may read differently
        keys = [_Typed((type(v), v)) for v in keys]
        parsed = dict.fromkeys(keys)
    as_is = _AS_IS.get(col.type)
    errors = blanks = False
    for k in parsed:
        if as_is is not None and as_is(k, max_len):
            parsed[k] = k
            continue
        value = _raw(k)
        if value is None or value == "":
            blanks = True
            continue
        try:
            parsed[k] = p = parse_cell(value, col, date1904=date1904)
            blanks = blanks or p is None
        except cells.CellError as e:
            parsed[k] = e
            errors = True
    return _Column(keys, parsed, errors, blanks)


def _datetime_as_is(k: object, _: int | None) -> bool:
    return type(k) is datetime and _EARLIEST <= k < _AFTER_LATEST


def _text_as_is(k: object, max_len: int | None) -> TypeGuard[str]:
    """Already what ``cells.parse_text`` returns: no invisible or control characters,
    no openpyxl escapes, no whitespace at the ends, not too long."""
    return (type(k) is str and k.isprintable() and k.strip() == k and k != "" and "_x000D_" not in k
            and (max_len is None or len(k) <= max_len))


def _code_as_is(k: object, max_len: int | None) -> bool:
    return _text_as_is(k, max_len) and k.isascii() and k == k.upper()  # NFKC leaves ASCII as is


def _phone_as_is(k: object, _: int | None) -> bool:
    return type(k) is str and cells.MOBILE.fullmatch(k) is not None  # a mobile number's canonical form


#: Cells that already are their parsed value are taken as they are (the per-cell checks are
#: the parse's own, done in C); everything else goes through ``parse_cell``.
_AS_IS: dict[ColType, Callable[[object, int | None], bool]] = {
    ColType.DATETIME: _datetime_as_is, ColType.TEXT: _text_as_is, ColType.LONGTEXT: _text_as_is,
    ColType.CODE: _code_as_is, ColType.PHONE: _phone_as_is,
}


# The same checks over all of a column's filled cells at once, for the usual column where they
# all pass: each is ``all(_AS_IS[type](k, max_len) for k in keys)`` (``tests/test_reader.py``
# holds them to that), with the per-value work done by built-ins over the whole list.
def _all_datetimes_as_is(keys: list[object], _: int | None) -> bool:
    if set(map(type, keys)) != {datetime}:
        return False
    times: list[datetime] = keys  # type: ignore[assignment]
    return min(times) >= _EARLIEST and max(times) < _AFTER_LATEST


def _all_texts_as_is(keys: list[object], max_len: int | None) -> bool:
    if set(map(type, keys)) != {str}:
        return False
    texts: list[str] = keys  # type: ignore[assignment]
    # Printable text has no whitespace but the plain space, so "stripped" means no space at
    # either end of any value: none after a separator or before one in the joined text.
    joined = "\0" + "\0".join(texts) + "\0"
    return ("".join(texts).isprintable() and "\0 " not in joined and " \0" not in joined
            and "_x000D_" not in joined and (max_len is None or max(map(len, texts)) <= max_len))


def _all_codes_as_is(keys: list[object], max_len: int | None) -> bool:
    if not _all_texts_as_is(keys, max_len):
        return False
    joined = "".join(keys)  # type: ignore[arg-type]
    return joined.isascii() and joined == joined.upper()


_MOBILES = re.compile(f"{cells.MOBILE.pattern}(?:\0{cells.MOBILE.pattern})*", re.ASCII)


def _all_phones_as_is(keys: list[object], _: int | None) -> bool:
    return set(map(type, keys)) == {str} and _MOBILES.fullmatch("\0".join(keys)) is not None  # type: ignore[arg-type]


_ALL_AS_IS: dict[ColType, Callable[[list[object], int | None], bool]] = {
    ColType.DATETIME: _all_datetimes_as_is, ColType.TEXT: _all_texts_as_is, ColType.LONGTEXT: _all_texts_as_is,
    ColType.CODE: _all_codes_as_is, ColType.PHONE: _all_phones_as_is,
}
