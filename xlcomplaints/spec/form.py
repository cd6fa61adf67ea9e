"""The complaint handling form (投诉处理单): its layout, declared once, and every word of it.

One A4 portrait page per complaint, in eight grid columns. The facts are the Register's own
columns, named by their spec labels; the step and callback tables are the Tracking and
Callbacks columns; what only the form says (its title, section heads, the signature boxes)
is in ``TEXTS``, in zh and en. ``form/workbook.py`` lays the page out from these tuples alone.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The page's grid: eight columns, their widths (characters) adding up to what fits A4 portrait.
WIDTHS: tuple[float, ...] = (13.0, 10.5, 10.5, 10.5, 10.5, 11.0, 11.0, 13.0)

#: The Register's facts, two to a row: (left key, right key); each label one column, its value three.
FACTS: tuple[tuple[str, str], ...] = (
    ("received_at", "channel"),
    ("customer", "phone"),
    ("location", "product"),
    ("order_ref", "case_type"),
    ("category", "severity"),
    ("validity", "complexity"),
    ("escalated", "person_complained"),
    ("department", "handler"),
)
#: Where the case stands, as refresh writes it on the Register's grey columns, two to a row.
STANDING: tuple[tuple[str, str], ...] = (
    ("status", "escalation"),
    ("days_overdue", "reopen_count"),
    ("repeat_of", "next_action"),
)
#: The Register's long texts, one to a row across the page: what the customer said and asked.
COMPLAINT_TEXTS: tuple[str, ...] = ("content", "request")
#: What was done and why, one to a row: the Register's result, root cause, corrective action, remarks.
OUTCOME_TEXTS: tuple[str, ...] = ("result", "root_cause", "corrective_action", "remarks")
#: Register columns whose phone numbers ``--mask`` hides (the phone column: all of it).
PHONE_KEYS = frozenset({"phone"})


@dataclass(frozen=True)
class FormColumn:
    """A column of one of the form's tables: a key (a sheet column's, or one of ``TEXTS``) and the
    grid columns it spans."""

    key: str
    span: int = 1


#: The deadlines table: one row per stage, as refresh computes it.
STAGE_COLUMNS: tuple[FormColumn, ...] = (
    FormColumn("stage", 2), FormColumn("due", 2), FormColumn("done_at", 2), FormColumn("status"),
    FormColumn("late_by"))
#: The handling steps: the Tracking sheet's columns (key = its column key), and the hand-off's status.
STEP_COLUMNS: tuple[FormColumn, ...] = (
    FormColumn("at"), FormColumn("step"), FormColumn("from_department"), FormColumn("to_department"),
    FormColumn("handler"), FormColumn("note", 2), FormColumn("step_status"))
#: The callbacks: the Callbacks sheet's columns.
CALLBACK_COLUMNS: tuple[FormColumn, ...] = (
    FormColumn("at"), FormColumn("attempt"), FormColumn("method"), FormColumn("caller"), FormColumn("outcome"),
    FormColumn("score"), FormColumn("comments", 2))
#: Who signs, top to bottom: a key of ``TEXTS``.
SIGNERS: tuple[str, ...] = ("sign.handler", "sign.department", "sign.supervisor")

#: Every word the form prints that is not a sheet column's label: key → (zh, en).
TEXTS: dict[str, tuple[str, str]] = {
    "title": ("投诉处理单", "Complaint handling form"),
    "printed": ("打印时间", "Printed"),
    "section.facts": ("一、投诉信息", "1. The complaint"),
    "section.deadlines": ("二、处理时限（截至打印时间，与“刷新逾期”的计算相同）",
                          "2. Deadlines (as of the time printed, computed as Refresh computes them)"),
    "section.steps": ("三、处理过程（处理跟踪）", "3. Handling steps (Tracking)"),
    "section.callbacks": ("四、回访记录", "4. Callbacks"),
    "section.outcome": ("五、处理结果与原因分析", "5. Result, root cause and corrective action"),
    "section.sign": ("六、签字确认", "6. Sign-off"),
    "stage": ("环节", "Stage"),
    "due": ("时限", "Due"),
    "done_at": ("完成时间", "Done"),
    "status": ("状态", "Status"),
    "late_by": ("逾期/剩余", "Late by / left"),
    "late": ("逾期 {amount} {unit}", "late by {amount} {unit}"),
    "left": ("剩余 {amount} {unit}", "{amount} {unit} left"),
    "none.steps": ("（处理跟踪表中没有这宗投诉的记录）", "(nothing recorded on the Tracking sheet)"),
    "none.callbacks": ("（回访记录表中没有这宗投诉的记录）", "(nothing recorded on the Callbacks sheet)"),
    "sign.handler": ("处理人", "Handler"),
    "sign.department": ("责任部门负责人", "Responsible department"),
    "sign.supervisor": ("主管审核", "Supervisor"),
    "signature": ("签字：", "Signature:"),
    "date": ("日期：      年    月    日", "Date:"),
    "opinion": ("意见：", "Comments:"),
    "masked": ("（联系电话已隐去）", "(phone numbers masked)"),
}


def text(key: str, lang: str) -> str:
    zh, en = TEXTS[key]
    return zh if lang == "zh" else en
