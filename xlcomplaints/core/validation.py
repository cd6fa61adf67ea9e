"""Rules across cells and sheets, run after every cell has been read.

Each rule yields located problems; reading problems (types, allowed values, required
cells) come from ``rows``. Pure over the records and their layouts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import attrgetter

from xlcomplaints.core.lifecycle import STEP_DONE
from xlcomplaints.core.models import BranchData, CalendarEntry, Complaint
from xlcomplaints.core.policy import DONE_FIELD, STAGES
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.refresh import CALLBACK_KEYS, REGISTER_KEYS, TRACKING_KEYS, ComputedCells
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
    "computed.typed_over": (
        "“{column}”是计算列（灰底），现为“{value}”，与“刷新”按本行内容算出的值“{expected}”不同，也不是上次刷新写入的；"
        "下次刷新会替换它。要改变结果，请修改本行的白底列。",
        "'{column}' is a computed (grey) column holding '{value}', which is neither what Refresh computes from "
        "this row ('{expected}') nor what the last refresh wrote; the next refresh replaces it. To change the "
        "result, change the row's white columns."),
    "computed.replaced": (
        "“{column}”原为“{value}”（不是上次刷新写入的值），已替换为计算值“{expected}”。",
        "'{column}' held '{value}' (not what the last refresh wrote); replaced with the computed '{expected}'."),
}
register_messages(MESSAGES)

#: Stage timestamps, and the ones each must not precede (besides receipt).
STAGE_TIMES = tuple(DONE_FIELD[s] for s in STAGES)
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
        received = c.received_at
        stamped = list(filter(None, _stage_times(c)))  # the stage times entered (a datetime is never false)
        # The usual complaint breaks neither rule below: two comparisons tell, before any loop.
        if ((received is not None and received > future) or
                (stamped and (max(stamped) > future or (received is not None and min(stamped) < received)))):
            times = [(key, t) for key in STAGE_TIMES if (t := getattr(c, key)) is not None]
            for key, t in ((("received_at", received),) if received is not None else ()) + tuple(times):
                if t > future:
                    yield layout.problem(Level.WARNING, "time.future", c.row, key, t, value=_fmt(t), now=_fmt(now))
            if received is not None:
                for key, t in times:
                    if t < received:
                        yield layout.problem(Level.ERROR, "time.before_received", c.row, key, t,
                                             received=_fmt(received))
        for key, before, times_of in _ORDER_TIMES:
            t, b = times_of(c)
            if t is not None and b is not None and t < b:
                yield layout.problem(Level.ERROR, "time.out_of_order", c.row, key, t,
                                     before=layout.headers.get(before) or layout.spec.column(before).zh,
                                     before_value=_fmt(b))
        if c.handler and c.person_complained and c.handler.strip() == c.person_complained.strip():
            yield layout.problem(Level.WARNING, "handler.conflict", c.row, "handler", c.handler, value=c.handler)


#: Register stage column → the tracking step that records the same moment.
TRACKED: dict[str, str] = {DONE_FIELD[stage]: step for step, stage in STEP_DONE.items()}
SAME_MOMENT = timedelta(minutes=1)
_stage_times = attrgetter(*STAGE_TIMES)
#: Each ``ORDER`` pair with the getter of its two times.
_ORDER_TIMES = tuple((key, before, attrgetter(key, before)) for key, before in ORDER)
_tracked_times = attrgetter(*TRACKED)


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
        no = c.no
        if not no:
            continue
        for (key, step), typed in zip(TRACKED.items(), _tracked_times(c), strict=True):
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


# ---------------------------------------------------------------------------- computed cells
# What refresh last wrote is known by a checksum it keeps on the Summary sheet: order-free over
# the records' computed values, so sorting or inserting rows does not disturb it. When the cells
# still add up to it, nothing was typed over. When they do not, a filled computed cell is
# reported if it holds neither what refresh computes now nor what it would have computed at the
# last refresh (the time on the Summary sheet) from the row as it stands; a row whose white
# cells changed since then may be reported with it. A blank cell is never reported (not yet
# computed, or cleared).


@dataclass
class ComputedRead:
    """A sheet's computed cells as read: the filled ones that differ from the plan, and the checksum."""

    layout: Layout
    expected: ComputedCells
    differences: list[tuple[int, str, object]] = field(default_factory=list)
    digest: int = 0


def kept_keys(layout: Layout, computed: ComputedCells) -> list[str]:
    """The computed columns this sheet has (an office may delete some)."""
    return [key for key in computed.keys if key in layout.columns]


def read_computed(rows: Iterable[Sequence[object]], layout: Layout, expected: ComputedCells) -> ComputedRead:
    """One pass over a sheet's rows (from row 1, as the port streams them): the checksum of its
    computed cells and the filled ones of records that differ from ``expected``."""
    found = ComputedRead(layout, expected)
    keys = kept_keys(layout, expected)
    cols = [(key, layout.columns[key] - 1, expected.keys.index(key)) for key in keys]
    if not cols:
        return found
    skip = set(layout.totals_rows)
    for r, row in enumerate(rows, start=1):
        if r <= layout.header_row or r in skip:
            continue
        held = [row[c] if c < len(row) else None for _, c, _ in cols]
        found.digest = (found.digest + _row_hash(held)) % _MOD
        values = expected.rows.get(r)
        if values is not None:
            found.differences += [(r, key, v) for (key, _, i), v in zip(cols, held, strict=True)
                                  if not _blank_value(v) and not same_value(v, values[i])]
    return found


#: The computed columns of each sheet refresh writes, in the order the checksum takes them.
COMPUTED_KEYS: dict[str, tuple[str, ...]] = {
    "register": REGISTER_KEYS, "tracking": TRACKING_KEYS, "callbacks": CALLBACK_KEYS}


class DigestTap:
    """The checksum ``read_computed`` takes of a sheet's computed cells, taken instead while the
    reader streams the sheet's rows once. It buys the common refresh — grey cells as the last refresh
    left them — a second read of the register (for 50,000 rows: about 160 MiB of peak memory and a
    second or two); its equivalence test is ``tests/test_typed_over_digest.py``."""

    def __init__(self, layout: Layout, keys: Sequence[str]) -> None:
        self.layout = layout
        self.cols = [layout.columns[key] - 1 for key in keys if key in layout.columns]
        self.hashes: dict[int, int] = {}

    def __call__(self, r: int, row: Sequence[object]) -> None:
        if self.cols and r > self.layout.header_row:
            self.hashes[r] = _row_hash([row[c] if c < len(row) else None for c in self.cols])

    def digest(self) -> int:
        skip = set(self.layout.totals_rows)
        return sum(h for r, h in self.hashes.items() if r not in skip) % _MOD

    def filled(self) -> bool:
        """Whether any grey cell holds something (a blank one is never reported)."""
        skip = set(self.layout.totals_rows)
        return any(h for r, h in self.hashes.items() if r not in skip)


def written_digest(layout: Layout, computed: ComputedCells) -> int:
    """The checksum of what refresh writes into a sheet's computed cells (``read_computed`` reads it back)."""
    at = [computed.keys.index(key) for key in kept_keys(layout, computed)]
    total = 0
    for values in computed.rows.values():
        total = (total + _row_hash([values[i] for i in at])) % _MOD
    return total


_MOD = 2**64


def _row_hash(values: Sequence[object]) -> int:
    if all(map(_blank_value, values)):
        return 0
    text = "\x1f".join(map(_canonical, values))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


_EPOCH = datetime(1900, 1, 1)


def _canonical(value: object) -> str:
    """A value as written and as read back alike: blanks as "", times to the second, numbers to
    9 digits, text without surrounding spaces. The common types are tested first (it runs per cell)."""
    kind = type(value)
    if kind is str:
        return value.strip()  # type: ignore[attr-defined]
    if value is None:
        return ""
    if kind is float or kind is int:
        return format(float(value), ".9g")  # type: ignore[arg-type]
    if kind is date:
        value = datetime.combine(value, time())  # type: ignore[arg-type]
    if isinstance(value, datetime):  # seconds since a fixed naive epoch: no time zone enters
        return f"t{round((value - _EPOCH).total_seconds())}"
    return str(value).strip()


def typed_over(read: ComputedRead, previous: ComputedCells | None, code: str) -> list[Problem]:
    """The differences the last refresh (``previous``: its plan from the rows as they stand, None
    when never refreshed) does not explain either, as warnings at their cells."""
    out = []
    for r, key, held in read.differences:
        if previous is not None and r in previous.rows and same_value(held, previous.get(r, key)):
            continue
        out.append(read.layout.problem(Level.WARNING, code, r, key, held, value=shown(held),
                                       expected=shown(read.expected.get(r, key))))
    return out


def _blank_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same_value(held: object, computed: object) -> bool:
    """A cell as read back equals the value refresh writes: blanks alike, times to the second
    (a date serial's rounding), numbers to float precision."""
    return held == computed or _canonical(held) == _canonical(computed)


def shown(value: object) -> str:
    if _blank_value(value):
        return ""
    if isinstance(value, datetime):
        return _fmt(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
