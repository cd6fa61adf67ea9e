"""Earlier monthly reports as history, for months the current inputs no longer hold.

Offices often start a fresh register each year (some each month); January's report can
still show twelve months when given December's report, whose Trend sheet it reads back,
and compare with December when the inputs hold nothing of it: from December's Cover (its
figures and the backlog's ages) and its breakdown sheets (counts by value).
Sheets are found by their stamps, columns by their headers (zh or en), like any of ours;
values by their labels in either language.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path
from typing import NamedTuple

from xlcomplaints.core.metrics import AGE_BUCKETS, METRICS, PERIOD_WORDS, Period, TrendRow
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.core.rows import find_layout
from xlcomplaints.report.inputs import expand_inputs
from xlcomplaints.report.labels import label
from xlcomplaints.report.summary import DIMENSIONS, Cover
from xlcomplaints.spec.branch import REGISTER
from xlcomplaints.spec.report import BRANCHES_NAME, BREAKDOWN, COVER, REPORT_TEMPLATE_KIND, TREND
from xlcomplaints.spec.vocab import UNIT
from xlcomplaints.workbook.errors import WorkbookError, wrong_kind
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps
from xlcomplaints.workbook.stamp import SHEET_NAME, Stamp


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_report(path: str | Path) -> tuple[list[TrendRow], Cover]:
    """The Trend rows and the cover of one report we wrote, opened once; raises WorkbookError
    when it is not one."""
    port = FileWorkbook(path)
    stamp, sheets = find_stamps(port)
    if stamp.kind != REPORT_TEMPLATE_KIND:
        raise wrong_kind(port.label, stamp.kind, REPORT_TEMPLATE_KIND)
    return _trend(port, sheets), _cover(port, sheets)._replace(breakdowns=_breakdowns(port),
                                                                branches=_branches(port))


def _branches(port: FileWorkbook) -> tuple[str, ...]:
    """The branch codes the report names (none in reports written before it named them)."""
    for n in port.names():
        if n.name.lower() == BRANCHES_NAME and n.local_sheet is None:
            text = n.value.strip().lstrip("=").strip().strip('"')
            return tuple(c.strip() for c in text.split(",") if c.strip())
    return ()


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
            month = Period.parse(str(cell("month")))
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
    out = out._replace(backlog_ages=_backlog_ages(grid))
    layout, _ = find_layout(grid, COVER, sheets["cover"])
    if layout is None or "metric" not in layout.columns or "value" not in layout.columns:
        return out
    names = sorted([*((m.name(lang), key) for key, m in METRICS.items() for lang in ("zh", "en")),
                    *_OLD_NAMES.items()], key=lambda pair: -len(pair[0]))
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


#: Metric names reports used before periods had kinds (the metric's name now in ``METRICS``).
_OLD_NAMES = {"月末未结案": "open_end", "Open at month end": "open_end", "上月结转未结案": "backlog_in"}
#: The cover's backlog table: its first two headers in either language and for any period (see ``report.cover``).
_AGE_HEADERS = frozenset(pair for w in PERIOD_WORDS.values() for pair in (("账龄", f"{w[0]}初"), ("Age", w[2])))


def _backlog_ages(grid: list[list[object]]) -> list[int] | None:
    """The ages of the backlog carried into the report's period, from the cover's small table."""
    for r, row in enumerate(grid):
        for c in range(len(row) - 1):
            if (row[c], row[c + 1]) in _AGE_HEADERS:
                cells = [grid[r + 1 + i][c + 1] if r + 1 + i < len(grid) and c + 1 < len(grid[r + 1 + i]) else None
                         for i in range(len(AGE_BUCKETS))]
                counts = [_number(x) for x in cells]
                return [int(x) for x in counts] if all(x is not None for x in counts) else None  # type: ignore[arg-type]
    return None


def _dimension_labels() -> dict[str, str]:
    """A breakdown sheet's first column (what it breaks down by), in either language → the dimension."""
    out = {}
    for dim, _ in DIMENSIONS:
        for lang in ("zh", "en"):
            out[("网点", "Branch")[lang == "en"] if dim == "branch" else REGISTER.column(dim).label(lang)] = dim
    return out


def _value_codes() -> dict[str, dict[str, str | None]]:
    """Per dimension, each value's label in either language → its code (a blank's label → None)."""
    out: dict[str, dict[str, str | None]] = {}
    for dim, vocab in DIMENSIONS:
        codes: dict[str, str | None] = {label(vocab, None, lang): None for lang in ("zh", "en")}
        for code in vocab.codes if vocab else ():
            codes.update({label(vocab, code, lang): code for lang in ("zh", "en")})
        out[dim] = codes
    return out


_TOTAL = frozenset({"合计", "Total"})


def _breakdowns(port: FileWorkbook) -> dict[str, dict[str | None, int]]:
    """Each breakdown sheet's "this period" counts by value code (values the sheet does not list: none)."""
    dims, codes = _dimension_labels(), _value_codes()
    existing = set(port.sheet_names())
    out: dict[str, dict[str | None, int]] = {}
    for n in port.names():
        stamp = Stamp.parse(n.value) if n.name.lower() == SHEET_NAME and n.local_sheet in existing else None
        if stamp is None or stamp.kind != BREAKDOWN.kind:
            continue
        grid = port.values(n.local_sheet)  # type: ignore[arg-type]
        layout, _ = find_layout(grid, BREAKDOWN, n.local_sheet)  # type: ignore[arg-type]
        if layout is None or not {"dimension", "value", "count"} <= layout.columns.keys():
            continue
        col = {k: layout.columns[k] - 1 for k in ("dimension", "value", "count")}
        counts: dict[str | None, int] = {}
        dim = None
        for row in grid[layout.header_row:]:
            if len(row) <= max(col.values()):
                continue
            shown, count = row[col["value"]], _number(row[col["count"]])
            dim = dim or dims.get(str(row[col["dimension"]]))
            if dim is None or not isinstance(shown, str) or count is None or shown in _TOTAL:
                continue
            code = codes[dim].get(shown, shown)  # a branch stays as labelled, "BJ01 北京一店" (see summary.build)
            counts[code] = counts.get(code, 0) + int(count)
        if dim is not None:
            out[dim] = counts
    return out


class History(NamedTuple):
    """What earlier reports give: trend rows by period, each report's cover by its period, and the
    covers of every report read (what they tell of their branches). Periods of every kind: the report
    takes those of its own kind."""

    trend: dict[Period, TrendRow]
    covers: dict[Period, Cover]
    problems: list[Problem]
    read: list[Cover]


#: Why a workbook found in a history folder is passed over without a word: it is not a report
#: (branch workbooks, other files kept beside the reports). Given by name, it is a warning.
_NOT_A_REPORT = frozenset({"file.wrong_kind", "file.not_ours", "file.not_workbook", "file.old_xls",
                           "file.other_format"})


def read_history(paths: Iterable[str | Path], branches: Collection[str] = ()) -> History:
    """Trend rows and cover figures by period from earlier reports, given as files or folders of
    them; a period in several, from the latest report.

    In a folder, reports that name other branches than ``branches`` (when given) are passed
    over: a shared folder of every branch's reports holds this branch's history and others'.
    """
    found: list[tuple[Period, list[TrendRow], Cover]] = []
    problems: list[Problem] = []
    ours = set(branches)
    for given in paths:
        folder = Path(given).is_dir()
        for p in expand_inputs([given]) if folder else [Path(given)]:
            name = p.name
            try:
                rows, cover = read_report(p)
            except WorkbookError as e:
                if not (folder and e.code in _NOT_A_REPORT):
                    problems.append(Problem(level=Level.WARNING, code=e.code, file=name,
                                            params={**e.params, "path": name}))
                continue
            if folder and ours and cover.branches and set(cover.branches) != ours:
                continue
            if rows:
                found.append((max(r.month for r in rows), rows, cover))
    history = History({}, {}, problems, [cover for _, _, cover in found])
    for month, rows, cover in sorted(found, key=lambda x: x[0]):
        history.trend.update({r.month: r for r in rows})
        if cover.figures:
            history.covers[month] = cover
    return history
