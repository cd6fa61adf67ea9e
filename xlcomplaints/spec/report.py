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
REPORT_TEMPLATE_VERSION = "1.1.0"  # 1.1: the Typical cases sheet
#: A hidden workbook name holding the report's branch codes (``="BJ01,BJ02"``), read back when the
#: report is given as history, to tell whose figures it holds. Excel allows at most 255 characters of
#: text in a formula: a longer list is not written, and the By-branch sheet (which a report of several
#: branches has) tells instead.
BRANCHES_NAME = "xlcomplaints.branches"
BRANCHES_MAX_CHARS = 255
#: A hidden workbook name holding the id of the consolidation run that wrote the report (``="3f2a…"``),
#: the same id its state file holds: ``--update`` uses the two only when they are of one run.
RUN_NAME = "xlcomplaints.run"


def _report_sheet(kind: str, zh: str, en: str, *columns: Column, **kw: object) -> SheetSpec:
    return SheetSpec(kind=kind, version=REPORT_TEMPLATE_VERSION, zh=zh, en=en, owned=True,
                     columns=tuple(columns), **kw)  # type: ignore[arg-type]


COVER = _report_sheet(
    "cover", "封面", "Cover",
    Column("metric", "指标", "Metric", T.TEXT, computed=True, width=28),
    Column("value", "本月", "This month", T.NUMBER, computed=True, width=14, number_format="General"),
    Column("previous", "上月", "Last month", T.NUMBER, computed=True, width=14, number_format="General"),
    Column("change", "环比", "Change", T.PERCENT, computed=True, width=12),
)

BREAKDOWN = _report_sheet(
    "breakdown", "分类统计", "Breakdown",
    Column("dimension", "维度", "Dimension", T.TEXT, computed=True, width=14),
    Column("value", "分类", "Value", T.TEXT, computed=True, width=18),
    Column("count", "本月件数", "Count", T.INT, computed=True, width=10),
    Column("share", "占比", "Share", T.PERCENT, computed=True, width=10),
    Column("previous", "上月件数", "Last month", T.INT, computed=True, width=10),
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

DEFINITIONS = _report_sheet(
    "definitions", "指标说明", "Definitions",
    Column("metric", "指标", "Metric", T.TEXT, computed=True, width=24),
    Column("definition", "定义", "Definition", T.LONGTEXT, computed=True, width=70),
    Column("month_rule", "归属月份", "Which month", T.TEXT, computed=True, width=30),
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
    Column("month", "月份", "Month", T.TEXT, computed=True, width=10),
    Column("received", "受理", "Received", T.INT, computed=True, width=10),
    Column("closed", "结案", "Closed", T.INT, computed=True, width=10),
    Column("on_time_rate", "处理及时率", "On-time rate", T.PERCENT, computed=True, width=12),
    Column("satisfaction_rate", "满意率", "Satisfaction", T.PERCENT, computed=True, width=12),
)

REPORT_SHEETS: tuple[SheetSpec, ...] = (COVER, BREAKDOWN, STAGES, OVERDUE_DETAIL, TYPICAL, TREND, DEFINITIONS,
                                         ISSUES)
