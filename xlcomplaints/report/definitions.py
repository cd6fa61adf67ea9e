"""The Definitions sheet's rows: every metric's own definition, then how the tables are built.

Metric rows come from ``core.metrics.METRICS`` (the words registered with the code that
computes them); the notes below explain the report's other columns and how inputs are
merged, in the same plain words.
"""

from __future__ import annotations

from xlcomplaints.core import metrics as M
from xlcomplaints.core.deadlines import PAUSABLE, RESTARTED
from xlcomplaints.core.lifecycle import RESUME_STEPS
from xlcomplaints.core.policy import STAGES
from xlcomplaints.i18n import Lang, pick
from xlcomplaints.report.labels import t
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v


def _stages(which: frozenset[str], lang: str) -> str:
    """The named stages in ``STAGES`` order, as a reader sees them: 处理、答复、结案 / resolve, reply and close."""
    names = [v.STAGE.label(s, lang) for s in STAGES if s in which]
    if lang == Lang.ZH:
        return "、".join(f"“{n}”" for n in names)
    names = [f"'{n}'" for n in names]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _steps(which: frozenset[str], lang: str) -> str:
    names = [c.label(lang) for c in v.STEP if c.code in which]
    return pick(lang, "、", ", ").join(pick(lang, "“{}”", "'{}'").format(n) for n in names)


_RESTARTED = {lang: _stages(RESTARTED, lang) for lang in ("zh", "en")}
_KEPT = {lang: _stages(frozenset(STAGES) - RESTARTED, lang) for lang in ("zh", "en")}
_PAUSED = {lang: _stages(PAUSABLE, lang) for lang in ("zh", "en")}
_UNPAUSED = {lang: _stages(frozenset(STAGES) - PAUSABLE, lang) for lang in ("zh", "en")}
_RESUME = {lang: _steps(RESUME_STEPS, lang) for lang in ("zh", "en")}

#: The rules the deadline engine applies, in the words a supervisor reads: on the Definitions sheet and in
#: docs/sheets.md (``templates/docs.py``). Each (name zh, name en, rule zh, rule en).
ENGINE_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("重新处理", "Reopening",
     "回访结果“不满意”或处理跟踪中的“重新处理”步骤表示投诉重新处理。同一处理周期内（一次处理完成之后、下一次处理完成之前）"
     "的不满意回访和“重新处理”步骤合起来只算一次重新处理：两张表记录同一件事时按此对应，不重复计算；“处理完成”指处理跟踪中的"
     "“处理完成”步骤或登记表的“处理完成时间”。重开次数＝这样的处理周期数。重新处理从该次第一条记录的时间起重新计算"
     f"{_RESTARTED['zh']}的时限，这些环节按新一轮判断（第一轮的时限不再计入及时率）；第一轮的其他环节"
     f"（{_KEPT['zh']}）及各表中的记录保留不变。第二次重新处理（重开次数≥2）才升级至总经理。"
     "例：10月16日15:00回访不满意、16:00又记“重新处理”，算1次，时限从15:00起算；10月20日处理完成后10月21日再次不满意，算第2次。",
     "An unsatisfied callback or a 'Reopened' step on the Tracking sheet reopens a case. Within one handling cycle "
     "(after a resolution and before the next), the unsatisfied callbacks and 'Reopened' steps together are one "
     "reopening: that is how records of the same event on the two sheets are matched, never counted twice; a "
     "resolution is a 'Resolved' step on the Tracking sheet or the Register's 'Resolved' time. The reopen count is "
     f"the number of such cycles. A reopening restarts the {_RESTARTED['en']} clocks from the time of its first "
     "record, and those stages are judged in the new cycle (their first-cycle deadlines no longer count in on-time "
     f"figures); the first cycle's other stages ({_KEPT['en']}) and every record on the sheets are kept as they were. "
     "Only a second reopening (reopen count 2 or more) escalates to the general manager. Example: an unsatisfied callback on 16 Oct 15:00 and a 'Reopened' step at 16:00 are one "
     "reopening, its clocks counting from 15:00; resolved again on 20 Oct and unsatisfied again on 21 Oct is the second."),
    ("暂停（等待客户、冷处理）", "Pauses (waiting for the customer, cold handling)",
     f"处理跟踪中的“等待客户”或“冷处理”步骤暂停{_PAUSED['zh']}的时限，直到其后第一个以下步骤：{_RESUME['zh']}；"
     f"未结束的暂停持续到统计时点。{_UNPAUSED['zh']}不暂停。暂停把时限推后：按小时计的推后暂停的时长，"
     "按工作小时计的推后暂停中的上班时间，按工作日（自然日）计的推后从暂停开始日到结束日（不含结束日）之间的工作日（天）数。"
     "例：周五17:00暂停、下周一恢复，推后1个工作日；同一天内开始并结束的暂停不推后按天计的时限。",
     f"A 'Waiting for customer' or 'Cold handling' step on the Tracking sheet pauses the {_PAUSED['en']} clocks "
     f"until the next of these steps: {_RESUME['en']}; a pause not yet ended lasts until the as-of time. The "
     f"{_UNPAUSED['en']} clocks do not pause. A pause moves a due time later: by its length for hour limits, by the "
     "office hours inside it for working-hour limits, and for working-day (calendar-day) limits by the working "
     "days (days) from the date it starts up to, not including, the date it ends. Example: paused Friday 17:00 and "
     "resumed Monday adds one working day; a pause that starts and ends on the same day adds none to a day limit."),
    ("时限从何时起算", "Where each clock starts",
     f"各环节时限从受理时间起算（重新处理后，{_RESTARTED['zh']}从重新处理起算）；回访时限从处理完成时间起算，"
     "没有处理完成时间时从答复时间起算，不从受理起算；两者都没有时回访尚无时限。环节用时也一样：回访用时从处理完成（或答复）"
     "到回访，其余环节从受理到完成。",
     f"Each stage's clock starts at receipt (after a reopening, the {_RESTARTED['en']} clocks start at the "
     "reopening); the callback's starts at the resolution, or at the reply when no resolution time is known — not "
     "at receipt; with neither, the callback has no due time yet. Times taken likewise: the callback from the "
     "resolution (or reply) to the callback, every other stage from receipt to completion."),
    ("工作日", "Working days",
     "工作日按国家法定节假日和调休（含周末补班日）以及本网点“日历”表计算。以天为单位的时限：0 天指受理当天结束时（23:59:59）；"
     "N 个工作日指受理日之后第 N 个工作日结束时；带小数的天数向上取整（如 2.5 个工作日按 3 个计，与 Excel 的 WORKDAY "
     "截去小数不同）。作为用时或超时量时，每个工作日按全天 24 小时计、休息日不计（不是按上班时间计）："
     "例如周五12:00到下周一12:00为 1.0 个工作日。",
     "Working days follow the national holidays and make-up working days (weekend days worked in exchange for a holiday) and "
     "the branch's Calendar sheet. A limit in days: 0 days means the end of the day of receipt (23:59:59); N working "
     "days the end of the Nth working day after the day of receipt; a fractional number of days is rounded up "
     "(2.5 working days count as 3 — unlike Excel's WORKDAY, which truncates). As a time taken or a lateness, a "
     "working day counts its whole 24 hours and closed days count nothing (office hours are not meant): Friday "
     "12:00 to Monday 12:00 is 1.0 working day."),
    ("难易程度", "Complexity",
     "难易程度未填的投诉按“简单”匹配时限规则。",
     "A complaint with its complexity left blank counts as simple when the SLA rules are matched."),
    ("重复投诉的判定", "Repeat complaints",
     "同一客户按联系电话（后11位数字）判定，没有电话时才按客户姓名判定；联系电话无法识别（“问题清单”中列出的错误，如位数不对）"
     "时按没有电话处理。同一投诉类别、在“设置”的判定期内再次投诉即为重复投诉。无效投诉不参与判定。",
     "The same customer is matched on the phone number (its last 11 digits), and on the name only when there is "
     "no phone; a phone number that cannot be read (an error on the Issues sheet, such as a wrong number of "
     "digits) counts as no phone. A complaint of the same category within the Settings window is a repeat. "
     "Invalid complaints are not matched."),
    ("结案时未完成的环节", "Stages not done at the close",
     "投诉结案时尚未完成的环节：结案时时限已过的仍为逾期（“逾期未完成”，超时量算到结案时间，计入及时率的未按时）；"
     "结案时时限未到的为“不适用”，不计。结案时没有处理完成和答复时间的，回访为“不适用”。",
     "When a case is closed, a stage not done by then whose due time had already passed stays missed ('Missed (closed without it)', "
     "late by the time to the close, counted late in on-time figures); one whose due time had not passed becomes "
     "'Not applicable' and is left out. The callback of a case closed with no resolution or reply time is 'Not "
     "applicable'."),
    ("回访未联系上后再次回访", "Retrying an unreachable callback",
     "回访未联系上后，回访环节的时限改为再次回访的时间：第 1 次未联系上后按“设置”的回访重试间隔第 1 个数（如 24 小时，按自然"
     "小时计），第 2 次后按第 2 个数（如 48 小时），以后用最后一个数；到时仍未回访即为逾期。联系上客户（满意或不满意）后不再适用。"
     "例：10-30 22:44 未联系上，回访时限改为 10-31 22:44。",
     "After an unreachable callback attempt, the callback stage is due at the retry time instead: the Settings' "
     "first retry interval after the first unreachable attempt (24 hours, say, in clock hours), the second after the "
     "second (48 hours), the last one after that; a callback not tried again by then is overdue. Once the customer "
     "is reached (satisfied or not) this no longer applies. Example: unreachable 10-30 22:44, callback due "
     "10-31 22:44."),
    ("放弃回访", "Given-up callbacks",
     "回访未联系上的次数达到“设置”中的最多次数（如 3 次）时放弃回访：回访环节状态为“放弃回访”，“下一步”注明原因（如“3 次未接通”）；"
     "不算逾期，不列入逾期清单，不计入及时率；回访率中算已尝试、未联系上（不算有回访）。重新处理后重新计数。",
     "When the callback has been unreachable the Settings' maximum number of times (3, say), it is given up: the "
     "callback stage is 'Given up' and the next action gives the reason (e.g. '3 attempts unreachable'). It is not "
     "overdue, not on the Overdue sheet, and left out of on-time figures; in the callback rate it counts as "
     "attempted, not reached (not called back). A reopening starts the count again."),
    ("即将到期", "Due soon",
     "未完成、未逾期的环节，剩余时间严格少于其时限的“设置”比例（如 25%）时为“即将到期”，恰好等于不算；两者按规则自身单位计："
     "工作日、工作小时按工作时间（休息日和暂停不计），小时、自然日按自然时间。例：3 个工作日的时限，剩余少于 0.75 个工作日时。",
     "A stage not done and not yet overdue is due soon when the time left until its due time is strictly less than "
     "the Settings share (25 %, say) of its limit — exactly at it is not — both in the rule's own unit: working time "
     "for working days and hours (closed days and pauses not counted), wall-clock for hours and calendar days. "
     "Example: a 3-working-day limit is due soon with less than 0.75 working days left."),
    ("当前状态与下一步", "Status and next action",
     "“当前状态”与“下一步”是同一个状态，不会矛盾：下一步是回访（或再次回访）时为“待回访”，是结案时为“待结案”，暂停中为“暂停”，"
     "其余未结案的，重新处理后尚未再次处理完成时为“重新处理”，否则为“处理中”；下一步是按环节顺序第一个未完成、未放弃的环节。",
     "The status and the next action are one state and never disagree: 'Awaiting callback' when the next action is "
     "a callback (or another try), 'Awaiting close' when it is to close the case, 'Paused' while paused; any other "
     "open case is 'Reopened' after a reopening until resolved again, else 'Open'; the next action is the first stage, in stage order, "
     "neither done nor given up."),
    ("（未填）", "(blank)",
     "分类统计中“（未填）”一行既包括未填写的，也包括填写了但无法识别的值（这些值在“问题清单”中列出）。",
     "The '(blank)' row of a breakdown holds both values left blank and values that were not recognised (those "
     "are listed on the Issues sheet)."),
    ("受理时间无法识别的行", "Rows without a readable received time",
     "受理时间为空或无法识别的行不计入任何期间的受理统计，封面注明有多少行。",
     "Rows whose received time is blank or cannot be read are left out of every period's receipts; the cover says how "
     "many."),
)

#: Definitions-sheet rows that are not metrics: how the report's tables and inputs are treated.
NOTES: tuple[tuple[str, str, str, str], ...] = (
    ("统计期间", "The period",
     "“本期”是报表所选的期间：一个自然月（--period 2026-10，或 --month 2026-10）、一个 ISO 周（2026-W43：周一 0:00 至下周一"
     " 0:00，第1周是含当年第一个星期四的那周）、一个季度（2026-Q4）、一年（2026），或 --from … --to … 的若干天（首尾两天都含）；"
     "时间按当地时间，期间含开始时刻、不含结束时刻。各指标的“归属期间”说明哪个时间决定一宗投诉计入哪一期。"
     "“上期”是紧挨在前的同类期间：上月、上周、上季度、上年；自定义期间的上期是紧挨在它之前、天数相同的期间"
     "（如 10月19日–10月25日 的上期为 10月12日–10月18日）。按周统计时，国家节假日和调休补班日照常属于其所在的周，"
     "时限仍按工作日计算。",
     "'This period' is the one the report was asked for: a calendar month (--period 2026-10, or --month 2026-10), an "
     "ISO week (2026-W43: Monday 00:00 to the next Monday 00:00; week 1 holds the year's first Thursday), a quarter "
     "(2026-Q4), a year (2026), or the days --from … --to … (both included); in local time, the start included and "
     "the end not. Each figure's 'Which period' says which time decides the period a complaint counts in. The "
     "previous period is the one just before of the same kind: last month, last week, last quarter, last year; a "
     "custom period's is the same number of days just before it (19–25 Oct: 12–18 Oct). In weeks, national "
     "holidays and make-up working days belong to the week they fall in; limits still count working days."),
    ("统计时点", "As-of time",
     "所有数字与状态共用的时点：默认为所选期间结束时（若该期间尚未结束则为运行时刻）。工作簿按统计时点时的样子看待："
     "受理时间晚于统计时点的投诉当作尚未受理，不计入；时间晚于统计时点的步骤、回访和结案当作尚未发生；"
     "时间不晚于统计时点的，无论何时录入都计入。"
     "例：统计时点为10月20日12:00，10月22日才处理完成的投诉在本报表中仍是未完成。",
     "One time for every figure and status: by default the end of the chosen period (or the time of the run if the "
     "period is not over). The workbook is seen as it stood at the as-of time: a complaint received after it has not "
     "been received yet and is left out; a step, callback or close recorded for a later time has not happened yet; "
     "one recorded for a time up to the as-of time counts, whenever it was typed. Example: as of 20 Oct 12:00, a "
     "complaint resolved on 22 Oct is still unresolved in this report."),
    ("上期与环比", "Previous period and change",
     "上期数值按同一定义、用同一批数据计算；输入中没有上期受理的投诉时，封面的上期数值取自以前的上期报表（如提供）。"
     "环比：件数和用时为（本期−上期）÷上期；比率为本期−上期，单位为百分点；评分为本期−上期。"
     "上期数据不完整：各网点（单网点报表即该网点）输入中最早受理的投诉的受理时间，取其中最晚的一个，若晚于上期开始时刻，"
     "说明登记从上期中途（或更晚）才开始，上期只有部分数据；此时环比一栏写“上期不完整”，不计算环比，封面注明数据始于哪天。",
     "The previous period is computed from the same data with the same definitions; when the inputs hold no "
     "complaint received in it, the cover's previous-period figures come from that period's report, if given. Change: counts and times (this − previous) ÷ previous; rates this − previous in "
     "percentage points; scores this − previous. The previous period is partial when the latest of the branches' "
     "first received times (each branch's earliest complaint in the inputs; one branch's own in a branch report) is "
     "after the previous period's start: the register began during it (or later) and holds only part of it. Then "
     "the change column says 'prev. partial' instead of a change, and the cover says from which day the data runs."),
    ("封面侧栏", "Cover side panels",
     "封面右侧的小表：“投诉类别：件数前五”“责任部门：件数前五”按本期件数、“投诉类别：逾期前五”“责任部门：逾期前五”按逾期件数"
     "从多到少列出前五个（为0的不列）；“及时率最低的环节”按处理及时率从低到高列出本期有到期时限的前五个环节。"
     "各数值与对应的分类统计表、“环节时效”表相同。数值相同的按该表中的先后顺序排列（投诉类别按选项顺序，责任部门按其分类统计表，"
     "环节按环节顺序）；与第五个数值相同而在表中排在其后的不列出。",
     "The small tables at the right of the cover: 'most complaints' (categories, departments) lists the five with "
     "the most complaints received in the period, 'most late' the five with the most complaints with a missed "
     "deadline (zeros left out), and 'stages least on time' the five stages with deadlines due in the period with "
     "the lowest on-time rate. Their figures are those of the breakdown sheets and the Stage-times sheet. Equal "
     "values keep the order of that sheet (categories in the order of their choices, departments as on their "
     "breakdown sheet, stages in stage order); one equal to the fifth but below it on that sheet is not listed."),
    ("分类统计", "Breakdown sheets",
     "每个分类一行：本期件数与上期件数同“受理件数”；占比＝本行件数÷合计；处理及时率与逾期件数同封面定义，只计该分类的投诉。"
     "类型、投诉类别、投诉渠道、责任部门按本单位“词表”的顺序列出（总部用 --policy 规定列表时按总部的列表；汇总多个网点时"
     "先按网点代码第一个网点的列表，再补其他网点的项），列表外的值按件数排在其后；不在总部列表中的值按其本名单列，并在“问题清单”中列出。“按网点”表列出读入的每个网点，本期没有投诉的网点也列一行，各数为0（零报）；“按责任部门”表还列出本期只有结案、回访或当前逾期的部门（件数为0）。",
     "One row per value: counts as 'Complaints received' this and the previous period; share = the row ÷ the total; "
     "on-time rate and late complaints as on the cover, for that value's complaints only. Types, categories, "
     "channels and departments are listed in the order of the office's Lists sheet (head office's lists when "
     "--policy gives them; over several branches, the first branch's by code, then the others' further entries), "
     "values not on the lists after them by count; a value not on head office's list is counted under its own "
     "name and listed on the Issues sheet. The By-branch sheet lists every branch read, one with no complaint in "
     "the period as a row of zeros (a nil return); the By-department sheet also lists departments with only "
     "closes, callbacks or overdue stages in the period (counts 0)."),
    ("按本单位自加列分类", "Breakdowns by the office's own columns",
     "“设置”的“报表维度”中列出的、网点在登记表中自加的列（如楼栋、车牌号），各有一张分类统计表，排在内置分类之后，"
     "定义同上；分类为该列中填写的文字（去掉首尾空格），未填的计入“（未填）”。汇总多个网点时，同名的列合为一表。",
     "Each column the office added to the Register and named in the Settings' report dimensions (building, plate "
     "number…) gets a breakdown sheet after the built-in ones, defined as above; the values are the text typed in "
     "that column (spaces at either end dropped), blanks counted under '(blank)'. Consolidated, columns of one name "
     "are one sheet."),
    ("环节时效", "Stage times",
     "每个环节：本期到期的时限数、按时完成数、及时率（同处理及时率），以及本期完成该环节的用时中位数与90%分位："
     "用时从受理起算，回访从处理完成（没有时从答复）起算，按该环节时限规则的单位计。",
     "Per stage: deadlines due in the period, met, on-time rate (as above), and the median and 90th percentile "
     "of the time taken by those that completed the stage in the period: from receipt, the callback from the "
     "resolution (or the reply when no resolution time is known), in the unit of the stage's rule."),
    ("自定义环节", "Custom stages",
     "网点在“设置”的“自定义环节”表中自己计时的环节（如现场处理1小时内上报），排在“环节时效”表的内置环节之后、按名称各一行，"
     "也列入“超时明细”和封面“及时率最低的环节”。计时：从受理（或所填环节完成）起算，以处理跟踪中所选步骤在起算之后的第一条记录"
     "或登记表中所填列的时间为完成；按同一日历和办公时间计，等待客户、冷处理的暂停推后其时限（同调查处理），即将到期与统计时点同内置环节；结案时未完成且已到期的为“逾期未完成”。"
     "“重复”的环节（如重大投诉每周通报）在结案前每次完成后按同一时限重新计时：未结案的按当前一期判断；结案的，有一期在结案前到期"
     "未完成为逾期未完成，否则有一次晚于时限为逾期完成（超时取最大一次），否则为按时完成；其时限按最后一期的到期时间归月。"
     "本月到期数、按时完成数与及时率的定义同内置环节；不计用时（可从其他环节起算）。自定义环节不计入封面的处理及时率、逾期投诉件数、"
     "分类统计的及时率和逾期件数，也不作为典型案例的“超时”理由。无效投诉和受理时间无法识别的投诉没有自定义环节。",
     "Stages a branch times itself on the Settings sheet's Custom stages table (an on-the-spot fix reported within "
     "1 hour, say): one row each, by name, after the built-in stages on the Stage-times sheet; also on the Overdue "
     "detail and in the cover's 'stages least on time'. Timing: from receipt (or the named stage's completion) to "
     "the first Tracking row of the chosen step after the start, or the time in the named Register column; on the "
     "same calendar and office hours, pushed later by pauses (waiting for the customer, cold handling) as the "
     "resolve is; due soon and the as-of time as for the built-in stages; not done by a close after its due time: "
     "missed. A repeating stage (a weekly update on major complaints) starts the same limit again at each "
     "completion until the close: an open case is judged by the current period; a closed one is missed if a period "
     "ran out before the close, else done late if any update came after its due time (late by the largest), else "
     "done on time; its deadline falls in the month of the last period's due time. Due, on time and on-time rate "
     "as for the built-in stages; no times taken (a custom stage may count from another stage). Custom stages are "
     "not in the cover's on-time rate or late complaints, the breakdowns' on-time and overdue columns, or the "
     "typical cases' 'late' reason. Invalid complaints and those without a readable received time have none."),
    ("超时明细", "Overdue detail", M.OVERDUE_DEFINITION[0], M.OVERDUE_DEFINITION[1]),
    ("超时结案", "Closed late", M.CLOSED_LATE_DEFINITION[0], M.CLOSED_LATE_DEFINITION[1]),
    ("典型案例", "Typical cases",
     M.TYPICAL_DEFINITION[0] + "汇总报表中，文字里7位以上的数字（多为电话号码）像电话号码一样打码，除非使用 --show-contacts。",
     M.TYPICAL_DEFINITION[1] + " In consolidated reports, runs of 7 or more digits in the texts (phone numbers, mostly) "
     "are masked like phone numbers unless --show-contacts is given."),
    ("月度趋势", "Trend",
     "到本期为止最近12期同类期间（月报为12个月，周报为12周，季报为12个季度，年报为最多12年；自定义期间为之前每段同样天数的期间）、"
     "自数据中第一宗投诉所在的一期起的受理件数、结案件数、处理及时率和满意率，定义同上；输入中没有数据的期间取自以前同类期间的报表（如提供）。",
     "The last 12 periods of the report's kind up to this one (12 months for a month, 12 weeks, 12 quarters, up to 12 "
     "years; for a custom period, the runs of as many days before it), from the one holding the first complaint in "
     "the data: received, closed, on-time rate and satisfaction, defined as above; periods the inputs have no data "
     "for come from earlier reports of the same kind of period, if given."),
    ("多个文件的合并", "Merging files",
     "同一网点代码出现在两个文件中时，采用最后保存的文件；同一投诉编号出现在两个网点的文件中时只计一次，采用处理环节完成较多的记录。"
     "两种情况都列在“问题清单”中。",
     "When two files carry the same branch code, the one saved last is used; a complaint number found in two "
     "branches' files counts once, from the record with more stages done. Both are listed on the Issues sheet."),
    ("区域汇总", "Regions",
     "汇总的输入中点名给出的汇总月报（如区域的 north/月报-2026-10.xlsx，或其汇总数据目录）代表该区域汇总的各网点：其数据取自与报表同一次"
     "汇总写成的汇总数据目录（north/月报-2026-10.facts），不重新读取网点工作簿；该目录须与本次同一期间、未被改动。同一网点出现两次（两个区域都有，"
     "或区域中有、又直接给出了其工作簿）时只计一次，规则与同一网点的两个文件相同：采用工作簿最后保存的一份（只有一份含本期受理的投诉时采用"
     "该份），另一份列在“问题清单”中。区域各网点的问题也列在“问题清单”中，文件名前加区域报表名（“区域报表 › 网点文件”）；"
     "区域未能读取或采用的文件同样列出，并计入封面“未能计入”的文件数。文件夹中的月报表仍跳过，不作为区域计入。",
     "A consolidated report given by name among a consolidation's inputs (a region's north/report-2026-10.xlsx, or "
     "its facts store) stands for the branches that region consolidated: their data comes from the facts store the "
     "same run wrote beside the report (north/report-2026-10.facts), the branch workbooks are not read again; the "
     "store must be of the same period and unchanged. A branch found twice (in two regions, or in a region and as a workbook "
     "given directly) counts once, by the rule for two files of one branch: the copy whose workbook was saved last "
     "is used (the one holding complaints received in the period, if only one does), the other is listed on the "
     "Issues sheet. The regions' branches' problems are on the Issues sheet too, the file named after its region's "
     "report ('region report › branch file'); so are the files a region could not read or use, counted among the "
     "files left out on the cover. Reports found in a folder are still passed over, not counted as "
     "regions."),
    ("联系电话", "Contact numbers",
     "汇总报表默认只显示电话号码的前3位和后4位（如 138****5678）；使用 --show-contacts 显示完整号码。",
     "Consolidated reports show only the first 3 and last 4 digits of phone numbers (138****5678) unless "
     "--show-contacts is given."),
)


def people_rows(lang: str) -> list[list[str]]:
    """The By-handler sheet's rule of who a figure counts for, its columns (named 按处理人：… / By handler: …,
    as the sheet's header names them) and its ranking; and the department breakdown's columns."""
    zh = lang == "zh"
    sheet = R.BY_HANDLER.title(lang)
    prefix = f"{sheet}：" if zh else f"{sheet}: "
    names = {c.key: c.label(lang) for c in R.PEOPLE_COLUMNS}
    rows = [[prefix + t(lang, "处理人", "handler of record"), t(lang, *M.HANDLER_OF_RECORD), ""]]
    rows += [[prefix + names[f.key], f.what_zh if zh else f.what_en, f.month_zh if zh else f.month_en]
             for f in M.PEOPLE_FIGURES.values()]
    rows += [[prefix + t(lang, "考核排名", "ranking"), t(lang, *M.RANKING_DEFINITION), ""],
             [t(lang, "按责任部门", "By department"), t(lang, *M.DEPARTMENT_COLUMNS), ""]]
    return rows


def definition_rows(lang: str) -> list[list[str]]:
    rows = [[m.name(lang), m.definition(lang), m.period_rule(lang)] for m in M.METRICS.values()]
    rows += people_rows(lang)
    rows += [[pick(lang, n_zh, n_en), pick(lang, d_zh, d_en), ""] for n_zh, n_en, d_zh, d_en in NOTES + ENGINE_RULES]
    return rows
