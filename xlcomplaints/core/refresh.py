"""What a refresh writes, computed purely from what was read.

The plan holds values by column key (the Register's computed columns, per row) and
whole rows for the sheets we own (Overdue, Summary); an adapter puts them where the
workbook's layout has those columns. Labels are in the workbook's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xlcomplaints.core.calendar import CalendarWarning
from xlcomplaints.core.deadlines import (
    ComplaintResult,
    RuleBook,
    evaluate,
    make_calendar,
    urgency_key,
)
from xlcomplaints.core.lifecycle import build_cycles, callback_attempts, handoff_results
from xlcomplaints.core.models import BranchData
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.spec import vocab as v

NEXT_ACTIONS: dict[str, tuple[str, str]] = {
    "acknowledge": ("发送受理通知", "Send the acknowledgement"),
    "first_contact": ("联系客户", "Contact the customer"),
    "report": ("上报管理层", "Report to management"),
    "resolve": ("调查处理", "Investigate and resolve"),
    "reply": ("答复客户", "Reply to the customer"),
    "callback": ("回访客户", "Call the customer back"),
    "retry_callback": ("再次回访", "Try the callback again"),
    "close": ("结案", "Close the case"),
    "follow_up_pause": ("跟进暂停中的投诉（等待客户/冷处理）", "Follow up the paused case (waiting / cold handling)"),
    "none": ("", ""),
}
MESSAGES = {
    "calendar.year_not_covered": (
        "节假日数据未包含 {year} 年的国务院安排，该年按周末双休计算时限，请核对或在“日历”表补充。",
        "The holiday data has no official schedule for {year}; deadlines in that year count weekends only. "
        "Check them, or add the dates on the Calendar sheet."),
}
register_messages(MESSAGES)


def _label(vocab: v.Vocabulary, code: str | None, lang: str) -> str | None:
    return vocab.label(code, lang) if code else None


def next_action_text(r: ComplaintResult, lang: str) -> str:
    zh, en = NEXT_ACTIONS[r.next_action]
    text = zh if lang == "zh" else en
    stage = r.stages.get(r.next_stage or "")
    if text and stage and stage.due and stage.done_at is None:
        when = stage.due.strftime("%m-%d %H:%M")
        if stage.status == "overdue":
            return f"{text}（已逾期，时限 {when}）" if lang == "zh" else f"{text} (overdue since {when})"
        return f"{text}（{when}前）" if lang == "zh" else f"{text} by {when}"
    return text


@dataclass
class RefreshPlan:
    results: list[ComplaintResult]
    register: dict[int, dict[str, Any]] = field(default_factory=dict)  # row → key → value
    tracking: dict[int, dict[str, Any]] = field(default_factory=dict)
    callbacks: dict[int, dict[str, Any]] = field(default_factory=dict)
    overdue_rows: list[list[Any]] = field(default_factory=list)
    summary_rows: list[list[Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def evaluate_branch(data: BranchData, now: datetime) -> tuple[list[ComplaintResult], set[CalendarWarning]]:
    cal = make_calendar(data.settings, data)
    cycles = build_cycles(data, now)
    rules = RuleBook(data.settings.policy)
    results = [evaluate(c, data.settings, cal, now, cycle, rules)
               for c, cycle in zip(data.complaints, cycles, strict=True)]
    warnings: set[CalendarWarning] = set()
    for r in results:
        warnings |= r.warnings
    return results, warnings


def plan_refresh(data: BranchData, now: datetime, *, lang: str | None = None) -> RefreshPlan:
    lang = lang or data.settings.language
    results, warnings = evaluate_branch(data, now)
    plan = RefreshPlan(results=results)
    for w in sorted(warnings, key=lambda w: w.year):
        plan.problems.append(Problem(level=Level.WARNING, code=w.code, params={"year": w.year}))
    urgent: list[tuple[tuple[int, int, float], list[Any]]] = []
    for r in results:
        c = r.complaint
        row: dict[str, Any] = {}
        for stage, s in r.stages.items():
            row[f"{stage}_due"] = s.due
            row[f"{stage}_status"] = _label(v.STAGE_STATUS, s.status, lang)
            plan.counts[f"stage.{s.status}"] += 1
            if s.status in ("overdue", "due_soon"):
                urgent.append((urgency_key(r, s), [
                    c.no, _label(v.STAGE, stage, lang), _label(v.STAGE_STATUS, s.status, lang), s.due, s.late_by,
                    _label(v.UNIT, s.unit, lang), _label(v.SEVERITY, c.severity, lang),
                    _label(v.ESCALATION, r.escalation, lang), c.customer, _label(v.CATEGORY, c.category, lang),
                    c.department, c.handler, c.received_at, next_action_text(r, lang),
                ]))
        row["status"] = _label(v.OVERALL_STATUS, r.status, lang)
        row["days_overdue"] = r.days_overdue
        row["escalation"] = _label(v.ESCALATION, r.escalation, lang)
        row["repeat_of"] = r.repeat_of
        row["reopen_count"] = r.reopen_count or None
        row["next_action"] = next_action_text(r, lang) or None
        plan.register[c.row or 0] = row
        plan.counts[f"status.{r.status}"] += 1
        if r.overdue_stages():
            plan.counts["complaints.overdue"] += 1
        if any(s.status == "due_soon" for s in r.stages.values()):
            plan.counts["complaints.due_soon"] += 1
    for row, (due, status) in handoff_results(data, now).items():
        plan.tracking[row] = {"step_due": due, "step_status": _label(v.STAGE_STATUS, status, lang)}
        plan.counts[f"handoff.{status}"] += 1
    for row, n in callback_attempts(data).items():
        plan.callbacks[row] = {"attempt": n}
    urgent.sort(key=lambda x: x[0])
    plan.overdue_rows = [row for _, row in urgent]
    plan.summary_rows = _summary(data, results, plan, now, lang)
    return plan


def _summary(data: BranchData, results: list[ComplaintResult], plan: RefreshPlan, now: datetime,
             lang: str) -> list[list[Any]]:
    zh = lang == "zh"
    s = data.settings
    open_ = [r for r in results if r.status not in ("closed", "invalid")]
    rows: list[list[Any]] = [
        ["刷新时间" if zh else "Refreshed at", now.strftime("%Y-%m-%d %H:%M"),
         "以此时间计算到期与逾期" if zh else "Due and overdue are computed as of this time"],
        ["网点" if zh else "Branch", f"{s.branch_code} {s.branch_name}".strip(), None],
        ["投诉总数" if zh else "Complaints", len(results), None],
        ["未结案" if zh else "Open", len(open_), None],
        ["有逾期环节的投诉" if zh else "Complaints with an overdue stage", plan.counts["complaints.overdue"],
         "详见“逾期清单”" if zh else "See the Overdue sheet"],
        ["即将到期的投诉" if zh else "Complaints due soon", plan.counts["complaints.due_soon"], None],
        ["逾期环节数" if zh else "Overdue stages", plan.counts["stage.overdue"], None],
        ["部门接单超时" if zh else "Late hand-offs", plan.counts["handoff.overdue"] + plan.counts["handoff.done_late"],
         "见“处理跟踪”表的本步状态" if zh else "See Step status on the Tracking sheet"],
    ]
    for code in ("open", "paused", "awaiting_callback", "reopened", "closed", "invalid"):
        rows.append([("状态：" if zh else "Status: ") + v.OVERALL_STATUS.label(code, lang),
                     plan.counts[f"status.{code}"], None])
    for code in ("major", "important", "general"):
        n = sum(1 for r in open_ if r.complaint.severity == code)
        rows.append([("未结案-" if zh else "Open, ") + v.SEVERITY.label(code, lang), n, None])
    for code in ("general_manager", "manager", "supervisor"):
        n = sum(1 for r in open_ if r.escalation == code)
        rows.append([("需升级至" if zh else "Escalate to ") + v.ESCALATION.label(code, lang), n, None])
    rows.append(["重复投诉" if zh else "Repeat complaints", sum(1 for r in results if r.repeat_of), None])
    return rows

