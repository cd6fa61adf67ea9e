"""Each complaint's stages as they stood at the as-of time, from the written rules.

Sources of each rule (docs/sheets.md unless said otherwise; R1–R9 are the lead's decisions
for issue 16):

- Stages: acknowledge, first contact, report, resolve, reply, callback, close. Invalid
  complaints have no handling deadlines, and only valid and assist ones (or those with
  validity blank) a first contact.
- The limit: the Settings SLA table, one row per stage × severity (blank = all), optionally
  by category, channel, complexity; the most specific matching row wins. A blank
  complexity counts as simple (R9).
- Done times: a time typed in the Register wins, blank ones come from Tracking (联系客户 →
  first contact, 上报管理层 → report, 处理完成 → resolve, 答复客户 → reply, 结案 → close) and
  for the callback from the Callbacks sheet (a callback that reached the customer).
- Every limit counts from receipt, the callback's from resolution (or the reply when no
  resolution time is known).
- R1 reopening: within one handling cycle (after a resolution and before the next), any
  不满意 callbacks and 重新处理 steps together are one reopening; it restarts the resolve,
  reply, callback and close clocks from its first record (only times after it count for
  those stages: the unsatisfied callback that reopens the case is the old cycle's).
- Pauses: 等待客户 / 冷处理 pause the resolve, reply and close clocks until the next of the steps
  the pause rule of docs/sheets.md lists ("直到其后第一个以下步骤：…", read by ``resuming_steps``).
- R3/R5 closing, R4 as-of: see ``outcome``.
- R8: the callback is given up after the Settings' number of unreachable attempts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.audit.clock import Clock
from tests.audit.inputs import DOCS, Branch, Callback, Complaint, Rule, Step, choice, when

STAGES = ("acknowledge", "first_contact", "report", "resolve", "reply", "callback", "close")
STEP_DONE = {"contacted": "first_contact", "reported": "report", "resolved": "resolve",
             "replied": "reply", "closed": "close"}
RESTARTED = ("resolve", "reply", "callback", "close")
PAUSED = ("resolve", "reply", "close")
PAUSE_STEPS = ("waiting_customer", "cold_handling")


def resuming_steps() -> frozenset[str]:
    """The steps that end a pause, as the pause rule of docs/sheets.md names them:
    "…暂停…的时限，直到其后第一个以下步骤：“分派”、“转派”、…；"."""
    m = re.search(r"直到其后第一个以下步骤：([^；。]+)", DOCS.read_text(encoding="utf-8"))
    assert m, "docs/sheets.md no longer says which steps end a pause"
    steps = {choice("step", name) for name in re.findall(r"“([^”]+)”", m.group(1))}
    assert steps and None not in steps, m.group(1)
    return frozenset(s for s in steps if s)


RESUMING = resuming_steps()


@dataclass
class Stage:
    name: str
    unit: str | None = None
    anchor: datetime | None = None
    due: datetime | None = None
    done: datetime | None = None
    #: At the as-of time: "on_time", "late" (done late, or due and not done), "missed_at_close"
    #: (late: due before the close and never done), "n/a" (left out) or "pending" (neither done nor due).
    outcome: str = "n/a"
    #: A repeating custom stage done late: its latest update's lateness ("超时取最大一次").
    late: float | None = None


@dataclass
class Case:
    c: Complaint
    stages: dict[str, Stage] = field(default_factory=dict)
    reopenings: int = 0
    reopen_start: datetime | None = None
    closed_at: datetime | None = None
    escalated_step: bool = False
    reached: list[Callback] = field(default_factory=list)
    gave_up: bool = False
    #: Each stage's done time at the as-of time (None: not done), whether or not the stage has a deadline.
    done: dict[str, datetime | None] = field(default_factory=dict)


def rule_for(stage: str, c: Complaint, rules: list[Rule]) -> Rule | None:
    """The most specific row of the SLA table matching the complaint (blank complexity = simple)."""
    best: tuple[int, Rule] | None = None
    complexity = c.complexity or "simple"
    for r in rules:
        if r.stage != stage:
            continue
        pairs = ((r.severity, c.severity), (r.category, c.category), (r.channel, c.channel),
                 (r.complexity, complexity))
        if any(want is not None and want != have for want, have in pairs):
            continue
        score = sum(want is not None for want, _ in pairs)
        if best is None or score > best[0]:
            best = (score, r)
    return best[1] if best else None


def build(b: Branch, c: Complaint, steps: list[Step], calls: list[Callback], clock: Clock,
          asof: datetime) -> Case:
    """The complaint as the workbook stood at ``asof`` (R4: later records have not happened)."""
    case = Case(c)
    steps = sorted((s for s in steps if s.at <= asof), key=lambda s: (s.at, s.order))
    calls = sorted((a for a in calls if a.at <= asof), key=lambda a: (a.at, a.order))
    case.escalated_step = any(s.step == "escalated" for s in steps)
    case.reached = [a for a in calls if a.outcome in ("satisfied", "unsatisfied")]
    # R1: cycles are separated by resolutions; the first reopening record of a cycle starts it again.
    resolutions = [s.at for s in steps if s.step == "resolved"]
    typed_resolve = c.typed["resolve"]
    if typed_resolve is not None and typed_resolve <= asof:
        resolutions.append(typed_resolve)
    events = sorted([(t, 0, "resolution") for t in resolutions]
                    + [(s.at, 1, "reopen") for s in steps if s.step == "reopened"]
                    + [(a.at, 1, "reopen") for a in calls if a.outcome == "unsatisfied"])
    in_reopening = False
    for at, _, what in events:
        if what == "resolution":
            in_reopening = False
        elif not in_reopening:
            in_reopening = True
            case.reopenings += 1
            case.reopen_start = at
    # Pauses.
    pauses: list[tuple[datetime, datetime]] = []
    start: datetime | None = None
    for s in steps:
        if start is not None and s.step in RESUMING:
            pauses.append((start, s.at))
            start = None
        if s.step in PAUSE_STEPS and start is None:
            start = s.at
    if start is not None:
        pauses.append((start, max(asof, start)))
    # Done times: the Register's wins, Tracking / Callbacks fill in (first record of the current cycle).
    done: dict[str, datetime | None] = {}
    for name in STAGES:
        since = case.reopen_start if name in RESTARTED else None
        typed = c.typed[name]
        if typed is not None and (typed > asof or (since is not None and typed <= since)):
            typed = None
        tracked = None
        if name == "callback":
            tracked = next((a.at for a in case.reached if since is None or a.at > since), None)
        else:
            tracked = next((s.at for s in steps if STEP_DONE.get(s.step) == name
                            and (since is None or s.at > since)), None)
        done[name] = (typed or tracked) if b.register_first else (tracked or typed)
    case.closed_at = done["close"]
    case.done = done
    failed = 0
    retry_due: datetime | None = None  # Definitions, "Retrying an unreachable callback"
    for a in calls:
        if case.reopen_start is not None and a.at < case.reopen_start:
            continue
        if a.outcome == "unreachable":
            failed += 1
            hours = b.retry_hours[min(failed, len(b.retry_hours)) - 1]
            retry_due = None if failed >= b.max_attempts else a.at + timedelta(hours=hours)
        else:
            failed = 0
            retry_due = None
    case.gave_up = done["callback"] is None and failed >= b.max_attempts
    if c.received is None:
        return case
    for name in STAGES:
        st = case.stages[name] = Stage(name, done=done[name])
        if c.validity == "invalid" or (name == "first_contact" and c.validity not in (None, "valid", "assist")):
            continue
        rule = rule_for(name, c, b.rules)
        if rule is None:
            continue
        st.unit = rule.unit
        if name == "callback":
            st.anchor = done["resolve"] or done["reply"]
        elif name in RESTARTED and case.reopen_start is not None:
            st.anchor = max(c.received, case.reopen_start)
        else:
            st.anchor = c.received
        if st.anchor is None:  # the callback of a case not yet resolved nor replied: nothing to count from
            st.outcome = "n/a" if case.closed_at else "pending"
            continue
        st.due = clock.due(st.anchor, rule.amount, rule.unit, pauses if name in PAUSED else [])
        if name == "callback" and st.done is None and retry_due is not None:
            st.due = retry_due
        st.outcome = outcome(st, case.closed_at, asof)
    if c.validity != "invalid":
        custom_stages(b, case, steps, clock, asof, pauses)
    return case


STAGE_WORDS = {"受理": "received", "受理时间": "received"}


def custom_stages(b: Branch, case: Case, steps: list[Step], clock: Clock, asof: datetime,
                  pauses: list[tuple[datetime, datetime]]) -> None:
    """The office's own stages (docs/sheets.md "Custom stages", the Definitions' 自定义环节), added to
    ``case.stages`` under their names: from receipt (受理) or a stage's completion (a built-in stage's
    label, or another custom stage's name) to the first Tracking row of the chosen step at or after the
    start, or the time in the named Register column; the same calendar, and the pauses push its due time.
    A repeating one starts its limit again at each completion until the close."""
    c = case.c
    names = list(dict.fromkeys(r.name for r in b.custom))
    done: dict[str, datetime | None] = {}

    def evaluate(name: str) -> None:
        rows = [r for r in b.custom if r.name == name]
        rule = rule_for(name, c, [Rule(name, r.severity, r.category, r.channel, r.complexity, r.amount, r.unit)
                                  for r in rows])
        done[name] = None
        if rule is None:
            return
        d = rows[0]
        start = STAGE_WORDS.get(d.start) or choice("stage", d.start) or d.start
        if start in names and start not in done:
            evaluate(start)
        anchor = (c.received if start == "received" else case.stages[start].done if start in STAGES
                  else done.get(start))
        st = case.stages[name] = Stage(name, unit=rule.unit, anchor=anchor)
        if d.done_column:
            t = when(c.cells.get(d.done_column))
            events = [t] if t is not None and t <= asof else []
        else:
            events = [s.at for s in steps if s.step == d.done_step and (anchor is None or s.at >= anchor)]
        if anchor is None:
            st.outcome = "n/a" if case.closed_at else "pending"
            return
        if not d.recurring:
            st.done = events[0] if events else None
            st.due = clock.due(anchor, rule.amount, rule.unit, pauses)
            st.outcome = outcome(st, case.closed_at, asof)
            done[name] = st.done
            return
        t, worst, last = anchor, None, None
        for e in events:
            if e <= t or (case.closed_at is not None and e > case.closed_at):
                continue
            due = clock.due(t, rule.amount, rule.unit, pauses)
            if e > due:
                late = clock.elapsed(due, e, rule.unit)
                worst = late if worst is None else max(worst, late)
            t = last = e
        st.due = clock.due(t, rule.amount, rule.unit, pauses)
        if case.closed_at is None:
            st.outcome = "late" if st.due <= asof else "pending"
        elif st.due <= case.closed_at:
            st.outcome = "missed_at_close"
        else:
            st.done, st.late = last, worst
            st.outcome = "n/a" if last is None else "late" if worst is not None else "on_time"
        done[name] = st.done

    for name in names:
        if name not in done:
            evaluate(name)


def outcome(st: Stage, closed_at: datetime | None, asof: datetime) -> str:
    """R4: done by the as-of time → on time (done ≤ due) or late; due at or before the as-of time
    and not done → late; neither → pending (left out). R3: in a case closed by then, a stage never
    done whose due time had passed at the close stays missed (late); one not yet due at the close
    becomes 不适用 (left out)."""
    assert st.due is not None
    if st.done is not None:
        return "on_time" if st.done <= st.due else "late"
    if closed_at is not None and st.name != "close":
        return "missed_at_close" if st.due <= closed_at else "n/a"
    return "late" if st.due <= asof else "pending"
