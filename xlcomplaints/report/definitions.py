"""The Definitions sheet's rows: every metric's own definition, then how the tables are built.

Metric rows come from ``core.metrics.METRICS`` (the words registered with the code that
computes them); the notes below explain the report's other columns and how inputs are
merged, in the same plain words.
"""

from __future__ import annotations

from xlcomplaints.core import metrics as M

#: Definitions-sheet rows that are not metrics: how the report's tables and inputs are treated.
NOTES: tuple[tuple[str, str, str, str], ...] = (
    ("统计时点", "As-of time",
     "所有数字与状态共用的时点：默认为所选月份结束时（若该月尚未结束则为运行时刻）。工作簿按统计时点时的样子看待："
     "时间晚于统计时点的步骤、回访和结案当作尚未发生；时间不晚于统计时点的，无论何时录入都计入。"
     "例：统计时点为10月20日12:00，10月22日才处理完成的投诉在本报表中仍是未完成。",
     "One time for every figure and status: by default the end of the chosen month (or the time of the run if the "
     "month is not over). The workbook is seen as it stood at the as-of time: a step, callback or close recorded "
     "for a later time has not happened yet; one recorded for a time up to the as-of time counts, whenever it was "
     "typed. Example: as of 20 Oct 12:00, a complaint resolved on 22 Oct is still unresolved in this report."),
    ("上月与环比", "Last month and change",
     "上月数值按同一定义、用同一批数据计算；输入中没有上月受理的投诉时，封面的上月数值取自以前的上月报表（如提供）。"
     "环比：件数和用时为（本月−上月）÷上月；比率为本月−上月，单位为百分点；评分为本月−上月。",
     "Last month is computed from the same data with the same definitions; when the inputs hold no complaint "
     "received last month, the cover's last-month figures come from last month's report, if given. Change: counts "
     "and times (this − last) ÷ last; rates this − last in percentage points; scores this − last."),
    ("分类统计", "Breakdown sheets",
     "每个分类一行：本月件数与上月件数同“受理件数”；占比＝本行件数÷合计；处理及时率与逾期件数同封面定义，只计该分类的投诉。",
     "One row per value: counts as 'Complaints received' this and last month; share = the row ÷ the total; "
     "on-time rate and late complaints as on the cover, for that value's complaints only."),
    ("环节时效", "Stage times",
     "每个环节：本月到期的时限数、按时完成数、及时率（同处理及时率），以及本月完成该环节的用时中位数与90%分位（同封面用时定义）。",
     "Per stage: deadlines due in the month, met, on-time rate (as above), and the median and 90th percentile "
     "of the time taken by those that completed the stage in the month (as the cover's times)."),
    ("超时明细", "Overdue detail", M.OVERDUE_DEFINITION[0], M.OVERDUE_DEFINITION[1]),
    ("典型案例", "Typical cases",
     M.TYPICAL_DEFINITION[0] + "汇总报表中，文字里7位以上的数字（多为电话号码）像电话号码一样打码，除非使用 --show-contacts。",
     M.TYPICAL_DEFINITION[1] + " In consolidated reports, runs of 7 or more digits in the texts (phone numbers, mostly) "
     "are masked like phone numbers unless --show-contacts is given."),
    ("月度趋势", "Trend",
     "最近12个月（自数据中第一宗投诉的月份起）的受理件数、结案件数、处理及时率和满意率，定义同上；输入中没有数据的月份取自以前的月报表（如提供）。",
     "The last 12 months (from the first month with a complaint) of received, closed, on-time rate and "
     "satisfaction, defined as above; months the inputs have no data for come from earlier reports, if given."),
    ("多个文件的合并", "Merging files",
     "同一网点代码出现在两个文件中时，采用最后保存的文件；同一投诉编号出现在两个网点的文件中时只计一次，采用处理环节完成较多的记录。"
     "两种情况都列在“问题清单”中。",
     "When two files carry the same branch code, the one saved last is used; a complaint number found in two "
     "branches' files counts once, from the record with more stages done. Both are listed on the Issues sheet."),
    ("联系电话", "Contact numbers",
     "汇总报表默认只显示电话号码的前3位和后4位（如 138****5678）；使用 --show-contacts 显示完整号码。",
     "Consolidated reports show only the first 3 and last 4 digits of phone numbers (138****5678) unless "
     "--show-contacts is given."),
)


def definition_rows(lang: str) -> list[list[str]]:
    zh = lang == "zh"
    rows = [[m.name(lang), m.definition(lang), m.month_rule(lang)] for m in M.METRICS.values()]
    rows += [[n_zh if zh else n_en, d_zh if zh else d_en, ""] for n_zh, n_en, d_zh, d_en in NOTES]
    return rows
