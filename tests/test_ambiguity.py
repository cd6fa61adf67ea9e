"""Where the office's own tables leave a choice open, validate says so at the cell instead of
silently picking: two equally specific SLA rules for the same complaints, a Calendar date
marked both closed and working."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl

from xlcomplaints.api import refresh, validate
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 11, 2, 9, 0)
#: A major safety complaint: both rows below apply to it.
MAJOR_SAFETY = {"received_at": "2026-10-26 10:00", "channel": "电话", "customer": "张三", "category": "安全",
                "severity": "重大", "validity": "有效", "content": "消防通道被占用"}


def _add_rules(path: Path, rules: list[list[object]]) -> list[int]:
    """Type rows under the Settings sheet's policy table, as a supervisor would; their row numbers."""
    wb = openpyxl.load_workbook(path)
    ws = wb["设置"]
    end = next((r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "自定义环节"), ws.max_row + 1)
    last = max(r for r in range(1, end) if ws.cell(r, 1).value is not None)  # the policy ends above 自定义环节
    rows = []
    for i, rule in enumerate(rules, start=1):
        for c, value in enumerate(rule, start=1):
            ws.cell(last + i, c).value = value
        rows.append(last + i)
    wb.save(path)
    return rows


def _codes(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


def test_two_equally_specific_rules_with_different_limits_are_an_error_at_the_later_row(branch) -> None:
    """调查处理 for 重大 in 1 working day, for 安全 in 2: a major safety complaint matches both rows,
    each narrowed on one field, and nothing the office wrote says which wins."""
    path = branch(register=[MAJOR_SAFETY])
    first, second = _add_rules(path, [["调查处理", "重大", None, None, None, 1, "工作日"],
                                      ["调查处理", None, "安全", None, None, 2, "工作日"]])
    (p,) = _codes(validate(path, now=NOW), "policy.ambiguous")
    assert p.level is Level.ERROR and p.sheet == "设置" and p.cell == f"A{second}"
    zh, en = p.message("zh"), p.message("en")
    assert f"第 {first} 行" in zh and "重大" in zh and "安全" in zh and "1工作日" in zh and "2工作日" in zh
    assert f"Rows {first} and {second}" in en and "Major" in en and "Safety" in en
    # Until it is fixed, the later row is used, as the message says: 2 working days from Mon 10-26.
    result = refresh(path, now=NOW)
    assert result.plan is not None and result.plan.register.get(2, "resolve_due") == datetime(2026, 10, 28, 23, 59, 59)


def test_a_more_specific_rule_settles_the_tie(branch) -> None:
    path = branch(register=[MAJOR_SAFETY])
    _add_rules(path, [["调查处理", "重大", None, None, None, 1, "工作日"],
                      ["调查处理", None, "安全", None, None, 2, "工作日"],
                      ["调查处理", "重大", "安全", None, None, 1, "工作日"]])
    assert _codes(validate(path, now=NOW), "policy.ambiguous") == []


def test_rules_that_never_meet_are_not_a_tie(branch) -> None:
    """重大 and 重要 never apply to one complaint: each row is the only one for its complaints."""
    path = branch(register=[MAJOR_SAFETY])
    _add_rules(path, [["调查处理", "重大", None, None, None, 1, "工作日"],
                      ["调查处理", "重要", None, None, None, 2, "工作日"]])
    problems = validate(path, now=NOW)
    assert _codes(problems, "policy.ambiguous") == [] and _codes(problems, "policy.duplicate") == []


def test_the_same_limit_twice_is_a_warning_that_the_row_repeats(branch) -> None:
    """The template already holds 调查处理 3 工作日 for every complaint; typing it again changes
    nothing but is one row too many."""
    path = branch(register=[MAJOR_SAFETY])
    (row,) = _add_rules(path, [["调查处理", None, None, None, None, 3, "工作日"]])
    (p,) = _codes(validate(path, now=NOW), "policy.duplicate")
    assert p.level is Level.WARNING and p.cell == f"A{row}"
    assert "所有" in p.message("zh") and "all complaints" in p.message("en")


def test_a_calendar_date_both_closed_and_working_is_an_error_at_the_second_row(branch) -> None:
    path = branch(register=[MAJOR_SAFETY], calendar=[
        {"date": "2026-10-30", "kind": "休息", "note": "消防演练停业"},
        {"date": "2026-11-05", "kind": "上班"},
        {"date": "2026-10-30", "kind": "上班", "note": "补班"},
    ])
    (p,) = _codes(validate(path, now=NOW), "calendar.closed_and_working")
    assert p.level is Level.ERROR and p.sheet == "日历" and p.cell == "B4"
    assert (p.params["value"], p.params["other"]) == ("2026-10-30", 2)  # the date, and the row it was first on
    data = read_branch(FileWorkbook(path)).data
    assert not make_calendar(data.settings, data).is_working_day(date(2026, 10, 30))  # closed until fixed


def test_a_date_listed_twice_the_same_way_is_no_conflict(branch) -> None:
    path = branch(register=[MAJOR_SAFETY], calendar=[{"date": "2026-10-30", "kind": "休息"},
                                                     {"date": "2026-10-30", "kind": "放假"}])
    assert _codes(validate(path, now=NOW), "calendar.closed_and_working") == []
