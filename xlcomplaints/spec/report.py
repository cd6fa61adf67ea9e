"""Sheet specs of the monthly report workbook (月报表).

The report is generated whole; every sheet is owned. Breakdown sheets share one
layout (a dimension value per row, this month against the previous one).
"""

from __future__ import annotations

from dataclasses import replace

from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import ColType, Column, SheetSpec
from xlcomplaints.spec.problems import PROBLEMS

T = ColType
REPORT_TEMPLATE_KIND = "monthly_report"
REPORT_TEMPLATE_VERSION = "1.2.0"  # 1.1: the Typical cases sheet; 1.2: the By-handler and Closed-late sheets, period words
#: A hidden workbook name holding the report's branch codes (``="BJ01,BJ02"``), read back when the
#: report is given as history, to tell whose figures it holds. Excel allows at most 255 characters of
#: text in a formula: a longer list is not written, and the By-branch sheet (which a report of several
#: branches has) tells instead.
BRANCHES_NAME = "xlcomplaints.branches"
BRANCHES_MAX_CHARS = 255
#: A hidden workbook name holding the id of the consolidation run that wrote the report (``="3f2a…"``),
#: the same id its facts store's manifest holds: ``--update`` uses the two only when they are of one run.
RUN_NAME = "xlcomplaints.run"


def _report_sheet(kind: str, zh: str, en: str, *columns: Column, **kw: object) -> SheetSpec:
    return SheetSpec(kind=kind, version=REPORT_TEMPLATE_VERSION, zh=zh, en=en, owned=True,
                     columns=tuple(columns), **kw)  # type: ignore[arg-type]


#: The words a report of another period writes in place of 本月/上月 (``core.metrics.PERIOD_WORDS``): read back too.
_THIS = ("本周", "本季度", "本年", "本期", "This week", "This quarter", "This year", "This period")
_LAST = ("上周", "上季度", "上年", "上期", "Last week", "Last quarter", "Last year", "Previous period")

COVER = _report_sheet(
    "cover", "封面", "Cover",
    Column("metric", "指标", "Metric", T.TEXT, computed=True, width=28),
    Column("value", "本月", "This month", T.NUMBER, computed=True, width=14, number_format="General", synonyms=_THIS),
    Column("previous", "上月", "Last month", T.NUMBER, computed=True, width=14, number_format="General",
           synonyms=_LAST),
    Column("change", "环比", "Change", T.PERCENT, computed=True, width=12),
)

BREAKDOWN = _report_sheet(
    "breakdown", "分类统计", "Breakdown",
    Column("dimension", "维度", "Dimension", T.TEXT, computed=True, width=14),
    Column("value", "分类", "Value", T.TEXT, computed=True, width=18),
    Column("count", "本月件数", "Count", T.INT, computed=True, width=10,
           synonyms=tuple(f"{w}件数" for w in _THIS[:4])),
    Column("share", "占比", "Share", T.PERCENT, computed=True, width=10),
    Column("previous", "上月件数", "Last month", T.INT, computed=True, width=10,
           synonyms=(*(f"{w}件数" for w in _LAST[:4]), *_LAST[4:])),
    Column("change", "环比", "Change", T.PERCENT, computed=True, width=10),
    Column("on_time_rate", "处理及时率", "On-time rate", T.PERCENT, computed=True, width=12),
    Column("overdue", "逾期件数", "Overdue", T.INT, computed=True, width=10),
)

#: A breakdown by a column the office added to the Register (Settings' report dimensions): one more
#: BREAKDOWN sheet each, after the built-in ones, named "按{header}" / "By {header}", the dimension column
#: holding the header as typed; keyed in the report's breakdowns by ``office_dimension(header)``.
OFFICE_DIMENSION_PREFIX = "office:"


def office_dimension(header: str) -> str:
    """The key of the breakdown by the office's column ``header``."""
    return OFFICE_DIMENSION_PREFIX + header


STAGES = _report_sheet(
    "stages", "环节时效", "Stage times",
    Column("stage", "环节", "Stage", T.CHOICE, vocab=v.STAGE, computed=True, width=14),
    Column("due_count", "应完成件数", "Due", T.INT, computed=True, width=10),
    Column("on_time", "按时完成", "On time", T.INT, computed=True, width=10),
    Column("on_time_rate", "及时率", "On-time rate", T.PERCENT, computed=True, width=10),
    Column("median", "中位用时", "Median time", T.NUMBER, computed=True, width=10),
    Column("p90", "90%用时", "90th percentile", T.NUMBER, computed=True, width=10),
    Column("unit", "单位", "Unit", T.CHOICE, vocab=v.UNIT, computed=True, width=10),
)

OVERDUE_DETAIL = _report_sheet(
    "overdue_detail", "超时明细", "Overdue detail",
    Column("branch", "网点", "Branch", T.TEXT, computed=True, width=12),
    Column("no", "投诉编号", "Complaint No.", T.TEXT, computed=True, width=14),
    Column("received_at", "受理时间", "Received", T.DATETIME, computed=True, width=16),
    Column("customer", "客户", "Customer", T.TEXT, computed=True, width=10),
    Column("phone", "联系电话", "Contact", T.TEXT, computed=True, width=14),
    Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, computed=True, width=10),
    Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, computed=True, width=8),
    Column("stage", "超时环节", "Late stage", T.CHOICE, vocab=v.STAGE, computed=True, width=12),
    Column("due", "时限", "Due", T.DATETIME, computed=True, width=16),
    Column("late_by", "超时", "Late by", T.NUMBER, computed=True, width=8),
    Column("unit", "单位", "Unit", T.CHOICE, vocab=v.UNIT, computed=True, width=10),
    Column("department", "责任部门", "Dept.", T.TEXT, computed=True, width=12),
    Column("handler", "处理人", "Handler", T.TEXT, computed=True, width=10),
    Column("status", "处理状态", "Status", T.CHOICE, vocab=v.OVERALL_STATUS, computed=True, width=10),
)

CLOSED_LATE = _report_sheet(
    "closed_late", "超时结案", "Closed late",
    Column("branch", "网点", "Branch", T.TEXT, computed=True, width=10),
    Column("no", "投诉编号", "Complaint No.", T.TEXT, computed=True, width=14),
    Column("received_at", "受理时间", "Received", T.DATETIME, computed=True, width=16),
    Column("closed_at", "结案时间", "Closed", T.DATETIME, computed=True, width=16),
    Column("due", "结案时限", "Close due", T.DATETIME, computed=True, width=16),
    Column("took", "用时", "Time taken", T.NUMBER, computed=True, width=8),
    Column("late_by", "超时", "Late by", T.NUMBER, computed=True, width=8),
    Column("unit", "单位", "Unit", T.CHOICE, vocab=v.UNIT, computed=True, width=10),
    Column("customer", "客户", "Customer", T.TEXT, computed=True, width=10),
    Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, computed=True, width=10),
    Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, computed=True, width=8),
    Column("department", "责任部门", "Dept.", T.TEXT, computed=True, width=12),
    Column("handler", "处理人", "Handler", T.TEXT, computed=True, width=10),
)

TYPICAL = _report_sheet(
    "typical", "典型案例", "Typical cases",
    Column("branch", "网点", "Branch", T.TEXT, computed=True, width=8),
    Column("no", "投诉编号", "Complaint No.", T.TEXT, computed=True, width=14),
    Column("received_at", "受理时间", "Received", T.DATETIME, computed=True, width=15),
    Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, computed=True, width=11),
    Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, computed=True, width=7),
    Column("reasons", "典型原因", "Why typical", T.TEXT, computed=True, width=14),
    Column("department", "责任部门", "Dept.", T.TEXT, computed=True, width=9),
    Column("status", "处理状态", "Status", T.CHOICE, vocab=v.OVERALL_STATUS, computed=True, width=8),
    Column("content", "投诉内容", "Complaint", T.LONGTEXT, computed=True, width=26),
    Column("result", "处理结果", "Result", T.LONGTEXT, computed=True, width=22),
    Column("root_cause", "原因分析", "Root cause", T.LONGTEXT, computed=True, width=22),
    Column("corrective_action", "纠正预防措施", "Corrective action", T.LONGTEXT, computed=True, width=22),
)

#: The figures per person (``core.metrics.people``, one column each, keys alike), after the handler's name on
#: the By-handler sheet, and after the breakdown's columns on the By-department sheet.
PEOPLE_COLUMNS: tuple[Column, ...] = (
    Column("handled", "需处理件数", "To handle", T.INT, computed=True, width=7),
    Column("closed", "结案件数", "Closed", T.INT, computed=True, width=7),
    Column("open", "未结案件数", "Open", T.INT, computed=True, width=7),
    Column("on_time_rate", "处理及时率", "On-time rate", T.PERCENT, computed=True, width=8),
    *(Column(f"on_time_{s}", f"{v.STAGE.label(s, 'zh')}及时率", f"{v.STAGE.label(s, 'en')}: on time", T.PERCENT,
             computed=True, width=8) for s in v.STAGE.codes),
    Column("overdue_now", "当前逾期件数", "Overdue now", T.INT, computed=True, width=7),
    Column("resolve_median", "处理用时中位数", "Time to resolve, median", T.NUMBER, computed=True, width=8),
    Column("satisfaction_rate", "满意率", "Satisfaction", T.PERCENT, computed=True, width=8),
    Column("average_score", "平均评分", "Average score", T.NUMBER, computed=True, width=7),
    Column("reopened", "重开件数", "Reopened", T.INT, computed=True, width=7),
    Column("repeats", "重复投诉件数", "Repeat complaints", T.INT, computed=True, width=8),
)

BY_HANDLER = _report_sheet(
    "by_handler", "按处理人", "By handler",
    Column("handler", "处理人", "Handler", T.TEXT, computed=True, width=12),
    *PEOPLE_COLUMNS,
)

#: The department breakdown: a breakdown sheet (its stamp and first columns), then ``PEOPLE_COLUMNS`` by department
#: but the on-time rate, which the breakdown has already (the same figure: every deadline goes to the department).
DEPARTMENT_PEOPLE_COLUMNS: tuple[Column, ...] = tuple(c for c in PEOPLE_COLUMNS if c.key != "on_time_rate")
BY_DEPARTMENT_COLUMNS: tuple[Column, ...] = (*BREAKDOWN.columns, *DEPARTMENT_PEOPLE_COLUMNS)

DEFINITIONS = _report_sheet(
    "definitions", "指标说明", "Definitions",
    Column("metric", "指标", "Metric", T.TEXT, computed=True, width=24),
    Column("definition", "定义", "Definition", T.LONGTEXT, computed=True, width=70),
    Column("month_rule", "归属期间", "Which period", T.TEXT, computed=True, width=30,
           synonyms=("归属月份", "Which month")),
)

#: The Problems sheet's columns, after the file each problem is in; narrower, plain text.
ISSUES = _report_sheet(
    "issues", "问题清单", "Issues",
    Column("file", "文件", "File", T.TEXT, computed=True, width=30),
    *(replace(c, width=width, number_format=None)
      for c, width in zip(PROBLEMS.columns, (8, 12, 8, 14, 16, 60), strict=True)),
)

TREND = _report_sheet(
    "trend", "月度趋势", "Trend",
    Column("month", "月份", "Month", T.TEXT, computed=True, width=10, synonyms=("期间", "Period")),
    Column("received", "受理", "Received", T.INT, computed=True, width=10),
    Column("closed", "结案", "Closed", T.INT, computed=True, width=10),
    Column("on_time_rate", "处理及时率", "On-time rate", T.PERCENT, computed=True, width=12),
    Column("satisfaction_rate", "满意率", "Satisfaction", T.PERCENT, computed=True, width=12),
)

REPORT_SHEETS: tuple[SheetSpec, ...] = (COVER, BREAKDOWN, BY_HANDLER, STAGES, OVERDUE_DETAIL, CLOSED_LATE, TYPICAL, TREND,
                                         DEFINITIONS, ISSUES)
