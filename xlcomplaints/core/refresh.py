"""What a refresh writes, computed purely from what was read.

The plan holds values by column key (the Register's computed columns, per row) and
whole rows for the sheets we own (Overdue, Summary); an adapter puts them where the
workbook's layout has those columns. Labels are in the workbook's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from xlcomplaints.core import corrections as fixes
from xlcomplaints.core.calendar import CalendarWarning, WorkCalendar
from xlcomplaints.core.deadlines import (
    ComplaintResult,
    Evaluator,
    RuleBook,
    make_calendar,
    urgency_key,
)
from xlcomplaints.core.lifecycle import callback_attempts, handoff_results, iter_cycles
from xlcomplaints.core.models import BranchData
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.status import StageStatus
from xlcomplaints.spec import branch as B
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
    "calendar.makeup_days_unpublished": (
        "国务院尚未公布 {year} 年的节假日安排：该年按法定节假日（元旦、春节、清明节、劳动节、端午节、中秋节、国庆节）"
        "和周末休息计算时限；调休上班日和补休日尚未公布，未计入。公布后请更新节假日数据（holidays），或在“日历”表补充。",
        "The State Council has not yet published {year}'s holiday arrangement: deadlines in that year count the "
        "statutory holidays (New Year's Day, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn, "
        "National Day) and weekends as days off; make-up working days (调休) and days off in lieu are not published "
        "yet and not counted. Update the holiday data (holidays) once they are, or add them on the Calendar sheet."),
}
register_messages(MESSAGES)


def _label(vocab: v.Vocabulary, code: str | None, lang: str) -> str | None:
    return vocab.label(code, lang) if code else None


#: Why a callback was given up, after the next action (R8): the Settings' unreachable attempts.
GIVEN_UP_REASON = ("；放弃回访：{n} 次未接通", "; callback given up: {n} attempts unreachable")


def next_action_text(r: ComplaintResult, lang: str) -> str:
    zh, en = NEXT_ACTIONS[r.next_action]
    text = zh if lang == "zh" else en
    stage = r.stages.get(r.next_stage or "")
    if text and stage and stage.due and stage.done_at is None:
        when = stage.due.strftime("%m-%d %H:%M")
        if stage.status == "overdue":
            text = f"{text}（已逾期，时限 {when}）" if lang == "zh" else f"{text} (overdue since {when})"
        else:
            text = f"{text}（{when}前）" if lang == "zh" else f"{text} by {when}"
    if text and r.stages["callback"].status == StageStatus.GIVEN_UP:
        text += GIVEN_UP_REASON[lang != "zh"].format(n=r.callbacks_failed)
    return text


@dataclass
class ComputedCells:
    """Computed values of one sheet: per row, a tuple in ``keys`` order (a dict per row
    would weigh five times as much at 50,000 rows)."""

    keys: tuple[str, ...]
    rows: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    def get(self, row: int, key: str) -> Any:
        return self.rows[row][self.keys.index(key)]

    def __len__(self) -> int:
        return len(self.rows)


REGISTER_KEYS = tuple(c.key for c in B.REGISTER.computed_columns)
TRACKING_KEYS = ("step_due", "step_status")
CALLBACK_KEYS = ("attempt",)


class OverdueRow(NamedTuple):
    """One row of the Overdue sheet: its fields are ``B.OVERDUE``'s column keys, in order; labels
    in the workbook's language. A row to correct has no stage, and its unreadable received time
    as typed; the heading above those rows has only its text, in the first column."""

    no: str | None
    stage: str | None = None
    status: str | None = None
    due: datetime | None = None
    late_by: float | None = None
    late_unit: str | None = None
    severity: str | None = None
    escalation: str | None = None
    customer: str | None = None
    category: str | None = None
    department: str | None = None
    handler: str | None = None
    received_at: Any = None  # a datetime, or what the clerk typed when it could not be read
    next_action: str | None = None


@dataclass
class RefreshPlan:
    """Everything a refresh writes, and counts to report. The per-complaint results are
    not kept: each is turned into its cells as it is evaluated, so a large register never
    holds its results and its records' cells at once."""

    complaints: int = 0
    register: ComputedCells = field(default_factory=lambda: ComputedCells(REGISTER_KEYS))
    tracking: ComputedCells = field(default_factory=lambda: ComputedCells(TRACKING_KEYS))
    callbacks: ComputedCells = field(default_factory=lambda: ComputedCells(CALLBACK_KEYS))
    overdue_rows: list[OverdueRow] = field(default_factory=list)  # one per urgent stage
    summary_rows: list[list[Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def outcome(self, lang: str) -> str:
        """The refresh in a sentence or two, as the button, the command and the demo say it:
        how many complaints, how many with a stage overdue or due soon, how many rows to correct."""
        n, c = self.complaints, self.counts
        if lang == "zh":
            text = (f"{n} 宗投诉，{c['complaints.overdue']} 宗有逾期环节，{c['complaints.due_soon']} 宗即将到期"
                    f"（见“逾期清单”）。")
            if c["needs_correction"]:
                text += f"{c['needs_correction']} 宗受理时间无法识别，需改正（列在“逾期清单”最后）。"
            return text
        text = (f"{n} complaints, {c['complaints.overdue']} with an overdue stage, {c['complaints.due_soon']} "
                f"due soon (see the Overdue sheet).")
        if c["needs_correction"]:
            text += (f" {c['needs_correction']} without a readable received time, to correct "
                     f"(listed last on the Overdue sheet).")
        return text


def evaluate_branch(data: BranchData, now: datetime,
                    cal: WorkCalendar | None = None) -> tuple[list[ComplaintResult], set[CalendarWarning]]:
    """Every complaint of a branch, with one calendar and policy, each cycle built as it is needed.
    ``cal``: the branch's calendar when the caller already made it (``make_calendar``)."""
    results = list(iter_results(data, now, cal))
    warnings: set[CalendarWarning] = set()
    for r in results:
        if r.warnings:
            warnings |= r.warnings
    return results, warnings


def iter_results(data: BranchData, now: datetime, cal: WorkCalendar | None = None) -> Iterator[ComplaintResult]:
    """``evaluate_branch`` one complaint at a time, for a caller that keeps none of them."""
    evaluator = Evaluator(data.settings, cal or make_calendar(data.settings, data), now,
                          RuleBook(data.settings.policy))
    for c, cycle in zip(data.complaints, iter_cycles(data, now), strict=True):
        yield evaluator.evaluate(c, cycle)


def plan_refresh(data: BranchData, now: datetime, *, lang: str | None = None,
                 corrections: Mapping[int, fixes.Correction] | None = None) -> RefreshPlan:
    """``corrections``: rows whose received time could not be read (``corrections.find_corrections``)."""
    lang = lang or data.settings.language
    corrections = corrections or {}
    to_correct: list[OverdueRow] = []  # their Overdue rows, under their own heading
    plan = RefreshPlan()
    counts = plan.counts
    warnings: set[CalendarWarning] = set()
    urgent: list[tuple[tuple[int, int, float], OverdueRow]] = []
    for r in iter_results(data, now):
        c = r.complaint
        plan.complaints += 1
        if r.warnings:
            warnings |= r.warnings
        row: list[Any] = []
        action = next_action_text(r, lang)  # one string, shared by the Register and Overdue rows
        escalation = _label(v.ESCALATION, r.escalation, lang)
        if (fix := corrections.get(c.row or 0)) is not None:  # nothing to count from: say what to correct
            action, escalation = fix.action(lang), None
            counts["needs_correction"] += 1
            to_correct.append(OverdueRow(
                no=c.no, severity=_label(v.SEVERITY, c.severity, lang), customer=c.customer,
                category=_label(v.CATEGORY, c.category, lang), department=c.department, handler=c.handler,
                received_at=fix.value, next_action=action))
        for stage, s in r.stages.items():
            status = _label(v.STAGE_STATUS, s.status, lang)
            row += (s.due, None if fix else status)  # a row to correct: no status guessed
            counts[f"stage.{s.status}"] += 1
            if s.status in ("overdue", "due_soon"):
                urgent.append((urgency_key(r, s), OverdueRow(
                    c.no, _label(v.STAGE, stage, lang), status, s.due, s.late_by,
                    _label(v.UNIT, s.unit, lang), _label(v.SEVERITY, c.severity, lang),
                    _label(v.ESCALATION, r.escalation, lang), c.customer, _label(v.CATEGORY, c.category, lang),
                    c.department, c.handler, c.received_at, action,
                )))
        row += (_label(v.OVERALL_STATUS, r.status, lang), r.days_overdue, escalation,
                r.repeat_of, r.reopen_count or None, action or None)
        plan.register.rows[c.row or 0] = tuple(row)
        counts[f"status.{r.status}"] += 1
        if r.overdue_stages():
            counts["complaints.overdue"] += 1
        if any(s.status == "due_soon" for s in r.stages.values()):
            counts["complaints.due_soon"] += 1
        if r.status not in ("closed", "invalid"):
            counts["open"] += 1
            counts[f"open.severity.{c.severity}"] += 1
            counts[f"open.escalation.{r.escalation}"] += 1
        if r.repeat_of:
            counts["repeats"] += 1
    for w in sorted(warnings, key=lambda w: w.year):
        plan.problems.append(Problem(level=Level.WARNING, code=w.code, params={"year": w.year}))
    for row_no, (due, status) in handoff_results(data, now).items():
        plan.tracking.rows[row_no] = (due, _label(v.STAGE_STATUS, status, lang))
        counts[f"handoff.{status}"] += 1
    for row_no, n in callback_attempts(data).items():
        plan.callbacks.rows[row_no] = (n,)
    urgent.sort(key=lambda x: x[0])
    plan.overdue_rows = [row for _, row in urgent]
    if to_correct:
        heading = fixes.HEADING[0 if lang == "zh" else 1]
        plan.overdue_rows += [OverdueRow(no=heading), *to_correct]
    plan.summary_rows = _summary(data, plan, now, lang)
    return plan


def _summary(data: BranchData, plan: RefreshPlan, now: datetime, lang: str) -> list[list[Any]]:
    """The Summary's rows (``B.SUMMARY_LINES``): label, value, note."""
    s, counts = data.settings, plan.counts
    values: dict[str, Any] = {
        "refreshed_at": now.strftime("%Y-%m-%d %H:%M"),
        "branch": f"{s.branch_code} {s.branch_name}".strip(),
        "complaints": plan.complaints,
        "handoff.late": counts["handoff.overdue"] + counts["handoff.done_late"],
    }
    return [[line.label(lang), values[line.key] if line.key in values else counts[line.key], line.note(lang)]
            for line in B.SUMMARY_LINES]
