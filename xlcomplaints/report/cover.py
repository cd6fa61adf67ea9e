"""The cover (封面): headline figures against the previous period, and the top lists, on one A4 page.

Left, the metrics in four sections (intake, closure and backlog, timeliness, callbacks);
right, small tables a supervisor scans first: the categories and departments with the
most complaints and the most lateness, the age of the carried-over backlog, and the
on-time rate of each stage.
"""

from __future__ import annotations

from typing import Any, Protocol

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core import metrics as M
from xlcomplaints.core.problems import Level, render
from xlcomplaints.i18n import pick
from xlcomplaints.report.labels import OVERDUE_CUT, label, t
from xlcomplaints.report.summary import CoverRow, MonthlyReport
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.branch import REGISTER
from xlcomplaints.spec.model import SheetSpec


class ReportWriter(Protocol):
    """What the cover needs of the report writer (``report.workbook.ReportWriter``), named here so
    that the writer imports the cover and not the other way round."""

    report: MonthlyReport
    lang: str
    wb: Any

    def f(self, **props: Any) -> Any: ...
    def title(self) -> str: ...
    def words(self, text: str) -> str: ...

    def stage_label(self, stage: str) -> str: ...
    def as_of_text(self) -> str: ...
    def sheet(self, spec: SheetSpec, name: str | None = None) -> Worksheet: ...
    def print_setup(self, ws: Worksheet, name: str, *, one_page: bool = False) -> None: ...
    def number(self, ws: Worksheet, row: int, col: int, value: float | None, num_format: str,
               **props: Any) -> None: ...
    def change(self, ws: Worksheet, row: int, col: int, kind: str, value: float | None,
               previous: float | None, cols: tuple[int, int], **props: Any) -> None: ...

TITLE_FILL = "#1F4E79"
HEAD_FILL = "#D9E1F2"
SECTION_FILL = "#DDEBF7"
GOOD, BAD = "#2E7D32", "#C00000"
GRID = {"border": 1, "border_color": "#BFBFBF"}
COUNT_FMT, RATE_FMT, NUM_FMT = "#,##0", "0.0%", "0.0"
WIDTHS = {"zh": (30, 11, 11, 14, 2, 14, 9, 9, 2, 14, 9, 9),
          "en": (44, 11, 11, 11, 2, 22, 9, 9, 2, 22, 9, 9)}  # English labels run longer

#: Cover sections: (zh, en, metric keys).
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("受理", "Intake", ("received", "validity_valid", "validity_assist", "validity_invalid", "handled", "major",
                      "escalations")),
    ("结案与积压", "Closure and backlog", ("closed", "closure_rate", "open_end", "backlog_in")),
    ("时效", "Timeliness", ("on_time_rate", "late_complaints", "overdue_now", "acknowledge_median", "acknowledge_p90",
                          "first_contact_median", "first_contact_p90", "resolve_median", "resolve_p90",
                          "close_median", "close_p90")),
    ("回访与满意度", "Callbacks and satisfaction", ("callback_rate", "callback_on_time_rate", "satisfaction_rate",
                                              "average_score", "reopen_rate", "repeat_rate")),
)
SUB_ITEMS = frozenset({"validity_valid", "validity_assist", "validity_invalid"})
#: Which way is better, to colour a change green or red (absent: neither).
UP_IS_GOOD = {"closure_rate": True, "on_time_rate": True, "callback_rate": True, "callback_on_time_rate": True,
              "satisfaction_rate": True, "average_score": True, "late_complaints": False, "overdue_now": False, "open_end": False,
              "backlog_in": False, "reopen_rate": False, "repeat_rate": False, "escalations": False,
              **{m.key: False for m in M.METRICS.values() if m.kind == "duration"}}


def write_cover(w: ReportWriter) -> Worksheet:
    lang = w.lang
    ws = w.sheet(R.COVER)
    ws.hide_gridlines(2)
    widths = WIDTHS[pick(lang, "zh", "en")]
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    last_col = len(widths) - 1
    ws.set_row(0, 32)
    ws.merge_range(0, 0, 0, last_col, w.title(), w.f(bold=True, font_size=18, font_color="#FFFFFF",
                                                     bg_color=TITLE_FILL, valign="vcenter", indent=1))
    ws.merge_range(1, 0, 1, last_col, _scope(w), w.f(font_color="#404040", valign="vcenter", indent=1))
    ws.merge_range(2, 0, 2, last_col, _note(w), w.f(font_color="#808080", italic=True, indent=1))
    head = w.f(bold=True, bg_color=HEAD_FILL, border=1, align="center", valign="vcenter")
    for i, col in enumerate(R.COVER.columns):
        ws.write_string(4, i, w.words(col.label(lang)), head)
    rows = {r.key: r for r in w.report.cover}
    row = 5
    for zh, en, keys in SECTIONS:
        ws.merge_range(row, 0, row, 3, t(lang, zh, en), w.f(bold=True, bg_color=SECTION_FILL, border=1))
        row += 1
        for key in keys:
            _metric_row(w, ws, row, rows[key])
            row += 1
    _side_tables(w, ws)
    ws.merge_range(row + 1, 0, row + 1, last_col, t(
        lang, "各指标的定义见“指标说明”。环比：件数与用时为增减百分比，比率为增减的百分点，评分为增减的分数；绿色为改善，红色为变差。",
        "Every figure is defined on the Definitions sheet. Change: counts and times in per cent, rates in percentage "
        "points, scores in points; green is better, red is worse."), w.f(font_color="#808080", italic=True))
    w.print_setup(ws, R.COVER.title(lang), one_page=True)
    ws.print_area(0, 0, row + 1, last_col)
    return ws


def _scope(w: ReportWriter) -> str:
    rep, lang = w.report, w.lang
    names = [f"{b.code} {b.name}" if b.name and b.name != b.code else b.code for b in rep.branches]
    shown = pick(lang, "、", ", ").join(names[:5])
    if len(names) > 5:
        shown += t(lang, f" 等共 {len(names)} 个网点", f" and {len(names) - 5} more ({len(names)} branches)")
    m = rep.month
    days = f"{m.start:%Y-%m-%d} – {m.last_day:%Y-%m-%d}"
    return t(lang, f"统计范围：{shown}　　期间 {days}　　{w.as_of_text()}",
             f"Scope: {shown}    {days}    {w.as_of_text()}")


def _note(w: ReportWriter) -> str:
    rep, lang = w.report, w.lang
    errors = sum(1 for p in rep.issues if p.level is Level.ERROR)
    warnings = len(rep.issues) - errors
    parts = [render(f"{OVERDUE_CUT}.cover", lang, p.params) for p in rep.issues if p.code == OVERDUE_CUT]
    if rep.files_failed:
        parts.append(t(lang, f"读取 {rep.files_read} 个文件，{rep.files_failed} 个未能计入。",
                       f"{rep.files_read} files read, {rep.files_failed} left out."))
    last, last_en = rep.month.words("zh")[1], rep.month.words("en")[1].lower()
    if rep.previous_from:
        parts.append(t(lang, f"输入中没有{last}受理的投诉，{last}数值取自 {rep.previous_from}。",
                       f"The inputs hold no complaint received {last_en}: {last_en}'s figures are from "
                       f"{rep.previous_from}."))
    if rep.previous_partial is not None:
        since = f"{rep.previous_partial:%Y-%m-%d}"
        parts.append(t(lang, f"{last}数据不完整（数据始于 {since}），不计环比。",
                       f"{rep.month.words('en')[1]} partial (data from {since}): no change shown."))
    if rep.unreadable_received:
        parts.append(t(lang, f"受理时间无法识别的 {rep.unreadable_received} 行未计入任何期间。",
                       f"{rep.unreadable_received} row(s) without a readable received time are in no period."))
    if not rep.contacts_shown:
        parts.append(t(lang, "联系电话已部分隐藏。", "Contact numbers are partly masked."))
    parts.append(t(lang, f"输入中有 {errors} 个错误、{warnings} 个警告，见“问题清单”。",
                   f"The inputs have {errors} error(s) and {warnings} warning(s): see Issues.")
                 if rep.issues else t(lang, "输入中没有发现问题。", "No problems in the inputs."))
    return pick(lang, "", " ").join(parts)


def _metric_row(w: ReportWriter, ws: Worksheet, row: int, r: CoverRow) -> None:
    m = M.METRICS[r.key]
    name = m.name(w.lang)
    if r.unit:
        name += t(w.lang, f"（{v.UNIT.label(r.unit, 'zh')}）", f" ({v.UNIT.label(r.unit, 'en').lower()})")
    sub = r.key in SUB_ITEMS
    ws.write_string(row, 0, name, w.f(indent=3 if sub else 1, font_color="#404040" if sub else "#000000", **GRID))
    fmt = {"count": COUNT_FMT, "rate": RATE_FMT}.get(m.kind, NUM_FMT)
    w.number(ws, row, 1, r.value, fmt, bold=not sub, **GRID)
    w.number(ws, row, 2, r.previous, fmt, font_color="#595959", **GRID)
    w.change(ws, row, 3, m.kind, r.value, r.previous, (1, 2), **GRID)
    good = UP_IS_GOOD.get(r.key)
    if good is not None:
        cell = xl_rowcol_to_cell(row, 3)
        for sign, colour in ((">", GOOD if good else BAD), ("<", BAD if good else GOOD)):
            ws.conditional_format(row, 3, row, 3, {
                "type": "formula", "criteria": f"=AND(ISNUMBER({cell}),{cell}{sign}0)",
                "format": w.wb.add_format({"font_color": colour})})


def _small_table(w: ReportWriter, ws: Worksheet, row: int, col: int, title: str, headers: tuple[str, str, str],
                 rows: list[tuple[str, Any, Any, str]]) -> None:
    """A titled three-column table of five rows (blank rows keep the grid even)."""
    ws.merge_range(row, col, row, col + 2, title, w.f(bold=True, bg_color=SECTION_FILL, border=1))
    sub = w.f(bold=True, bg_color=HEAD_FILL, border=1, align="center", font_size=9)
    for i, text in enumerate(headers):
        ws.write_string(row + 1, col + i, text, sub)
    for i in range(5):
        r = row + 2 + i
        if i < len(rows):
            name, a, b, fmt_b = rows[i]
            ws.write_string(r, col, name, w.f(**GRID))
            w.number(ws, r, col + 1, a, COUNT_FMT, **GRID)
            w.number(ws, r, col + 2, b, fmt_b, **GRID)
        else:
            for c in range(3):
                ws.write_blank(r, col + c, None, w.f(**GRID))


def _side_tables(w: ReportWriter, ws: Worksheet) -> None:
    lang, rep = w.lang, w.report
    vocabs = dict(rep.dimensions)
    total = rep.value("received") or 0
    for col, dim in ((5, "category"), (9, "department")):
        name = REGISTER.column(dim).label(lang)
        most = [(label(vocabs[dim], g.key, lang), g.count, g.count / total if total else None, RATE_FMT)
                for g in rep.top(dim, "count")]
        _small_table(w, ws, 4, col, t(lang, f"{name}：件数前五", f"{name}: most complaints"),
                     (name, t(lang, "件数", "Count"), t(lang, "占比", "Share")), most)
        late = [(label(vocabs[dim], g.key, lang), g.late, g.on_time_rate, RATE_FMT) for g in rep.top(dim, "late")]
        _small_table(w, ws, 12, col, t(lang, f"{name}：逾期前五", f"{name}: most late"),
                     (name, t(lang, "逾期件数", "Late"), t(lang, "及时率", "On time")), late)
    now_ages, prev_ages = rep.backlog_ages
    ages = [(t(lang, f"{lo}–{hi} 天", f"{lo}–{hi} days") if hi is not None else t(lang, f"{lo} 天以上", f"{lo}+ days"),
             a, b, COUNT_FMT) for (lo, hi), a, b in zip(M.AGE_BUCKETS, now_ages, prev_ages, strict=True)]
    (this, last), (this_en, last_en) = rep.month.words("zh"), rep.month.words("en")
    _small_table(w, ws, 20, 5, t(lang, f"{last}结转未结案：账龄", "Backlog carried over: age"),
                 (t(lang, "账龄", "Age"), t(lang, f"{this}初", this_en), t(lang, f"{last}初", last_en)), ages)
    firsts: dict[str, M.StageRow] = {}
    for s in rep.stages:
        firsts.setdefault(s.stage, s)
    worst = sorted((s for s in firsts.values() if s.due), key=lambda s: s.on_time_rate or 0.0)[:5]
    _small_table(w, ws, 20, 9, t(lang, "及时率最低的环节", "Stages least on time"),
                 (t(lang, "环节", "Stage"), t(lang, "到期数", "Due"), t(lang, "及时率", "On time")),
                 [(w.stage_label(s.stage), s.due, s.on_time_rate, RATE_FMT) for s in worst])
