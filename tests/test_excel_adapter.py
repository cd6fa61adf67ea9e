"""The Excel buttons' Python side, tested without Excel, through a stand-in.

There is no Excel on these machines. ``FakeBook`` below offers exactly the xlwings
members ``XlwingsWorkbook`` and ``entry`` use (Book.name/.names/.sheets/.api/.app/.selection,
Sheets.add, Name.name/.refers_to, Sheet.name/.used_range/.range/.api, Range.last_cell/
.row/.column/.options/.value/.clear_contents, the COM sheet protection members, App.
display_alerts/.alert/.books.open), behaves the way xlwings documents them (numbers come back as
floats, empty cells as None, sheet-scope names as ``Sheet!name``, protected sheets
refuse writes), is loaded from a real workbook file with openpyxl, and counts every
call that would cross into Excel. What it cannot show: that real Excel behaves the
same; scripts/excel_smoke.py checks that on a PC with Excel.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlcomplaints.core.metrics import Period
from xlcomplaints.excel import adapter, entry
from xlcomplaints.excel.adapter import (
    XlwingsWorkbook,
    blocks,
    cell_of,
    column_blocks,
    split_name,
    to_millisecond,
)
from xlcomplaints.flows import assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.report.history import read_report
from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.problems import PROBLEMS
from xlcomplaints.spec.report import REPORT_SHEETS, REPORT_TEMPLATE_KIND
from xlcomplaints.templates.build import build_branch_workbook
from xlcomplaints.templates.macro import build_branch_xlsm
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

NOW = datetime(2026, 11, 20, 10, 0)
ALLOW = {  # COM Protection.Allow* ↔ openpyxl SheetProtection attribute (True there = not allowed)
    "AllowFormattingCells": "formatCells",
    "AllowFormattingColumns": "formatColumns",
    "AllowFormattingRows": "formatRows",
    "AllowInsertingColumns": "insertColumns",
    "AllowInsertingRows": "insertRows",
    "AllowInsertingHyperlinks": "insertHyperlinks",
    "AllowDeletingColumns": "deleteColumns",
    "AllowDeletingRows": "deleteRows",
    "AllowSorting": "sort",
    "AllowFiltering": "autoFilter",
    "AllowUsingPivotTables": "pivotTables",
}


# --- the stand-in ------------------------------------------------------------------------


class ComError(Exception):
    """What pywin32 raises when Excel refuses (stands in for pywintypes.com_error)."""


@dataclass
class Calls:
    """Every member access that would be a COM round trip in real xlwings."""

    log: Counter[str] = field(default_factory=Counter)

    def __call__(self, what: str) -> None:
        self.log[what] += 1

    @property
    def total(self) -> int:
        return sum(self.log.values())


def _quote(sheet: str) -> str:
    """Excel's way of writing a sheet name in a reference: quoted unless plain."""
    plain = sheet.replace("_", "a").isalnum() and not sheet[0].isdigit()
    return sheet if plain else "'" + sheet.replace("'", "''") + "'"


class FakeProtection:
    def __init__(self, sheet: FakeSheet) -> None:
        object.__setattr__(self, "_sheet", sheet)

    def __getattr__(self, name: str) -> bool:
        self._sheet.calls(f"Protection.{name}")
        return self._sheet.protection[name]


class FakeSheetApi:
    """The COM Worksheet members the adapter touches for protection."""

    def __init__(self, sheet: FakeSheet) -> None:
        self._s = sheet

    def _get(self, key: str) -> Any:
        self._s.calls(f"Worksheet.{key}")
        return self._s.protection[key]

    ProtectContents = property(lambda self: self._get("Contents"))
    ProtectDrawingObjects = property(lambda self: self._get("DrawingObjects"))
    ProtectScenarios = property(lambda self: self._get("Scenarios"))
    ProtectionMode = property(lambda self: self._get("UserInterfaceOnly"))

    @property
    def Protection(self) -> FakeProtection:  # noqa: N802 - COM name
        self._s.calls("Worksheet.Protection")
        return FakeProtection(self._s)

    def Unprotect(self, Password: str | None = None) -> None:  # noqa: N802,N803 - COM names
        self._s.calls("Worksheet.Unprotect")
        if self._s.password and Password != self._s.password:
            raise ComError("The password you supplied is not correct.")
        self._s.protection["Contents"] = False

    def Protect(self, **kwargs: bool) -> None:  # noqa: N802 - COM name
        self._s.calls("Worksheet.Protect")
        unknown = set(kwargs) - {
            "Contents",
            "DrawingObjects",
            "Scenarios",
            "UserInterfaceOnly",
            *ALLOW,
        }
        assert not unknown, unknown
        self._s.protection.update(kwargs)
        self._s.protect_calls.append(kwargs)


_DATE_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{2}))?")


def as_typed(value: Any) -> Any:
    """What Excel stores when Range.Value gets ``value``: strings are parsed as if typed.

    A subset of Excel's rules, enough to catch a writer that forgets to protect text:
    a leading apostrophe keeps text (and is not stored), numbers and ISO dates convert.
    """
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:]
    text = value.strip()
    try:
        return float(text.replace(",", ""))
    except ValueError:
        pass
    if m := _DATE_TEXT.fullmatch(text):
        y, mo, d, h, mi = (int(g) if g else 0 for g in m.groups())
        return datetime(y, mo, d, h, mi)
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    return value


class FakeError(str):
    """A cell showing an error value (#N/A): xlwings reads it as None, or as its text with
    ``options(err_to_str=True)`` (xlwings 0.28+, ``_xlwindows._clean_value_data_element``)."""


class FakeRange:
    def __init__(
        self,
        sheet: FakeSheet,
        r1: int,
        c1: int,
        r2: int,
        c2: int,
        ndim: int | None = None,
        err_to_str: bool = False,
    ) -> None:
        self.sheet, self.box, self.ndim, self.err_to_str = sheet, (r1, c1, r2, c2), ndim, err_to_str

    def options(
        self, ndim: int | None = None, err_to_str: bool = False
    ) -> FakeRange:  # Python-side in xlwings: no Excel call
        return FakeRange(self.sheet, *self.box, ndim=ndim, err_to_str=err_to_str)

    def _read(self, r: int, c: int) -> Any:
        v = self.sheet.cells.get((r, c))
        if isinstance(v, FakeError):
            return str(v) if self.err_to_str else None
        return v

    @property
    def last_cell(self) -> FakeRange:
        self.sheet.calls("Range.last_cell")
        r1, c1, r2, c2 = self.box
        return FakeRange(self.sheet, r2, c2, r2, c2)

    @property
    def row(self) -> int:
        self.sheet.calls("Range.row")
        return self.box[0]

    @property
    def column(self) -> int:
        self.sheet.calls("Range.column")
        return self.box[1]

    @property
    def value(self) -> Any:
        self.sheet.calls("Range.value")
        r1, c1, r2, c2 = self.box
        grid = [[self._read(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if self.ndim == 2:
            return grid
        if r1 == r2 and c1 == c2:
            return grid[0][0]
        return grid[0] if r1 == r2 else [row[0] for row in grid] if c1 == c2 else grid

    @value.setter
    def value(self, data: Any) -> None:
        self.sheet.calls("Range.value=")
        self.sheet.check_writable()
        r1, c1, r2, c2 = self.box
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else [[data]]
        assert (len(rows), len(rows[0])) == (r2 - r1 + 1, c2 - c1 + 1), (
            "shape differs from the range"
        )
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.sheet.set(r1 + i, c1 + j, as_typed(v))

    @property
    def left(self) -> float:
        """Points from column A's left edge (every column Excel's default 64 px = 48 pt here)."""
        self.sheet.calls("Range.left")
        return (self.box[1] - 1) * COLUMN_POINTS

    @property
    def top(self) -> float:
        """Points from row 1's top edge (every row Excel's default 20 px = 15 pt here)."""
        self.sheet.calls("Range.top")
        return (self.box[0] - 1) * ROW_POINTS

    def clear_contents(self) -> None:
        self.sheet.calls("Range.clear_contents")
        self.sheet.check_writable()
        r1, c1, r2, c2 = self.box
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                self.sheet.cells.pop((r, c), None)


class FakeSheet:
    def __init__(
        self,
        book: FakeBook,
        name: str,
        cells: dict[tuple[int, int], Any],
        protection: dict[str, bool],
        extent: tuple[int, int],
    ) -> None:
        self.book, self._name, self.cells, self.protection = book, name, cells, protection
        self.extent = extent  # Excel's used range grows with formatting, not only values
        self.password: str | None = None
        self.protect_calls: list[dict[str, bool]] = []
        self.api = FakeSheetApi(self)
        self.chart_list: list[FakeChart] = []  # the sheet's embedded charts, in z-order

    @property
    def charts(self) -> FakeCharts:
        self.calls("Sheet.charts")
        return FakeCharts(self)

    @property
    def calls(self) -> Calls:
        return self.book.calls

    @property
    def name(self) -> str:
        self.calls("Sheet.name")
        return self._name

    def check_writable(self) -> None:
        # Stricter than Excel, which lets unlocked cells through: every write must unprotect.
        if self.protection["Contents"]:
            raise ComError(
                f"The cell or chart you're trying to change is on a protected sheet ({self._name})."
            )

    def set(self, r: int, c: int, value: Any) -> None:
        if value is None or value == "":
            self.cells.pop((r, c), None)
        else:
            self.cells[(r, c)] = (
                float(value) if isinstance(value, int) and not isinstance(value, bool) else value
            )
        self.extent = (max(self.extent[0], r), max(self.extent[1], c))

    @property
    def used_range(self) -> FakeRange:
        self.calls("Sheet.used_range")
        return FakeRange(self, 1, 1, *self.extent)

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> FakeRange:
        self.calls("Sheet.range")
        last = last or first
        return FakeRange(self, first[0], first[1], last[0], last[1])


COLUMN_POINTS, ROW_POINTS = 48.0, 15.0
#: The objects of the chart members below, as their calls are counted.
CHART_OBJECTS = frozenset({"Charts", "Chart", "Series", "SeriesCollection", "ChartTitle", "ChartFormat", "FillFormat",
                           "ColorFormat", "DataLabels", "Axis", "Legend"})
_REF = re.compile(r"^=?(?:'(?P<q>(?:[^']|'')+)'|(?P<p>[^'!]+))!\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+)"
                  r"(?::\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+))?$")


class FakeCom:
    """A native (COM) object of the stand-in: only the properties in ``PROPS`` and the members its
    class defines exist; every get and set is counted, and a set on a protected sheet is refused
    (stricter than Excel, which refuses chart changes only when drawing objects are protected)."""

    PROPS: frozenset[str] = frozenset()

    def __init__(self, sheet: FakeSheet, kind: str, **values: Any) -> None:
        object.__setattr__(self, "_sheet", sheet)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "props", dict(values))

    def __getattr__(self, name: str) -> Any:
        if name not in type(self).PROPS:
            raise AttributeError(f"{self._kind} has no member {name}")
        self._sheet.calls(f"{self._kind}.{name}")
        return self.props.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), property):  # counted by its setter
            object.__setattr__(self, name, value)
            return
        if name not in type(self).PROPS:
            raise AttributeError(f"{self._kind} has no member {name}")
        self._sheet.calls(f"{self._kind}.{name}=")
        self._sheet.check_writable()
        self.props[name] = value


class FakeColor(FakeCom):
    PROPS = frozenset({"RGB"})


class FakeFill(FakeCom):
    PROPS = frozenset({"Visible"})

    @property
    def ForeColor(self) -> FakeColor:  # noqa: N802 - COM name
        self._sheet.calls("FillFormat.ForeColor")
        return self.props.setdefault("ForeColor", FakeColor(self._sheet, "ColorFormat"))


class FakeFormat(FakeCom):
    @property
    def Fill(self) -> FakeFill:  # noqa: N802 - COM name
        self._sheet.calls("ChartFormat.Fill")
        return self.props.setdefault("Fill", FakeFill(self._sheet, "FillFormat"))


class FakeSeries(FakeCom):
    """COM ``Series``: ``Name``/``Values``/``XValues`` take a reference (``=Sheet!$A$1``); ``Name`` reads
    back the cell's text, ``Formula`` the ``=SERIES(…)`` Excel writes (sheet quoted only if needed)."""

    PROPS = frozenset({"HasDataLabels"})

    def __init__(self, sheet: FakeSheet, chart: FakeChartCom) -> None:
        super().__init__(sheet, "Series")
        object.__setattr__(self, "chart", chart)
        object.__setattr__(self, "refs", {"Name": None, "XValues": None, "Values": None})

    def _parse(self, ref: str) -> tuple[str, int, int, int, int]:
        m = _REF.match(ref)
        if m is None or not ref.startswith("="):
            raise ComError(f"Unable to set the property: {ref!r} is not a reference")
        sheet = m["q"].replace("''", "'") if m["q"] else m["p"]
        if sheet not in [s._name for s in self._sheet.book.sheets.items]:
            raise ComError(f"Reference to a sheet that does not exist: {ref!r}")
        col = openpyxl.utils.column_index_from_string
        return sheet, int(m["r1"]), col(m["c1"]), int(m["r2"] or m["r1"]), col(m["c2"] or m["c1"])

    def _set(self, which: str, ref: str) -> None:
        self._sheet.calls(f"Series.{which}=")
        self._sheet.check_writable()
        self.refs[which] = self._parse(ref)

    def _text(self, which: str) -> str:
        ref = self.refs[which]
        if ref is None:
            return ""
        sheet, r1, c1, r2, c2 = ref
        letter = openpyxl.utils.get_column_letter
        cells = f"${letter(c1)}${r1}" + (f":${letter(c2)}${r2}" if (r2, c2) != (r1, c1) else "")
        return f"{_quote(sheet)}!{cells}"

    def cells(self, which: str) -> list[Any]:
        """What the reference points at now (the stand-in's look, not a COM member)."""
        ref = self.refs[which]
        assert ref is not None, which
        sheet, r1, c1, r2, c2 = ref
        book = self._sheet.book.sheet(sheet)
        return [book.cells.get((r, c)) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    Name = property(lambda self: (self._sheet.calls("Series.Name"), str(self.cells("Name")[0] or ""))[1],
                    lambda self, ref: self._set("Name", ref))
    Values = property(lambda self: (self._sheet.calls("Series.Values"), tuple(self.cells("Values")))[1],
                      lambda self, ref: self._set("Values", ref))
    XValues = property(lambda self: (self._sheet.calls("Series.XValues"), tuple(self.cells("XValues")))[1],
                       lambda self, ref: self._set("XValues", ref))

    @property
    def Formula(self) -> str:  # noqa: N802 - COM name
        self._sheet.calls("Series.Formula")
        order = self.chart.series.index(self) + 1
        return f"=SERIES({self._text('Name')},{self._text('XValues')},{self._text('Values')},{order})"

    @property
    def Format(self) -> FakeFormat:  # noqa: N802 - COM name
        self._sheet.calls("Series.Format")
        return self.props.setdefault("Format", FakeFormat(self._sheet, "ChartFormat"))

    def DataLabels(self) -> FakeCom:  # noqa: N802 - COM name
        self._sheet.calls("Series.DataLabels")
        labels = type("FakeDataLabels", (FakeCom,), {"PROPS": frozenset({"Position"})})
        return self.props.setdefault("DataLabels", labels(self._sheet, "DataLabels"))

    def Delete(self) -> None:  # noqa: N802 - COM name
        self._sheet.calls("Series.Delete")
        self._sheet.check_writable()
        self.chart.series.remove(self)


class FakeSeriesCollection:
    """COM ``SeriesCollection``: ``Count``, ``Item(i)`` (1-based), ``NewSeries()``."""

    def __init__(self, chart: FakeChartCom) -> None:
        self.chart = chart

    @property
    def Count(self) -> int:  # noqa: N802 - COM name
        self.chart._sheet.calls("SeriesCollection.Count")
        return len(self.chart.series)

    def Item(self, index: int) -> FakeSeries:  # noqa: N802 - COM name
        self.chart._sheet.calls("SeriesCollection.Item")
        if not 1 <= index <= len(self.chart.series):
            raise ComError("Invalid index.")
        return self.chart.series[index - 1]

    def NewSeries(self) -> FakeSeries:  # noqa: N802 - COM name
        self.chart._sheet.calls("SeriesCollection.NewSeries")
        self.chart._sheet.check_writable()
        series = FakeSeries(self.chart._sheet, self.chart)
        self.chart.series.append(series)
        return series


class FakeChartCom(FakeCom):
    """COM ``Chart``: the title (``ChartTitle`` exists only while ``HasTitle``), series, axes, legend."""

    PROPS = frozenset({"HasTitle", "HasLegend", "ChartType"})

    def __init__(self, sheet: FakeSheet) -> None:
        super().__init__(sheet, "Chart", HasTitle=False, HasLegend=True)
        object.__setattr__(self, "series", [])
        axis = type("FakeAxis", (FakeCom,), {"PROPS": frozenset(
            {"ReversePlotOrder", "MinimumScale", "TickLabelPosition", "HasMajorGridlines"})})
        object.__setattr__(self, "axes", {1: axis(sheet, "Axis"), 2: axis(sheet, "Axis")})
        title = type("FakeChartTitle", (FakeCom,), {"PROPS": frozenset({"Text"})})
        legend = type("FakeLegend", (FakeCom,), {"PROPS": frozenset({"Position"})})
        object.__setattr__(self, "title", title(sheet, "ChartTitle", Text=""))
        object.__setattr__(self, "legend", legend(sheet, "Legend"))

    @property
    def ChartTitle(self) -> FakeCom:  # noqa: N802 - COM name
        self._sheet.calls("Chart.ChartTitle")
        if not self.props["HasTitle"]:
            raise ComError("This object has no title.")
        return self.title

    @property
    def Legend(self) -> FakeCom:  # noqa: N802 - COM name
        self._sheet.calls("Chart.Legend")
        return self.legend

    def SeriesCollection(self) -> FakeSeriesCollection:  # noqa: N802 - COM name
        self._sheet.calls("Chart.SeriesCollection")
        return FakeSeriesCollection(self)

    def Axes(self, kind: int) -> FakeCom:  # noqa: N802 - COM name
        self._sheet.calls("Chart.Axes")
        return self.axes[kind]


class FakeChart:
    """xlwings' ``Chart`` (an embedded chart): name, type, position and size in points, ``delete``,
    ``api`` = (the COM ``ChartObject``, its ``Chart``)."""

    TYPES = {"bar_clustered": 57, "column_clustered": 51}  # xlwings' names of XlChartType members used here

    def __init__(self, sheet: FakeSheet, name: str, box: tuple[float, float, float, float]) -> None:
        self.sheet, self._name, self.box = sheet, name, list(box)
        self.native = FakeChartCom(sheet)
        self.deleted = False

    def _change(self, what: str) -> None:
        self.sheet.calls(f"Chart.{what}=")
        self.sheet.check_writable()

    @property
    def name(self) -> str:
        self.sheet.calls("Chart.name")
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._change("name")
        self._name = value

    @property
    def chart_type(self) -> str:
        self.sheet.calls("Chart.chart_type")
        return next(k for k, v in self.TYPES.items() if v == self.native.props.get("ChartType"))

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        self._change("chart_type")
        self.native.props["ChartType"] = self.TYPES[value]

    def _box(i: int, what: str) -> property:  # type: ignore[misc]  # noqa: N805 - a property factory
        def get(self: FakeChart) -> float:
            self.sheet.calls(f"Chart.{what}")
            return self.box[i]

        def put(self: FakeChart, value: float) -> None:
            self._change(what)
            self.box[i] = float(value)
        return property(get, put)

    left, top, width, height = _box(0, "left"), _box(1, "top"), _box(2, "width"), _box(3, "height")

    @property
    def api(self) -> tuple[object, FakeChartCom]:
        self.sheet.calls("Chart.api")
        return object(), self.native

    def delete(self) -> None:
        self._change("delete")
        self.sheet.chart_list.remove(self)
        self.deleted = True


class FakeCharts:
    """xlwings' ``Sheet.charts``: iterated, ``add(left, top, width, height)`` (Excel names it ``Chart N``)."""

    def __init__(self, sheet: FakeSheet) -> None:
        self.sheet = sheet

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.sheet.calls("Charts.__iter__")
        return iter(list(self.sheet.chart_list))

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211, **kw: Any) -> FakeChart:
        self.sheet.calls("Charts.add")
        self.sheet.check_writable()
        assert not kw, kw
        self.sheet.book.charts_made += 1
        chart = FakeChart(self.sheet, f"Chart {self.sheet.book.charts_made}", (left, top, width, height))
        self.sheet.chart_list.append(chart)
        return chart


class FakeName:
    def __init__(self, book: FakeBook, name: str, refers_to: str) -> None:
        self.book, self._name, self._refers_to = book, name, refers_to

    @property
    def name(self) -> str:
        self.book.calls("Name.name")
        return self._name

    @property
    def refers_to(self) -> str:
        self.book.calls("Name.refers_to")
        return self._refers_to


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.items: list[FakeSheet] = []

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.book.calls("Sheets.__iter__")
        return iter(list(self.items))

    def __getitem__(self, key: str | int) -> FakeSheet:
        self.book.calls("Sheets[]")
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s._name == key)

    def add(self, name: str, after: FakeSheet | None = None) -> FakeSheet:
        self.book.calls("Sheets.add")
        sheet = FakeSheet(self.book, name, {}, {"Contents": False}, (1, 1))
        self.items.insert(self.items.index(after) + 1 if after else 0, sheet)
        return sheet


class FakeBooks:
    """``App.books``: what the buttons open (the form they write), recorded."""

    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.opened: list[str] = []

    def open(self, fullname: str) -> None:
        self.book.calls("Books.open")
        self.opened.append(fullname)


class FakeApp:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self._display_alerts = True
        self.alerts: list[dict[str, Any]] = []
        self.books = FakeBooks(book)

    @property
    def display_alerts(self) -> bool:
        self.book.calls("App.display_alerts")
        return self._display_alerts

    def alert(
        self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None
    ) -> str:
        self.book.calls("App.alert")
        self.alerts.append({"prompt": prompt, "title": title, "mode": mode})
        return "ok"


class FakeBookApi:
    def __init__(self, book: FakeBook, date1904: bool) -> None:
        self._book, self._date1904 = book, date1904
        self.saved = True

    @property
    def Date1904(self) -> bool:  # noqa: N802 - COM name
        self._book.calls("Workbook.Date1904")
        return self._date1904

    @property
    def Saved(self) -> bool:  # noqa: N802 - COM name
        self._book.calls("Workbook.Saved")
        return self.saved


class FakeBook:
    """A workbook 'open in Excel', loaded from a file with openpyxl."""

    def __init__(self, path: Path) -> None:
        self.calls = Calls()
        self.charts_made = 0  # Excel numbers new charts per workbook session
        self._name, self._path = path.name, path
        wb = openpyxl.load_workbook(path)
        self.sheets = FakeSheets(self)
        self._names: list[FakeName] = []
        for ws in wb.worksheets:
            cells = {}
            for row in ws.iter_rows():
                for cell in row:
                    v = FakeError(cell.value) if cell.data_type == "e" else cell.value
                    if v is not None and v != "":
                        cells[(cell.row, cell.column)] = float(v) if type(v) is int else v
            p = ws.protection
            protection = {
                "Contents": bool(p.sheet),
                "DrawingObjects": bool(p.sheet and p.objects),
                "Scenarios": bool(p.sheet and p.scenarios),
                "UserInterfaceOnly": False,
            }
            protection |= {com: not getattr(p, attr) for com, attr in ALLOW.items()}
            self.sheets.items.append(
                FakeSheet(self, ws.title, cells, protection, (ws.max_row, ws.max_column))
            )
            for name, dn in ws.defined_names.items():
                self._names.append(FakeName(self, f"{_quote(ws.title)}!{name}", "=" + dn.attr_text))
        for name, dn in wb.defined_names.items():
            self._names.append(FakeName(self, name, "=" + dn.attr_text))
        self.api = FakeBookApi(self, bool(wb.epoch.year == 1904))
        self.app = FakeApp(self)
        self.selected: tuple[str, int, int] | None = None  # (sheet, row, column) of the active cell

    @property
    def selection(self) -> FakeRange | None:
        """``Book.selection``: the active cell of the workbook's window (a test sets ``selected``)."""
        self.calls("Book.selection")
        if self.selected is None:
            return None
        sheet, row, col = self.selected
        return FakeRange(self.sheet(sheet), row, col, row, col)

    @property
    def name(self) -> str:
        self.calls("Book.name")
        return self._name

    @property
    def fullname(self) -> str:
        self.calls("Book.fullname")
        return str(self._path)

    @property
    def names(self) -> list[FakeName]:
        self.calls("Book.names")
        return list(self._names)

    def sheet(self, name: str) -> FakeSheet:
        return next(s for s in self.sheets.items if s._name == name)


@pytest.fixture(autouse=True)
def _log_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bugs the tests provoke are logged here, not in the real temp folder."""
    monkeypatch.setattr(entry, "LOG_FILE", tmp_path / "xlcomplaints-excel.log")


# --- sample data -------------------------------------------------------------------------


def register_rows(n: int, *, numbered: bool = False) -> list[list[Any]]:
    """``n`` complaints in spec column order: a mix of open, late, closed, invalid and broken rows."""
    rows = []
    severities, categories = ["一般", "重要", "重大"], ["服务态度", "产品质量", "时效延误", "收费"]
    for i in range(n):
        received = datetime(2026, 10, 8, 9, 0) + timedelta(hours=(i * 37) % (40 * 24))
        row: dict[str, Any] = {
            "no": f"BR01-2610{i:04d}" if numbered else None,
            "received_at": received,
            "case_type": "投诉",
            "channel": ["电话", "来访", "在线"][i % 3],
            "customer": None if i % 9 == 4 else f"客户{i}",
            "phone": f"1380013{i % 10000:04d}",
            "category": categories[i % 4],
            "severity": severities[i % 3],
            "validity": "无效" if i % 11 == 5 else "有效",
            "complexity": "简单" if i % 2 else "复杂",
            "content": f"第{i}宗投诉的内容",
            "department": "客服部",
            "handler": "李四",
        }
        if i % 4 == 0:
            row["acknowledged_at"] = received + timedelta(minutes=30)
            row["first_contact_at"] = received + timedelta(hours=1)
        if i % 8 == 0:
            row["resolved_at"] = received + timedelta(days=2)
            row["replied_at"] = received + timedelta(days=2, hours=1)
        if i % 16 == 0:
            row["callback_at"] = received + timedelta(days=3)
            row["closed_at"] = received + timedelta(days=3, hours=2)
        rows.append([row.get(c.key) for c in B.REGISTER.columns])
    return rows


def make_workbook(
    tmp_path: Path, n: int, *, xlsm: bool = False, name: str = "branch", **kw: Any
) -> Path:
    path = tmp_path / f"{name}-{n}.{'xlsm' if xlsm else 'xlsx'}"
    rows = {"register": register_rows(n, **kw)}
    if xlsm:
        build_branch_xlsm(path, rows=rows)
    else:
        build_branch_workbook(path, rows=rows)
    return path


def normal(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return round(float(v), 9)
    if isinstance(v, datetime):
        return to_millisecond(v)
    return v


def sheet_cells(book: FakeBook, sheet: str) -> dict[tuple[int, int], Any]:
    return {k: normal(v) for k, v in book.sheet(sheet).cells.items() if normal(v) is not None}


# --- unit pieces -------------------------------------------------------------------------


def test_split_name_reads_sheet_scope_as_excel_writes_it() -> None:
    assert split_name("xlcomplaints.template") == (None, "xlcomplaints.template")
    assert split_name("投诉登记!xlcomplaints.sheet") == ("投诉登记", "xlcomplaints.sheet")
    assert split_name("'Bob''s Register'!xlcomplaints.sheet") == (
        "Bob's Register",
        "xlcomplaints.sheet",
    )
    assert split_name("'a!b'!n") == ("a!b", "n")
    assert cell_of("='汇总'!$E$1") == ("汇总", 1, 5)
    assert cell_of("=Summary!AB12") == ("Summary", 12, 28)
    assert cell_of('="branch|1.0.0|x"') is None


def test_text_that_excel_would_convert_is_written_as_text() -> None:
    from xlcomplaints.excel.adapter import Formula, literal

    for text in (
        "2026-11-22 09:00",
        "0012",
        "2611001",
        "TRUE",
        "-",
        "=1+1",
        "'quoted",
        "12:30",
        "3.5%",
    ):
        assert literal(text) == "'" + text
        assert as_typed(literal(text)) == text
    for text in ("BR01-2611001", "客户1", "发送受理通知（11-03 14:05前）", "Overdue"):
        assert literal(text) is text
    link = Formula('=HYPERLINK("#A1","A1")')
    assert literal(link) is link and literal(3.0) == 3.0 and literal(None) is None


def test_blocks_cover_exactly_the_given_cells() -> None:
    cells = {(r, c): r * 100 + c for r in range(2, 6) for c in (5, 6, 7)}
    cells |= {(9, 5): 1, (3, 1): 2, (4, 1): 3, (7, 6): 4}
    out = blocks(cells)
    assert (2, 5, [[r * 100 + c for c in (5, 6, 7)] for r in range(2, 6)]) in out
    covered = {
        (r + i, c + j): v
        for r, c, rows in out
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
    }
    assert covered == cells
    assert len(out) == 4


def test_column_blocks_cover_exactly_the_given_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of rows (at most BLOCK_ROWS) by runs of adjacent columns, in any column order."""
    monkeypatch.setattr(adapter, "BLOCK_ROWS", 3)
    columns = [7, 5, 6, 9]
    rows = {r: (f"g{r}", f"e{r}", None, r) for r in [2, 3, 4, 5, 6, 9, 10]}
    out = column_blocks(columns, rows)
    covered = {
        (r + i, c + j): v
        for r, c, block in out
        for i, row in enumerate(block)
        for j, v in enumerate(row)
    }
    assert covered == {(r, c): v for r, values in rows.items() for c, v in zip(columns, values, strict=True)}
    assert (2, 5, [["e2", None, "g2"], ["e3", None, "g3"], ["e4", None, "g4"]]) in out
    assert len(out) == 3 * 2 and max(len(block) for _, _, block in out) == 3


def test_write_columns_equals_write_cells(tmp_path: Path) -> None:
    """The same writes through either method leave the same cells, in as few calls."""
    source = make_workbook(tmp_path, 40)
    columns = [B.REGISTER.index("status") + 1, B.REGISTER.index("status") + 2, 1]
    rows = {r: ("已逾期", r * 1.5 if r % 2 else None, f"BR-{r}") for r in range(2, 42)}
    by_columns, by_cells = FakeBook(source), FakeBook(source)
    XlwingsWorkbook(by_columns).write_columns(B.REGISTER.zh, columns, rows)
    XlwingsWorkbook(by_cells).write_cells(B.REGISTER.zh, {
        (r, c): v for r, values in rows.items() for c, v in zip(columns, values, strict=True)})
    assert sheet_cells(by_columns, B.REGISTER.zh) == sheet_cells(by_cells, B.REGISTER.zh)
    assert by_columns.calls.log["Range.value="] == by_cells.calls.log["Range.value="] == 2
    port = XlwingsWorkbook(by_columns)
    port.write_columns(B.REGISTER.zh, columns, rows)  # what the sheet shows already
    assert by_columns.calls.log["Range.value="] == 2 and not port.save()


# --- entry points on the stand-in ------------------------------------------------------------


def run_button(path: Path, action: str, *, alerts: bool = True) -> tuple[FakeBook, entry.Outcome]:
    book = FakeBook(path)
    book.app._display_alerts = alerts
    outcome = entry.run(action, book, now=NOW)
    return book, outcome


@pytest.mark.parametrize("xlsm", [False, True])
def test_refresh_button_equals_headless_refresh(tmp_path: Path, xlsm: bool) -> None:
    source = make_workbook(tmp_path, 60, xlsm=xlsm)
    book, outcome = run_button(source, "refresh")
    headless = tmp_path / ("headless" + source.suffix)
    shutil.copy(source, headless)
    result = refresh_flow(FileWorkbook(headless), now=NOW, lang="zh")
    assert result.changed
    reference = FakeBook(headless)
    for title in (B.REGISTER.zh, B.OVERDUE.zh):
        got, want = sheet_cells(book, title), sheet_cells(reference, title)
        assert got == want, title
    # The Summary's table (A:C) is the flow's; E1 is the buttons' status cell.
    summary = {k: v for k, v in sheet_cells(book, B.SUMMARY.zh).items() if k[1] <= 3}
    assert summary == {k: v for k, v in sheet_cells(reference, B.SUMMARY.zh).items() if k[1] <= 3}
    assert result.plan is not None and result.plan.counts[B.SummaryKey(B.Count.COMPLAINTS_OVERDUE)] > 0
    assert len(sheet_cells(book, B.OVERDUE.zh)) > 50  # the comparison compared something
    assert outcome.ok is False and outcome.problems  # missing customers are errors
    prompt = book.app.alerts[0]["prompt"]
    # The button tells the headless refresh's counts, in the workbook's language first.
    assert prompt.index(result.plan.outcome("zh")) < prompt.index(result.plan.outcome("en"))
    first = result.problems[0]
    assert f"{first.sheet}!{first.cell}" in prompt
    assert book.app.alerts[0]["mode"] == "critical"


def test_refresh_button_clears_cleared_complaints_and_leaves_totals_lines_as_headless(tmp_path: Path) -> None:
    """After the clerk clears the last complaints and types a totals line, the button and the
    command leave the same Register: no stale computed cells, the totals line untouched."""
    source = make_workbook(tmp_path, 20)
    refresh_flow(FileWorkbook(source), now=NOW, lang="zh")
    wb = openpyxl.load_workbook(source)
    ws = wb[B.REGISTER.zh]
    for row in (20, 21):
        for c in B.REGISTER.input_columns:
            ws.cell(row, B.REGISTER.index(c.key) + 1).value = None
    ws["A23"] = "合计"
    wb.save(source)
    book, _ = run_button(source, "refresh")
    headless = tmp_path / "headless.xlsx"
    shutil.copy(source, headless)
    refresh_flow(FileWorkbook(headless), now=NOW, lang="zh")
    got, want = sheet_cells(book, B.REGISTER.zh), sheet_cells(FakeBook(headless), B.REGISTER.zh)
    assert got == want
    assert not [k for k in got if k[0] in (20, 21)] and got[(23, 1)] == "合计"
    assert {k[1] for k in got if k[0] == 23} == {1}
    status = B.REGISTER.index("status") + 1
    assert all((r, status) in got for r in range(2, 20))


def test_assign_numbers_button_equals_headless(tmp_path: Path) -> None:
    source = make_workbook(tmp_path, 30)
    book, outcome = run_button(source, "assign")
    headless = tmp_path / "headless.xlsx"
    shutil.copy(source, headless)
    result = assign_ids_flow(FileWorkbook(headless), now=NOW, lang="zh")
    assert len(result.assigned) == 30
    assert sheet_cells(book, B.REGISTER.zh) == sheet_cells(FakeBook(headless), B.REGISTER.zh)
    numbers = sorted(result.assigned.values())
    assert f"已编号 30 宗：{numbers[0]} … {numbers[-1]}" in outcome.zh
    again = entry.run("assign", book, now=NOW)
    assert "Nothing to number" in again.en


def test_validate_button_lists_problems_with_links(tmp_path: Path) -> None:
    source = make_workbook(tmp_path, 20, xlsm=True)
    book, outcome = run_button(source, "validate")
    problems = validate_flow(FileWorkbook(source), now=NOW, lang="zh").problems
    assert problems and len(outcome.problems) == len(problems)
    sheet = book.sheet("校验结果")
    listed = [[sheet.cells.get((r, c)) for c in range(1, 7)] for r in range(2, 2 + len(problems))]
    for row, p in zip(listed, problems, strict=True):
        assert row[1] == p.sheet and row[5] == p.message("zh")
        if p.cell:
            assert row[2] == f'=HYPERLINK("#\'{p.sheet}\'!{p.cell}","{p.cell}")'
    assert (2 + len(problems), 1) not in sheet.cells
    # Fix the data, number the rows, press again: the sheet says so, and old rows are gone.
    register = book.sheet(B.REGISTER.zh)
    col = B.REGISTER.index("customer") + 1
    for r in range(2, 22):
        register.cells.setdefault((r, col), "补录客户")
    entry.run("assign", book, now=NOW)
    again = entry.run("validate", book, now=NOW)
    assert again.ok and len(again.problems) < len(problems)  # no errors left; warnings may remain
    assert max(r for r, _ in sheet.cells) == 1 + max(len(again.problems), 1)


def test_an_error_value_in_a_required_cell_is_named_in_excel_as_in_the_file(
    tmp_path: Path,
) -> None:
    """xlwings reads #N/A as None like calamine reads it as blank; both adapters take a second
    look and name the error. A text typed as '#N/A (not an error) is not taken for one."""
    path = make_workbook(tmp_path, 6)
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    received = B.REGISTER.index("received_at") + 1
    ws.cell(2, received).value, ws.cell(2, received).data_type = "#N/A", "e"
    typed = ws.cell(3, B.REGISTER.index("content") + 1)
    typed.value, typed.data_type = "#N/A", "s"  # text typed as '#N/A, not an error value
    wb.save(path)
    in_excel = validate_flow(XlwingsWorkbook(FakeBook(path)), now=NOW).problems
    in_file = validate_flow(FileWorkbook(path), now=NOW).problems
    assert [p.model_dump() for p in in_excel] == [p.model_dump() for p in in_file]
    named = [(p.cell, p.value) for p in in_excel if p.code == "cell.formula_error"]
    assert named == [(f"{openpyxl.utils.get_column_letter(received)}2", "#N/A")]


def test_validate_button_on_a_clean_workbook(tmp_path: Path) -> None:
    book, outcome = run_button(make_workbook(tmp_path, 0, xlsm=True), "validate")
    assert (
        outcome.ok
        and outcome.zh == "校验完成：没有发现问题。"
        and book.app.alerts[0]["mode"] == "info"
    )
    sheet = book.sheet("校验结果")
    assert sheet.cells.get((2, 6)) == "没有发现问题（2026-11-20 10:00）"
    assert not any(r > 2 for r, _ in sheet.cells)


def test_problems_sheet_is_added_when_the_workbook_has_none(tmp_path: Path) -> None:
    book, outcome = run_button(make_workbook(tmp_path, 12), "validate")
    sheet = book.sheet("校验结果")
    assert book.sheets.items[-1] is sheet
    assert [sheet.cells[(1, c)] for c in range(1, 7)] == [c.zh for c in PROBLEMS.columns]
    assert "全部列在“校验结果”表" in outcome.zh


def test_status_cell_and_quiet_mode(tmp_path: Path) -> None:
    book, outcome = run_button(make_workbook(tmp_path, 10, xlsm=True), "refresh", alerts=False)
    assert book.app.alerts == []  # DisplayAlerts off (e.g. scripts/excel_smoke.py): no dialog
    status = book.sheet(B.SUMMARY.zh).cells[(1, 5)]
    assert status.startswith("2026-11-20 10:00 刷新完成：10 宗投诉")
    assert len(status) <= entry.STATUS_MAX


def test_protection_is_restored_with_the_templates_options(tmp_path: Path) -> None:
    source = make_workbook(tmp_path, 15)
    book = FakeBook(source)
    before = {s._name: dict(s.protection) for s in book.sheets.items}
    register = book.sheet(B.REGISTER.zh)
    assert before[B.REGISTER.zh]["Contents"] and before[B.REGISTER.zh]["AllowFiltering"]
    assert (
        before[B.REGISTER.zh]["AllowInsertingRows"]
        and not before[B.REGISTER.zh]["AllowFormattingCells"]
    )
    entry.run("refresh", book, now=NOW)
    assert register.protect_calls, (
        "the Register was written, so it was unprotected and protected again"
    )
    after = {s._name: s.protection for s in book.sheets.items if s._name in before}
    assert after == before


def test_password_protected_sheet_is_reported_not_forced(tmp_path: Path) -> None:
    book = FakeBook(make_workbook(tmp_path, 10))
    register = book.sheet(B.REGISTER.zh)
    register.password = "secret"
    outcome = entry.run("refresh", book, now=NOW)
    assert not outcome.ok
    assert "设置了保护密码" in outcome.zh and "protected with a password" in outcome.en
    assert register.protection["Contents"] and not register.protect_calls
    assert book.app.alerts[0]["mode"] == "critical"


def test_unusable_workbooks_get_a_message_not_a_traceback(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a complaint register"
    wb.save(plain)
    book, outcome = run_button(plain, "refresh")
    assert (
        not outcome.ok
        and "不是由 xlcomplaints 模板创建" in outcome.zh
        and "not made from" in outcome.en
    )
    # said as every refusal of the command line is (console.REFUSAL_PREFIX)
    assert outcome.zh.startswith("错误：") and outcome.en.startswith("Error: ")
    assert "Traceback" not in book.app.alerts[0]["prompt"]


def test_a_bug_is_logged_and_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "excel.log"
    monkeypatch.setattr(entry, "LOG_FILE", log)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(entry, "refresh_flow", broken)
    book, outcome = run_button(make_workbook(tmp_path, 5), "refresh")
    assert "内部错误（ZeroDivisionError）" in outcome.zh and str(log) in outcome.en
    assert "Traceback" in log.read_text() and "Traceback" not in book.app.alerts[0]["prompt"]


def test_running_out_of_memory_is_said_as_such_not_as_a_bug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "excel.log"
    monkeypatch.setattr(entry, "LOG_FILE", log)

    def out_of_memory(*args: Any, **kwargs: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(entry, "refresh_flow", out_of_memory)
    _, outcome = run_button(make_workbook(tmp_path, 5), "refresh")
    assert not outcome.ok and outcome.zh.startswith("错误：内存不足，无法处理")
    assert outcome.en.startswith("Error: Not enough memory") and "内部错误" not in outcome.zh and not log.exists()


def test_monthly_report_is_written_next_to_the_workbook(tmp_path: Path) -> None:
    book, outcome = run_button(make_workbook(tmp_path, 40, xlsm=True), "report")
    # 2026-11-20 is past the 10th: the report is of November so far.
    out = tmp_path / "branch-40-月报-2026-11.xlsx"
    assert out.exists() and str(out) in outcome.zh and str(out) in outcome.en
    assert "未保存" not in outcome.zh
    stamp, sheets = find_stamps(FileWorkbook(out))
    assert stamp.kind == REPORT_TEMPLATE_KIND and {s.kind for s in REPORT_SHEETS} <= set(sheets)
    trend, cover = read_report(out)
    assert trend[-1].month == Period.month(2026, 11) and cover.figures["received"] == trend[-1].received > 0
    book.api.saved = False
    again = entry.run("report", book, now=NOW)
    assert "未保存的修改不在其中" in again.zh and "unsaved edits are not in it" in again.en


def test_monthly_report_button_reports_the_saved_file_as_the_report_module_does(tmp_path: Path) -> None:
    """The button's report is the report module's of the same saved file and month, this branch alone
    (no consolidation): the same trend and the same cover figures."""
    source = make_workbook(tmp_path, 25, xlsm=True)
    _, outcome = run_button(source, "report")
    button = tmp_path / "branch-25-月报-2026-11.xlsx"
    assert button.exists() and str(button) in outcome.zh
    direct = report_flow(ReportRequest([source], Period.month(2026, 11), tmp_path / "direct.xlsx", ReportKind.BRANCH,
                                       lang="zh", now=NOW))
    (button_trend, button_cover), (direct_trend, direct_cover) = read_report(button), read_report(direct.output)
    assert button_trend == direct_trend
    assert button_cover._replace(file="") == direct_cover._replace(file="")
    assert button_cover.figures["received"] == button_trend[-1].received > 0


def test_report_month_follows_the_10th_deadline() -> None:
    assert entry.report_month(datetime(2026, 11, 10, 23)) == (2026, 10)
    assert entry.report_month(datetime(2026, 11, 11)) == (2026, 11)
    assert entry.report_month(datetime(2027, 1, 3)) == (2026, 12)


def test_monthly_report_needs_a_saved_file(tmp_path: Path) -> None:
    book = FakeBook(make_workbook(tmp_path, 5, xlsm=True))
    book._path = Path("Book1")  # a new workbook Excel has not saved yet
    outcome = entry.run("report", book, now=NOW)
    assert not outcome.ok and "请先保存" in outcome.zh and "save it" in outcome.en


def test_monthly_report_of_an_unreadable_saved_file_writes_nothing_and_says_why(tmp_path: Path) -> None:
    """The report is of the saved file: when that cannot be read (here: replaced on disk by something
    that is not a workbook), no report is written and the Problems sheet says why."""
    source = make_workbook(tmp_path, 5, xlsm=True)
    book = FakeBook(source)
    source.write_bytes(b"not a workbook")
    outcome = entry.run("report", book, now=NOW)
    assert not outcome.ok and [p.code for p in outcome.problems] == ["file.not_workbook"]
    assert not (tmp_path / "branch-5-月报-2026-11.xlsx").exists()
    assert sheet_cells(book, PROBLEMS.zh)[(1, 1)] == PROBLEMS.columns[0].zh
    assert sheet_cells(book, PROBLEMS.zh)[(2, 6)] == outcome.problems[0].message("zh")


def test_english_workbook_speaks_english_first(tmp_path: Path) -> None:
    path = tmp_path / "en.xlsx"
    build_branch_workbook(path, lang="en", rows={"register": register_rows(5)})
    book, outcome = run_button(path, "validate")
    assert outcome.lang == "en"
    assert book.app.alerts[0]["prompt"].startswith("Validated.")
    assert "Problems" in [s._name for s in book.sheets.items]


def test_renamed_sheets_are_found_by_their_stamps(tmp_path: Path) -> None:
    book = FakeBook(make_workbook(tmp_path, 8))
    register = book.sheet(B.REGISTER.zh)
    register._name = "Bob's 登记 2026"
    for n in book._names:
        n._name = n._name.replace(f"{B.REGISTER.zh}!", "'Bob''s 登记 2026'!")
    outcome = entry.run("refresh", book, now=NOW)
    assert outcome.problems_written  # not refused as a workbook without its Register
    status = B.REGISTER.index("status") + 1
    assert all((row, status) in register.cells for row in range(2, 10))  # all 8 complaints refreshed


# --- Excel calls do not grow with rows ------------------------------------------------------


@pytest.mark.parametrize("action", ["refresh", "validate", "assign"])
def test_calls_into_excel_do_not_grow_with_rows(tmp_path: Path, action: str) -> None:
    counts = {}
    for n in (10, 1000):
        book, outcome = run_button(make_workbook(tmp_path, n, xlsm=True), action)
        assert outcome.problems
        counts[n] = book.calls.log
    assert counts[10] == counts[1000]
    # Overdue and Summary are protected too (seed 001): each costs an unprotect/protect round
    # (the Lists sheet adds one sheet read and its six dropdown names to the names looked through);
    # refresh draws the Summary's chart besides (66 calls with its two series drawn anew, none per row)
    chart = sum(v for k, v in counts[10].items() if k.split(".")[0] in CHART_OBJECTS)
    assert sum(counts[10].values()) < 220 + (80 if action == "refresh" else 0) and (chart > 0) == (action == "refresh")
    assert counts[10]["Range.value="] <= 6


def test_reads_are_whole_sheets(tmp_path: Path) -> None:
    book = FakeBook(make_workbook(tmp_path, 200))
    port = XlwingsWorkbook(book)
    grid = port.values(B.REGISTER.zh)
    assert len(grid) == 201 and grid[0][0] == "投诉编号"
    assert book.calls.log["Range.value"] == 1
    port.values(B.REGISTER.zh)
    assert book.calls.log["Range.value"] == 1  # cached until a write
    assert isinstance(grid[1][1], datetime) and isinstance(grid[1][B.REGISTER.index("phone")], str)


def test_unchanged_cells_are_not_written_again(tmp_path: Path) -> None:
    book, first = run_button(make_workbook(tmp_path, 25), "refresh")
    writes = book.calls.log["Range.value="]
    second = entry.run("refresh", book, now=NOW)
    assert "没有需要更新的单元格" in second.zh
    # Same data, same time: no block differs (this .xlsx has no status cell to update).
    # the Register, Overdue and Summary were unprotected around the first run's writes only (the
    # Summary twice: its cells, then its chart)
    assert book.calls.log["Range.value="] == writes and book.calls.log["Worksheet.Unprotect"] == 4
    assert "没有需要更新的单元格" not in first.zh


# --- macOS: the appscript side of protection -----------------------------------------------


class _Prop:
    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


class MacSheetApi:
    """Excel's AppleScript worksheet as appscript exposes it (names from xlwings' mac_dict)."""

    def __init__(self) -> None:
        self.protect_contents = _Prop(True)
        self.protect_drawing_objects = _Prop(True)
        self.protect_scenarios = _Prop(True)
        self.protection_mode = _Prop(False)
        names = [
            "allow_formatting_cells",
            "allow_formatting_columns",
            "allow_formatting_rows",
            "allow_inserting_columns",
            "allow_inserting_rows",
            "allow_inserting_hyperlinks",
            "allow_deleting_columns",
            "allow_deleting_rows",
            "allow_sorting",
            "allow_filtering",
            "allow_using_pivot_table",
        ]
        self.protection_object = type(
            "P", (), {n: _Prop(n in ("allow_sorting", "allow_filtering")) for n in names}
        )()
        self.log: list[tuple[str, dict[str, Any]]] = []

    def unprotect(self, **kw: Any) -> None:
        self.log.append(("unprotect", kw))

    def protect_worksheet(self, **kw: Any) -> None:
        self.log.append(("protect_worksheet", kw))


def test_macos_protection_round_trip_uses_applescript_names() -> None:
    from xlcomplaints.excel.adapter import _Protection

    api, prot = MacSheetApi(), _Protection(mac=True)
    state = prot.state(api)
    assert state is not None and state["AllowSorting"] and not state["AllowDeletingRows"]
    prot.unprotect(api)
    prot.protect(api, state)
    assert api.log[0] == ("unprotect", {"password": ""})
    kwargs = api.log[1][1]
    assert kwargs["worksheet_contents"] and kwargs["allow_filtering"] and kwargs["drawing_objects"]
    assert "allow_using_pivot_table" in kwargs and not kwargs["user_interface_only"]


def test_without_a_calling_workbook_there_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(entry, "LOG_FILE", tmp_path / "excel.log")
    outcome = entry.refresh_overdue()  # as RunPython would call it, but not started from Excel
    assert not outcome.ok and outcome.en == "Error: Cannot find the calling workbook."
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "cannot find the calling workbook" in err
        and "Traceback" not in err
    )
