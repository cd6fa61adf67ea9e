"""Native Excel charts of the report, drawn over the cells of the sheet they sit on.

Charts reference the sheet's own ranges (never copies of the numbers), so a reader who
corrects a cell sees the chart follow. Sizes are chosen to print beside the table on
one A4 landscape page.
"""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core.metrics import PERIOD_WORDS, Period
from xlcomplaints.report.labels import t
from xlcomplaints.templates.build import _Formats

THIS, LAST, LINE1, LINE2 = "#2F5597", "#BDD7EE", "#C55A11", "#548235"
SIZE = {"width": 600, "height": 380}
MAX_BRANCHES = 30
MAX_DEPARTMENTS = 15


def _font(fm: _Formats, size: int = 9, **kw: Any) -> dict[str, Any]:
    return {"name": fm.font, "size": size, **kw}


def _base(wb: Workbook, fm: _Formats, kind: str, title: str, subtype: str | None = None) -> Chart:
    chart = wb.add_chart({"type": kind, **({"subtype": subtype} if subtype else {})})
    assert chart is not None
    chart.set_title({"name": title, "name_font": _font(fm, 12, bold=True)})
    chart.set_legend({"position": "bottom", "font": _font(fm)})
    chart.set_size(SIZE)
    chart.set_chartarea({"border": {"none": True}})
    return chart


def for_breakdown(wb: Workbook, fm: _Formats, ws: Worksheet, dim: str, n: int, lang: str,
                  month: Period) -> Chart | None:
    """Category and department: this period against the previous; channel: this period; branch: on-time rate."""
    if n == 0:
        return None
    name = ws.get_name()
    if dim in ("category", "department"):
        last = min(n, MAX_DEPARTMENTS)
        (this, before), (this_en, last_en) = month.words("zh"), month.words("en")
        chart = _base(wb, fm, "bar", t(lang, f"{'投诉类别' if dim == 'category' else '责任部门'}：{this}与{before}件数",
                                       f"{'Category' if dim == 'category' else 'Department'}: {this_en.lower()} and "
                                       f"{last_en.lower()}"))
        for col, colour in ((2, THIS), (4, LAST)):
            chart.add_series({"name": [name, 0, col], "categories": [name, 1, 1, last, 1],
                              "values": [name, 1, col, last, col], "fill": {"color": colour}, "gap": 60,
                              "data_labels": {"value": True, "font": _font(fm, 8)} if col == 2 else {}})
        chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": _font(fm)})
        chart.set_x_axis({"num_font": _font(fm), "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        return chart
    if dim == "channel":
        chart = _base(wb, fm, "bar", t(lang, f"投诉渠道：{month.label('zh')}件数", f"Channel: {month.label('en')}"))
        chart.add_series({"name": [name, 0, 2], "categories": [name, 1, 1, n, 1], "values": [name, 1, 2, n, 2],
                          "fill": {"color": THIS}, "gap": 50, "data_labels": {"value": True, "font": _font(fm, 8)}})
        chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": _font(fm)})
        chart.set_x_axis({"num_font": _font(fm), "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_legend({"none": True})
        return chart
    if dim == "branch":
        last = min(n, MAX_BRANCHES)
        title = t(lang, "各网点处理及时率", "On-time rate by branch")
        if n > MAX_BRANCHES:
            title += t(lang, f"（最低的 {MAX_BRANCHES} 个）", f" (lowest {MAX_BRANCHES})")
        chart = _base(wb, fm, "column", title)
        chart.add_series({"name": [name, 0, 6], "categories": [name, 1, 1, last, 1], "values": [name, 1, 6, last, 6],
                          "fill": {"color": THIS}, "gap": 40,
                          "data_labels": {"value": True, "num_format": "0%", "font": _font(fm, 7)}})
        chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%", "num_font": _font(fm),
                          "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_x_axis({"num_font": _font(fm, 8, rotation=-45)})
        chart.set_legend({"none": True})
        return chart
    return None


def for_stages(wb: Workbook, fm: _Formats, ws: Worksheet, n: int, lang: str) -> Chart:
    name = ws.get_name()
    chart = _base(wb, fm, "bar", t(lang, "各环节及时率", "On-time rate by stage"))
    chart.add_series({"name": [name, 0, 3], "categories": [name, 1, 0, n, 0], "values": [name, 1, 3, n, 3],
                      "fill": {"color": THIS}, "gap": 50,
                      "data_labels": {"value": True, "num_format": "0.0%", "font": _font(fm, 8)}})
    chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": _font(fm)})
    chart.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "num_font": _font(fm),
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 300})
    return chart


def for_trend(wb: Workbook, fm: _Formats, ws: Worksheet, n: int, lang: str, rates: list[float],
              period: Period | None = None) -> Chart:
    """Received and closed as columns; on-time and satisfaction rates as lines on the right axis,
    which starts a little below the lowest rate (in tenths) so that month-to-month moves show."""
    name = ws.get_name()
    words = PERIOD_WORDS[period.kind] if period is not None else ("", "", "", "", "月度趋势", "Monthly trend")
    chart = _base(wb, fm, "column", t(lang, words[4], words[5]))
    for col, colour in ((1, THIS), (2, LAST)):
        chart.add_series({"name": [name, 0, col], "categories": [name, 1, 0, n, 0], "values": [name, 1, col, n, col],
                          "fill": {"color": colour}, "gap": 80})
    lines = wb.add_chart({"type": "line"})
    assert lines is not None
    for col, colour in ((3, LINE1), (4, LINE2)):
        lines.add_series({"name": [name, 0, col], "categories": [name, 1, 0, n, 0], "values": [name, 1, col, n, col],
                          "y2_axis": True, "line": {"color": colour, "width": 2.25},
                          "marker": {"type": "circle", "size": 5, "fill": {"color": colour},
                                     "border": {"color": colour}}})
    chart.combine(lines)
    chart.set_y_axis({"name": t(lang, "件数", "Complaints"), "name_font": _font(fm), "num_font": _font(fm),
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    low = max(0.0, math.floor((min(rates, default=0.0) - 0.05) * 10) / 10)
    lines.set_y2_axis({"min": low, "max": 1, "num_format": "0%", "num_font": _font(fm)})
    chart.set_x_axis({"num_font": _font(fm)})
    chart.set_size({"width": 860, "height": 400})
    return chart
