"""The office's own stages (issue 19): stages a branch times itself besides the seven built-in ones.

Declared on the Settings sheet below the SLA policy (``spec.branch.CUSTOM_STAGES``), one limit per
row; rows sharing a name are one stage, whose most specific matching row applies (as in the policy
table, later rows winning ties). Each stage says

- what starts its clock: the receipt, or another stage done (a built-in one, or another custom one);
- what marks it done: the first step of a kind on the Tracking sheet at or after the clock starts, or
  a time column the office added to the Register (``现场处理上报时间``);
- whether it repeats: a repeating stage (a weekly progress update on open major complaints) is due
  ``limit`` after its start, then ``limit`` after each completion, until the case is closed.

Evaluated after the built-in stages of a complaint, with the same calendar, pauses and as-of rule
(a time after the as-of time has not happened yet), into ``StageResult`` records the Overdue sheet,
the Summary and the report read like the built-in ones. They are not written to the Register: its
columns are the clerk's sheet's and change only with the template. Invalid complaints, and those
without a readable received time, have none. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from xlcomplaints.core import cells
from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.deadlines import ComplaintResult, Cycle, StageResult
from xlcomplaints.core.models import BranchData, Complaint, CustomStage, OfficeColumn, Settings
from xlcomplaints.core.policy import STAGES, rule_for
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.core.rows import Layout, header_keys
from xlcomplaints.core.status import StageStatus
from xlcomplaints.i18n import pick
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.branch import CUSTOM_STAGES, SETTINGS_FIELDS

#: What "starts at receipt" is written as in the Counts-from column (any of these, either language).
RECEIVED_WORDS = ("受理", "受理时间", "收到投诉", "received", "receipt", "received_at")
RECEIVED = "received"

MESSAGES = {
    "custom_stage.bad_start": (
        "“{column}”应为“受理”、内置环节（{stages_zh}）或本表中另一环节的名称，“{value}”都不是。",
        "'{column}' must be 'Received', a built-in stage ({stages_en}) or another stage of this table; "
        "'{value}' is none of them."),
    "custom_stage.no_done": (
        "第 {line} 行的环节“{name}”没有完成标志：请在“完成步骤(处理跟踪)”选一个步骤，或在“完成列(登记表)”填登记表中的列名。",
        "Stage '{name}' on row {line} has nothing that marks it done: pick a Tracking step in 'Done by step', "
        "or name a Register column in 'Done by column'."),
    "custom_stage.two_done": (
        "第 {line} 行的环节“{name}”同时填了完成步骤和完成列，只能填一个。",
        "Stage '{name}' on row {line} has both a done step and a done column; fill in only one."),
    "custom_stage.recurring_column": (
        "第 {line} 行的环节“{name}”设为重复，但以登记表的一列为完成标志；一列只有一个时间，重复的环节请用处理跟踪的步骤。",
        "Stage '{name}' on row {line} repeats but is marked done by a Register column, which holds one time; "
        "a repeating stage is marked done by a Tracking step."),
    "custom_stage.name_taken": (
        "环节名称“{value}”与内置环节或“受理”同名，请另取一个名称。",
        "The stage name '{value}' is a built-in stage's (or 'Received'); give it another name."),
    "custom_stage.inconsistent": (
        "第 {line} 行与第 {first} 行同为环节“{name}”，但起算、完成标志或重复不同；同名各行只能在适用的投诉和时限上不同。",
        "Rows {first} and {line} are both stage '{name}' but differ in what starts it, marks it done or repeats; "
        "rows of one stage may differ only in the complaints they apply to and the limit."),
    "custom_stage.cycle": (
        "环节“{name}”的起算环节又从它自己起算（{path}），无法计时。",
        "Stage '{name}' starts from a stage that starts from it ({path}); it cannot be timed."),
    "custom_stage.column_missing": (
        "登记表“{sheet}”中没有表头为“{value}”的列；环节“{name}”未计时。请改正列名，或在登记表加上这一列。",
        "The Register '{sheet}' has no column headed '{value}'; stage '{name}' was not timed. Correct the "
        "header here, or add the column to the Register."),
    "report.dimension_missing": (
        "登记表“{sheet}”中没有表头为“{value}”的列，月报不按它分类。",
        "The Register '{sheet}' has no column headed '{value}'; the monthly report does not break down by it."),
    "report.dimension_ours": (
        "“{value}”是内置的分类维度，月报已按它分类；这里只填本单位自加的列。",
        "'{value}' is already a breakdown of the monthly report; name only columns the office added."),
}
register_messages(MESSAGES)

#: The report's built-in breakdowns, by header key: a dimension setting naming one is refused.
BUILT_IN_DIMENSIONS = ("类型", "投诉类别", "投诉渠道", "严重程度", "有效性", "责任部门", "网点",
                       "type", "category", "channel", "severity", "validity", "department", "branch")


def _key(text: object) -> str:
    return header_keys(str(text))[0] if text is not None else ""


def _reserved() -> dict[str, str]:
    """Header key → built-in stage code (labels and codes in either language), and the receipt's words."""
    found = {cells.header_key(w): RECEIVED for w in RECEIVED_WORDS}
    for code in STAGES:
        for word in (code, v.STAGE.label(code, "zh"), v.STAGE.label(code, "en")):
            found[cells.header_key(word)] = code
    for c in v.STAGE.choices:
        for alias in getattr(c, "aliases", ()) or ():
            found.setdefault(cells.header_key(alias), c.code)
    return found


# --------------------------------------------------------------------------- reading the table
def check_stages(rows: Sequence[CustomStage], layout: Layout) -> tuple[tuple[CustomStage, ...], list[Problem]]:
    """The rows that define a stage coherently, names and starts made canonical (the start is
    ``received``, a built-in stage code, or another stage's name); a problem at the cell of each
    row refused. A stage none of whose rows is left is not timed; nothing is guessed."""
    reserved = _reserved()
    problems: list[Problem] = []

    def bad(code: str, r: CustomStage, key: str, raw: object, **params: Any) -> None:
        problems.append(layout.problem(Level.ERROR, code, r.row, key, raw, line=r.row, name=r.name,
                                       value="" if raw is None else str(raw), **params))

    named: dict[str, str] = {}  # header key of a name (zh or en) → the name as first typed
    kept: list[CustomStage] = []
    for r in rows:
        if not r.name:
            continue
        if _key(r.name) in reserved or (r.name_en and _key(r.name_en) in reserved):
            bad("custom_stage.name_taken", r, "name", r.name if _key(r.name) in reserved else r.name_en)
            continue
        if r.done_step and r.done_column:
            bad("custom_stage.two_done", r, "done_column", r.done_column)
            continue
        if not r.done_step and not r.done_column:
            bad("custom_stage.no_done", r, "done_step", None)
            continue
        if r.recurring and r.done_column:
            bad("custom_stage.recurring_column", r, "recurring", "是")
            continue
        name = named.setdefault(_key(r.name), r.name)
        if r.name_en:
            named.setdefault(_key(r.name_en), name)
        kept.append(replace(r, name=name))
    stages_zh = "、".join(v.STAGE.label(s, "zh") for s in STAGES)
    stages_en = ", ".join(v.STAGE.label(s, "en") for s in STAGES)
    resolved: list[CustomStage] = []
    first: dict[str, CustomStage] = {}
    for r in kept:
        start = reserved.get(_key(r.start)) or named.get(_key(r.start))
        if start is None:
            bad("custom_stage.bad_start", r, "start", r.start, stages_zh=stages_zh, stages_en=stages_en)
            continue
        r = replace(r, start=start)
        head = first.setdefault(r.name or "", r)
        if (head.start, head.done_step, _key(head.done_column), bool(head.recurring)) != (
                r.start, r.done_step, _key(r.done_column), bool(r.recurring)):
            bad("custom_stage.inconsistent", r, "name", r.name, first=head.row)
            continue
        resolved.append(r)
    # A stage whose start is a custom stage that was refused, or that starts from itself in the end: refused.
    starts = {r.name: r.start for r in resolved}
    out: list[CustomStage] = []
    for r in resolved:
        path, at = [r.name or ""], r.start
        while at in starts and at not in path:
            path.append(at or "")
            at = starts[at]
        if at in path:
            bad("custom_stage.cycle", r, "start", r.start, path=" → ".join([*path, at or ""]))
        elif at not in STAGES and at != RECEIVED:
            bad("custom_stage.bad_start", r, "start", r.start, stages_zh=stages_zh, stages_en=stages_en)
        else:
            out.append(r)
    return tuple(out), problems


def stage_order(stages: Sequence[CustomStage]) -> list[str]:
    """The stages' names, each after the custom stage it starts from (``check_stages`` left no cycle)."""
    starts = {r.name or "": r.start for r in stages}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        start = starts[name]
        if start in starts:
            visit(start or "")
        order.append(name)

    for name in starts:
        visit(name)
    return order


def labels(settings: Settings) -> dict[str, tuple[str, str]]:
    """Each custom stage's name → its (zh, en) label (en: the English name, else the name)."""
    out: dict[str, tuple[str, str]] = {}
    for r in settings.custom_stages:
        if r.name and (r.name not in out or (r.name_en and out[r.name][1] == r.name)):
            out[r.name] = (r.name, r.name_en or r.name)
    return out


def stage_label(settings: Settings, stage: str, lang: str) -> str:
    """A stage's label: a built-in one from the vocabulary, a custom one as the office named it."""
    if stage in v.STAGE.codes:
        return v.STAGE.label(stage, lang)
    zh, en = labels(settings).get(stage, (stage, stage))
    return pick(lang, zh, en)


# --------------------------------------------------------------------------- the office's columns
def wanted_columns(settings: Settings) -> list[str]:
    """The Register headers the Settings name: custom stages' done columns, then report dimensions."""
    found = [r.done_column for r in settings.custom_stages if r.done_column]
    return list(dict.fromkeys([*found, *settings.report_dimensions]))


def find_columns(header_row: Sequence[object], wanted: Sequence[str]) -> dict[str, int]:
    """Wanted header → its 1-based column in the Register's header row (the first one so headed)."""
    at: dict[str, int] = {}
    for i, cell in enumerate(header_row, start=1):
        if isinstance(cell, str) and cell.strip():
            for k in header_keys(cell):
                at.setdefault(k, i)
    return {w: at[_key(w)] for w in wanted if _key(w) in at}


def check_office_columns(data: BranchData, register_sheet: str, *, date1904: bool = False,
                         lang: str = "zh") -> tuple[Settings, list[Problem]]:
    """The Settings with the custom stages whose done column the Register lacks left out (and the report
    dimensions it lacks), and a problem at each such Settings cell and each unreadable time in a done column."""
    s, problems = data.settings, []
    cols, sheet = s.custom_columns, s.sheet or ""
    found = {_key(h) for h in data.office_columns}
    missing: set[str] = set()
    for r in s.custom_stages:
        if r.done_column and _key(r.done_column) not in found:
            missing.add(r.name or "")
            problems.append(Problem(level=Level.ERROR, code="custom_stage.column_missing", sheet=sheet,
                                    cell=a1(r.row or 0, cols.get("done_column", 5)), value=r.done_column,
                                    column=CUSTOM_STAGES.column("done_column").label(lang),
                                    params={"sheet": register_sheet, "name": r.name, "value": r.done_column}))
    ours = {cells.header_key(w) for w in BUILT_IN_DIMENSIONS}
    dims: list[str] = []
    field = next(f for f in SETTINGS_FIELDS if f.key == "report_dimensions")
    for d in s.report_dimensions:
        code = ("report.dimension_ours" if cells.header_key(d) in ours else
                None if _key(d) in found else "report.dimension_missing")
        if code is None:
            dims.append(d)
        else:
            problems.append(Problem(level=Level.ERROR, code=code, sheet=sheet, cell=s.cells.get("report_dimensions"),
                                    column=field.label(lang), value=d, params={"sheet": register_sheet, "value": d}))
    for r in s.custom_stages:
        if r.done_column and r.name not in missing:
            col = data.office_columns[_header_of(data, r.done_column)]
            for row, raw in col.values.items():
                try:
                    cells.parse_datetime(raw, date1904=date1904)
                except cells.CellError as e:
                    problems.append(Problem(level=Level.ERROR, code=e.code, sheet=register_sheet,
                                            cell=a1(row, col.column), column=col.header, value=str(raw),
                                            params={"column": col.header, **e.params}))
    kept = tuple(r for r in s.custom_stages if r.name not in missing)
    return s.model_copy(update={"custom_stages": kept, "report_dimensions": tuple(dims)}), problems


def _header_of(data: BranchData, header: str) -> str:
    k = _key(header)
    return next(h for h in data.office_columns if _key(h) == k)


def column_times(col: OfficeColumn, *, date1904: bool = False) -> dict[int, datetime]:
    """Row → the time in an office's done column (unreadable cells left out: reported at their cell)."""
    out = {}
    for row, raw in col.values.items():
        try:
            t = cells.parse_datetime(raw, date1904=date1904)
        except cells.CellError:
            continue
        if t is not None:
            out[row] = t
    return out


def office_value(col: OfficeColumn | None, row: int | None) -> str | None:
    """A dimension's value in a record's row, as text (blank: None)."""
    if col is None or row is None:
        return None
    raw = col.values.get(row)
    if raw is None:
        return None
    text = cells.normalize_text(raw) if isinstance(raw, str) else cells.header_key(raw) and str(
        int(raw) if isinstance(raw, float) and raw.is_integer() else raw)
    return " ".join(text.split()) or None


# --------------------------------------------------------------------------- timing
class StageBook:
    """The custom stages of one branch at one ``now``, evaluated per complaint after its built-in stages."""

    def __init__(self, data: BranchData, cal: WorkCalendar, now: datetime, *, date1904: bool = False) -> None:
        s = data.settings
        self.cal, self.now, self.due_soon_percent = cal, now, s.due_soon_percent
        self.order = stage_order(s.custom_stages)
        self.rules: dict[str, list[Any]] = defaultdict(list)
        self.defs: dict[str, CustomStage] = {}
        for r in s.custom_stages:
            self.rules[r.name or ""].append(r.as_rule())
            self.defs.setdefault(r.name or "", r)
        steps = {r.done_step for r in s.custom_stages if r.done_step}
        self.steps: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for t in data.tracking:
            if t.no and t.at and t.step in steps and t.at <= now:
                self.steps[(t.no, t.step or "")].append(t.at)
        for times in self.steps.values():
            times.sort()
        self.columns: dict[str, dict[int, datetime]] = {}
        for r in s.custom_stages:
            if r.done_column and r.name and r.name not in self.columns:
                header = next((h for h in data.office_columns if _key(h) == _key(r.done_column)), None)
                col = data.office_columns.get(header or "")
                self.columns[r.name] = {} if col is None else column_times(col, date1904=date1904)

    def evaluate(self, c: Complaint, cycle: Cycle, r: ComplaintResult) -> tuple[StageResult, ...]:
        """The results of the custom stages that apply to ``c``, in stage order (none for an invalid
        complaint or one without a readable received time)."""
        if c.received_at is None or c.validity == "invalid" or not self.order:
            return ()
        closed = r.stages["close"].done_at
        done: dict[str, datetime | None] = {}
        out = []
        for name in self.order:
            rule = rule_for(name, c, self.rules[name])
            if rule is None:
                continue
            d = self.defs[name]
            start = d.start or RECEIVED
            anchor = (c.received_at if start == RECEIVED else
                      r.stages[start].done_at if start in r.stages else done.get(start))
            if d.done_column:
                t = self.columns.get(name, {}).get(c.row or 0)
                events = [t] if t is not None and t <= self.now else []
            else:
                events = [t for t in self.steps.get((c.no or "", d.done_step or ""), ())
                          if anchor is None or t >= anchor]
            result = self._stage(name, rule.amount or 0.0, Unit(rule.unit or ""), anchor, events, bool(d.recurring),
                                 closed, cycle)
            done[name] = result.done_at
            out.append(result)
        return tuple(out)

    def _stage(self, name: str, amount: float, unit: Unit, anchor: datetime | None, events: list[datetime],
               recurring: bool, closed: datetime | None, cycle: Cycle) -> StageResult:
        cal, pauses = self.cal, cycle.pauses
        if anchor is None:  # nothing to count from: not yet, or never once the case is closed
            status = StageStatus.NOT_APPLICABLE if closed else StageStatus.NOT_DUE
            return StageResult(name, status, None, events[0] if events and not recurring else None, None, unit)
        if not recurring:
            due = cal.add(anchor, amount, unit, pauses=pauses).at
            done_at = events[0] if events else None
            if done_at is not None:
                late = None if done_at <= due else round(cal.elapsed(due, done_at, unit), 2)
                return StageResult(name, StageStatus.DONE_LATE if late is not None else StageStatus.DONE_ON_TIME,
                                   due, done_at, late, unit)
            return self._not_done(name, amount, unit, due, closed)
        # Repeating: due ``amount`` after the start, then after each completion, until the case is closed.
        t, worst, last = anchor, None, None
        for e in events:
            if e <= t or (closed is not None and e > closed):
                continue
            due = cal.add(t, amount, unit, pauses=pauses).at
            if e > due:
                late = round(cal.elapsed(due, e, unit), 2)
                worst = late if worst is None else max(worst, late)
            t = last = e
        due = cal.add(t, amount, unit, pauses=pauses).at
        if closed is None or due < closed:
            return self._not_done(name, amount, unit, due, closed)
        if last is None:
            return StageResult(name, StageStatus.NOT_APPLICABLE, due, None, None, unit)
        status = StageStatus.DONE_LATE if worst is not None else StageStatus.DONE_ON_TIME
        return StageResult(name, status, due, last, worst, unit)

    def _not_done(self, name: str, amount: float, unit: Unit, due: datetime, closed: datetime | None) -> StageResult:
        """As the built-in stages (``deadlines.Evaluator``): closed without it, a miss if already due
        (else not applicable); open, overdue from its due time on, due soon when the time left is
        strictly less than the Settings' share of the limit (both in the rule's unit), else not due."""
        cal, now = self.cal, self.now
        if closed is not None:
            if due < closed:
                return StageResult(name, StageStatus.MISSED, due, None, round(cal.elapsed(due, closed, unit), 2),
                                   unit)
            return StageResult(name, StageStatus.NOT_APPLICABLE, due, None, None, unit)
        if now >= due:
            return StageResult(name, StageStatus.OVERDUE, due, None, round(cal.elapsed(due, now, unit), 2), unit)
        left = cal.elapsed(now, due, unit)
        if left < amount * self.due_soon_percent / 100:
            return StageResult(name, StageStatus.DUE_SOON, due, None, round(left, 2), unit)
        return StageResult(name, StageStatus.NOT_DUE, due, None, None, unit)
