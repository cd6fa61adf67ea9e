"""The workbook port over a workbook open in Excel, through xlwings.
(Over 400 lines: the port's members over one live workbook read as one class; its chart is excel/charts.py.)

Why it looks the way it does: every call into Excel crosses a process boundary (COM
on Windows, Apple events on macOS) and costs about a millisecond, so the adapter
reads each sheet in one whole-range call and writes each rectangular block of cells
in one call. A refresh therefore makes the same few dozen calls for ten rows or ten
thousand (tests/test_excel_adapter.py counts them).

Writes stay in the sheets and cells the flows name. Sheets the template protects
(without a password) are unprotected around a write and protected again with the
options they had, read back from the live sheet, so filtering, sorting and inserting
rows stay allowed exactly as before. Nothing is saved to disk: the open workbook
shows the results and the clerk saves it as usual.

xlwings is imported lazily: it is the optional dependency ``xlcomplaints[excel]``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from xlcomplaints.core.problems import a1, register_messages
from xlcomplaints.excel.charts import LiveCharts
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.port import BarChart, CellValue, NamedValue

MESSAGES = {
    "excel.sheet_password": (
        "工作表“{sheet}”设置了保护密码，无法写入。请在 Excel 中“审阅 → 撤销工作表保护”后再点按钮。",
        "Sheet '{sheet}' is protected with a password, so it cannot be written. Unprotect it "
        "(Review → Unprotect Sheet) and click the button again."),
    "excel.write_failed": ("无法写入工作表“{sheet}”：{detail}", "Could not write sheet '{sheet}': {detail}"),
    "excel.not_saved": ("“{path}”还没有保存为文件，请先保存（Ctrl+S）再生成月报。",
                        "'{path}' has not been saved as a file yet; save it (Ctrl+S), then make the report."),
}
register_messages(MESSAGES)

Block = tuple[int, int, list[list[CellValue]]]  # first row, first column, rows of values

# Excel parses a string written through Range.Value as if typed: "2026-11-22 09:00" becomes a
# date, "0012" the number 12, "=x" a formula. A leading apostrophe makes it stay text (Excel
# keeps it as the cell's prefix, not as part of the value), so such strings get one.
_COERCIBLE = re.compile(r"""\s*(?:[=+\-@'#]|(?:true|false)\s*$|[\d\s.,:/()%$¥€£+\-eE年月日时分秒]*\d[\d\s.,:/()%$¥€£+\-eE年月日时分秒]*$)""",
                        re.IGNORECASE)


class Formula(str):
    """A string meant as a formula (e.g. HYPERLINK): written as is, never made literal."""


def literal(value: CellValue) -> CellValue:
    """What to hand to Range.Value so that Excel stores ``value`` itself."""
    if isinstance(value, str) and not isinstance(value, Formula) and _COERCIBLE.match(value):
        return "'" + value
    return value


def split_name(full: str) -> tuple[str | None, str]:
    """``'My ''Sheet'''!name`` → ("My 'Sheet'", "name"); a workbook-scope name has no sheet.

    Excel reports a sheet-scope name as ``Sheet!name`` (quoted when the sheet name
    needs it), on Windows (``Name.Name``) and macOS alike; a name itself has no ``!``.
    """
    scope, bang, local = full.rpartition("!")
    if not bang:
        return None, full
    if len(scope) >= 2 and scope[0] == scope[-1] == "'":
        scope = scope[1:-1].replace("''", "'")
    return scope, local


def cell_of(refers_to: str) -> tuple[str, int, int] | None:
    """``='Sheet'!$E$1`` → ("Sheet", 1, 5), for names that point at one cell."""
    sheet, local = split_name(refers_to.lstrip("="))
    letters = local.replace("$", "").rstrip("0123456789")
    digits = local.replace("$", "")[len(letters):]
    if sheet is None or not letters.isalpha() or not letters.isascii() or not digits.isdigit():
        return None
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return sheet, int(digits), col


def to_millisecond(value: datetime) -> datetime:
    """Excel keeps a date-time as a double; round as the file reader does (core.cells)."""
    ms = round(value.microsecond / 1000)
    return value.replace(microsecond=0) + timedelta(milliseconds=ms)


def blocks(cells: Mapping[tuple[int, int], CellValue]) -> list[Block]:
    """Group cells into as few filled rectangles as possible without touching other cells.

    Each column is cut into runs of consecutive rows; neighbouring columns with the same
    run merge. The Register's computed columns are adjacent and written for every row,
    so a refresh is one block.
    """
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    runs: dict[tuple[int, int], list[int]] = {}
    for c, rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for nxt in rows[1:] + [None]:
            if nxt is not None and nxt == prev + 1:
                prev = nxt
                continue
            runs.setdefault((start, prev), []).append(c)
            if nxt is not None:
                start = prev = nxt
    out: list[Block] = []
    for (r1, r2), cols in sorted(runs.items()):
        cols.sort()
        first = prev = cols[0]
        for nxt in cols[1:] + [None]:
            if nxt is not None and nxt == prev + 1:
                prev = nxt
                continue
            out.append((r1, first, [[cells[(r, k)] for k in range(first, prev + 1)] for r in range(r1, r2 + 1)]))
            if nxt is not None:
                first = prev = nxt
    return out


BLOCK_ROWS = 5_000  # rows per Range.Value transfer of a column write


def column_blocks(columns: Sequence[int], rows: Mapping[int, Sequence[CellValue]]) -> list[Block]:
    """The rectangles of a column write: runs of consecutive rows (at most BLOCK_ROWS, so
    each transfer stays moderate) by runs of adjacent columns. A refresh's computed
    columns over every Register row are a block per BLOCK_ROWS rows."""
    order = sorted(range(len(columns)), key=columns.__getitem__)
    col_runs: list[list[int]] = []  # positions in a row's values, by adjacent columns
    for i in order:
        if col_runs and columns[i] == columns[col_runs[-1][-1]] + 1:
            col_runs[-1].append(i)
        else:
            col_runs.append([i])
    row_runs: list[list[int]] = []
    for r in sorted(rows):
        if row_runs and r == row_runs[-1][-1] + 1 and len(row_runs[-1]) < BLOCK_ROWS:
            row_runs[-1].append(r)
        else:
            row_runs.append([r])
    return [(run[0], columns[cols[0]], [[rows[r][i] for i in cols] for r in run])
            for run in row_runs for cols in col_runs]


def _same(a: object, b: object) -> bool:
    """Would writing ``b`` over ``a`` (as read back from Excel) change what the cell holds?"""
    if a == "":
        a = None
    if b == "":
        b = None
    if isinstance(a, datetime) and isinstance(b, date):
        b = b if isinstance(b, datetime) else datetime.combine(b, datetime.min.time())
        return abs(a - b) < timedelta(milliseconds=1)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


class _Protection:
    """Sheet protection through the native object: COM on Windows, appscript on macOS."""

    #: COM Protection.Allow* property → Protect() keyword; the appscript names are snake_case.
    ALLOW = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
             "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
             "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")

    def __init__(self, mac: bool) -> None:
        self.mac = mac

    @staticmethod
    def _snake(name: str) -> str:
        """COM name → Excel's AppleScript name (``AllowUsingPivotTables`` → ``allow_using_pivot_table``)."""
        snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")
        return snake.removesuffix("pivot_tables") + "pivot_table" if snake.endswith("pivot_tables") else snake

    def state(self, api: Any) -> dict[str, bool] | None:
        """The options to protect with again, or None when the sheet is not protected."""
        if self.mac:
            if not api.protect_contents.get():
                return None
            prot = api.protection_object
            opts = {name: bool(getattr(prot, self._snake(name)).get()) for name in self.ALLOW}
            opts |= {"DrawingObjects": bool(api.protect_drawing_objects.get()),
                     "Scenarios": bool(api.protect_scenarios.get()),
                     "UserInterfaceOnly": bool(api.protection_mode.get())}
            return opts
        if not api.ProtectContents:
            return None
        prot = api.Protection
        opts = {name: bool(getattr(prot, name)) for name in self.ALLOW}
        opts |= {"DrawingObjects": bool(api.ProtectDrawingObjects), "Scenarios": bool(api.ProtectScenarios),
                 "UserInterfaceOnly": bool(api.ProtectionMode)}
        return opts

    def unprotect(self, api: Any) -> None:
        """With an explicit empty password: a password-protected sheet then fails instead of
        prompting, so we never re-protect without the password someone typed."""
        if self.mac:
            api.unprotect(password="")
        else:
            api.Unprotect(Password="")

    def protect(self, api: Any, opts: dict[str, bool]) -> None:
        if self.mac:
            api.protect_worksheet(worksheet_contents=True, **{self._snake(k): v for k, v in opts.items()})
        else:
            api.Protect(Contents=True, **opts)


class XlwingsWorkbook:
    """``WorkbookPort`` over an ``xlwings.Book`` (normally ``xlwings.Book.caller()``).

    Members of xlwings it uses, and nothing else (the test stand-in offers exactly
    these): ``Book.name/.fullname/.names/.sheets/.api`` (``Date1904``, ``Saved``), ``Sheets.add``, ``Name.name/.refers_to``,
    ``Sheet.name/.used_range/.range/.api/.charts``, ``Range.last_cell/.row/.column/.options/
    .value/.clear_contents/.left/.top``, and for the Summary's chart those ``excel/charts.py`` lists.
    """

    def __init__(self, book: Any, *, mac: bool | None = None) -> None:
        self.book = book
        self._protection = _Protection(sys.platform == "darwin" if mac is None else mac)
        self._charts = LiveCharts(self._protection.mac)
        self._sheets: dict[str, Any] | None = None
        self._names: list[NamedValue] | None = None
        self._values: dict[str, list[list[object]]] = {}
        self._changed = False

    # --- reading
    @property
    def label(self) -> str:
        return str(self.book.name)

    @property
    def date1904(self) -> bool:
        api = self.book.api
        return bool(api.date_1904.get() if self._protection.mac else api.Date1904)

    def _sheet_map(self) -> dict[str, Any]:
        if self._sheets is None:
            self._sheets = {}
            for sheet in self.book.sheets:
                self._sheets[sheet.name] = sheet
        return self._sheets

    def sheet_names(self) -> list[str]:
        return list(self._sheet_map())

    def sheet(self, name: str) -> Any:
        sheets = self._sheet_map()
        if name in sheets:
            return sheets[name]
        for key, sheet in sheets.items():  # Excel compares sheet names case-insensitively
            if key.casefold() == name.casefold():
                return sheet
        raise WorkbookError("file.sheet_missing", path=self.label, sheet=name)

    def names(self) -> list[NamedValue]:
        """Read once: the flows never define names, so they cannot change under us."""
        if self._names is None:
            existing = {n.casefold(): n for n in self.sheet_names()}
            self._names = []
            for n in self.book.names:
                scope, local = split_name(str(n.name))
                if scope is not None:
                    scope = existing.get(scope.casefold(), scope)
                self._names.append(NamedValue(local, str(n.refers_to or ""), scope))
        return list(self._names)

    def _extent(self, sheet: Any) -> tuple[int, int]:
        last = sheet.used_range.last_cell
        return int(last.row), int(last.column)

    def rows(self, sheet: str) -> Iterator[list[object]]:
        """The whole-range read of ``values``, row by row (one call into Excel either way)."""
        return iter(self.values(sheet))

    def values(self, sheet: str) -> list[list[object]]:
        if sheet not in self._values:
            sh = self.sheet(sheet)
            rows, cols = self._extent(sh)
            grid = sh.range((1, 1), (rows, cols)).options(ndim=2).value or []
            self._values[sheet] = [[to_millisecond(v) if isinstance(v, datetime) else v for v in row]
                                   for row in grid]
        return self._values[sheet]

    def error_cells(self, sheet: str) -> dict[str, str]:
        """The sheet read again with ``err_to_str``: cells that read blank before but now show an
        error value (a text typed as ``'#N/A`` read as that text the first time)."""
        sh = self.sheet(sheet)
        rows, cols = self._extent(sh)
        grid = sh.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value or []
        first = self.values(sheet)
        return {a1(r, c): v for r, (row, before) in enumerate(zip(grid, first, strict=False), start=1)
                for c, (v, was) in enumerate(zip(row, before, strict=False), start=1)
                if was is None and isinstance(v, str) and v.startswith("#")}

    # --- writing
    @contextmanager
    def _writable(self, sheet: str) -> Iterator[Any]:
        sh = self.sheet(sheet)
        opts = self._protection.state(sh.api)
        if opts is not None:
            try:
                self._protection.unprotect(sh.api)
            except Exception as e:  # a password: COM/appscript raise their own error types
                raise WorkbookError("excel.sheet_password", sheet=sheet) from e
        try:
            yield sh
        except WorkbookError:
            raise
        except Exception as e:
            raise WorkbookError("excel.write_failed", sheet=sheet, detail=str(e) or type(e).__name__) from e
        finally:
            if opts is not None:
                self._protection.protect(sh.api, opts)
            self._values.pop(sheet, None)

    def _current(self, sheet: str, row: int, col: int) -> object:
        grid = self._values.get(sheet)
        if grid is None or row > len(grid) or col > len(grid[row - 1]):
            return None
        return grid[row - 1][col - 1]

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        """One call per block of cells whose values differ from what the sheet shows."""
        if cells:
            self._write_blocks(sheet, blocks(cells))

    def write_columns(self, sheet: str, columns: Sequence[int], rows: Mapping[int, Sequence[CellValue]]) -> None:
        """As write_cells, in blocks of rows by adjacent columns (``column_blocks``)."""
        if rows and columns:
            self._write_blocks(sheet, column_blocks(list(columns), rows))

    def _write_blocks(self, sheet: str, todo_blocks: list[Block]) -> None:
        """Write the blocks whose values differ from what the sheet shows, unprotecting once."""
        self.values(sheet)  # to skip unchanged blocks; cached after the flow's read
        todo = [b for b in todo_blocks if not all(
            _same(self._current(sheet, b[0] + i, b[1] + j), v)
            for i, row in enumerate(b[2]) for j, v in enumerate(row))]
        if not todo:
            return
        with self._writable(sheet) as sh:
            for r, c, rows in todo:
                sh.range((r, c), (r + len(rows) - 1, c + len(rows[0]) - 1)).value = [
                    [literal(v) for v in row] for row in rows]
        self._changed = True

    def replace_rows(self, sheet: str, first_row: int, rows: Sequence[Sequence[CellValue]]) -> None:
        """Clear from ``first_row`` down (values only, formats stay) and write ``rows`` as one block."""
        grid = self.values(sheet)
        width = max([len(r) for r in rows] + [0])
        padded = [list(r) + [None] * (width - len(r)) for r in rows]
        old = grid[first_row - 1 :]
        old_width = max([len(r) for r in old] + [0])
        span = max(width, old_width)
        if all(_same(self._current(sheet, first_row + i, j + 1), padded[i][j] if i < len(padded) and j < width
                     else None) for i in range(max(len(old), len(padded))) for j in range(span)):
            return
        with self._writable(sheet) as sh:
            if old and old_width:
                sh.range((first_row, 1), (first_row + len(old) - 1, old_width)).clear_contents()
            if padded and width:
                sh.range((first_row, 1), (first_row + len(padded) - 1, width)).value = [
                    [literal(v) for v in row] for row in padded]
        self._changed = True

    def set_chart(self, sheet: str, key: str, chart: BarChart | None) -> None:
        """``port.DrawsCharts``: our chart named ``key`` added, updated or (None) deleted, the sheet
        unprotected around it as for cells; nothing written when Excel shows it already (``excel/charts.py``)."""
        sh = self.sheet(sheet)
        found = self._charts.find(sh, key)
        if chart is None:
            if found is not None:
                with self._writable(sheet):
                    found.delete()
                self._changed = True
            return
        title = next(name for name, s in self._sheet_map().items() if s is sh)  # as Excel spells it
        want = self._charts.wanted(sh, chart, title)
        if found is not None and self._charts.shown(found).same(want):
            return
        with self._writable(sheet) as writable:
            self._charts.draw(writable, found, key, chart, title, want)
        self._changed = True

    def add_sheet(self, name: str) -> str:
        """A new sheet after the last one (for the Problems sheet when the workbook lacks it)."""
        sheets = self._sheet_map()
        new = self.book.sheets.add(name, after=list(sheets.values())[-1])
        sheets[name] = new
        return name

    def saved_path(self) -> Path | None:
        """The workbook's file, or None when it was never saved (or lives only online)."""
        full = str(self.book.fullname)
        path = Path(full)
        return path if "://" not in full and path.is_absolute() and path.exists() else None

    def unsaved(self) -> bool:
        """Does the open workbook hold edits not yet saved (Excel's ``Saved`` flag)?"""
        api = self.book.api
        return not (api.saved.get() if self._protection.mac else api.Saved)

    def save(self) -> bool:
        """Nothing to do on disk: report whether the open workbook was changed."""
        return self._changed
