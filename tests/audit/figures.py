"""The report's figures, each recomputed from the words that define it, for any period.

The Definitions' 统计期间 row says what 本期 and 上期 are: a month, an ISO week (Monday 00:00 to the
next Monday), a quarter, a year or a run of days; the previous period is the one just before of the
same kind, a run of days' the as many days just before it. ``Period`` below is that, read from the words.

Each figure is a function whose docstring is the sentence of the report's Definitions
sheet (指标说明) it implements, followed by the lead's issue-16 rule it also applies:

- R1 one reopening per handling cycle, however many sheets record it; it restarts the
  resolve, reply, callback and close clocks from its first record.
- R2 invalid (无效) complaints are left out of every rate and average, satisfaction and
  average score included.
- R3 a stage never done before the close stays missed if its due time had passed at the
  close, else it is 不适用 (left out).
- R4 the workbook as it stood at the as-of time: later records have not happened; a stage
  due in the month counts in an on-time figure once its outcome is known: done by then (even
  if due after the as-of time), or due by then and not done.
- R5 the callback of a closed case with no resolution or reply time is 不适用.
- R8 a given-up callback is attempted, not reached.
- R9 the callback's time is measured from the resolution (or the reply); a repeat is
  matched on the phone number's last 11 digits, on the name only when there is no phone,
  invalid complaints not matched; a blank complexity counts as simple; "(未填)" rows also
  hold values not recognised; rows whose received time cannot be read are left out of the
  month.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.audit.clock import Clock
from tests.audit.inputs import Branch, Callback, Complaint, read_branch
from tests.audit.stages import STAGES, Case, build

BLANK = "blank"  # the report's （未填） row
TOTAL = "total"  # the report's 合计 row
LATE = ("late", "missed_at_close")
COUNTED = ("on_time", *LATE)


@dataclass
class Period:
    """本期: [start, end), seen as of ``asof``; ``kind`` is month, week, quarter, year or days."""

    start: datetime
    end: datetime
    asof: datetime
    kind: str = "month"

    def holds(self, t: datetime | None) -> bool:
        """Something that happened in the month by the as-of time (a receipt, a close, a callback)."""
        return t is not None and self.start <= t < self.end and t <= self.asof

    def falls_in(self, t: datetime | None) -> bool:
        """A due time in the month, before or after the as-of time: whether its deadline counts is its
        outcome's business (R4: once done, or once due and not done)."""
        return t is not None and self.start <= t < self.end


@dataclass
class Audit:
    """Every complaint of every branch, evaluated at one month's as-of time."""

    branches: list[Branch]
    cases: list[Case]
    clocks: dict[str, Clock]
    month: Month

    @property
    def readable(self) -> list[Case]:
        """The complaints received by the as-of time (R4: the workbook as it stood then); rows whose
        received time cannot be read are left out (R9)."""
        return [k for k in self.cases if k.c.received is not None and k.c.received <= self.month.asof]

    def received(self) -> list[Case]:
        return [k for k in self.readable if self.month.holds(k.c.received)]

    def to_handle(self, cases: Iterable[Case] | None = None) -> list[Case]:
        return [k for k in (self.received() if cases is None else cases) if k.c.validity != "invalid"]

    def closed_in_month(self) -> list[Case]:
        """By close time: rows whose received time cannot be read count here too (only the receipt
        month leaves them out)."""
        return [k for k in self.cases if k.c.validity != "invalid" and self.month.holds(k.closed_at)]


def audit(paths: Iterable[Path], month: Month) -> Audit:
    branches = [read_branch(p) for p in paths]
    cases: list[Case] = []
    clocks: dict[str, Clock] = {}
    for b in branches:
        clock = clocks[b.code] = Clock(b.office_start, b.office_end, b.closures, b.working)
        steps: dict[str, list] = {}
        calls: dict[str, list] = {}
        for s in b.steps:
            steps.setdefault(s.no, []).append(s)
        for a in b.callbacks:
            calls.setdefault(a.no, []).append(a)
        for c in b.complaints:
            no = c.no or ""
            cases.append(build(b, c, steps.get(no, []) if no else [], calls.get(no, []) if no else [],
                               clock, month.asof))
    return Audit(branches, cases, clocks, month)


Month = Period  # the name the month-only auditor used


def months(year: int, month: int, asof: datetime | None = None) -> Period:
    start = datetime(year, month, 1)
    end = datetime(year + month // 12, month % 12 + 1, 1)
    return Period(start, end, asof or end)


def iso_week(year: int, week: int, asof: datetime | None = None) -> Period:
    """统计期间: an ISO week runs Monday 00:00 to the next Monday 00:00; week 1 holds the year's first Thursday."""
    jan4 = datetime(year, 1, 4)  # always in week 1
    start = jan4 - timedelta(days=jan4.weekday()) + timedelta(weeks=week - 1)
    return Period(start, start + timedelta(days=7), asof or start + timedelta(days=7), "week")


def days(first: datetime, last: datetime, asof: datetime | None = None) -> Period:
    """--from first --to last: both days included."""
    end = last + timedelta(days=1)
    return Period(first, end, asof or end, "days")


def _months_back(t: datetime, n: int) -> datetime:
    k = t.year * 12 + t.month - 1 - n
    return datetime(k // 12, k % 12 + 1, 1)


def previous(m: Period) -> Period:
    """上期: the period just before of the same kind, seen at its own end (R4); a week's or a run of days'
    is the as many days just before it, a month's, quarter's or year's the 1, 3 or 12 months before."""
    end = m.start
    if m.kind in ("week", "days"):
        start = end - (m.end - m.start)
    else:
        start = _months_back(end, {"month": 1, "quarter": 3, "year": 12}[m.kind])
    return Period(start, end, end, m.kind)


def partial_previous(a: Audit, last: Period) -> bool:
    """上期与环比：上期数据不完整：各网点输入中最早受理的投诉的受理时间，取其中最晚的一个，若晚于上期开始时刻 …
    环比一栏写“上期不完整”. (The inputs: every row with a readable received time, whatever the as-of time.)"""
    first: dict[str, datetime] = {}
    for k in a.cases:
        if k.c.received is not None:
            first[k.c.branch] = min(first.get(k.c.branch, k.c.received), k.c.received)
    return bool(first) and max(first.values()) > last.start


PARTIAL = "上期不完整"


def ratio(n: int, d: int) -> float | None:
    return None if d == 0 else n / d


RATES = ("close_rate", "on_time_rate", "callback_rate", "callback_on_time_rate", "satisfaction_rate",
         "reopen_rate", "repeat_rate")


def change(key: str, this: object, last: object) -> float | None:
    """上期与环比：环比：件数和用时为（本期−上期）÷上期；比率为本期−上期，单位为百分点；评分为本期−上期。"""
    if not isinstance(this, int | float) or not isinstance(last, int | float):
        return None
    if key in RATES:
        return (this - last) * 100
    if key == "average_score":
        return this - last
    return None if last == 0 else (this - last) / last


# ------------------------------------------------------------------ stage-level helpers
def due_in_month(a: Audit, cases: Iterable[Case], stages: Iterable[str] = STAGES) -> list[tuple[Case, str, str]]:
    """(case, stage, outcome) of every stage due in the month whose outcome is known at the as-of time."""
    out = []
    for k in cases:
        if k.c.validity == "invalid":
            continue
        for name in stages:
            st = k.stages.get(name)
            if st is not None and st.due is not None and a.month.falls_in(st.due) and st.outcome in COUNTED:
                out.append((k, name, st.outcome))
    return out


def on_time_rate(a: Audit, cases: Iterable[Case], stages: Iterable[str] = STAGES) -> float | None:
    rows = due_in_month(a, cases, stages)
    return ratio(sum(o == "on_time" for _, _, o in rows), len(rows))


def overdue_count(a: Audit, cases: Iterable[Case]) -> int:
    return len({id(k) for k, _, o in due_in_month(a, cases) if o in LATE})


def times(a: Audit, stage: str) -> list[float]:
    """Time from receipt (the callback: from the resolution, or the reply) to the stage's
    completion in the month, in the unit of the stage's rule."""
    out = []
    for k in a.readable:
        st = k.stages.get(stage)
        if st is None or st.unit is None or not a.month.holds(st.done):
            continue
        start = st.anchor if stage == "callback" else k.c.received
        if start is None:
            continue
        assert st.done is not None
        out.append(a.clocks[k.c.branch].elapsed(start, st.done, st.unit))
    return out


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


# ------------------------------------------------------------------ cover figures
COVER: dict[str, Callable[[Audit], float | int | None]] = {}


def cover(label: str) -> Callable[[Callable[[Audit], float | int | None]], Callable[[Audit], float | int | None]]:
    def register(f: Callable[[Audit], float | int | None]) -> Callable[[Audit], float | int | None]:
        COVER[label] = f
        return f
    return register


@cover("received")
def received(a: Audit) -> int:
    """本期受理的全部登记，不分类型与有效性（含无效投诉）。Which month: 受理时间在本期."""
    return len(a.received())


@cover("valid")
def valid(a: Audit) -> int:
    """本期受理、有效性为“有效”的件数。"""
    return sum(k.c.validity == "valid" for k in a.received())


@cover("assist")
def assist(a: Audit) -> int:
    """本期受理、有效性为“协助”的件数。"""
    return sum(k.c.validity == "assist" for k in a.received())


@cover("invalid")
def invalid(a: Audit) -> int:
    """本期受理、有效性为“无效”的件数。无效投诉没有处理时限，不计入各项比率。"""
    return sum(k.c.validity == "invalid" for k in a.received())


@cover("to_handle")
def to_handle(a: Audit) -> int:
    """本期受理、有效性不是“无效”的件数（有效、协助及未填有效性的）；下列各率以此为基础。"""
    return len(a.to_handle())


@cover("major")
def major(a: Audit) -> int:
    """需处理投诉中严重程度为“重大”的件数。"""
    return sum(k.c.severity == "major" for k in a.to_handle())


@cover("escalated")
def escalated(a: Audit) -> int:
    """需处理投诉中登记为“投诉升级”（客户越级投诉或监管转办），或处理跟踪中有“升级”步骤的件数。"""
    return sum(k.c.escalated or k.escalated_step for k in a.to_handle())


@cover("closed")
def closed(a: Audit) -> int:
    """结案时间（登记表“结案时间”，或处理跟踪中的“结案”步骤）在本期的投诉件数，不论何时受理；不含无效投诉。"""
    return len(a.closed_in_month())


@cover("close_rate")
def close_rate(a: Audit) -> float | None:
    """本期受理的需处理投诉中，到期末已结案的比例。"""
    cases = a.to_handle()
    return ratio(sum(k.closed_at is not None and k.closed_at < a.month.end for k in cases), len(cases))


def _open_at(a: Audit, t: datetime) -> list[Case]:
    return [k for k in a.readable if k.c.validity != "invalid" and k.c.received is not None
            and k.c.received < t and (k.closed_at is None or k.closed_at >= t)]


@cover("open_at_end")
def open_at_end(a: Audit) -> int:
    """期末仍未结案的需处理投诉件数：期末前受理，且没有结案时间或结案在期末之后（含以前月份受理的）。"""
    return len(_open_at(a, a.month.end))


@cover("carried_over")
def carried_over(a: Audit) -> int:
    """本期开始时仍未结案的需处理投诉件数（即上期期末未结案）。"""
    return len(_open_at(a, a.month.start))


AGES = {"0-3": (0, 3), "4-7": (4, 7), "8-14": (8, 14), "15+": (15, 10**6)}


def backlog_age(a: Audit, label: str) -> int:
    """上期结转未结案 … 按期初时已受理的自然日数分为 0–3、4–7、8–14、15 天以上 (whole days elapsed)."""
    lo, hi = AGES[label]
    return sum(lo <= (a.month.start - k.c.received).days <= hi  # type: ignore[operator]
               for k in _open_at(a, a.month.start))


@cover("on_time_rate")
def on_time(a: Audit) -> float | None:
    """本期到期的各环节时限（受理通知、首次联系、上报、处理、答复、回访、结案）中按时完成的比例。
    按时＝完成时间不晚于时限；逾期完成或到统计时点仍未完成的算未按时；统计时点尚未到期的不计。
    (+ R2, R3, R4, R5.)"""
    return on_time_rate(a, a.readable)


@cover("overdue")
def overdue(a: Audit) -> int:
    """至少有一个环节时限在本期到期而未按时完成（逾期完成或到统计时点仍未完成）的投诉件数。"""
    return overdue_count(a, a.readable)


@cover("overdue_now")
def overdue_now(a: Audit) -> int:
    """期末（期末晚于统计时点时为统计时点）仍逾期的需处理投诉件数：期末前未结案，且至少有一个环节时限早于期末而到期末仍未完成
    （不论时限在哪一期到期）；放弃回访的不计。"""
    t = min(a.month.end, a.month.asof)
    return sum(1 for k in a.to_handle(a.readable) if not (k.closed_at is not None and k.closed_at < t)
               and any(st.due is not None and st.due < t and (st.done is None or st.done >= t)
                       and st.outcome != "given_up" for st in k.stages.values()))


def _stage_time(stage: str, label: str, kind: str) -> Callable[[Audit], float | None]:
    def f(a: Audit) -> float | None:
        values = times(a, stage)
        return median(values) if kind == "median" else p90(values)
    f.__doc__ = (f"本期完成“{label}”环节的投诉，从受理到完成的用时的"
                 + ("中位数：一半投诉不超过此值" if kind == "median" else
                    "90%分位：按用时从短到长排列第 ⌈0.9×n⌉ 件的用时，即 90% 的投诉不超过此值")
                 + "；按该环节时限规则的单位计。")
    return f


for _stage, _label in (("acknowledge", "受理通知"), ("first_contact", "首次联系"), ("resolve", "处理"),
                       ("close", "结案")):
    COVER[f"{_stage}_median"] = _stage_time(_stage, _label, "median")
    COVER[f"{_stage}_p90"] = _stage_time(_stage, _label, "p90")


@cover("callback_rate")
def callback_rate(a: Audit) -> float | None:
    """本期结案的投诉中，有回访（登记表“回访时间”，或回访记录中联系上客户的一次回访）的比例。(R8: given up = not reached.)"""
    cases = a.closed_in_month()
    had = sum((k.c.typed["callback"] is not None and k.c.typed["callback"] <= a.month.asof) or bool(k.reached)
              for k in cases)
    return ratio(had, len(cases))


@cover("callback_on_time_rate")
def callback_on_time(a: Audit) -> float | None:
    """“回访”环节的及时率：定义同处理及时率，只计回访环节（回访时限从处理完成起算）。"""
    return on_time_rate(a, a.readable, ("callback",))


def _last_reached(a: Audit) -> list[tuple[Case, Callback]]:
    out = []
    for k in a.cases:  # by callback time: rows whose received time cannot be read count too
        if k.c.validity == "invalid":  # R2
            continue
        inside = [x for x in k.reached if a.month.holds(x.at)]
        if inside:
            out.append((k, inside[-1]))
    return out


@cover("satisfaction_rate")
def satisfaction(a: Audit) -> float | None:
    """本期联系上客户的回访中，结果为“满意”的比例；同一投诉本期回访多次只计最后一次，未联系上的不计。(R2.)"""
    last = _last_reached(a)
    return ratio(sum(x.outcome == "satisfied" for _, x in last), len(last))


@cover("average_score")
def average_score(a: Audit) -> float | None:
    """上述回访（每宗投诉本期最后一次联系上的回访）中填写了评分的，评分（1–10）的平均值。(R2.)"""
    scores = [x.score for _, x in _last_reached(a) if x.score is not None]
    return sum(scores) / len(scores) if scores else None


@cover("reopen_rate")
def reopen_rate(a: Audit) -> float | None:
    """本期结案的投诉中，曾重新处理（回访“不满意”或处理跟踪中“重新处理”）至少一次的比例。(R1.)"""
    cases = a.closed_in_month()
    return ratio(sum(k.reopenings >= 1 for k in cases), len(cases))


def readable_phone(text: str) -> bool:
    """A phone number the Register accepts (docs/sheets.md: a mobile "13812345678", a landline with
    its area code "010-12345678", an extension after 转): the rest is an error on the Issues sheet."""
    main = re.split(r"转|ext\.?|分机", text.lower())[0]
    digits = re.sub(r"[\s\-()（）+]", "", main)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return bool(re.fullmatch(r"1[3-9]\d{9}", digits) or re.fullmatch(r"0(?:10|2\d|[3-9]\d\d)[1-9]\d{6,7}", digits))


def customer_key(c: Complaint) -> str | None:
    """重复投诉的判定: "同一客户按联系电话（后11位数字）判定，没有电话时才按客户姓名判定；联系电话无法识别
    （“问题清单”中列出的错误，如位数不对）时按没有电话处理"."""
    if c.phone and readable_phone(c.phone):
        digits = "".join(ch for ch in c.phone if ch.isdigit())
        if digits:
            return "tel:" + digits[-11:]
    return "name:" + c.customer if c.customer else None


def repeats(a: Audit) -> set[int]:
    """Ids of the complaints that repeat an earlier one: same customer, same category, within the
    later complaint's branch's window (Settings 重复投诉判定期); "无效投诉不参与判定"."""
    window = {b.code: timedelta(days=b.repeat_window_days) for b in a.branches}
    by_key: dict[tuple[str, str | None], list[Case]] = {}
    for k in a.readable:
        key = customer_key(k.c) if k.c.validity != "invalid" else None
        if key:
            by_key.setdefault((key, k.c.category), []).append(k)
    out: set[int] = set()
    for group in by_key.values():
        group.sort(key=lambda k: k.c.received)  # type: ignore[arg-type, return-value]
        for i, later in enumerate(group):
            for earlier in group[:i]:
                gap = later.c.received - earlier.c.received  # type: ignore[operator]
                if gap <= window[later.c.branch] and earlier.c.received < later.c.received:  # type: ignore[operator]
                    out.add(id(later))
    return out


@cover("repeat_rate")
def repeat_rate(a: Audit) -> float | None:
    """本期受理的需处理投诉中，重复投诉的比例：同一客户（按电话判定，没有电话时按姓名）、同一投诉类别，在“设置”的
    判定期（默认30天）内再次投诉；… 汇总多个网点时不同网点之间也判定（按后一宗投诉所在网点的判定期；电话已打码时
    姓名也须相同）. The auditor reads the branch workbooks, whose phones are not masked."""
    cases = a.to_handle()
    found = repeats(a)
    return ratio(sum(id(k) in found for k in cases), len(cases))


# ------------------------------------------------------------------ breakdowns
#: Breakdown → the complaint field it counts by.
DIMENSIONS = {"type": "type", "category": "category", "channel": "channel", "severity": "severity",
              "validity": "validity", "department": "department", "branch": "branch"}


def value_of(a: Audit, k: Case, dimension: str) -> str:
    """The row a complaint falls in: the value's code (the department as typed, the branch's code);
    blank or not recognised → the （未填） row (R9)."""
    return getattr(k.c, DIMENSIONS[dimension]) or BLANK


def breakdown(a: Audit, dimension: str, value: str, column: str) -> float | int | None:
    """分类统计：每个分类一行：本期件数与上期件数同“受理件数”；占比＝本行件数÷合计；处理及时率与逾期件数
    同封面定义，只计该分类的投诉。"""
    cases = a.readable if value == TOTAL else [k for k in a.readable if value_of(a, k, dimension) == value]
    if column == "count":
        return sum(a.month.holds(k.c.received) for k in cases)
    if column == "on_time_rate":
        return on_time_rate(a, cases)
    if column == "overdue":
        return overdue_count(a, cases)
    raise KeyError(column)


# ------------------------------------------------------------------ stage times
def stage_times(a: Audit, stage: str, column: str) -> float | int | str | None:
    """环节时效：每个环节：本期到期的时限数、按时完成数、及时率（同处理及时率），以及本期完成该环节的用时中位数
    与90%分位（同封面用时定义；R9: 回访从处理完成（或答复）起算）。"""
    if column == "unit":  # 按该环节时限规则的单位计: the one unit of the stage's rules in every Settings
        units = {r.unit for b in a.branches for r in b.rules if r.stage == stage}
        units |= {r.unit for b in a.branches for r in b.custom if r.name == stage}
        return units.pop() if len(units) == 1 else None
    if stage not in STAGES and column in ("median", "p90"):  # 自定义环节：不计用时
        return None
    rows = due_in_month(a, a.readable, (stage,))
    if column == "due_count":
        return len(rows)
    if column == "on_time":
        return sum(o == "on_time" for _, _, o in rows)
    if column == "on_time_rate":
        return ratio(sum(o == "on_time" for _, _, o in rows), len(rows))
    values = times(a, stage)
    return median(values) if column == "median" else p90(values)


# ------------------------------------------------------------------ every figure, keyed like tests.audit.report
def all_figures(paths: list[Path], month: Month) -> tuple[dict[str, object], Audit, Audit]:
    """Figure id → the auditor's value; the previous month's figures are the same definitions on the
    same data, seen at the previous month's end (R4: one as-of rule for every figure)."""
    this, last = audit(paths, month), audit(paths, previous(month))
    partial = partial_previous(this, last.month)
    out: dict[str, object] = {}
    for label, f in COVER.items():
        out[f"cover:{label}"] = now_value = f(this)
        out[f"cover-previous:{label}"] = then_value = f(last)
        out[f"cover-change:{label}"] = PARTIAL if partial else change(label, now_value, then_value)
    for age in AGES:
        out[f"backlog:{age}"] = backlog_age(this, age)
        out[f"backlog-previous:{age}"] = backlog_age(last, age)
    from tests.audit.people import by_department, table

    departments = table(this, by_department)
    for dimension in DIMENSIONS:
        values = {value_of(this, k, dimension) for k in this.readable
                  if this.month.holds(k.c.received) or last.month.holds(k.c.received)}
        if dimension == "branch":  # 分类统计: "“按网点”表列出读入的每个网点…（零报）"
            values |= {b.code for b in this.branches}
        if dimension == "department":  # "…“按责任部门”表还列出本月只有结案、回访或当前逾期的部门"
            values |= set(departments)
        total = breakdown(this, dimension, TOTAL, "count")
        for value in [*sorted(values), TOTAL]:
            for column in ("count", "on_time_rate", "overdue"):
                out[f"breakdown:{dimension}:{value}:{column}"] = breakdown(this, dimension, value, column)
            count = out[f"breakdown:{dimension}:{value}:count"]
            previous_count = out[f"breakdown:{dimension}:{value}:previous"] = breakdown(last, dimension, value, "count")
            out[f"breakdown:{dimension}:{value}:share"] = ratio(count, total)  # type: ignore[arg-type]
            out[f"breakdown:{dimension}:{value}:change"] = (PARTIAL if partial else
                                                             change("count", count, previous_count))
    custom = list(dict.fromkeys(r.name for b in this.branches for r in b.custom))
    for stage in (*STAGES, *custom):  # the office's own stages after the built-in ones (自定义环节)
        for column in ("due_count", "on_time", "on_time_rate", "median", "p90", "unit"):
            out[f"stages:{stage}:{column}"] = stage_times(this, stage, column)
    for stage in ("acknowledge", "first_contact", "resolve", "close"):  # the cover's times name their unit
        for kind in ("median", "p90"):
            out[f"cover-unit:{stage}_{kind}"] = out[f"stages:{stage}:unit"]
    out.update(overdue_detail(this))
    out.update(closed_late(this))
    typical = typical_cases(this)
    out["typical:selection"] = sorted(name for name, _ in typical)
    out["typical:order"] = [name for name, _ in typical]
    for name, met in typical:
        out[f"typical:{name}:reasons"] = "、".join(met)
    # 趋势: the last 12 periods of the kind up to this one, from the one holding the data's first complaint
    trend = [(this.month, this), (last.month, last)]
    first = min(k.c.received for k in this.readable if k.c.received is not None)
    earlier = last.month
    while len(trend) < 12 and (earlier := previous(earlier)).end > first:
        trend.append((earlier, audit(paths, earlier)))
    for m, audited in trend:
        label = f"{m.start:%Y-%m}" if m.kind == "month" else f"{m.start.isocalendar()[0]}-W{m.start.isocalendar()[1]:02d}"
        out[f"trend:{label}:received"] = received(audited)
        out[f"trend:{label}:closed"] = closed(audited)
        out[f"trend:{label}:on_time_rate"] = on_time(audited)
        out[f"trend:{label}:satisfaction_rate"] = satisfaction(audited)
    return out, this, last


# ------------------------------------------------------------------ overdue detail
def row_key(k: Case) -> str:
    """How a complaint is named in figure ids: its number, else its received time."""
    return k.c.no or f"{k.c.received:%Y-%m-%d %H:%M}"


def overdue_detail(a: Audit) -> dict[str, float]:
    """超时明细：每行一个未按时完成的环节：时限在本期到期而逾期完成、到统计时点仍未完成或结案时已过时限而未完成的，
    以及更早到期、到统计时点仍未完成的。超时＝完成时间（未完成的用统计时点，结案时未完成的用结案时间）晚于时限多少，
    单位同该环节的时限规则。

    (branch:complaint:stage) → late by, to 2 decimals. "更早到期、到统计时点仍未完成" is read as a stage
    of a case still open at the as-of time (a case closed earlier is finished with); R3's missed
    stages of a closed case are late by the time to the close ("结案时未完成的用结案时间")."""
    out: dict[str, float] = {}
    for k in a.readable:
        if k.c.validity == "invalid":
            continue
        for name, st in k.stages.items():
            if st.due is None or st.unit is None or st.outcome not in LATE:
                continue
            due_now = a.month.falls_in(st.due)
            earlier_open = st.due < a.month.start and st.done is None and k.closed_at is None
            if not (due_now or earlier_open):
                continue
            end = st.done or (k.closed_at if st.outcome == "missed_at_close" else None) or a.month.asof
            late = st.late if st.late is not None else a.clocks[k.c.branch].elapsed(st.due, end, st.unit)
            out[f"overdue-detail:{k.c.branch}:{row_key(k)}:{name}"] = round(late, 2)
    return out


def closed_late(a: Audit) -> dict[str, float]:
    """超时结案：本期结案（结案时间在本期）的需处理投诉中，没有在结案时限内结案的，每宗一行，不论何时受理 …
    超时＝结案时间晚于时限多少 … 单位同该规则. (branch:complaint) → late by, to 2 decimals."""
    out: dict[str, float] = {}
    for k in a.closed_in_month():
        st = k.stages.get("close")
        if st is None or st.due is None or st.done is None or st.unit is None or st.done <= st.due:
            continue
        out[f"closed-late:{k.c.branch}:{row_key(k)}"] = round(a.clocks[k.c.branch].elapsed(st.due, st.done, st.unit), 2)
    return out


# ------------------------------------------------------------------ typical cases
TYPICAL_REASONS = ("重大投诉", "投诉升级", "重新处理", "重复投诉", "超时")


def typical_reasons(a: Audit, k: Case, found_repeats: set[int]) -> tuple[str, ...]:
    """Which of 重大投诉、投诉升级、重新处理过、重复投诉、有环节未按时完成 a complaint meets (R1 for the
    reopening; a stage not done on time is one late at the as-of time, whenever it was due)."""
    met = (k.c.severity == "major", k.c.escalated or k.escalated_step, k.reopenings >= 1,
           id(k) in found_repeats, any(st.outcome in LATE for st in k.stages.values()))
    return tuple(r for r, m in zip(TYPICAL_REASONS, met, strict=True) if m)


def typical_cases(a: Audit) -> list[tuple[str, tuple[str, ...]]]:
    """典型案例：本期受理、值得逐宗分析的投诉（最多20宗）：重大投诉、投诉升级、重新处理过、重复投诉、有环节未按时
    完成的。符合条件多的在前；同样多时逐项比较，依次是重大、升级、重新处理、重复、超时（先比是否重大，重大的在前；
    再比是否升级；依此类推），再按受理时间先后。无效投诉不计。"""
    found = repeats(a)
    ranked = []
    for k in a.to_handle():
        met = typical_reasons(a, k, found)
        if met:
            flags = tuple(r not in met for r in TYPICAL_REASONS)  # False (met) sorts first
            ranked.append(((-len(met), flags, k.c.received), f"{k.c.branch}:{row_key(k)}", met))
    ranked.sort(key=lambda x: x[0])
    return [(name, met) for _, name, met in ranked[:20]]
