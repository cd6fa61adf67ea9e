"""Write the monthly report workbook (月报表) from a ``MonthlyReport``, with XlsxWriter.

Sheets follow ``spec/report.py`` and carry the same hidden stamps as the committed
report template, so the file is recognisable as ours. Numbers are written as values;
totals, shares and month-over-month changes are live formulas with the computed
result cached, so any spreadsheet recomputes them and a reader that does not
calculate (python-calamine) still sees the numbers. Every sheet prints on A4 landscape.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.collector import collector_paused
from xlcomplaints.core.metrics import PERIOD_WORDS, GroupRow, PeriodKind, time_or_none
from xlcomplaints.core.problems import Level, Problem, render
from xlcomplaints.i18n import pick
from xlcomplaints.report import charts
from xlcomplaints.report.definitions import definition_rows
from xlcomplaints.report.labels import OVERDUE_CUT, label, reasons_text, t
from xlcomplaints.report.people import people_spec, people_values, write_handlers
from xlcomplaints.report.sheet_rows import QuickBook, put_rows, quick_formulas, quick_rows
from xlcomplaints.report.summary import MonthlyReport
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.branch import REGISTER
from xlcomplaints.spec.model import ColType, SheetSpec
from xlcomplaints.templates.build import _Formats, _print_setup, _stamp_sheet
from xlcomplaints.workbook.stamp import TEMPLATE_NAME, template_stamp

NONE = "—"
TITLE_FILL = "#1F4E79"
HEAD_FILL = "#D9E1F2"
SECTION_FILL = "#DDEBF7"
TOTAL_FILL = "#F2F2F2"
GRID = {"border": 1, "border_color": "#BFBFBF"}
COUNT_FMT, RATE_FMT, NUM_FMT = "#,##0", "0.0%", "0.0"
CHART_BELOW_MAX_ROWS = 20
#: The rows an Excel sheet holds; a list longer than that is cut there, with a note (``fit_overdue``).
EXCEL_MAX_ROWS = 1_048_576
#: What a change cell shows when the previous period holds only part of its data (``MonthlyReport.previous_partial``).
PARTIAL_MARK = ("上期不完整", "prev. partial")
TYPE_FORMATS = {ColType.INT: COUNT_FMT, ColType.PERCENT: RATE_FMT, ColType.NUMBER: "0.00"}


#: The report's name per kind of period, in its title (the file is of our one report kind whatever its period).
REPORT_NAMES = {PeriodKind.MONTH: ("投诉月报表", "Complaints report"), PeriodKind.WEEK: ("投诉周报表", "Weekly complaints report"),
                PeriodKind.QUARTER: ("投诉季度报表", "Quarterly complaints report"),
                PeriodKind.YEAR: ("投诉年度报表", "Yearly complaints report"),
                PeriodKind.RANGE: ("投诉报表", "Complaints report")}
#: A column header's month words → the words of the report's period (本月 → 本周, Last month → Last week…).
_MONTH_WORDS = PERIOD_WORDS[PeriodKind.MONTH]


def text_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs: CJK characters are about two width units each."""
    units = sum(1.9 if ord(ch) > 0x2E80 else 1.0 for ch in text)
    return max(1, math.ceil(units / max(width - 1, 1)))


class ReportWriter:
    """One report workbook; ``write`` lays out every sheet in order."""

    def __init__(self, target: str | Path | io.BytesIO, report: MonthlyReport, lang: str = "zh",
                 run: str | None = None) -> None:
        self.report = fit_overdue(report)
        self.lang = lang
        self.run = run  # the consolidation run's id, also in its facts store
        self.wb: Workbook = QuickBook(target, {
            "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
            # each sheet's XML to a temporary file (mode 0600, removed once zipped), not held in memory until the zip is
            # written: writing the 1 M report peaks at 223 MiB, not 268, the same CPU (issue 22, h24m: docs/benchmarks.md)
            "in_memory": False,
        })
        self.fm = _Formats(self.wb, lang)
        self.branch_names = {b.code: b.name for b in report.branches}

    # ----------------------------------------------------------------- helpers
    def f(self, **props: Any) -> Any:
        return self.fm.get(**props)

    def title(self) -> str:
        m = self.report.month
        zh, en = REPORT_NAMES[m.kind]
        return t(self.lang, f"{zh} {m.label('zh')}", f"{en}, {m.label('en')}")

    def words(self, text: str) -> str:
        """``text`` (a header written for a month) in the words of the report's period: 本月 → 本周…"""
        kind = self.report.month.kind
        if kind is PeriodKind.MONTH:
            return text
        for old, new in zip(_MONTH_WORDS[:4], PERIOD_WORDS[kind][:4], strict=True):
            text = text.replace(old, new)
        return {"月份": "期间", "Month": "Period"}.get(text, text)

    def as_of_text(self) -> str:
        return t(self.lang, "统计时点 ", "As of ") + self.report.as_of.strftime("%Y-%m-%d %H:%M")

    def sheet(self, spec: SheetSpec, name: str | None = None) -> Worksheet:
        ws = quick_formulas(quick_rows(self.wb.add_worksheet(name or spec.title(self.lang))))
        _stamp_sheet(self.wb, ws, spec)
        return ws

    def print_setup(self, ws: Worksheet, name: str, *, one_page: bool = False) -> None:
        _print_setup(ws, name, self.lang, paper=9)
        ws.set_header(f'&L&"-,Bold"{self.title()} · {name}&R{self.as_of_text()}')
        if one_page:
            ws.fit_to_pages(1, 1)

    def number(self, ws: Worksheet, row: int, col: int, value: float | None, num_format: str, **props: Any) -> None:
        if value is None:
            ws.write_string(row, col, NONE, self.f(**{**props, "align": "center", "font_color": "#808080"}))
        else:
            ws.write_number(row, col, value, self.f(num_format=num_format, **props))

    def change(self, ws: Worksheet, row: int, col: int, kind: str, value: float | None, previous: float | None,
               cols: tuple[int, int], **props: Any) -> None:
        """Change against the previous period as a live formula over this period's and the previous one's
        cells; when the previous period holds only part of its data, a mark saying so instead."""
        if self.report.previous_partial is not None:
            ws.write_string(row, col, t(self.lang, PARTIAL_MARK[0], PARTIAL_MARK[1]),
                            self.f(**{**props, "align": "center", "font_color": "#808080", "font_size": 9}))
            return
        a, b = xl_rowcol_to_cell(row, cols[0]), xl_rowcol_to_cell(row, cols[1])
        both = f"AND(ISNUMBER({a}),ISNUMBER({b}))"
        result: float | str = ""
        if kind == "rate":
            formula = f'=IF({both},({a}-{b})*100,"")'
            fmt = t(self.lang, '+0.0"个百分点";-0.0"个百分点";0.0', '+0.0" pp";-0.0" pp";0.0')
            if value is not None and previous is not None:
                result = (value - previous) * 100
        elif kind == "score":
            formula, fmt = f'=IF({both},{a}-{b},"")', "+0.00;-0.00;0.00"
            if value is not None and previous is not None:
                result = value - previous
        else:
            formula, fmt = f'=IF(AND({both},{b}<>0),{a}/{b}-1,"")', "+0.0%;-0.0%;0.0%"
            if value is not None and previous:
                result = value / previous - 1
        ws.write_formula(row, col, formula, self.f(num_format=fmt, align="right", **props), result)

    def table(self, ws: Worksheet, spec: SheetSpec, rows: Sequence[Sequence[Any]], *,
              formats: dict[int, str] | None = None, muted: Sequence[int] = (), wrap: Sequence[int] = ()) -> None:
        """Header, gridded body with the spec's number formats, filter and frozen header.

        ``muted`` columns are shown grey (a repeated dimension name); ``wrap`` columns
        wrap, with the row made tall enough to show all of their text.
        """
        head = self.f(bold=True, text_wrap=True, align="center", valign="vcenter", bg_color=HEAD_FILL, border=1)
        ws.set_row(0, 30)
        cell_formats = []
        for i, col in enumerate(spec.columns):
            ws.set_column(i, i, col.width_in(self.lang))
            ws.write_string(0, i, self.words(col.label(self.lang)), head)
            num = (formats or {}).get(i) or TYPE_FORMATS.get(col.type) or col.format or "General"
            props: dict[str, Any] = {"num_format": num, "valign": "top" if wrap else "vcenter", **GRID}
            if i in muted:
                props["font_color"] = "#808080"
            if i in wrap:
                props["text_wrap"] = True
            if col.type is ColType.CHOICE and col.key == "unit":
                props["align"] = "center"
            cell_formats.append(self.f(**props))
        put_rows(ws, rows, cell_formats)
        for r, values in enumerate(rows if wrap else (), start=1):
            lines = max(text_lines(str(values[i] or ""), spec.columns[i].width_in(self.lang)) for i in wrap)
            if lines > 1:
                ws.set_row(r, 15 * lines + 3)
        ws.autofilter(0, 0, max(len(rows), 1), len(spec.columns) - 1)
        ws.freeze_panes(1, 0)

    # ----------------------------------------------------------------- sheets
    def write(self) -> None:
        from xlcomplaints.report.cover import write_cover

        try:
            self.wb.set_properties({"title": self.title(), "author": "xlcomplaints", "created": datetime.now(),
                                    "comments": "Created by xlcomplaints"})
            stamp = template_stamp(R.REPORT_TEMPLATE_KIND, R.REPORT_TEMPLATE_VERSION, R.REPORT_SHEETS)
            self.wb.define_name(TEMPLATE_NAME, f'="{stamp}"')
            self.wb.defined_names[-1][3] = True  # hidden, like the template's stamp
            codes = [b.code for b in self.report.branches]
            listed = ",".join(codes)
            if codes and len(listed) <= R.BRANCHES_MAX_CHARS and '"' not in listed and all("," not in c for c in codes):
                self.wb.define_name(R.BRANCHES_NAME, f'="{listed}"')
                self.wb.defined_names[-1][3] = True
            if self.run:
                self.wb.define_name(R.RUN_NAME, f'="{self.run}"')
                self.wb.defined_names[-1][3] = True
            cover = write_cover(self)
            for dim, vocab in self.report.dimensions:
                if dim != "branch" or len(self.report.branches) > 1:
                    self.breakdown(dim, vocab)
            write_handlers(self)
            for header in self.report.office_dimensions:  # the office's own columns, after ours
                self.breakdown(R.office_dimension(header), None, header)
            self.stages()
            self.overdue()
            self.closed_late()
            self.typical()
            self.trend()
            self.definitions()
            self.issues()
            cover.activate()
        finally:
            self.wb.close()

    def breakdown(self, dim: str, vocab: v.Vocabulary | None, header: str | None = None) -> None:
        lang, rep = self.lang, self.report
        dim_label = header or (t(lang, "网点", "Branch") if dim == "branch" else REGISTER.column(dim).label(lang))
        name = t(lang, f"按{dim_label}", f"By {dim_label.lower()}")[:31]
        ws = self.sheet(R.BREAKDOWN, name)
        rows: list[GroupRow] = rep.breakdowns[dim]

        def show(key: str | None) -> str:
            if dim == "branch" and key is not None and self.branch_names.get(key) not in (None, "", key):
                return f"{key} {self.branch_names[key]}"
            return label(vocab, key, lang)

        spec, people = R.BREAKDOWN, dim == "department"  # departments: the By-handler sheet's columns too
        if people:
            spec = people_spec(replace(R.BREAKDOWN, columns=R.BY_DEPARTMENT_COLUMNS), rep)
        self.table(ws, spec, [[dim_label, show(g.key), g.count, None, g.previous, None, g.on_time_rate, g.late,
                               *(people_values(rep.departments.get(g.key), R.DEPARTMENT_PEOPLE_COLUMNS) if people
                                 else ())] for g in rows], muted=(0,))
        if people:
            ws.set_row(0, 45)  # three lines of header
        total = len(rows) + 1
        n_total, n_prev = sum(g.count for g in rows), sum(g.previous for g in rows)
        for i, g in enumerate(rows, start=1):
            ws.write_formula(i, 3, f'=IF($C${total + 1}>0,C{i + 1}/$C${total + 1},"")',
                             self.f(num_format=RATE_FMT, valign="vcenter", **GRID), g.count / n_total if n_total else "")
            self.change(ws, i, 5, "count", g.count, g.previous, (2, 4), valign="vcenter", **GRID)
        bold = {"bold": True, "bg_color": TOTAL_FILL, **GRID, "top": 1, "top_color": "#000000"}
        ws.write_string(total, 0, dim_label, self.f(font_color="#808080", **bold))
        ws.write_string(total, 1, t(lang, "合计", "Total"), self.f(**bold))
        for col, value in ((2, n_total), (4, n_prev)):
            letter = xl_col_to_name(col)
            ws.write_formula(total, col, f"=SUM({letter}2:{letter}{total})", self.f(num_format=COUNT_FMT, **bold), value)
        ws.write_formula(total, 3, f'=IF(C{total + 1}>0,1,"")', self.f(num_format=RATE_FMT, **bold),
                         1 if n_total else "")
        self.change(ws, total, 5, "count", n_total, n_prev, (2, 4), **bold)
        self.number(ws, total, 6, rep.value("on_time_rate"), RATE_FMT, **bold)
        self.number(ws, total, 7, rep.value("late_complaints"), COUNT_FMT, **bold)
        chart = charts.for_breakdown(self.wb, self.fm, ws, dim, len(rows), lang, rep.month)
        if chart is not None:
            if len(rows) <= CHART_BELOW_MAX_ROWS:  # as wide as the table above it
                chart.set_size({"width": int(sum(c.width_in(lang) for c in R.BREAKDOWN.columns) * 7.2)})
                ws.insert_chart(total + 2, 0, chart, {"x_offset": 4, "y_offset": 6})
            else:
                ws.insert_chart(1, len(spec.columns) + 1, chart)
        self.print_setup(ws, name, one_page=len(rows) <= 30)

    def stages(self) -> None:
        lang = self.lang
        ws = self.sheet(R.STAGES)
        rows = [[self.stage_label(s.stage), s.due or None, s.on_time or None, s.on_time_rate, s.median, s.p90,
                 v.UNIT.label(s.unit, lang) if s.unit else None] for s in self.report.stages]
        self.table(ws, R.STAGES, rows)
        ws.insert_chart(len(rows) + 2, 0, charts.for_stages(self.wb, self.fm, ws, len(rows), lang),
                        {"x_offset": 4, "y_offset": 6})
        self.print_setup(ws, R.STAGES.title(lang), one_page=True)

    def stage_label(self, stage: str) -> str:
        """A built-in stage's label; an office's own stage by its name (English: its English name)."""
        if stage in v.STAGE.codes:
            return v.STAGE.label(stage, self.lang)
        return pick(self.lang, stage, self.report.custom_stages.get(stage, stage))

    def overdue(self) -> None:
        lang = self.lang
        ws = self.sheet(R.OVERDUE_DETAIL)
        rows = []
        for d in self.report.overdue:
            c = d.case
            rows.append([c.branch, c.no, time_or_none(c.received_at), c.customer, c.phone,
                         label(v.CATEGORY, c.category, lang) if c.category else None,
                         label(v.SEVERITY, c.severity, lang) if c.severity else None,
                         self.stage_label(d.stage), time_or_none(d.fact.due), d.fact.late_by,
                         v.UNIT.label(d.fact.unit, lang) if d.fact.unit else None, c.department, c.handler,
                         label(v.OVERALL_STATUS, c.status, lang)])
        self.table(ws, R.OVERDUE_DETAIL, rows, formats={9: "0.0"})
        cut = next((p for p in self.report.issues if p.code == OVERDUE_CUT), None)
        if cut is not None:  # the sheet's last row says what is not on it
            ws.set_row(len(rows) + 1, 30)
            ws.merge_range(len(rows) + 1, 0, len(rows) + 1, len(R.OVERDUE_DETAIL.columns) - 1,
                           render(OVERDUE_CUT, lang, cut.params),
                           self.f(bold=True, font_color="#C00000", text_wrap=True, valign="vcenter"))
        ws.freeze_panes(1, 2)
        self.print_setup(ws, R.OVERDUE_DETAIL.title(lang))

    def closed_late(self) -> None:
        lang = self.lang
        ws = self.sheet(R.CLOSED_LATE)
        rows: list[list[Any]] = []
        for c in self.report.closed_late:
            close = c.stage("close")
            rows.append([c.branch, c.no, time_or_none(c.received_at), time_or_none(c.closed_at), time_or_none(close.due),
                         close.took, close.late_by, v.UNIT.label(close.unit, lang) if close.unit else None, c.customer,
                         label(v.CATEGORY, c.category, lang) if c.category else None,
                         label(v.SEVERITY, c.severity, lang) if c.severity else None, c.department, c.handler])
        if not rows:
            this = self.report.month.words(lang)[0]
            rows = [[None] * 8 + [t(lang, f"{this}没有超时结案的投诉。", f"No complaint closed late ({this.lower()})."),
                                  None, None, None, None]]
        self.table(ws, R.CLOSED_LATE, rows, formats={5: "0.0", 6: "0.0"})
        ws.freeze_panes(1, 2)
        self.print_setup(ws, R.CLOSED_LATE.title(lang))

    def typical(self) -> None:
        lang = self.lang
        ws = self.sheet(R.TYPICAL)
        rows: list[list[Any]] = []
        for row in self.report.typical:
            c = row.case
            words = list(row.texts) or [None] * 4
            rows.append([c.branch, c.no, time_or_none(c.received_at),
                         label(v.CATEGORY, c.category, lang) if c.category else None,
                         label(v.SEVERITY, c.severity, lang) if c.severity else None,
                         reasons_text(row.reasons, lang),
                         c.department, label(v.OVERALL_STATUS, c.status, lang), *words])
        if not rows:
            this = self.report.month.words(lang)[0]
            rows = [[None] * 8 + [t(lang, f"{this}没有典型案例。", f"No typical cases ({this.lower()})."), None, None,
                                  None]]
        self.table(ws, R.TYPICAL, rows, wrap=(5, 8, 9, 10, 11))
        ws.freeze_panes(1, 2)
        self.print_setup(ws, R.TYPICAL.title(lang))

    def trend(self) -> None:
        lang = self.lang
        ws = self.sheet(R.TREND)
        rows = [[str(r.month), r.received, r.closed, r.on_time_rate, r.satisfaction_rate] for r in self.report.trend]
        self.table(ws, R.TREND, rows)
        if len(rows) > 1:
            rates = [x for r in self.report.trend for x in (r.on_time_rate, r.satisfaction_rate) if x is not None]
            ws.insert_chart(len(rows) + 2, 0, charts.for_trend(self.wb, self.fm, ws, len(rows), lang, rates,
                                                                self.report.month),
                            {"x_offset": 4, "y_offset": 6})
        self.print_setup(ws, R.TREND.title(lang), one_page=True)

    def definitions(self) -> None:
        ws = self.sheet(R.DEFINITIONS)
        self.table(ws, R.DEFINITIONS, definition_rows(self.lang), wrap=(1, 2))
        ws.set_column(0, 0, 22)
        self.print_setup(ws, R.DEFINITIONS.title(self.lang))

    def issues(self) -> None:
        lang = self.lang
        ws = self.sheet(R.ISSUES)
        rows = [[p.file, t(lang, "错误", "error") if p.level is Level.ERROR else t(lang, "警告", "warning"),
                 p.sheet, p.cell, p.column, p.value, p.message(lang)] for p in self.report.issues]
        if not rows:
            rows = [[None, None, None, None, None, None, t(lang, "输入中没有发现问题。", "No problems in the inputs.")]]
        self.table(ws, R.ISSUES, rows, wrap=(6,))
        red = self.wb.add_format({"font_color": "#C00000", "bold": True})
        ws.conditional_format(1, 1, len(rows), 1, {"type": "cell", "criteria": "==",
                                                   "value": f'"{t(lang, "错误", "error")}"', "format": red})
        ws.freeze_panes(1, 1)
        self.print_setup(ws, R.ISSUES.title(lang))


def fit_overdue(report: MonthlyReport) -> MonthlyReport:
    """The report with its Overdue detail cut to what a sheet holds (less its header and the note's
    row), the first rows in the list's order kept; a warning at the head of its issues counts what
    is left out (the cover and the Issues sheet say it). The same report if it fits."""
    room = EXCEL_MAX_ROWS - 2
    total = len(report.overdue)
    if total <= room:
        return report
    cut = Problem(level=Level.WARNING, code=OVERDUE_CUT, params={
        "total": f"{total:,}", "shown": f"{room:,}", "left_out": f"{total - room:,}"})
    return replace(report, overdue=report.overdue[:room], issues=[cut, *report.issues])


def write_report(target: str | Path | io.BytesIO, report: MonthlyReport, *, lang: str = "zh",
                 run: str | None = None) -> None:
    """``run``: a consolidation's run id, kept in a hidden name to pair the report with its facts store."""
    # the cells are ~800,000 small objects at 1 M: no collection passes over them (docs/benchmarks.md, "The report writer")
    with collector_paused():
        ReportWriter(target, report, lang, run).write()
