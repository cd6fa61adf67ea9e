"""Our own native chart on a sheet of the workbook open in Excel (``port.DrawsCharts`` for
``XlwingsWorkbook``): the Summary's workload chart, drawn by the buttons' refresh as the file adapter
draws it (``workbook/sheet_charts.py``), through Excel's object model.

Found by its name (``ChartObject.Name``, the spec's key) among the sheet's charts; added, brought up to
what the table shows, or deleted when there is nothing to chart; every other chart or shape on the sheet
is left alone. Each series refers to the table's cells (``Series.Name``/``.XValues``/``.Values`` set to
references, read back as ``Series.Formula``, ``=SERIES(name,categories,values,order)``), so Excel
redraws it when the cells change. When what Excel shows already matches (position, size, title and the
series' references), nothing is written, and the sheet is not unprotected.

Members used: xlwings' portable ``Sheet.charts`` (iterated; ``.add(left, top, width, height)``),
``Chart.name/.chart_type/.left/.top/.width/.height/.delete()/.api`` and ``Range.left/.top`` (the anchor
cell's position, in points); the native chart (``Chart.api[1]``) for the title and the series. On
Windows these are the COM members (``HasTitle``, ``ChartTitle.Text``, ``SeriesCollection()``,
``NewSeries``, ``Series.Formula``, ``Format.Fill.ForeColor.RGB``, ``HasDataLabels``, ``Axes``,
``Legend``). On macOS, xlwings drives Excel through appscript, whose names differ (``has_title``,
``chart_title.chart_title_text``, ``series_collection``, ``series_values``, ``xvalues``, ``formula``,
``chart_format.fill_format.fore_color``, ``legend_object.position``, as in xlwings' ``mac_dict`` and its
``_xlmac``); there the chart gets its title, series, colours, value labels and legend, but the handlers
read bottom-up and the value axis stays (Excel's AppleScript axes need ``get axis`` with signed ids, as
xlwings works around: left out, not checked on a Mac). Neither side has been run against
a real Excel here: the tests use a stand-in (``tests/test_excel_charts.py``); ``scripts/excel_smoke.py``
checks it on a PC.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from xlcomplaints.core.problems import column_letter
from xlcomplaints.workbook.port import BarChart

XL_BAR_CLUSTERED = "bar_clustered"  # xlwings' name of xlBarClustered (57), on Windows and macOS
XL_CATEGORY, XL_VALUE = 1, 2  # XlAxisType
XL_TICK_LABELS_NONE = -4142  # xlTickLabelPositionNone
XL_LABEL_OUTSIDE_END = 2  # XlDataLabelPosition
XL_LEGEND_BOTTOM = -4107  # xlLegendPositionBottom
POINTS_PER_PIXEL = 0.75  # the file adapter's pixels are 1/96 inch (9525 EMU); a point is 1/72
TOLERANCE = 1.0  # points: Excel keeps positions in whole pixels of the screen it runs on


def reference(sheet: str, col: int, first: int, last: int | None = None) -> str:
    """``'汇总'!$F$4:$F$6``: absolute, the sheet name always quoted (Excel accepts it so)."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    cell = f"${column_letter(col)}${first}"
    return f"{quoted}!{cell}" + (f":${column_letter(col)}${last}" if last is not None and last != first else "")


def series_refs(chart: BarChart, sheet: str) -> list[tuple[str, str, str]]:
    """Each series' (name, categories, values) references, as the file adapter writes them (``c:f``)."""
    last = chart.first_row + len(chart.categories) - 1
    categories = reference(sheet, chart.category_column, chart.first_row, last)
    return [(reference(sheet, s.name_cell[1], s.name_cell[0]), categories, reference(sheet, s.column, chart.first_row, last))
            for s in chart.series]


def _split_args(inner: str) -> list[str]:
    """The arguments of ``SERIES(…)``, split at commas outside quoted sheet names."""
    out, part, quoted = [], "", False
    for ch in inner:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(part)
            part = ""
        else:
            part += ch
    return out + [part]


def _canon(ref: str) -> tuple[str, str]:
    """A reference as Excel may write it (sheet quoted only when needed, ``$`` or not) → comparable."""
    sheet, _, cells = ref.strip().lstrip("=").rpartition("!")
    if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet.casefold(), cells.replace("$", "").upper()


def formula_refs(formula: str) -> tuple[tuple[str, str], ...] | None:
    """``=SERIES('汇总'!$F$3,汇总!$E$4:$E$5,汇总!$F$4:$F$5,1)`` → its three references, comparable; None
    when it is not a series over references (a typed constant, an empty name)."""
    text = formula.strip()
    if not text.upper().startswith("=SERIES(") or not text.endswith(")"):
        return None
    args = _split_args(text[len("=SERIES("):-1])
    if len(args) < 3 or not all("!" in a for a in args[:3]):
        return None
    return tuple(_canon(a) for a in args[:3])


@dataclass(frozen=True)
class Shown:
    """What a chart shows, as far as refresh decides it: position and size (points), title, series."""

    box: tuple[float, float, float, float]
    title: str | None
    series: tuple[tuple[tuple[str, str], ...] | None, ...]

    def same(self, other: Shown) -> bool:
        return (all(abs(a - b) <= TOLERANCE for a, b in zip(self.box, other.box, strict=True))
                and self.title == other.title and self.series == other.series)


def _bgr(colour: str) -> int:
    """``RRGGBB`` → the integer COM's ``RGB`` properties take (red in the low byte)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return r + g * 256 + b * 65536


class _WindowsChart:
    """The native chart's members through COM (pywin32)."""

    @staticmethod
    def title(xl: Any) -> str | None:
        return str(xl.ChartTitle.Text) if xl.HasTitle else None

    @staticmethod
    def formulas(xl: Any) -> list[str]:
        collection = xl.SeriesCollection()
        return [str(collection.Item(i).Formula) for i in range(1, int(collection.Count) + 1)]

    @staticmethod
    def dress(xl: Any, chart: BarChart, refs: list[tuple[str, str, str]]) -> None:
        xl.HasTitle = True
        xl.ChartTitle.Text = chart.title
        collection = xl.SeriesCollection()
        for i in range(int(collection.Count), len(refs), -1):  # the surplus, from the end
            collection.Item(i).Delete()
        for i, ((name, categories, values), s) in enumerate(zip(refs, chart.series, strict=True), start=1):
            series = collection.Item(i) if i <= int(collection.Count) else collection.NewSeries()
            series.Name = "=" + name
            series.Values = "=" + values
            series.XValues = "=" + categories
            series.Format.Fill.ForeColor.RGB = _bgr(s.colour)
            series.HasDataLabels = True
            series.DataLabels().Position = XL_LABEL_OUTSIDE_END
        xl.Axes(XL_CATEGORY).ReversePlotOrder = True  # the first handler at the top, as in the table
        values_axis = xl.Axes(XL_VALUE)
        values_axis.MinimumScale = 0
        values_axis.TickLabelPosition = XL_TICK_LABELS_NONE  # the value labels say the numbers
        values_axis.HasMajorGridlines = False
        xl.HasLegend = True
        xl.Legend.Position = XL_LEGEND_BOTTOM


class _MacChart:
    """The native chart's members through appscript (names from xlwings' ``mac_dict``)."""

    @staticmethod
    def _series(xl: Any) -> list[Any]:
        items = xl.series_collection.get()
        return items if isinstance(items, list) else []  # Excel answers ``missing value`` for none

    @staticmethod
    def title(xl: Any) -> str | None:
        return str(xl.chart_title.chart_title_text.get()) if xl.has_title.get() else None

    def formulas(self, xl: Any) -> list[str]:
        return [str(s.formula.get()) for s in self._series(xl)]

    def dress(self, xl: Any, chart: BarChart, refs: list[tuple[str, str, str]]) -> None:
        xl.has_title.set(True)
        xl.chart_title.chart_title_text.set(chart.title)
        for surplus in self._series(xl)[len(refs):]:
            surplus.delete()
        have = self._series(xl)
        k = importlib.import_module("appscript").k  # present wherever xlwings runs on a Mac
        for i, ((name, categories, values), s) in enumerate(zip(refs, chart.series, strict=True)):
            series = have[i] if i < len(have) else xl.make(new=k.series, at=xl)
            series.name.set("=" + name)
            series.series_values.set("=" + values)
            series.xvalues.set("=" + categories)
            fill = series.chart_format.fill_format
            fill.visible.set(True)
            fill.solid()
            fill.fore_color.set([int(s.colour[j:j + 2], 16) for j in (0, 2, 4)])
            series.has_data_labels.set(True)
        xl.has_legend.set(True)
        xl.legend_object.position.set(k.legend_position_bottom)


class LiveCharts:
    """``set_chart``'s work on a sheet open in Excel (see the module's docstring)."""

    def __init__(self, mac: bool) -> None:
        self.native: _WindowsChart | _MacChart = _MacChart() if mac else _WindowsChart()

    @staticmethod
    def find(sh: Any, key: str) -> Any | None:
        """Our chart on the sheet (the first of that name), or None."""
        return next((c for c in sh.charts if str(c.name) == key), None)

    @staticmethod
    def wanted_box(sh: Any, chart: BarChart) -> tuple[float, float, float, float]:
        """Left, top, width, height in points: the anchor cell's corner, the size in the file's pixels."""
        corner = sh.range(chart.at)
        width, height = chart.size
        return float(corner.left), float(corner.top), width * POINTS_PER_PIXEL, height * POINTS_PER_PIXEL

    def wanted(self, sh: Any, chart: BarChart, sheet: str) -> Shown:
        return Shown(self.wanted_box(sh, chart), chart.title,
                     tuple(formula_refs(f"=SERIES({n},{c},{v},{i})")
                           for i, (n, c, v) in enumerate(series_refs(chart, sheet), start=1)))

    def shown(self, found: Any) -> Shown:
        xl = found.api[1]
        box = (float(found.left), float(found.top), float(found.width), float(found.height))
        return Shown(box, self.native.title(xl), tuple(formula_refs(f) for f in self.native.formulas(xl)))

    def draw(self, sh: Any, found: Any | None, key: str, chart: BarChart, sheet: str, want: Shown) -> None:
        """Add our chart (``found`` None) or bring it up to ``chart``; the sheet is writable."""
        left, top, width, height = want.box
        if found is None:
            found = sh.charts.add(left, top, width, height)
            found.name = key
        else:
            found.left, found.top, found.width, found.height = left, top, width, height
        found.chart_type = XL_BAR_CLUSTERED
        self.native.dress(found.api[1], chart, series_refs(chart, sheet))
