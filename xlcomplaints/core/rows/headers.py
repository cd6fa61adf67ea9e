"""Header finding: which row holds a spec's headers and where each column sits (``Layout``); the reader's messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.spec.model import Column, Field, SheetSpec

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
