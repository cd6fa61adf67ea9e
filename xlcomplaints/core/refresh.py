"""What a refresh writes, computed purely from what was read.

The plan holds values by column key (the Register's computed columns, per row) and
whole rows for the sheets we own (Overdue, Summary); an adapter puts them where the
workbook's layout has those columns. Labels are in the workbook's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from xlcomplaints.core import corrections as fixes
from xlcomplaints.core import metrics as M
from xlcomplaints.core.calendar import CalendarWarning, WorkCalendar
from xlcomplaints.core.custom_stages import StageBook, stage_label
from xlcomplaints.core.deadlines import (
    ComplaintResult,
    Evaluator,
    RuleBook,
    make_calendar,
    urgency_key,
)
from xlcomplaints.core.lifecycle import callback_attempts, handoff_results, iter_cycles
from xlcomplaints.core.lists import BUILT_IN, OfficeLists
from xlcomplaints.core.models import BranchData
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.status import Escalation, NextAction, OverallStatus, StageStatus
from xlcomplaints.i18n import pick, say
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import vocab as v

#: The next action's words, per code (``core.status.NextAction``, held equal by ``tests/test_engine_rules.py``).
NEXT_ACTIONS: dict[NextAction, tuple[str, str]] = {
    NextAction.ACKNOWLEDGE: ("发送受理通知", "Send the acknowledgement"),
    NextAction.FIRST_CONTACT: ("联系客户", "Contact the customer"),
    NextAction.REPORT: ("上报管理层", "Report to management"),
    NextAction.RESOLVE: ("调查处理", "Investigate and resolve"),
    NextAction.REPLY: ("答复客户", "Reply to the customer"),
    NextAction.CALLBACK: ("回访客户", "Call the customer back"),
    NextAction.RETRY_CALLBACK: ("再次回访", "Try the callback again"),
    NextAction.CLOSE: ("结案", "Close the case"),
    NextAction.FOLLOW_UP_PAUSE: ("跟进暂停中的投诉（等待客户/冷处理）",
                                 "Follow up the paused case (waiting / cold handling)"),
    NextAction.NONE: ("", ""),
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


def _labels(vocab: v.Vocabulary, lang: str) -> dict[str | None, str | None]:
    """``_label`` of each of the vocabulary's codes, looked up once for a refresh's every complaint."""
    return {None: None, "": None, **{c.code: c.label(lang) for c in vocab}}


#: The Summary's count keys (``spec.branch.SummaryKey``), made once and looked up by the engine's enum they
#: count: a code that is not one of the enum's is a type error, not a count no Summary line reads.
_STAGE_KEY: dict[StageStatus, B.SummaryKey] = {s: B.SummaryKey(B.Count.STAGE, s) for s in StageStatus}
_CUSTOM_KEY: dict[StageStatus, B.SummaryKey] = {s: B.SummaryKey(B.Count.CUSTOM, s) for s in StageStatus}
_HANDOFF_KEY: dict[StageStatus, B.SummaryKey] = {s: B.SummaryKey(B.Count.HANDOFF, s) for s in StageStatus}
_STATUS_KEY: dict[OverallStatus, B.SummaryKey] = {s: B.SummaryKey(B.Count.STATUS, s) for s in OverallStatus}
_ESCALATION_KEY: dict[Escalation, B.SummaryKey] = {
    e: B.SummaryKey(B.Count.OPEN_ESCALATION, e) for e in Escalation}
#: Severity is the clerk's vocabulary code (or blank), counted as read.
_SEVERITY_KEY: dict[str | None, B.SummaryKey] = {
    c: B.SummaryKey(B.Count.OPEN_SEVERITY, c) for c in (*v.SEVERITY.codes, None)}
_OPEN, _OVERDUE, _DUE_SOON, _REPEATS, _TO_CORRECT = (B.SummaryKey(k) for k in (
    B.Count.OPEN, B.Count.COMPLAINTS_OVERDUE, B.Count.COMPLAINTS_DUE_SOON, B.Count.REPEATS, B.Count.NEEDS_CORRECTION))
#: Every count a refresh keeps (a Summary line shows one of these, or a value of ``B.WORKED_OUT``).
COUNTED: frozenset[B.SummaryKey] = frozenset({
    *_STAGE_KEY.values(), *_CUSTOM_KEY.values(), *_HANDOFF_KEY.values(), *_STATUS_KEY.values(),
    *_ESCALATION_KEY.values(), *(k for c, k in _SEVERITY_KEY.items() if c is not None),
    _OPEN, _OVERDUE, _DUE_SOON, _REPEATS, _TO_CORRECT})

#: A refresh in a sentence (RefreshPlan.outcome), and the rows left to correct after it.
OUTCOME = ("{n} 宗投诉，{overdue} 宗有逾期环节，{due_soon} 宗即将到期（见“逾期清单”）。",
           "{n} complaints, {overdue} with an overdue stage, {due_soon} due soon (see the Overdue sheet).")
OUTCOME_TO_CORRECT = ("{n} 宗受理时间无法识别，需改正（列在“逾期清单”最后）。",
                      " {n} without a readable received time, to correct (listed last on the Overdue sheet).")

#: Why a callback was given up, after the next action (R8): the Settings' unreachable attempts.
GIVEN_UP_REASON = ("；放弃回访：{n} 次未接通", "; callback given up: {n} attempts unreachable")


def next_action_text(r: ComplaintResult, lang: str) -> str:
    text = pick(lang, *NEXT_ACTIONS[r.next_action])
    stage = r.stages.get(r.next_stage or "")
    if text and stage and stage.due and stage.done_at is None:
        when = stage.due.strftime("%m-%d %H:%M")
        if stage.status == "overdue":
            text = say(("{text}（已逾期，时限 {when}）", "{text} (overdue since {when})"), lang, text=text, when=when)
        else:
            text = say(("{text}（{when}前）", "{text} by {when}"), lang, text=text, when=when)
    if text and r.stages["callback"].status == StageStatus.GIVEN_UP:
        text += say(GIVEN_UP_REASON, lang, n=r.callbacks_failed)
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
    #: The language the workbook's generated sheets are written in (its Settings').
    lang: str = "zh"
    register: ComputedCells = field(default_factory=lambda: ComputedCells(REGISTER_KEYS))
    tracking: ComputedCells = field(default_factory=lambda: ComputedCells(TRACKING_KEYS))
    callbacks: ComputedCells = field(default_factory=lambda: ComputedCells(CALLBACK_KEYS))
    overdue_rows: list[OverdueRow] = field(default_factory=list)  # one per urgent stage
    summary_rows: list[list[Any]] = field(default_factory=list)
    #: The Summary's table per handler (title, header, a row each), written beside ``summary_rows``.
    handler_rows: list[list[Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[B.SummaryKey] = field(default_factory=Counter)

    def outcome(self, lang: str) -> str:
        """The refresh in a sentence or two, as the button, the command and the demo say it:
        how many complaints, how many with a stage overdue or due soon, how many rows to correct."""
        n, c = self.complaints, self.counts
        text = say(OUTCOME, lang, n=n, overdue=c[_OVERDUE], due_soon=c[_DUE_SOON])
        if c[_TO_CORRECT]:
            text += say(OUTCOME_TO_CORRECT, lang, n=c[_TO_CORRECT])
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
    cal = cal or make_calendar(data.settings, data)
    evaluator = Evaluator(data.settings, cal, now, RuleBook(data.settings.policy))
    book = StageBook(data, cal, now) if data.settings.custom_stages else None
    for c, cycle in zip(data.complaints, iter_cycles(data, now), strict=True):
        r = evaluator.evaluate(c, cycle)
        if book is not None:
            r.custom = book.evaluate(c, cycle, r)
        yield r


def _shown_as(lists: OfficeLists, key: str, lang: str) -> Callable[[str | None], str | None]:
    """An office list's value as the Overdue sheet shows it: the entry's name in ``lang``; a value not
    on the list (free text) as typed."""
    names = {c.code: c.label(lang) for c in lists.get(key) or ()}
    return lambda code: names.get(code, code) if code else None


def plan_refresh(data: BranchData, now: datetime, *, lang: str | None = None,
                 corrections: Mapping[int, fixes.Correction] | None = None,
                 lists: OfficeLists = BUILT_IN) -> RefreshPlan:
    """``corrections``: rows whose received time could not be read (``corrections.find_corrections``);
    ``lists``: the office's lists the workbook was read with, for the names the Overdue sheet shows."""
    lang = lang or data.settings.language
    category, department, handler = (_shown_as(lists, k, lang) for k in ("category", "department", "handler"))
    corrections = corrections or {}
    to_correct: list[OverdueRow] = []  # their Overdue rows, under their own heading
    plan = RefreshPlan(lang=lang)
    counts = plan.counts
    warnings: set[CalendarWarning] = set()
    urgent: list[tuple[tuple[int, int, float], OverdueRow]] = []
    status_label, overall_label, escalation_label = (
        _labels(x, lang) for x in (v.STAGE_STATUS, v.OVERALL_STATUS, v.ESCALATION))
    stage_statuses: Counter[StageStatus] = Counter()  # the built-in stages' statuses, into ``counts`` at the end
    month = M.Month.of(now)
    cal = make_calendar(data.settings, data)  # one calendar (and its memo of due times) for the whole refresh
    as_case = M.case_maker(data.settings.branch_code, data, cal, timed=(month.start, month.end), as_of=now)
    cases: list[M.Case] = []  # those the month's figures per handler can see: a few of a large register
    called = {a.no for a in data.callbacks if a.no and a.at and month.start <= a.at <= now}
    for r in iter_results(data, now, cal):
        if _may_count(r, month, called) and (case := as_case(r)) is not None and _in_month(case, month):
            cases.append(case)
        c = r.complaint
        plan.complaints += 1
        if r.warnings:
            warnings |= r.warnings
        row: list[Any] = []
        action = next_action_text(r, lang)  # one string, shared by the Register and Overdue rows
        escalation = escalation_label[r.escalation]
        if (fix := corrections.get(c.row or 0)) is not None:  # nothing to count from: say what to correct
            action, escalation = fix.action(lang), None
            counts[_TO_CORRECT] += 1
            to_correct.append(OverdueRow(
                no=c.no, severity=_label(v.SEVERITY, c.severity, lang), customer=c.customer,
                category=category(c.category), department=department(c.department), handler=handler(c.handler),
                received_at=fix.value, next_action=action))
        for stage, s in r.stages.items():
            status = status_label[s.status]
            row += (s.due, None if fix else status)  # a row to correct: no status guessed
            stage_statuses[s.status] += 1
            if s.status in ("overdue", "due_soon"):
                urgent.append((urgency_key(r, s), OverdueRow(
                    c.no, _label(v.STAGE, stage, lang), status, s.due, s.late_by,
                    _label(v.UNIT, s.unit, lang), _label(v.SEVERITY, c.severity, lang),
                    escalation_label[r.escalation], c.customer, category(c.category),
                    department(c.department), handler(c.handler), c.received_at, action,
                )))
        for s in r.custom:  # the office's own stages: on the Overdue sheet and in the counts, not on the Register
            counts[_STAGE_KEY[s.status]] += 1
            counts[_CUSTOM_KEY[s.status]] += 1
            if s.status in ("overdue", "due_soon") and not fix:
                urgent.append((urgency_key(r, s), OverdueRow(
                    c.no, stage_label(data.settings, s.stage, lang), _label(v.STAGE_STATUS, s.status, lang), s.due,
                    s.late_by, _label(v.UNIT, s.unit, lang), _label(v.SEVERITY, c.severity, lang),
                    _label(v.ESCALATION, r.escalation, lang), c.customer, _label(v.CATEGORY, c.category, lang),
                    c.department, c.handler, c.received_at, action,
                )))
        row += (overall_label[r.status], r.days_overdue, escalation,
                r.repeat_of, r.reopen_count or None, action or None)
        plan.register.rows[c.row or 0] = tuple(row)
        counts[_STATUS_KEY[r.status]] += 1
        if r.overdue_stages() or any(s.status == "overdue" for s in r.custom):
            counts[_OVERDUE] += 1
        if any(s.status == "due_soon" for s in (*r.stages.values(), *r.custom)):
            counts[_DUE_SOON] += 1
        if r.status not in ("closed", "invalid"):
            counts[_OPEN] += 1
            counts[_SEVERITY_KEY.get(c.severity) or B.SummaryKey(B.Count.OPEN_SEVERITY, c.severity)] += 1
            counts[_ESCALATION_KEY[r.escalation]] += 1
        if r.repeat_of:
            counts[_REPEATS] += 1
    for status, n in stage_statuses.items():
        counts[_STAGE_KEY[status]] += n
    for w in sorted(warnings, key=lambda w: w.year):
        plan.problems.append(Problem(level=Level.WARNING, code=w.code, params={"year": w.year}))
    for row_no, (due, status) in handoff_results(data, now).items():
        plan.tracking.rows[row_no] = (due, _label(v.STAGE_STATUS, status, lang))
        counts[_HANDOFF_KEY[status]] += 1
    for row_no, n in callback_attempts(data).items():
        plan.callbacks.rows[row_no] = (n,)
    urgent.sort(key=lambda x: x[0])
    plan.overdue_rows = [row for _, row in urgent]
    if to_correct:
        heading = pick(lang, *fixes.HEADING)
        plan.overdue_rows += [OverdueRow(no=heading), *to_correct]
    plan.summary_rows = _summary(data, plan, now, lang)
    plan.handler_rows = _handler_rows(M.CaseIndex(cases), month, lang)
    return plan


def _may_count(r: ComplaintResult, m: M.Month, called: set[str]) -> bool:
    """A quick look before a complaint's facts are made (most of a large register was closed in earlier
    months): open, closed in the month, with a due time in it or called back in it. ``_in_month`` decides."""
    closed = r.stages["close"].done_at
    return (closed is None or closed >= m.start or (r.complaint.no or "") in called
            or any(s.due is not None and s.due >= m.start for s in r.stages.values()))


def _in_month(c: M.Case, m: M.Month) -> bool:
    """Whether the complaint can count in the month's figures per handler: still open, closed in the
    month, with a deadline due in it or a callback in it (as the metrics file them)."""
    start = M.month_start(m)
    closed_at = c.closed_at
    return (closed_at is None or closed_at >= start or any(k == m.key for k, *_ in c.due_months)
            or any(at >= start for at, _, _ in c.callbacks))


def _handler_rows(ix: M.CaseIndex, m: M.Month, lang: str) -> list[list[Any]]:
    """The Summary's table per handler (``B.SUMMARY_HANDLER_COLUMNS``): the By-handler sheet's figures
    (``metrics.people``) for the month so far; rates in %, times and scores to 2 decimals."""
    units = ix.units.get("resolve") or []
    unit = units[0] if units else None
    header = []
    for col in B.SUMMARY_HANDLER_COLUMNS:
        text = col.label(lang)
        if col.key == "resolve_median" and unit:
            text += pick(lang, f"（{v.UNIT.label(unit, lang)}）", f" ({v.UNIT.label(unit, lang)})")
        header.append(text)
    rows: list[list[Any]] = [[pick(lang, *B.SUMMARY_HANDLERS_TITLE).format(month=m.label(lang))], header]
    for person in M.people(ix, M.as_period(m)):
        row: list[Any] = [person.key or pick(lang, "（未填）", "(blank)")]
        for col in B.SUMMARY_HANDLER_COLUMNS[1:]:
            value = person.values[col.key]
            if value is not None and col.key not in M.COUNT_FIGURES:
                value = round(value * 100, 1) if col.key in B.SUMMARY_PERCENT else round(value, 2)
            row.append(value)
        rows.append(row)
    return rows


#: The Summary's per-handler table starts at this index of a row (column ``B.SUMMARY_HANDLERS_AT``).
_AT = B.SUMMARY_HANDLERS_AT - 1


def summary_grid(plan: RefreshPlan) -> list[list[Any]]:
    """The Summary below its header: its lines (with the checksum row the flow adds) and, beside them
    from column E, the table per handler."""
    out = []
    for i in range(max(len(plan.summary_rows), len(plan.handler_rows))):
        row = list(plan.summary_rows[i]) if i < len(plan.summary_rows) else []
        if i < len(plan.handler_rows):
            row += [None] * (_AT - len(row)) + plan.handler_rows[i]
        out.append(row)
    return out


def _summary(data: BranchData, plan: RefreshPlan, now: datetime, lang: str) -> list[list[Any]]:
    """The Summary's rows (``B.SUMMARY_LINES``): label, value, note."""
    s, counts = data.settings, plan.counts
    values: dict[B.SummaryKey, Any] = {
        B.SummaryKey(B.Count.REFRESHED_AT): now.strftime("%Y-%m-%d %H:%M"),
        B.SummaryKey(B.Count.BRANCH): f"{s.branch_code} {s.branch_name}".strip(),
        B.SummaryKey(B.Count.COMPLAINTS): plan.complaints,
        B.SummaryKey(B.Count.HANDOFF_LATE): (counts[_HANDOFF_KEY[StageStatus.OVERDUE]]
                                             + counts[_HANDOFF_KEY[StageStatus.DONE_LATE]]),
    }
    return [[line.label(lang), values[line.key] if line.key in values else counts[line.key], line.note(lang)]
            for line in B.SUMMARY_LINES]
