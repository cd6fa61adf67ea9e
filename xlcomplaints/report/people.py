"""The By-handler sheet (按处理人) and the department breakdown's figures per person (考核), with XlsxWriter.

The figures are ``core.metrics.people``'s (``MonthlyReport.handlers``, ``.departments``); the column
names ``spec.report.PEOPLE_COLUMNS``'; the ranking below the table follows ``metrics.RANKING_DEFINITION``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core.metrics import PersonRow
from xlcomplaints.report.labels import label, t
from xlcomplaints.report.summary import MonthlyReport
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import Column, SheetSpec

HEAD_FILL = "#D9E1F2"
GRID = {"border": 1, "border_color": "#BFBFBF"}
RATE_FMT = "0.0%"
RANKED = 3  # handlers listed on each side of the ranking


class ReportWriter(Protocol):
    """What these sheets need of ``report.workbook.ReportWriter`` (named here: the writer imports this module)."""

    report: MonthlyReport
    lang: str

    def f(self, **props: Any) -> Any: ...
    def sheet(self, spec: SheetSpec, name: str | None = None) -> Worksheet: ...
    def print_setup(self, ws: Worksheet, name: str, *, one_page: bool = False) -> None: ...
    def table(self, ws: Worksheet, spec: SheetSpec, rows: Sequence[Sequence[Any]], *,
              formats: dict[int, str] | None = None, muted: Sequence[int] = (), wrap: Sequence[int] = ()) -> None: ...


def people_values(row: PersonRow | None, columns: Sequence[Column] = R.PEOPLE_COLUMNS) -> list[Any]:
    """A person's figures in the order of ``columns`` (None: no figure, shown blank)."""
    if row is None:
        return [None] * len(columns)
    return [row.values[c.key] for c in columns]


def people_spec(spec: SheetSpec, report: MonthlyReport) -> SheetSpec:
    """The sheet's columns with the time's unit in its name, as the cover names it: 处理用时中位数（工作日）."""
    from dataclasses import replace

    unit = next((r.unit for r in report.cover if r.key == "resolve_median"), None)
    if unit is None:
        return spec
    columns = tuple(replace(c, zh=f"{c.zh}（{v.UNIT.label(unit, 'zh')}）", en=f"{c.en} ({v.UNIT.label(unit, 'en')})")
                    if c.key == "resolve_median" else c for c in spec.columns)
    return replace(spec, columns=columns)


def write_handlers(w: ReportWriter) -> None:
    """按处理人: a row per handler, then the ranking by on-time rate."""
    lang, rep = w.lang, w.report
    spec = people_spec(R.BY_HANDLER, rep)
    ws = w.sheet(R.BY_HANDLER)
    rows = [[label(None, r.key, lang), *people_values(r)] for r in rep.handlers]
    if not rows:
        rows = [[t(lang, "本月没有需处理的投诉。", "No complaints to handle this month."), *[None] * len(R.PEOPLE_COLUMNS)]]
    w.table(ws, spec, rows, formats={i + 1: "0.0" for i, c in enumerate(R.PEOPLE_COLUMNS)
                                     if c.key in ("resolve_median", "average_score")})
    ws.set_row(0, 45)
    top = len(rows) + 2
    title = w.f(bold=True, font_size=11)
    ws.write_string(top, 0, t(lang, f"考核排名：处理及时率（本月需处理不少于 {rep.rank_min} 件的处理人）",
                              f"Ranking by on-time rate (handlers with at least {rep.rank_min} complaints to handle)"),
                    title)
    head = w.f(bold=True, bg_color=HEAD_FILL, border=1, align="center")
    best, worst = rep.ranking
    for col, heading, ranked in ((0, t(lang, "最高", "Highest"), best), (4, t(lang, "最低", "Lowest"), worst)):
        for i, text in enumerate((heading, t(lang, "处理及时率", "On-time rate"), t(lang, "需处理件数", "To handle"))):
            ws.write_string(top + 1, col + i, text, head)
        for j, r in enumerate(ranked, start=top + 2):
            ws.write_string(j, col, str(r.key), w.f(**GRID))
            ws.write_number(j, col + 1, r.values["on_time_rate"], w.f(num_format=RATE_FMT, **GRID))
            ws.write_number(j, col + 2, r.values["handled"], w.f(num_format="0", **GRID))
        if not ranked:
            ws.write_string(top + 2, col, t(lang, "（无）", "(none)"), w.f(font_color="#808080"))
    ws.freeze_panes(1, 1)
    w.print_setup(ws, R.BY_HANDLER.title(lang), one_page=len(rows) <= 30)
