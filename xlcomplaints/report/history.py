"""Earlier monthly reports as trend history, for months the current inputs no longer hold.

Offices often start a fresh register each year; January's report can still show twelve
months when given December's report, whose Trend sheet it reads back. The sheet is
found by its stamp, its columns by their headers (zh or en), like any of our sheets.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from xlcomplaints.core.metrics import Month, TrendRow
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.core.rows import find_layout
from xlcomplaints.spec.report import REPORT_TEMPLATE_KIND, TREND
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_trend(path: str | Path) -> list[TrendRow]:
    """The Trend rows of one report we wrote; raises WorkbookError when it is not one."""
    port = FileWorkbook(path)
    stamp, sheets = find_stamps(port)
    if stamp.kind != REPORT_TEMPLATE_KIND:
        raise WorkbookError("file.wrong_kind", path=port.label, kind=stamp.kind, expected=REPORT_TEMPLATE_KIND)
    if "trend" not in sheets:
        raise WorkbookError("file.sheet_missing", path=port.label, sheet=TREND.title("zh"))
    grid = port.values(sheets["trend"])
    layout, _ = find_layout(grid, TREND, sheets["trend"])
    if layout is None:
        raise WorkbookError("file.sheet_missing", path=port.label, sheet=TREND.title("zh"))
    cols = layout.columns
    out = []
    for row in grid[layout.header_row:]:
        def cell(key: str, row: list[object] = row) -> object:
            i = cols.get(key)
            return row[i - 1] if i is not None and i - 1 < len(row) else None
        try:
            month = Month.parse(str(cell("month")))
        except ValueError:
            continue
        received, closed = _number(cell("received")), _number(cell("closed"))
        out.append(TrendRow(month, int(received) if received is not None else None,
                            int(closed) if closed is not None else None,
                            _number(cell("on_time_rate")), _number(cell("satisfaction_rate"))))
    return out


def read_history(paths: Iterable[str | Path]) -> tuple[dict[Month, TrendRow], list[Problem]]:
    """Trend rows by month from earlier reports; a month in several, from the latest report."""
    found: list[tuple[Month, list[TrendRow]]] = []
    problems: list[Problem] = []
    for p in paths:
        name = Path(p).name
        try:
            rows = read_trend(p)
        except WorkbookError as e:
            problems.append(Problem(level=Level.WARNING, code=e.code, file=name, params={"path": name, **e.params}))
            continue
        if rows:
            found.append((max(r.month for r in rows), rows))
    history: dict[Month, TrendRow] = {}
    for _, rows in sorted(found, key=lambda x: x[0]):
        history.update({r.month: r for r in rows})
    return history, problems
