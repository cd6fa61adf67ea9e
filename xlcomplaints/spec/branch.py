"""Sheet specs of the branch workbook (分店/网点工作簿).

Over 400 lines: every sheet and Settings table of the branch workbook is declared side by side, one spec each.

Version policy: a patch bump changes looks only (widths, formats, help text); a
minor bump adds columns or choices (older workbooks still read); a major bump
changes keys or meaning (older workbooks need migrating).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from xlcomplaints.i18n import pick
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import ColType, Column, Field, Need, SheetSpec

T = ColType
BRANCH_TEMPLATE_KIND = "branch"

#: The longest limit a Settings value or an SLA rule may set: a year counted in the smallest
#: unit, hours (366 × 24). Complaint rules run from hours to weeks (regulators' at most a few
#: months), so a larger number is a typo; one bound serves every unit of the policy table,
#: where in days it still allows ~24 years, well inside the dates the engine and Excel handle
#: (1e15 hours or 1e300 used to crash refresh with OverflowError).
MAX_LIMIT_HOURS = 8784
BRANCH_TEMPLATE_VERSION = "1.1.0"  # 1.1: the Lists sheet, the office's stages on Settings (issue 19)

#: Other headers offices give a complaint number (seeds 000, 002, 003), on every sheet that has one.
#: Not 序号: that is a row count, not a number of the complaint.
NO_SYNONYMS = ("编号", "投诉单号", "投诉单编号", "受理编号", "工单号", "案件编号", "Case No.", "Ticket No.",
               "Complaint ID")


def _stage_cols(stage: str, zh: str, en: str) -> tuple[Column, ...]:
    return (
        Column(f"{stage}_due", f"{zh}时限", f"{en} due", T.DATETIME, computed=True, width=16),
        Column(
            f"{stage}_status", f"{zh}状态", f"{en} status", T.CHOICE, vocab=v.STAGE_STATUS,
            computed=True, width=10,
        ),
    )


REGISTER = SheetSpec(
    kind="register",
    version=BRANCH_TEMPLATE_VERSION,
    zh="投诉登记",
    en="Register",
    freeze_cols=2,
    description_zh="每宗投诉一行。白底列由登记员填写，灰底列由“刷新”自动计算，请勿手工修改。",
    description_en="One row per complaint. White columns are typed by the clerk; grey columns are computed by Refresh.",
    columns=(
        Column("no", "投诉编号", "Complaint No.", T.CODE, width=14, max_len=40, synonyms=NO_SYNONYMS,
               needed_for=(Need.NUMBERING,),
               help_zh="唯一编号；留空可由“编号”自动生成", help_en="Unique number; leave blank to assign automatically"),
        Column("received_at", "受理时间", "Received", T.DATETIME, required=True, width=16,
               synonyms=("投诉时间", "投诉日期", "受理日期", "来电时间", "来访时间", "登记时间", "登记日期",
                         "接报时间", "Received at", "Date received", "Complaint date"),
               needed_for=(Need.DEADLINES, Need.NUMBERING),
               help_zh="如 2026-11-03 14:05", help_en="e.g. 2026-11-03 14:05"),
        Column("case_type", "类型", "Type", T.CHOICE, vocab=v.CASE_TYPE, width=8,
               synonyms=("事项类型", "来电类型", "Case type")),
        Column("channel", "投诉渠道", "Channel", T.CHOICE, required=True, vocab=v.CHANNEL, width=12,
               synonyms=("渠道", "投诉途径", "投诉方式", "投诉来源", "来源", "受理渠道", "Source")),
        Column("customer", "客户姓名", "Customer", T.TEXT, required=True, width=10, max_len=100,
               synonyms=("投诉人", "客户", "客户名称", "顾客姓名", "业主姓名", "投诉人姓名", "Customer name", "Complainant")),
        Column("phone", "联系电话", "Contact phone", T.PHONE, width=14,
               synonyms=("联系方式", "电话", "手机", "手机号", "客户电话", "Phone", "Telephone", "Mobile"),
               help_zh="手机或固话，可含区号、分机", help_en="Mobile or landline, area code and extension allowed"),
        Column("location", "地址/房号", "Location / unit", T.TEXT, width=16, max_len=200,
               synonyms=("地址", "房号", "住址", "Address")),
        Column("product", "产品/服务", "Product / service", T.TEXT, width=14, max_len=200,
               synonyms=("产品名称", "产品", "服务项目", "Product")),
        Column("order_ref", "订单/单据号", "Order / document ref.", T.TEXT, width=14, max_len=100,
               synonyms=("订单号", "单据号", "送货单号", "保单号", "Order No.")),
        Column("category", "投诉类别", "Category", T.CHOICE, required=True, vocab=v.CATEGORY, width=10,
               synonyms=("投诉类型", "问题类别", "投诉分类", "类别")),
        Column("severity", "严重程度", "Severity", T.CHOICE, required=True, vocab=v.SEVERITY, width=8,
               synonyms=("投诉级别", "投诉等级", "等级", "级别", "重要程度", "Level", "Priority"),
               needed_for=(Need.DEADLINES,),
               help_zh="重大：媒体/监管介入、群体投诉、VIP、损失紧急", help_en="Major: media or regulator involved, group complaint, VIP, urgent loss"),
        Column("validity", "有效性", "Validity", T.CHOICE, required=True, vocab=v.VALIDITY, width=8,
               synonyms=("是否有效", "有效投诉", "Valid"), needed_for=(Need.DEADLINES,),
               help_zh="无效投诉不计处理时限", help_en="Invalid complaints have no handling deadlines"),
        Column("complexity", "难易程度", "Complexity", T.CHOICE, vocab=v.COMPLEXITY, width=8,
               synonyms=("难易", "复杂程度", "Difficulty"),
               help_zh="决定回访时限：简单3个工作日，复杂5个工作日", help_en="Sets the callback limit: simple 3, complex 5 working days"),
        Column("escalated", "投诉升级", "Escalated", T.BOOL, vocab=v.YES_NO, width=8, synonyms=("是否升级", "越级投诉"),
               help_zh="客户越级投诉或监管转办", help_en="Customer went over our head, or regulator transfer"),
        Column("content", "投诉内容", "Complaint", T.LONGTEXT, required=True, width=30, max_len=4000,
               synonyms=("投诉事由", "投诉事项", "问题描述", "事件描述", "内容", "Description", "Details")),
        Column("request", "客户诉求", "Customer's request", T.LONGTEXT, width=20, max_len=2000,
               synonyms=("诉求", "客户要求", "投诉要求", "要求", "Request")),
        Column("person_complained", "被投诉人", "Person complained about", T.TEXT, width=10, max_len=100,
               synonyms=("被投诉对象", "被投诉员工", "被投诉人员")),
        Column("department", "责任部门", "Responsible dept.", T.TEXT, width=12, max_len=100,
               synonyms=("责任单位", "处理部门", "被投诉部门", "Department")),
        Column("handler", "处理人", "Handler", T.TEXT, width=10, max_len=100,
               synonyms=("责任人", "经办人", "处理人员", "跟进人", "Owner")),
        Column("acknowledged_at", "受理通知时间", "Acknowledged", T.DATETIME, width=16, synonyms=("受理通知日期",)),
        Column("first_contact_at", "首次联系时间", "First contact", T.DATETIME, width=16,
               synonyms=("首次联系日期", "联系客户时间")),
        Column("reported_at", "上报管理层时间", "Reported to mgmt.", T.DATETIME, width=16,
               synonyms=("上报时间", "上报日期")),
        Column("resolved_at", "处理完成时间", "Resolved", T.DATETIME, width=16,
               synonyms=("处理完成日期", "完成时间", "完成日期")),
        Column("replied_at", "答复时间", "Replied", T.DATETIME, width=16, synonyms=("答复日期", "回复时间", "回复日期")),
        Column("callback_at", "回访时间", "Called back", T.DATETIME, width=16, synonyms=("回访日期",)),
        Column("closed_at", "结案时间", "Closed", T.DATETIME, width=16, synonyms=("结案日期", "关闭时间")),
        Column("result", "处理结果", "Result", T.LONGTEXT, width=24, max_len=4000,
               synonyms=("处理情况", "处理意见", "Resolution")),
        Column("root_cause", "原因分析", "Root cause", T.LONGTEXT, width=20, max_len=2000,
               synonyms=("原因", "问题原因", "Cause")),
        Column("corrective_action", "纠正预防措施", "Corrective action", T.LONGTEXT, width=20, max_len=2000,
               synonyms=("纠正措施", "预防措施", "纠正/预防措施", "改进措施", "CAPA")),
        Column("remarks", "备注", "Remarks", T.LONGTEXT, width=16, max_len=2000, synonyms=("备注说明", "Notes", "Remark")),
        *_stage_cols("acknowledge", "受理通知", "Acknowledge"),
        *_stage_cols("first_contact", "首次联系", "First contact"),
        *_stage_cols("report", "上报", "Report"),
        *_stage_cols("resolve", "处理", "Resolve"),
        *_stage_cols("reply", "答复", "Reply"),
        *_stage_cols("callback", "回访", "Callback"),
        *_stage_cols("close", "结案", "Close"),
        Column("status", "当前状态", "Status", T.CHOICE, vocab=v.OVERALL_STATUS, computed=True, width=10),
        Column("days_overdue", "逾期天数", "Days overdue", T.NUMBER, computed=True, width=8),
        Column("escalation", "升级级别", "Escalation", T.CHOICE, vocab=v.ESCALATION, computed=True, width=8),
        Column("repeat_of", "重复投诉(原编号)", "Repeat of", T.TEXT, computed=True, width=14),
        Column("reopen_count", "重开次数", "Reopened", T.INT, computed=True, width=8),
        Column("next_action", "下一步", "Next action", T.TEXT, computed=True, width=24),
    ),
)

TRACKING = SheetSpec(
    kind="tracking",
    version=BRANCH_TEMPLATE_VERSION,
    zh="处理跟踪",
    en="Tracking",
    freeze_cols=1,
    description_zh="每个处理步骤一行：分派、转派、联系客户、等待、处理完成、答复、结案等。",
    description_en="One row per handling step: assigned, transferred, contacted, waiting, resolved, replied, closed...",
    columns=(
        Column("no", "投诉编号", "Complaint No.", T.CODE, required=True, width=14, max_len=40, synonyms=NO_SYNONYMS,
               needed_for=(Need.DEADLINES,)),
        Column("at", "时间", "Time", T.DATETIME, required=True, width=16,
               synonyms=("日期", "日期时间", "跟进时间", "处理时间", "记录时间", "Date"), needed_for=(Need.DEADLINES,)),
        Column("step", "步骤", "Step", T.CHOICE, required=True, vocab=v.STEP, width=12,
               synonyms=("处理步骤", "跟进步骤", "环节", "Action"), needed_for=(Need.DEADLINES,)),
        Column("from_department", "移出部门", "From dept.", T.TEXT, width=12, max_len=100,
               synonyms=("转出部门", "原部门")),
        Column("to_department", "接收部门", "To dept.", T.TEXT, width=12, max_len=100,
               synonyms=("转入部门", "转派部门", "接收单位")),
        Column("handler", "经办人", "Handler", T.TEXT, width=10, max_len=100,
               synonyms=("处理人", "跟进人", "责任人")),
        Column("note", "说明", "Note", T.LONGTEXT, width=30, max_len=2000,
               synonyms=("备注", "处理说明", "跟进内容", "处理情况")),
        Column("step_due", "本步时限", "Step due", T.DATETIME, computed=True, width=16),
        Column("step_status", "本步状态", "Step status", T.CHOICE, vocab=v.STAGE_STATUS, computed=True, width=10),
    ),
)

CALLBACKS = SheetSpec(
    kind="callbacks",
    version=BRANCH_TEMPLATE_VERSION,
    zh="回访记录",
    en="Callbacks",
    freeze_cols=1,
    description_zh="每次回访一行（含未联系上的尝试）。",
    description_en="One row per callback attempt, unreachable attempts included.",
    columns=(
        Column("no", "投诉编号", "Complaint No.", T.CODE, required=True, width=14, max_len=40, synonyms=NO_SYNONYMS,
               needed_for=(Need.DEADLINES,)),
        Column("at", "回访时间", "Time", T.DATETIME, required=True, width=16,
               synonyms=("回访日期", "日期", "时间", "Date"), needed_for=(Need.DEADLINES,)),
        Column("method", "回访方式", "Method", T.CHOICE, required=True, vocab=v.CALLBACK_METHOD, width=10,
               synonyms=("方式", "回访途径")),
        Column("caller", "回访人", "Called by", T.TEXT, required=True, width=10, max_len=100,
               synonyms=("回访人员", "回访员", "回访专员", "Caller")),
        Column("outcome", "回访结果", "Outcome", T.CHOICE, required=True, vocab=v.CALLBACK_OUTCOME, width=10,
               synonyms=("是否满意", "满意度", "回访情况", "Result"), needed_for=(Need.DEADLINES,)),
        Column("score", "评分(1-10)", "Score (1-10)", T.INT, width=8, min_value=1, max_value=10,
               synonyms=("评分", "分数", "满意度评分", "打分", "Score")),
        Column("comments", "客户意见", "Comments", T.LONGTEXT, width=30, max_len=2000,
               synonyms=("回访意见", "意见", "客户反馈", "Feedback")),
        Column("attempt", "第几次", "Attempt", T.INT, computed=True, width=8),
    ),
)

CALENDAR = SheetSpec(
    kind="calendar",
    version=BRANCH_TEMPLATE_VERSION,
    zh="日历",
    en="Calendar",
    description_zh="本单位额外的休息日或上班日；国家法定节假日与调休已内置，无需填写。同一天既记休息又记上班时，"
                   "校验报错，改正前按休息日计算。",
    description_en="The office's own closures and extra working days; national holidays and make-up days are built in. "
                   "A date marked both closed and working is an error in validate; until fixed it counts as closed.",
    columns=(
        Column("date", "日期", "Date", T.DATE, required=True, width=14),
        Column("kind", "类型", "Kind", T.CHOICE, required=True, vocab=v.CALENDAR_KIND, width=10),
        Column("note", "说明", "Note", T.TEXT, width=30, max_len=200),
    ),
)

POLICY = SheetSpec(
    kind="policy",
    version=BRANCH_TEMPLATE_VERSION,
    zh="时限规则",
    en="SLA policy",
    description_zh="每行一条时限：环节 × 严重程度（留空表示全部），可按类别、渠道、难易细分；越具体的行优先。"
                   "同样具体的两行同时适用于某类投诉时，校验在后一行报出（时限不同为错误，改正前按后一行计算）。",
    description_en="One limit per row: stage × severity (blank = all), optionally by category, channel, complexity; "
                   "the most specific row wins. Two equally specific rows that both apply to some complaints are "
                   "reported by validate at the later row (an error when their limits differ; until fixed the "
                   "later row is used).",
    columns=(
        Column("stage", "环节", "Stage", T.CHOICE, required=True, vocab=v.STAGE, width=12),
        Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, width=10),
        Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, width=10),
        Column("channel", "投诉渠道", "Channel", T.CHOICE, vocab=v.CHANNEL, width=10),
        Column("complexity", "难易程度", "Complexity", T.CHOICE, vocab=v.COMPLEXITY, width=10),
        Column("amount", "时限", "Limit", T.NUMBER, required=True, width=8, min_value=0,
               max_value=MAX_LIMIT_HOURS, number_format="0.##"),
        Column("unit", "单位", "Unit", T.CHOICE, required=True, vocab=v.UNIT, width=10),
        Column("source", "依据", "Source", T.TEXT, width=48, max_len=500),
    ),
)

#: The office's own stages (issue 19): a table below the SLA policy on the Settings sheet, under a title
#: cell holding ``CUSTOM_STAGES.title`` (or its zh or en label) in column A.
#: Rows left for the office's own stages below the custom-stage table's header (more can be inserted);
#: the template writes them, ``upgrade`` copies them with the table.
CUSTOM_STAGE_ROWS = 10

CUSTOM_STAGES = SheetSpec(
    kind="custom_stages",
    version=BRANCH_TEMPLATE_VERSION,
    zh="自定义环节",
    en="Custom stages",
    description_zh="本单位自己计时的环节（内置七个环节之外）：从何时起算、何时算完成、适用哪些投诉、时限和单位。"
                   "同名的多行是同一环节按严重程度等细分的时限，越具体的行优先；“重复”为是时，结案前每次完成后重新计时。"
                   "结果列在“逾期清单”“汇总”和月报，不写入登记表。",
    description_en="Stages the office times itself, besides the seven built-in ones: what starts the clock, what "
                   "marks it done, which complaints it applies to, the limit and unit. Rows with one name are one "
                   "stage's limits by severity etc., the most specific row wins; 'Repeats' yes restarts the clock at "
                   "each completion until the case is closed. Results go to the Overdue and Summary sheets and the "
                   "monthly report, not to the Register.",
    columns=(
        Column("name", "环节名称", "Stage name", T.TEXT, required=True, width=16, max_len=40,
               help_zh="如 现场处理上报；不能与内置环节同名", help_en="e.g. On-the-spot fix reported; not a built-in stage's name"),
        Column("name_en", "英文名称", "English name", T.TEXT, width=16, max_len=60),
        Column("start", "起算", "Counts from", T.TEXT, required=True, width=12, max_len=40,
               help_zh="受理，或某环节（内置或自定义）完成", help_en="Received, or another stage (built-in or custom) done"),
        Column("done_step", "完成步骤(处理跟踪)", "Done by step (Tracking)", T.CHOICE, vocab=v.STEP, width=12,
               help_zh="处理跟踪表中此步骤的第一条记录为完成；与“完成列”二选一",
               help_en="The first Tracking row of this step marks it done; this or 'Done by column', not both"),
        Column("done_column", "完成列(登记表)", "Done by column (Register)", T.TEXT, width=18, max_len=60,
               help_zh="登记表中本单位自加的时间列的表头，如 现场处理上报时间",
               help_en="The header of a time column the office added to the Register"),
        Column("amount", "时限", "Limit", T.NUMBER, required=True, width=8, min_value=0,
               max_value=MAX_LIMIT_HOURS, number_format="0.##"),
        Column("unit", "单位", "Unit", T.CHOICE, required=True, vocab=v.UNIT, width=10),
        Column("source", "依据", "Source", T.TEXT, width=48, max_len=500),
        Column("recurring", "重复", "Repeats", T.BOOL, vocab=v.YES_NO, width=6,
               help_zh="是：结案前每次完成后按同一时限重新计时（如每周通报进展）",
               help_en="Yes: until the case is closed, each completion starts the same limit again (e.g. weekly updates)"),
        Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, width=10),
        Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, width=10),
        Column("channel", "投诉渠道", "Channel", T.CHOICE, vocab=v.CHANNEL, width=10),
        Column("complexity", "难易程度", "Complexity", T.CHOICE, vocab=v.COMPLEXITY, width=10),
    ),
)

# Settings: key/value rows, then the policy table below them on the same sheet.
SETTINGS_FIELDS: tuple[Field, ...] = (
    Field("branch_code", "网点代码", "Branch code", T.TEXT, "BR01"),
    Field("branch_name", "网点名称", "Branch name", T.TEXT, "示例网点"),
    Field("language", "语言", "Language", T.CHOICE, "zh", vocab=v.LANGUAGE),
    Field("number_pattern", "编号规则", "Complaint-number pattern", T.TEXT, "{branch}-{yy}{mm}{seq:03}",
          "可用：{branch} 网点代码，{yyyy} 四位年份，{yy} 两位年份，{mm} 月，{dd} 日，{seq:03} 三位流水号；"
          "流水号在编号其余部分相同（默认即同网点同月）时从 001 起依次计数（种子002 客户投诉管理制度第八条：编号格式 YYMMCC）",
          "You may use {branch} branch code, {yyyy} 4-digit year, {yy} 2-digit year, {mm} month, {dd} day, "
          "{seq:03} 3-digit serial number; the serial counts from 001 among numbers otherwise alike (by default, "
          "the branch's month) (seed 002, complaint rules art. 8: numbers YYMMCC)"),
    Field("country", "节假日国家/地区", "Holiday country", T.TEXT, "CN",
          "CN = 国务院节假日安排（含调休上班日）；尚未公布的年份按法定节假日和周末计算并提示",
          "CN = State Council schedule incl. weekend make-up days; a year not yet published counts the statutory "
          "holidays and weekends, with a warning"),
    Field("office_start", "上班时间", "Office opens", T.TIME, "09:00"),
    Field("office_end", "下班时间", "Office closes", T.TIME, "18:00"),
    Field("due_soon_percent", "即将到期提醒(剩余时限%)", "Due-soon warning (% of limit left)", T.NUMBER, 25,
          "未完成、未逾期的环节，剩余时间严格少于其时限的此比例时标为“即将到期”（恰好等于不算）；两者按规则自身单位计："
          "工作日、工作小时按工作时间（休息日和暂停不计），小时、自然日按自然时间",
          "A stage not done and not overdue is 'due soon' when the time left is strictly less than this share of its "
          "limit (exactly at it is not), both in the rule's own unit: working time for working days and hours "
          "(closed days and pauses not counted), wall-clock for hours and calendar days",
          min_value=0, max_value=100),
    Field("repeat_window_days", "重复投诉判定期(天)", "Repeat-complaint window (days)", T.INT, 30,
          "同一客户（按电话判定，没有电话时按姓名）同一类别在此天数内再次投诉记为重复投诉",
          "Same customer (matched on the phone, on the name only without one), same category within this many days "
          "is a repeat",
          min_value=1, max_value=366),
    Field("callback_retry_hours", "回访重试间隔(小时)", "Callback retry after (hours)", T.TEXT, "24,48",
          "未联系上时依次在此间隔后重试", "Retry an unreachable customer after these intervals, in turn",
          min_value=0, max_value=MAX_LIMIT_HOURS),
    Field("callback_max_attempts", "回访最多尝试次数", "Callback attempts before giving up", T.INT, 3,
          "未联系上达到此次数即放弃回访：回访状态为“放弃回访”，不算逾期，不列入逾期清单",
          "After this many unreachable attempts the callback is given up: its status is 'Given up', not overdue, "
          "not on the Overdue sheet", min_value=1, max_value=10),
    Field("handoff_hours", "部门接单处理时限(小时)", "Department acts on a hand-off within (hours)", T.NUMBER, 24,
          "种子000 汽车经销商客户抱怨投诉处理流程：责任部门24小时内处理（按钟点计）",
          "Seed 000, a car dealer's complaint flow: the department acts within 24 hours (clock hours)", min_value=0,
          max_value=MAX_LIMIT_HOURS),
    Field("handoff_unreachable_hours", "联系不上客户时(小时)", "…when the customer cannot be reached (hours)",
          T.NUMBER, 48, "种子000 同上：24小时联系不上客户的，48小时内联系", "Seed 000, same flow: 48 hours when the customer cannot be reached", min_value=0,
          max_value=MAX_LIMIT_HOURS),
    Field("timestamps_rule", "环节时间以哪张表为准", "Which stage time wins", T.CHOICE, "register",
          "登记表优先：登记表手填的时间为准，空白时取处理跟踪表；两者不一致时校验会提示",
          "Register first: a time typed in the Register wins, blank ones come from Tracking; disagreements are reported",
          vocab=v.TIMESTAMPS_RULE),
    Field("rank_min_complaints", "考核排名最少件数", "Fewest complaints to be ranked", T.INT, 5,
          "月报“按处理人”表的及时率最高、最低排名只包括本月需处理件数不少于此数的处理人",
          "The By-handler sheet of the monthly report ranks by on-time rate only the handlers with at least this many "
          "complaints to handle received in the month", min_value=1, max_value=10000),
    Field("report_dimensions", "报表维度(登记表自加列)", "Report dimensions (your Register columns)", T.TEXT, "",
          "月报按这些列分类统计，如“投诉类别”；填登记表中本单位自加列的表头，多个用逗号分隔，如 楼栋,车牌号",
          "The monthly report breaks down by these columns like by category: headers of columns the office added to "
          "the Register, separated by commas, e.g. Building,Plate No."),
)

#: A titled block of setting rows below the tables (column A; ``upgrade`` puts there the new settings that
#: find no free row above the rule table): its rows are read like those above the rule table, down to its
#: first blank row; a table above it ends at its title. Title and note in either language.
MORE_SETTINGS_TITLE = ("更多设置", "More settings")
MORE_SETTINGS_NOTE = (
    "升级模板时新增、而时限规则上方没有空行可放的设置项；与上方设置项一样读取（到第一个空行为止），可照常修改。",
    "Settings added by a template upgrade that found no free row above the SLA rules; read like the settings "
    "above (down to the first blank row), edit them as usual.")

SETTINGS = SheetSpec(
    kind="settings",
    version=BRANCH_TEMPLATE_VERSION,
    zh="设置",
    en="Settings",
    description_zh="主管可修改本页的值；修改后点“刷新逾期”生效。",
    description_en="Supervisors may change the values here; click Refresh to apply.",
    columns=(
        Column("setting", "设置项", "Setting", T.TEXT, width=30),
        Column("value", "值", "Value", T.TEXT, width=26),
        Column("note", "说明/依据", "Note / source", T.TEXT, width=60),
    ),
)

OVERDUE = SheetSpec(
    kind="overdue",
    version=BRANCH_TEMPLATE_VERSION,
    zh="逾期清单",
    en="Overdue",
    owned=True,
    freeze_cols=1,
    description_zh="由“刷新逾期”生成，请勿手工修改。已逾期在前，最紧急的在最上面；受理时间无法识别或为空的投诉"
                   "不计算时限，列在最后“需改正的行”之下。",
    description_en="Generated by Refresh; do not edit. Overdue first, most urgent on top; complaints without a "
                   "readable received time get no deadline and are listed last, under 'Rows needing correction'.",
    columns=(
        Column("no", "投诉编号", "Complaint No.", T.CODE, computed=True, width=14),
        Column("stage", "环节", "Stage", T.CHOICE, vocab=v.STAGE, computed=True, width=12),
        Column("status", "状态", "Status", T.CHOICE, vocab=v.STAGE_STATUS, computed=True, width=10),
        Column("due", "时限", "Due", T.DATETIME, computed=True, width=16),
        Column("late_by", "逾期/剩余", "Late by / left", T.NUMBER, computed=True, width=10, number_format="0.0"),
        Column("late_unit", "单位", "Unit", T.CHOICE, vocab=v.UNIT, computed=True, width=10),
        Column("severity", "严重程度", "Severity", T.CHOICE, vocab=v.SEVERITY, computed=True, width=8),
        Column("escalation", "升级级别", "Escalation", T.CHOICE, vocab=v.ESCALATION, computed=True, width=8),
        Column("customer", "客户姓名", "Customer", T.TEXT, computed=True, width=10),
        Column("category", "投诉类别", "Category", T.CHOICE, vocab=v.CATEGORY, computed=True, width=10),
        Column("department", "责任部门", "Dept.", T.TEXT, computed=True, width=12),
        Column("handler", "处理人", "Handler", T.TEXT, computed=True, width=10),
        Column("received_at", "受理时间", "Received", T.DATETIME, computed=True, width=16),
        Column("next_action", "下一步", "Next action", T.TEXT, computed=True, width=30),
    ),
)

SUMMARY = SheetSpec(
    kind="summary",
    version=BRANCH_TEMPLATE_VERSION,
    zh="汇总",
    en="Summary",
    owned=True,
    description_zh="由“刷新逾期”生成，请勿手工修改。",
    description_en="Generated by Refresh; do not edit.",
    columns=(
        Column("metric", "指标", "Metric", T.TEXT, computed=True, width=30),
        Column("value", "数值", "Value", T.NUMBER, computed=True, width=14, number_format="General"),
        Column("note", "说明", "Note", T.TEXT, computed=True, width=50),
    ),
)

class Count(StrEnum):
    """What a Summary line shows (``SummaryKey.what``): a count the refresh keeps (``core.refresh``), per code of
    a vocabulary for those in ``PER_CODE``, or a value the refresh works out itself (``WORKED_OUT``)."""

    REFRESHED_AT = "refreshed_at"
    BRANCH = "branch"
    COMPLAINTS = "complaints"
    OPEN = "open"
    COMPLAINTS_OVERDUE = "complaints.overdue"
    COMPLAINTS_DUE_SOON = "complaints.due_soon"
    #: Stages (built-in and the office's own) per status.
    STAGE = "stage"
    #: The office's own stages per status.
    CUSTOM = "custom"
    #: Hand-offs on the Tracking sheet per status.
    HANDOFF = "handoff"
    #: Hand-offs overdue or done late.
    HANDOFF_LATE = "handoff.late"
    #: Complaints per overall status.
    STATUS = "status"
    #: Open complaints per severity.
    OPEN_SEVERITY = "open.severity"
    #: Open complaints per escalation level.
    OPEN_ESCALATION = "open.escalation"
    REPEATS = "repeats"
    NEEDS_CORRECTION = "needs_correction"


#: The counts kept per code, and the vocabulary whose codes they are kept by (the engine's enums of
#: ``core.status`` have the same codes).
PER_CODE: dict[Count, v.Vocabulary] = {
    Count.STAGE: v.STAGE_STATUS, Count.CUSTOM: v.STAGE_STATUS, Count.HANDOFF: v.STAGE_STATUS,
    Count.STATUS: v.OVERALL_STATUS, Count.OPEN_SEVERITY: v.SEVERITY, Count.OPEN_ESCALATION: v.ESCALATION,
}
#: The lines the refresh works out itself rather than counts.
WORKED_OUT = frozenset({Count.REFRESHED_AT, Count.BRANCH, Count.COMPLAINTS, Count.HANDOFF_LATE})


class SummaryKey(NamedTuple):
    """What one Summary line shows, and the key of its count (``RefreshPlan.counts``): what is counted
    and, for a count per code (``PER_CODE``), the code (a ``core.status`` enum in the engine, which
    equals its plain code). A typed key, not a spelled-out string: a Summary line keyed on something
    the refresh does not count fails where it is declared (``SummaryLine``), not as a silent zero."""

    what: Count
    code: str | None = None

    def __str__(self) -> str:
        return self.what if self.code is None else f"{self.what}.{self.code}"


@dataclass(frozen=True)
class SummaryLine:
    """One row of the Summary: what it shows (``key``), its label and its note."""

    key: SummaryKey
    zh: str
    en: str
    note_zh: str | None = None
    note_en: str | None = None

    def __post_init__(self) -> None:
        vocab, code = PER_CODE.get(self.key.what), self.key.code
        if (vocab is None) != (code is None) or (vocab is not None and code not in vocab.codes):
            raise ValueError(f"Summary line {self.en!r}: {self.key!r} is not a count the refresh keeps")

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    def note(self, lang: str) -> str | None:
        return pick(lang, self.note_zh, self.note_en)


def _lines(what: Count, codes: tuple[str, ...], zh: str, en: str) -> tuple[SummaryLine, ...]:
    """A count per code of ``what``'s vocabulary, labelled with a prefix and the code's label."""
    vocab = PER_CODE[what]
    return tuple(SummaryLine(SummaryKey(what, c), zh + vocab.label(c, "zh"), en + vocab.label(c, "en"))
                 for c in codes)


#: The Summary sheet's rows, top to bottom.
SUMMARY_LINES: tuple[SummaryLine, ...] = (
    SummaryLine(SummaryKey(Count.REFRESHED_AT), "刷新时间", "Refreshed at",
                "以此时间计算到期与逾期", "Due and overdue are computed as of this time"),
    SummaryLine(SummaryKey(Count.BRANCH), "网点", "Branch"),
    SummaryLine(SummaryKey(Count.COMPLAINTS), "投诉总数", "Complaints"),
    SummaryLine(SummaryKey(Count.OPEN), "未结案", "Open"),
    SummaryLine(SummaryKey(Count.COMPLAINTS_OVERDUE), "有逾期环节的投诉", "Complaints with an overdue stage",
                "详见“逾期清单”", "See the Overdue sheet"),
    SummaryLine(SummaryKey(Count.COMPLAINTS_DUE_SOON), "即将到期的投诉", "Complaints due soon"),
    SummaryLine(SummaryKey(Count.STAGE, "overdue"), "逾期环节数", "Overdue stages"),
    SummaryLine(SummaryKey(Count.CUSTOM, "overdue"), "其中自定义环节逾期", "…of which custom stages",
                "本单位在“设置”中自定义的环节", "Stages the office defined on the Settings sheet"),
    SummaryLine(SummaryKey(Count.HANDOFF_LATE), "部门接单超时", "Late hand-offs",
                "见“处理跟踪”表的本步状态", "See Step status on the Tracking sheet"),
    *_lines(Count.STATUS, v.OVERALL_STATUS.codes, "状态：", "Status: "),
    *_lines(Count.OPEN_SEVERITY, v.SEVERITY_MOST_FIRST, "未结案-", "Open, "),
    # most senior first; "none" is no escalation
    *_lines(Count.OPEN_ESCALATION, v.ESCALATION.codes[:0:-1], "需升级至", "Escalate to "),
    SummaryLine(SummaryKey(Count.REPEATS), "重复投诉", "Repeat complaints"),
    SummaryLine(SummaryKey(Count.NEEDS_CORRECTION), "需改正的投诉", "Complaints needing correction",
                "受理时间无法识别或为空，未计算时限；见“逾期清单”中“需改正的行”",
                "No readable received time, so no deadline was computed; see 'Rows needing correction' on the "
                "Overdue sheet"),
)


@dataclass(frozen=True)
class OfficeList:
    """A dropdown list the office owns (词表): its title, the built-in entries a new workbook starts
    with (None: none, the column is free text until the office fills the list), the columns whose
    dropdowns and checks it drives (sheet kind, column key), and the defined name the dropdowns use."""

    key: str
    zh: str
    en: str
    builtin: v.Vocabulary | None
    drives: tuple[tuple[str, str], ...]
    name: str

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)


#: The office's own lists, in the Lists sheet's order. The lists the engine's rules branch on
#: (severity, validity, complexity, steps, stage statuses, callback outcomes) are not among them.
OFFICE_LISTS: tuple[OfficeList, ...] = (
    OfficeList("category", "投诉类别", "Category", v.CATEGORY,
               (("register", "category"), ("policy", "category")), "Lists_Category"),
    OfficeList("case_type", "类型", "Type", v.CASE_TYPE, (("register", "case_type"),), "Lists_Type"),
    OfficeList("channel", "投诉渠道", "Channel", v.CHANNEL,
               (("register", "channel"), ("policy", "channel")), "Lists_Channel"),
    OfficeList("department", "责任部门", "Responsible dept.", None, (("register", "department"),),
               "Lists_Department"),
    OfficeList("handler", "处理人", "Handler", None, (("register", "handler"),), "Lists_Handler"),
    OfficeList("step_department", "跟踪部门", "Tracking dept.", None,
               (("tracking", "from_department"), ("tracking", "to_department")), "Lists_StepDepartment"),
)
#: Rows under the Lists header the dropdowns look at (a list may be longer; validate reads all).
LIST_ROWS = 1000
#: What separates a Lists entry's aliases in one cell.
ALIAS_SEPARATORS = "、,，;；\n"


def _list_columns(lst: OfficeList) -> tuple[Column, ...]:
    return (
        Column(lst.key, lst.zh, f"{lst.en} (Chinese)", T.TEXT, width=14, max_len=100,
               help_zh="下拉列表显示的名称；每行一项", help_en="The name the dropdown shows; one entry a row"),
        Column(f"{lst.key}_en", f"{lst.zh}·英文", lst.en, T.TEXT, width=16, max_len=100,
               help_zh="英文名称（可空）", help_en="English name (optional)"),
        Column(f"{lst.key}_aliases", f"{lst.zh}·别名", f"{lst.en}: aliases", T.TEXT, width=24, max_len=500,
               help_zh="登记员可能写的其他说法，用顿号分隔；校验时归为本项",
               help_en="Other ways clerks write it, separated by commas; validate reads them as this entry"),
        Column(f"{lst.key}_code", f"{lst.zh}·代码", f"{lst.en}: code", T.TEXT, width=10, max_len=40,
               help_zh="统计用代码（可空，默认为中文名称）；总部汇总按代码合并",
               help_en="Code for reports (optional; the Chinese name if blank); head office merges by it"),
    )


LISTS = SheetSpec(
    kind="lists",
    version=BRANCH_TEMPLATE_VERSION,
    zh="词表",
    en="Lists",
    description_zh="本单位的下拉列表：每个列表四列（名称、英文、别名、代码），每行一项，中间不要留空行。"
                   "在这里增删的项立即出现在“投诉登记”“处理跟踪”的下拉列表中；校验只接受列表中的项（或其别名）。"
                   "责任部门、处理人、跟踪部门的列表为空时，这些列可自由填写。",
    description_en="The office's dropdown lists: four columns a list (name, English, aliases, code), one entry a row, "
                   "no blank rows in between. An entry added here shows at once in the Register's and Tracking's "
                   "dropdowns; validate accepts only entries (or their aliases). While the department, handler or "
                   "tracking-department list is empty, those columns are free text.",
    columns=tuple(c for lst in OFFICE_LISTS for c in _list_columns(lst)),
)
#: The Summary's table per handler (refresh writes it beside the lines above, from column ``HANDLERS_AT``):
#: the By-handler sheet's columns (``spec.report.PEOPLE_COLUMNS``), the workload first. Rates are written
#: as percentages (so their labels say %), times and scores to 2 decimals: a cell's format is the office's.
SUMMARY_HANDLERS_AT = 5  # column E, after a blank column D
_WORKLOAD = ("open", "overdue_now")
SUMMARY_PERCENT = frozenset(c.key for c in R.PEOPLE_COLUMNS if c.type is T.PERCENT)
SUMMARY_HANDLER_COLUMNS: tuple[Column, ...] = (
    Column("handler", "处理人", "Handler", T.TEXT, computed=True, width=12),
    *(c for key in _WORKLOAD for c in R.PEOPLE_COLUMNS if c.key == key),
    *(c if c.type is not T.PERCENT else Column(c.key, f"{c.zh}(%)", f"{c.en} (%)", T.NUMBER, computed=True,
                                                 width=c.width)
      for c in R.PEOPLE_COLUMNS if c.key not in _WORKLOAD),
)
SUMMARY_HANDLERS_TITLE = ("按处理人：{month}（截至刷新时间）", "By handler: {month} (to the refresh)")
#: The native chart refresh draws under that table (a supervisor's workload at a glance): a bar per handler
#: for each of these columns, in these colours (the template's data bars on them have the same), found
#: again by its name in the sheet's drawing. No handler in the month: no chart.
SUMMARY_CHART_SERIES = (("open", "5B9BD5"), ("overdue_now", "E46C0A"))
SUMMARY_CHART_KEY = "xlcomplaints.summary_handlers"
SUMMARY_CHART_TITLE = ("各处理人工作量：未结案件与当前逾期", "Workload by handler: open and overdue now")


#: Sheets of a branch workbook, in template order.
BRANCH_SHEETS: tuple[SheetSpec, ...] = (REGISTER, TRACKING, CALLBACKS, OVERDUE, SUMMARY, SETTINGS, CALENDAR, LISTS)
