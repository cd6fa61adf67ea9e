"""The Register's computed columns re-derived: each stage's due time and status at the refresh time.

Statuses (docs/sheets.md's stage_status vocabulary) from the written rules:

- 不适用: the stage has no rule for the complaint (invalid complaints have none, only valid and
  assist ones a first contact); R3: in a case closed by then, a stage never done whose due
  time had not passed at the close; R5: the callback of a closed case with no resolution or
  reply time.
- 按时完成 / 逾期完成: done by the refresh time, at or before / after its due time.
- 已逾期: not done and due at or before the refresh time (R4).
- 逾期未完成 (R3, the Definitions' "结案时未完成的环节"): in a closed case, a stage never done whose
  due time had passed at the close stays missed, with this status of its own.
- 放弃回访 (R8): the callback given up after the Settings' number of unreachable attempts;
  not overdue.
- 即将到期 (R6): not done, not overdue, and the time left until the due time is strictly less
  than the Settings share of the limit, both in the rule's own unit (working time for
  working_hours / working_days, wall clock for hours / calendar_days).
- 未到期: otherwise (a callback with nothing to count from yet is not due).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from tests.audit.clock import Clock
from tests.audit.figures import Month, audit, row_key
from tests.audit.inputs import Branch, choice, when
from tests.audit.stages import STAGES, Case, Stage, rule_for

ZH = {"not_due": "未到期", "due_soon": "即将到期", "overdue": "已逾期", "done_on_time": "按时完成",
      "done_late": "逾期完成", "not_applicable": "不适用", "missed": "逾期未完成", "given_up": "放弃回访"}


def status(b: Branch, k: Case, st: Stage, clock: Clock, now: datetime) -> str:
    """A stage's status code at ``now`` (see the module's rules)."""
    if st.unit is None:
        return "not_applicable"
    if st.done is not None:
        return "done_late" if st.due is not None and st.done > st.due else "done_on_time"
    closed = k.closed_at
    if st.due is None:  # the callback, nothing to count from yet
        return "not_applicable" if closed is not None else "not_due"
    if closed is not None and st.name != "close":
        return "missed" if st.due <= closed else "not_applicable"
    if st.name == "callback" and k.gave_up:
        return "given_up"
    if st.due <= now:
        return "overdue"
    rule = rule_for(st.name, k.c, b.rules)
    assert rule is not None
    if clock.elapsed(now, st.due, st.unit) < rule.amount * b.due_soon_percent / 100:
        return "due_soon"
    return "not_due"


def register_figures(paths: list[Path]) -> dict[str, object]:
    """Per branch and stage, the complaints whose Register due time or status disagrees with the
    rules (``register:<branch>:<stage>:due`` / ``:status``), and the rows breaking R7
    (``register:<branch>:overall``: no 待回访, and no 回访 next action, once the callback is done),
    the reopen count (``register:<branch>:reopen_count``, R1: one reopening per handling cycle),
    each hand-off's due time and status on Tracking (``register:<branch>:handoff``),
    and the Overdue sheet's rows (``register:<branch>:overdue-list``, see ``overdue_sheet``).
    Empty lists when all agree. The refresh time is the Summary sheet's 刷新时间."""
    out: dict[str, object] = {}
    for path in paths:
        wb = openpyxl.load_workbook(path, data_only=True)
        now = next(when(r[1]) for r in wb["汇总"].iter_rows(values_only=True) if r[0] == "刷新时间")
        assert now is not None
        month = Month(now, now, now)
        a = audit([path], month)
        b = a.branches[0]
        clock = a.clocks[b.code]
        rows = list(wb["投诉登记"].iter_rows(values_only=True))
        h = {v: i for i, v in enumerate(rows[0])}
        due_off: dict[str, list[str]] = {s: [] for s in STAGES}
        status_off: dict[str, list[str]] = {s: [] for s in STAGES}
        overall: list[str] = []
        reopened: list[str] = []
        for k in a.cases:
            r = rows[k.c.row - 1]
            name = k.c.no or (row_key(k) if k.c.received else f"row {k.c.row}")
            for s in STAGES:
                st = k.stages.get(s)
                typed_due = when(r[h[DUE_COLUMN[s]]])
                mine_due = st.due if st else None
                if (typed_due is None) != (mine_due is None) or (
                        typed_due and mine_due and abs((typed_due - mine_due).total_seconds()) >= 60):
                    due_off[s].append(f"{name}: register {typed_due}, rule {mine_due}")
                # docs/sheets.md: "A complaint without a readable received time gets no deadline,
                # stage status or escalation" (its next action names the cell to correct)
                mine = ZH[status(b, k, st, clock, now)] if st else None if k.c.received is None else "不适用"
                if r[h[STATUS_COLUMN[s]]] != mine:
                    status_off[s].append(f"{name}: register {r[h[STATUS_COLUMN[s]]]}, rule {mine}")
            if (r[h["重开次数"]] or 0) != k.reopenings:
                reopened.append(f"{name}: register {r[h['重开次数']] or 0}, rule {k.reopenings}")
            callback_done = r[h[STATUS_COLUMN["callback"]]] in ("按时完成", "逾期完成")
            next_action = str(r[h["下一步"]] or "")
            if callback_done and (r[h["当前状态"]] == "待回访" or next_action.startswith("回访")):
                overall.append(f"{name}: callback done, status {r[h['当前状态']]}, next action {next_action}")
        for s in STAGES:
            out[f"register:{b.code}:{s}:due"] = due_off[s]
            out[f"register:{b.code}:{s}:status"] = status_off[s]
        out[f"register:{b.code}:overall"] = overall
        out[f"register:{b.code}:reopen_count"] = reopened
        out[f"register:{b.code}:handoff"] = handoff_problems(wb, b, now)
        extra, missing = overdue_sheet(path)
        out[f"register:{b.code}:overdue-list"] = [f"listed, not by the rules: {x}" for x in extra] + [
            f"by the rules, not listed: {x}" for x in missing]
    return out


DUE_COLUMN = {"acknowledge": "受理通知时限", "first_contact": "首次联系时限", "report": "上报时限",
              "resolve": "处理时限", "reply": "答复时限", "callback": "回访时限", "close": "结案时限"}
STATUS_COLUMN = {"acknowledge": "受理通知状态", "first_contact": "首次联系状态", "report": "上报状态",
                 "resolve": "处理状态", "reply": "答复状态", "callback": "回访状态", "close": "结案状态"}


def overdue_sheet(path: Path) -> tuple[list[str], list[str]]:
    """The branch's Overdue sheet (逾期清单: "lists the late and nearly-late stages") against the
    rules: the stages of open cases (not closed, not invalid) whose status is 已逾期 or 即将到期 at
    the refresh time (R8: a given-up callback is not there as overdue). Returns (on the sheet but
    not by the rules, by the rules but not on the sheet), each as "complaint stage status"."""
    wb = openpyxl.load_workbook(path, data_only=True)
    now = next(when(r[1]) for r in wb["汇总"].iter_rows(values_only=True) if r[0] == "刷新时间")
    assert now is not None
    a = audit([path], Month(now, now, now))
    b = a.branches[0]
    mine = set()
    for k in a.cases:
        if k.c.validity == "invalid" or k.closed_at is not None:
            continue
        for name, st in k.stages.items():
            code = status(b, k, st, a.clocks[b.code], now)
            if code in ("overdue", "due_soon"):
                mine.add(f"{row_key(k)} {name} {ZH[code]}")
    sheet = set()
    for r in wb["逾期清单"].iter_rows(min_row=2, values_only=True):
        if r[1] is None:
            continue
        name = r[0] or f"{when(r[12]):%Y-%m-%d %H:%M}"
        sheet.add(f"{name} {choice('stage', r[1])} {r[2]}")
    return sorted(sheet - mine), sorted(mine - sheet)


#: A policy a supervisor types over a branch's SLA table: (环节, 严重程度, 难易程度, 时限, 单位) — office-hour
#: limits, a fractional and a zero working-day limit, calendar days and a wall-clock one.
WORKING_HOURS_POLICY = (
    ("受理通知", None, None, 4, "工作小时"), ("首次联系", None, None, 2, "工作小时"),
    ("上报管理层", "重大", None, 24, "小时"), ("调查处理", None, None, 16, "工作小时"),
    ("答复客户", "一般", None, 2.5, "工作日"), ("答复客户", "重要", None, 4, "自然日"),
    ("答复客户", "重大", None, 4, "自然日"), ("回访", None, "简单", 0.5, "工作日"),
    ("回访", None, "复杂", 0, "工作日"), ("结案", "一般", None, 9, "自然日"),
    ("结案", "重要", None, 14, "自然日"), ("结案", "重大", None, 30, "小时"),
)


def type_policy(path: Path, policy: tuple[tuple[str, str | None, str | None, float, str], ...]) -> None:
    """Replace the Settings sheet's SLA table (the rows under its 环节 / 严重程度 header) with ``policy``."""
    wb = openpyxl.load_workbook(path)
    ws = wb["设置"]
    header = next(r[0].row for r in ws.iter_rows(max_col=2) if r[0].value == "环节" and r[1].value == "严重程度")
    end = next((r[0].row for r in ws.iter_rows(min_row=header + 1, max_col=1) if r[0].value == "自定义环节"),
               ws.max_row + 1)  # the SLA table ends above the custom stages' title (docs/sheets.md)
    for row in ws.iter_rows(min_row=header + 1, max_row=end - 1, max_col=8):
        for cell in row:
            cell.value = None
    for i, (stage, severity, complexity, amount, unit) in enumerate(policy, start=header + 1):
        for col, value in ((1, stage), (2, severity), (5, complexity), (6, amount), (7, unit)):
            ws.cell(i, col, value)
    wb.save(path)


def handoff_problems(wb: Any, b: Branch, now: datetime) -> list[str]:
    """Tracking's 本步时限 / 本步状态 of each hand-off (分派, 转派), from the Settings: the receiving
    department acts — any later step on the case — within 部门接单处理时限 hours, or 联系不上客户时 hours
    when its first action records that the customer cannot be reached (等待客户); not yet acted on:
    overdue once due, due soon when less than the Settings share of those hours is left (R6)."""
    ws = wb["处理跟踪"]
    rows = list(ws.iter_rows(values_only=True))
    h = {v: i for i, v in enumerate(rows[0])}
    steps: dict[str, list[tuple[datetime, int, str | None]]] = {}
    for n, r in enumerate(rows[1:], start=2):
        at = when(r[h["时间"]])
        if r[h["投诉编号"]] and at is not None:
            steps.setdefault(str(r[h["投诉编号"]]).strip(), []).append((at, n, choice("step", r[h["步骤"]])))
    problems = []
    for no, seq in steps.items():
        seq.sort()
        for i, (at, n, step) in enumerate(seq):
            if step not in ("assigned", "transferred"):
                continue
            later = [x for x in seq[i + 1:] if x[0] >= at]
            hours = b.handoff_unreachable_hours if later and later[0][2] == "waiting_customer" else b.handoff_hours
            due = at + timedelta(hours=hours)
            if later and later[0][0] <= now:
                code = "done_on_time" if later[0][0] <= due else "done_late"
            elif due <= now:
                code = "overdue"
            elif (due - now) < timedelta(hours=hours * b.due_soon_percent / 100):
                code = "due_soon"
            else:
                code = "not_due"
            typed_due, typed = when(rows[n - 1][h["本步时限"]]), rows[n - 1][h["本步状态"]]
            if typed != ZH[code] or typed_due is None or abs((typed_due - due).total_seconds()) >= 60:
                problems.append(f"{no} row {n}: register {typed_due} {typed}, rule {due} {ZH[code]}")
    return problems
