"""Earlier monthly reports as history, for months the current inputs no longer hold.

Offices often start a fresh register each year (some each month); January's report can
still show twelve months when given December's report, whose Trend sheet it reads back,
and compare with December when the inputs hold nothing of it, from December's Cover.
Sheets are found by their stamps, columns by their headers (zh or en), like any of ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from xlcomplaints.core.metrics import METRICS, Month, TrendRow
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.core.rows import find_layout
from xlcomplaints.report.summary import Cover
from xlcomplaints.spec.report import COVER, REPORT_TEMPLATE_KIND, TREND
from xlcomplaints.spec.vocab import UNIT
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_report(path: str | Path) -> tuple[list[TrendRow], Cover]:
    """The Trend rows and the cover of one report we wrote, opened once; raises WorkbookError
    when it is not one."""
    port = FileWorkbook(path)
    stamp, sheets = find_stamps(port)
    if stamp.kind != REPORT_TEMPLATE_KIND:
        raise WorkbookError("file.wrong_kind", path=port.label, kind=stamp.kind, expected=REPORT_TEMPLATE_KIND)
    return _trend(port, sheets), _cover(port, sheets)


def _trend(port: FileWorkbook, sheets: dict[str, str]) -> list[TrendRow]:
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


_UNIT_LABELS = {label: code for code in UNIT.codes
                for label in (UNIT.label(code, "zh"), UNIT.label(code, "en").lower())}


def _cover(port: FileWorkbook, sheets: dict[str, str]) -> Cover:
    """The report's cover (no figures if it has none we can read)."""
    out = Cover(port.label, {}, {})
    if "cover" not in sheets:
        return out
    grid = port.values(sheets["cover"])
    layout, _ = find_layout(grid, COVER, sheets["cover"])
    if layout is None or "metric" not in layout.columns or "value" not in layout.columns:
        return out
    names = sorted(((m.name(lang), key) for key, m in METRICS.items() for lang in ("zh", "en")),
                   key=lambda pair: -len(pair[0]))
    for row in grid[layout.header_row:]:
        text, value = (row[layout.columns[k] - 1] if layout.columns[k] - 1 < len(row) else None
                       for k in ("metric", "value"))
        if not isinstance(text, str):
            continue
        # Durations carry their unit after the name: 受理通知用时中位数（小时）, "... (hours)".
        found = next(((n, k) for n, k in names if text == n or text.startswith((f"{n}（", f"{n} ("))), None)
        if found is None:
            continue
        name, key = found
        out.figures[key] = _number(value)
        unit = _UNIT_LABELS.get(text[len(name):].strip(" （）()"))
        if unit is not None:
            out.units[key] = unit
    return out


class History(NamedTuple):
    """What earlier reports give: trend rows by month, and each report's cover by its month."""

    trend: dict[Month, TrendRow]
    covers: dict[Month, Cover]
    problems: list[Problem]


def read_history(paths: Iterable[str | Path]) -> History:
    """Trend rows and cover figures by month from earlier reports; a month in several, from the latest report."""
    found: list[tuple[Month, list[TrendRow], Cover]] = []
    problems: list[Problem] = []
    for p in paths:
        name = Path(p).name
        try:
            rows, cover = read_report(p)
        except WorkbookError as e:
            problems.append(Problem(level=Level.WARNING, code=e.code, file=name, params={"path": name, **e.params}))
            continue
        if rows:
            found.append((max(r.month for r in rows), rows, cover))
    history = History({}, {}, problems)
    for month, rows, cover in sorted(found, key=lambda x: x[0]):
        history.trend.update({r.month: r for r in rows})
        if cover.figures:
            history.covers[month] = cover
    return history
