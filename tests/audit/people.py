"""The By-handler sheet (按处理人) and the department sheet's columns per person, from their words alone.

The words are the Definitions sheet's 按处理人：… rows (and 按责任部门's). Who a figure counts for:

- "每个环节的“经办处理人”：以该环节完成的时间为准（未完成的，已结案的以结案时间、未结案的以统计时点为准），取该投诉在处理
  跟踪中此时间及以前最后一条填写了“经办人”的记录的经办人（同一时间的按表中先后，后者为准）；没有这样的记录时取登记表的
  “处理人”。一宗投诉的处理人是其“调查处理”环节的经办处理人。环节的时限算给该环节的经办处理人，整宗投诉的件数、用时、
  满意度、重开和重复算给投诉的处理人。经办处理人和处理人都为空的计入“（未填）”。"
- departments: "按登记表的“责任部门”计（环节时限和整宗投诉都算给该部门）".

Each column's own sentence is the docstring of its function below; rates and times are those of the
cover's figures (``figures.py``) restricted to the person's deadlines or complaints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from tests.audit.figures import (
    BLANK,
    LATE,
    Audit,
    _last_reached,
    _open_at,
    due_in_month,
    median,
    ratio,
    repeats,
)
from tests.audit.stages import STAGES, Case

Who = Callable[[Case, str | None], str]  # (complaint, stage or None for the complaint itself) → row


def stage_handler(a: Audit, k: Case, stage: str) -> str:
    """The stage's handler of record, by the words above."""
    moment = k.done.get(stage) or k.closed_at or a.month.asof
    named = [(at, row, who) for no, at, who, row in _handlers(a, k.c.branch) if no == k.c.no and at <= moment
             and at <= a.month.asof]
    if named:
        return max(named)[2]  # the latest; of one time, the lower row
    return k.c.handler or BLANK


def _handlers(a: Audit, branch: str) -> list[tuple[str, datetime, str, int]]:
    return next(b.handlers for b in a.branches if b.code == branch)


def by_handler(a: Audit, k: Case, stage: str | None) -> str:
    return stage_handler(a, k, stage or "resolve")


def by_department(a: Audit, k: Case, stage: str | None) -> str:
    return k.c.department or BLANK


def handled(a: Audit, who: Who) -> dict[str, object]:
    """本月受理、有效性不是“无效”的投诉中，由此人处理的件数。"""
    return dict(Counter(who(k, None) for k in a.to_handle()))


def closed(a: Audit, who: Who) -> dict[str, object]:
    """结案时间在本月的投诉（不含无效投诉）中，由此人处理的件数。"""
    return dict(Counter(who(k, None) for k in a.closed_in_month()))


def open_end(a: Audit, who: Who) -> dict[str, object]:
    """月末仍未结案的需处理投诉（含以前月份受理的；本月尚未结束时即统计时点仍未结案的）中，由此人处理的件数
    （同封面“月末未结案”）."""
    return dict(Counter(who(k, None) for k in _open_at(a, a.month.end)))


def on_time(a: Audit, who: Who, stages: tuple[str, ...] = STAGES) -> dict[str, object]:
    """本月到期的各环节时限中（或“某环节”本月到期的时限中），经办处理人为此人的时限按时完成的比例。"""
    met: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for k, stage, outcome in due_in_month(a, a.readable, stages):
        person = who(k, stage)
        counted[person] += 1
        met[person] += outcome == "on_time"
    return {p: ratio(met[p], n) for p, n in counted.items()}


def overdue_now(a: Audit, who: Who) -> dict[str, object]:
    """到统计时点仍未完成且已过时限的环节（不论何时到期）中，经办处理人为此人的，所涉投诉的件数."""
    found = {(who(k, name), id(k)) for k in a.readable if k.c.validity != "invalid"
             for name, st in k.stages.items()
             if st.outcome in LATE and st.done is None and k.closed_at is None and st.due is not None
             and st.due <= a.month.asof}
    return dict(Counter(p for p, _ in found))


def resolve_median(a: Audit, who: Who) -> dict[str, object]:
    """本月完成“调查处理”环节、由此人处理的需处理投诉，从受理到处理完成的用时的中位数，单位同封面“处理用时中位数”
    （该环节多数时限规则的单位；以其他单位计时的不计）."""
    done = [k for k in a.readable if k.c.validity != "invalid" and (st := k.stages.get("resolve")) is not None
            and st.unit is not None and a.month.holds(st.done)]
    units = Counter(k.stages["resolve"].unit for k in done)
    if not units:
        return {}
    unit = units.most_common(1)[0][0]
    times: dict[str, list[float]] = {}
    for k in done:
        st = k.stages["resolve"]
        if st.unit == unit and st.done is not None and k.c.received is not None:
            times.setdefault(who(k, None), []).append(a.clocks[k.c.branch].elapsed(k.c.received, st.done, unit))
    return {p: median(v) for p, v in times.items()}


def satisfaction(a: Audit, who: Who) -> dict[str, object]:
    """本月联系上客户的回访中（每宗投诉本月最后一次，不含无效投诉），由此人处理的投诉结果为“满意”的比例。"""
    out: dict[str, list[str]] = {}
    for k, x in _last_reached(a):
        out.setdefault(who(k, None), []).append(x.outcome)
    return {p: ratio(v.count("satisfied"), len(v)) for p, v in out.items()}


def average_score(a: Audit, who: Who) -> dict[str, object]:
    """上述回访中填写了评分的，评分（1–10）的平均值。"""
    out: dict[str, list[float]] = {}
    for k, x in _last_reached(a):
        if x.score is not None:
            out.setdefault(who(k, None), []).append(x.score)
    return {p: sum(v) / len(v) for p, v in out.items()}


def reopened(a: Audit, who: Who) -> dict[str, object]:
    """本月结案、由此人处理的投诉中，曾重新处理至少一次的件数。"""
    return dict(Counter(who(k, None) for k in a.closed_in_month() if k.reopenings >= 1))


def repeat_count(a: Audit, who: Who) -> dict[str, object]:
    """本月受理、由此人处理的需处理投诉中，重复投诉（定义同“重复投诉率”）的件数。"""
    found = repeats(a)
    return dict(Counter(who(k, None) for k in a.to_handle() if id(k) in found))


COUNTS = ("handled", "closed", "open", "overdue_now", "reopened", "repeats")
COLUMNS: dict[str, Callable[[Audit, Who], dict[str, object]]] = {
    "handled": handled, "closed": closed, "open": open_end, "on_time_rate": on_time,
    **{f"on_time_{s}": (lambda a, who, s=s: on_time(a, who, (s,))) for s in STAGES},  # type: ignore[misc]
    "overdue_now": overdue_now, "resolve_median": resolve_median, "satisfaction_rate": satisfaction,
    "average_score": average_score, "reopened": reopened, "repeats": repeat_count,
}


def table(a: Audit, person: Callable[[Audit, Case, str | None], str]) -> dict[str, dict[str, object]]:
    """Person → column → value; a count nobody has is 0, a rate or time with nothing to count blank (None)."""

    def who(k: Case, stage: str | None) -> str:
        return person(a, k, stage)

    columns = {name: f(a, who) for name, f in COLUMNS.items()}
    people = {p for values in columns.values() for p in values}
    return {p: {name: values.get(p, 0 if name in COUNTS else None) for name, values in columns.items()}
            for p in people}


def ranking(rows: dict[str, dict[str, object]], least: int, order: list[str], n: int = 3) -> tuple[list[str], list[str]]:
    """考核排名: "本月需处理件数不少于“设置”中“考核排名最少件数”…、且本月有到期时限的处理人中，处理及时率最高的3人
    （从高到低）和其余人中最低的3人（从低到高）；及时率相同的按表中先后顺序。“（未填）”不参加排名。"""
    eligible = [p for p, r in rows.items() if p != BLANK and isinstance(r["handled"], int) and r["handled"] >= least
                and r["on_time_rate"] is not None]
    eligible.sort(key=lambda p: order.index(p) if p in order else len(order))
    best = sorted(eligible, key=lambda p: -rows[p]["on_time_rate"])[:n]  # type: ignore[operator]
    worst = sorted((p for p in eligible if p not in best), key=lambda p: rows[p]["on_time_rate"])[:n]  # type: ignore[arg-type, return-value]
    return best, worst


def people_figures(a: Audit, sheet_order: list[str], departments: set[str]) -> dict[str, object]:
    """Figure ids as ``tests.audit.report`` reads them: ``handler:<name>:<column>``,
    ``department-people:<department>:<column>`` (for every row of the department breakdown,
    ``departments``: nothing to count is 0 or blank), ``ranking:best`` / ``ranking:worst``."""
    out: dict[str, object] = {}
    handlers = table(a, by_handler)
    for person, row in handlers.items():
        for column, value in row.items():
            out[f"handler:{person}:{column}"] = value
    by_dept = table(a, by_department)
    for department in departments | set(by_dept):
        for column in COLUMNS:  # "与“按处理人”相同的各列（处理及时率除外：分类统计已有，两者相同）"
            if column == "on_time_rate":
                continue
            value = by_dept.get(department, {}).get(column, 0 if column in COUNTS else None)
            out[f"department-people:{department}:{column}"] = value
    least = max((b.rank_min for b in a.branches), default=5)  # "汇总多个网点时取各网点设置中最大的"
    best, worst = ranking(handlers, least, sheet_order)
    out["ranking:best"], out["ranking:worst"] = best, worst
    return out
