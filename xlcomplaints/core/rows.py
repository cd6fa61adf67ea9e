"""Turn a sheet's cell grid into records, locating every cell that cannot be read.

Pure: the grid comes from any adapter (calamine over a file, or xlwings). Headers are
found by label in zh or en, or by key, whatever row they sit on near the top and in
whatever order the office put the columns; the office's own columns are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, count, islice
from typing import Any, TypeVar

from pydantic import BaseModel

from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.spec.model import ColType, Column, Field, SheetSpec

M = TypeVar("M", bound=BaseModel)
_MISSING = object()
#: Enough for every dropdown value and the common names; unique columns stop caching early.
MEMO_PER_COLUMN = 512
HEADER_SCAN_ROWS = 10

MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项“{column}”为空。", "Required field '{column}' is empty."),
    "column.missing": ("工作表缺少必需的列“{column}”。", "The sheet has no '{column}' column, which is required."),
    "column.duplicate": ("列“{column}”出现了两次，只读取第一列（{first}）。",
                         "Column '{column}' appears twice; only the first ({first}) is read."),
    "header.not_found": ("找不到表头行（应含“{columns}”等列）。", "No header row found (expected columns such as '{columns}')."),
    "number.too_small": ("数值 {value} 小于允许的最小值 {min}。", "{value} is below the minimum {min}."),
    "number.too_large": ("数值 {value} 大于允许的最大值 {max}。", "{value} is above the maximum {max}."),
    "setting.unknown": ("无法识别的设置项“{value}”，已忽略。", "Unknown setting '{value}' ignored."),
}
register_messages(MESSAGES)


def _label_keys(col: Column | Field) -> set[str]:
    return {cells.header_key(col.zh), cells.header_key(col.en), cells.header_key(col.key)}


@dataclass
class Layout:
    """Where a spec's columns sit in an actual sheet (1-based), and where data starts."""

    sheet: str
    spec: SheetSpec
    header_row: int
    columns: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    last_row: int = 0

    def cell(self, row: int, key: str) -> str | None:
        col = self.columns.get(key)
        return a1(row, col) if col else None

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
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def find_layout(grid: Sequence[Sequence[object]], spec: SheetSpec, sheet: str,
                start_row: int = 1) -> tuple[Layout | None, list[Problem]]:
    """Find the header row (best match near the top) and map columns to keys."""
    by_label = {label: c.key for c in spec.columns for label in _label_keys(c)}
    scanned = [(r, [cells.header_key(v) if isinstance(v, str) else None for v in grid[r]])
               for r in range(start_row - 1, min(len(grid), start_row - 1 + HEADER_SCAN_ROWS))]
    best_row, best_hits = 0, 0
    for r, keys in scanned:
        hits = sum(1 for k in keys if k in by_label)
        if hits > best_hits:
            best_row, best_hits = r + 1, hits
    if best_hits < max(1, min(3, len(spec.columns) // 2)):
        names = " / ".join(c.zh for c in spec.columns[:3])
        return None, [Problem(level=Level.ERROR, code="header.not_found", sheet=sheet, params={"columns": names})]
    layout = Layout(sheet=sheet, spec=spec, header_row=best_row)
    problems: list[Problem] = []
    header_keys = next(keys for r, keys in scanned if r + 1 == best_row)
    for c, (hk, value) in enumerate(zip(header_keys, grid[best_row - 1], strict=False), start=1):
        key = by_label.get(hk) if hk else None
        if key is None:
            continue
        if key in layout.columns:
            problems.append(layout.problem(Level.WARNING, "column.duplicate", None, None,
                                           column=str(value).strip(), first=a1(best_row, layout.columns[key])))
        else:
            layout.columns[key] = c
            layout.headers[key] = " ".join(str(value).split())
    for col in spec.columns:
        if col.required and col.key not in layout.columns:
            problems.append(Problem(level=Level.ERROR, code="column.missing", sheet=sheet, column=col.zh,
                                    params={"column": f"{col.zh} / {col.en}"}))
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
    if t is ColType.CODE:
        text = cells.parse_text(value, max_len=getattr(col, "max_len", None))
        return cells.normalize_text(text) or None if text else None
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
               date1904: bool = False) -> tuple[Layout | None, list[M], list[Problem]]:
    """Like find_layout + read_records, over rows as they stream from the file.

    Only the rows near the top are held (to find the header); the rest are read one at
    a time, so a 50,000-row register never sits in memory as a grid of cells.
    """
    it = iter(rows)
    head = list(islice(it, HEADER_SCAN_ROWS))
    layout, problems = find_layout(head, spec, sheet)
    if layout is None:
        return None, [], problems
    numbered = zip(count(layout.header_row + 1), chain(head[layout.header_row:], it), strict=False)
    records, more, last = _records(numbered, layout, model, date1904=date1904)
    layout.last_row = max(last, layout.header_row)
    return layout, records, problems + more


def construct(model: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """A record from values already parsed to their fields' types, every field present.

    The same instance ``model.model_construct`` builds (``__dict__``, fields set, no
    extras, no private state), without its walk over every field for defaults, which
    was a quarter of reading a register. ``tests/test_reader.py`` holds it equal to
    full validation.
    """
    obj = model.__new__(model)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _records(numbered: Iterable[tuple[int, Sequence[object]]], layout: Layout, model: type[M], *,
             date1904: bool = False, keep: Callable[[dict[str, Any]], bool] | None = None,
             ) -> tuple[list[M], list[Problem], int]:
    records: list[M] = []
    problems: list[Problem] = []
    last = 0
    cols = [(c, layout.columns[c.key] - 1) for c in layout.spec.input_columns if c.key in layout.columns]
    # Clerks' columns repeat the same values (channels, severities, names, dates): parse each once.
    memos: list[dict[tuple[type, object], object]] = [{} for _ in cols]
    # Fields the sheet lacks keep their defaults; every record shares one fields set.
    defaults = {name: f.default for name, f in model.model_fields.items()}
    fields_set = {"row", *(c.key for c, _ in cols)}
    for r, row in numbered:
        width = len(row)
        values = [row[i] if i < width else None for _, i in cols]
        if all(_blank(v) for v in values):
            continue
        last = r
        data = dict(defaults)
        data["row"] = r
        for (col, _), seen, value in zip(cols, memos, values, strict=True):
            if value is None or value == "":
                parsed = None
            else:
                key = (type(value), value)
                parsed = seen.get(key, _MISSING)
                if parsed is _MISSING:
                    try:
                        parsed = parse_cell(value, col, date1904=date1904)
                    except cells.CellError as e:
                        parsed = e
                    if len(seen) < MEMO_PER_COLUMN:
                        seen[key] = parsed
                if isinstance(parsed, cells.CellError):
                    problems.append(layout.problem(Level.ERROR, parsed.code, r, col.key, value, **parsed.params))
                    parsed = None
            if parsed is None and col.required and _blank(value):
                problems.append(layout.problem(Level.ERROR, "required", r, col.key))
            data[col.key] = parsed
        if keep is None or keep(data):
            records.append(construct(model, data, fields_set))
    return records, problems, last
