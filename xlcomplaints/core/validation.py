"""Rules across cells and sheets, run after every cell has been read.

Each rule yields located problems; reading problems (types, allowed values, required
cells) come from ``rows``. Pure over the records and their layouts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from operator import itemgetter

from xlcomplaints.core.models import BranchData, CalendarEntry, Complaint
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.rows import Layout
from xlcomplaints.spec.vocab import CALENDAR_KIND

MESSAGES = {
    "no.missing": ("投诉编号为空：可点“编号”或运行 xlcomplaints assign-ids 自动编号。",
                   "No complaint number: click Assign numbers or run xlcomplaints assign-ids."),
    "no.duplicate": ("投诉编号 {value} 重复（第一次出现在 {first}）。", "Complaint number {value} is used twice (first at {first})."),
    "time.before_received": ("“{column}”早于受理时间 {received}。", "'{column}' is before the time received ({received})."),
    "time.out_of_order": ("“{column}”早于“{before}”（{before_value}）。", "'{column}' is before '{before}' ({before_value})."),
    "time.future": ("“{column}”在未来（{value}），晚于现在 {now}。", "'{column}' is in the future ({value}), after now ({now})."),
    "ref.unknown_no": ("投诉编号 {value} 在投诉登记表中不存在。", "Complaint number {value} is not in the Register."),
    "time.disagrees": ("“{column}”为 {value}，处理跟踪表记录为 {tracked}（{rule}）。",
                       "'{column}' says {value}; the Tracking sheet says {tracked} ({rule})."),
    "closed.no_satisfied_callback": ("已结案但没有“满意”的回访记录。", "Closed without a satisfied callback."),
    "handler.conflict": ("处理人与被投诉人相同（{value}），应回避。",
                         "The handler is the person complained about ({value}); someone else must handle it."),
    "calendar.closed_and_working": (
        "{value} 在第 {other} 行记为“{other_kind_zh}”，在本行记为“{kind_zh}”：同一天不能既休息又上班；"
        "在改正之前按休息日计算。请删去其中一行。",
        "{value} is marked '{other_kind_en}' on row {other} and '{kind_en}' here: a day cannot be both closed "
        "and a working day; until this is fixed it counts as closed. Delete one of the rows."),
}
register_messages(MESSAGES)

#: Stage timestamps, and the ones each must not precede (besides receipt).
STAGE_TIMES = ("acknowledged_at", "first_contact_at", "reported_at", "resolved_at", "replied_at",
               "callback_at", "closed_at")
ORDER: tuple[tuple[str, str], ...] = (
    ("replied_at", "resolved_at"),
    ("callback_at", "resolved_at"),
    ("closed_at", "resolved_at"),
)
FUTURE_SLACK = timedelta(days=1)


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def validate(data: BranchData, layouts: Mapping[str, Layout], *, now: datetime) -> list[Problem]:
    """Cross-cell and cross-sheet rules; ``now`` decides what is 'in the future'."""
    out: list[Problem] = []
    reg = layouts.get("register")
    if reg is not None:
        out += _register_rules(data.complaints, reg, now)
        out += _lifecycle_rules(data, reg)
    cal = layouts.get("calendar")
    if cal is not None:
        out += _calendar_rules(data, cal)
        numbers = {c.no for c in data.complaints if c.no}
        future = now + FUTURE_SLACK
        for kind, records in (("tracking", data.tracking), ("callbacks", data.callbacks)):
            layout = layouts.get(kind)
            if layout is None:
                continue
            for rec in records:
                if rec.no and rec.no not in numbers:
                    out.append(layout.problem(Level.ERROR, "ref.unknown_no", rec.row, "no", rec.no, value=rec.no))
                if rec.at and rec.at > future:
                    out.append(layout.problem(Level.WARNING, "time.future", rec.row, "at", rec.at,
                                              value=_fmt(rec.at), now=_fmt(now)))
    return out


def _register_rules(complaints: tuple[Complaint, ...], layout: Layout, now: datetime) -> Iterator[Problem]:
    first_seen: dict[str, int] = {}
    future = now + FUTURE_SLACK
    for c in complaints:
        if not c.no:
            yield layout.problem(Level.WARNING, "no.missing", c.row, "no")
        elif c.no in first_seen:
            yield layout.problem(Level.ERROR, "no.duplicate", c.row, "no", c.no, value=c.no,
                                 first=layout.cell(first_seen[c.no], "no"))
        else:
            first_seen[c.no] = c.row or 0
        fields = c.__dict__  # the record's values: one dict read per time, not an attribute lookup
        received = fields["received_at"]
        stamped = list(filter(None, _stage_times(fields)))  # the stage times entered (a datetime is never false)
        # The usual complaint breaks neither rule below: two comparisons tell, before any loop.
        if ((received is not None and received > future) or
                (stamped and (max(stamped) > future or (received is not None and min(stamped) < received)))):
            times = [(key, t) for key in STAGE_TIMES if (t := fields[key]) is not None]
            for key, t in ((("received_at", received),) if received is not None else ()) + tuple(times):
                if t > future:
                    yield layout.problem(Level.WARNING, "time.future", c.row, key, t, value=_fmt(t), now=_fmt(now))
            if received is not None:
                for key, t in times:
                    if t < received:
                        yield layout.problem(Level.ERROR, "time.before_received", c.row, key, t,
                                             received=_fmt(received))
        for key, before in ORDER:
            t, b = fields[key], fields[before]
            if t is not None and b is not None and t < b:
                yield layout.problem(Level.ERROR, "time.out_of_order", c.row, key, t,
                                     before=layout.headers.get(before) or layout.spec.column(before).zh,
                                     before_value=_fmt(b))
        if c.handler and c.person_complained and c.handler.strip() == c.person_complained.strip():
            yield layout.problem(Level.WARNING, "handler.conflict", c.row, "handler", c.handler, value=c.handler)


#: Register stage column → the tracking step that records the same moment.
TRACKED: dict[str, str] = {"first_contact_at": "contacted", "reported_at": "reported", "resolved_at": "resolved",
                           "replied_at": "replied", "closed_at": "closed"}
SAME_MOMENT = timedelta(minutes=1)
_stage_times = itemgetter(*STAGE_TIMES)
_tracked_times = itemgetter(*TRACKED)


def _lifecycle_rules(data: BranchData, layout: Layout) -> Iterator[Problem]:
    """The Register against the Tracking and Callbacks sheets."""
    step_times: dict[tuple[str, str], list[datetime]] = {}
    for s in sorted((s for s in data.tracking if s.no and s.at and s.step), key=lambda s: s.at):  # type: ignore[arg-type, return-value]
        step_times.setdefault((s.no, s.step), []).append(s.at)  # type: ignore[arg-type]
    outcomes: dict[str, list[str]] = {}
    for a in data.callbacks:
        if a.no and a.outcome:
            outcomes.setdefault(a.no, []).append(a.outcome)
    rule = data.settings.timestamps_rule
    rule_text = "以登记表为准" if rule == "register" else "以处理跟踪表为准"
    for c in data.complaints:
        fields = c.__dict__
        no: str | None = fields["no"]
        if not no:
            continue
        for (key, step), typed in zip(TRACKED.items(), _tracked_times(fields), strict=True):
            if typed is None or (tracked := step_times.get((no, step))) is None:
                continue
            # A reopened case is resolved (replied, …) more than once: any matching step agrees.
            if all(abs(typed - t) > SAME_MOMENT for t in tracked):
                yield layout.problem(Level.WARNING, "time.disagrees", c.row, key, typed, value=_fmt(typed),
                                     tracked=", ".join(_fmt(t) for t in tracked), rule=rule_text)
        closed = c.closed_at is not None or (c.no, "closed") in step_times
        got = outcomes.get(no, [])
        gave_up = got.count("unreachable") >= data.settings.callback_max_attempts
        if closed and c.validity != "invalid" and "satisfied" not in got and not gave_up:
            yield layout.problem(Level.WARNING, "closed.no_satisfied_callback", c.row, "closed_at", c.closed_at)


def _calendar_rules(data: BranchData, layout: Layout) -> Iterator[Problem]:
    """A date the Calendar sheet marks both closed and working, at the second row's kind cell."""
    first: dict[date, CalendarEntry] = {}
    for e in data.calendar:
        if e.date is None or e.kind is None:
            continue
        seen = first.setdefault(e.date, e)
        if seen.kind is not None and seen.kind != e.kind:
            yield layout.problem(Level.ERROR, "calendar.closed_and_working", e.row, "kind", e.kind,
                                 value=e.date.isoformat(), other=seen.row,
                                 kind_zh=CALENDAR_KIND.label(e.kind, "zh"), kind_en=CALENDAR_KIND.label(e.kind, "en"),
                                 other_kind_zh=CALENDAR_KIND.label(seen.kind, "zh"),
                                 other_kind_en=CALENDAR_KIND.label(seen.kind, "en"))
