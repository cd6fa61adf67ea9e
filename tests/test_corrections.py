"""A row whose received time cannot be read is not guessed at: it says what to correct, where
the clerk looks (Register, Overdue, Summary, assign-ids)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from python_calamine import CalamineWorkbook

from xlcomplaints.core.corrections import Fix
from xlcomplaints.flows import assign_ids_flow, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 11, 9, 9, 0)
GOOD = {"received_at": "2026-11-02 10:00", "channel": "电话", "customer": "张三", "category": "其他",
        "severity": "一般", "validity": "有效", "content": "电梯停运"}


def grid(path, sheet: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(path).get_sheet_by_name(sheet).to_python()


@pytest.mark.parametrize("typed", ["2026/10/32", "11/5/2026"])
def test_an_unreadable_received_time_says_what_to_correct(branch, typed: str) -> None:
    path = branch(register=[GOOD, GOOD, GOOD, {**GOOD, "received_at": typed, "customer": "李四"}])
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None and result.plan.counts[B.SummaryKey(B.Count.NEEDS_CORRECTION)] == 1
    register = grid(path, B.REGISTER.zh)
    row = register[4]  # B5
    assert row[B.REGISTER.index("next_action")] == "受理时间无法识别，请改正 B5"
    assert row[B.REGISTER.index("escalation")] in ("", None)  # not 无: nothing could be judged
    assert {row[B.REGISTER.index(f"{s}_status")] for s in ("acknowledge", "resolve", "close")} <= {"", None}
    assert register[1][B.REGISTER.index("escalation")] not in ("", None)  # a readable row still is judged
    overdue = grid(path, B.OVERDUE.zh)
    at = next(i for i, r in enumerate(overdue) if str(r[0]).startswith("需改正的行"))
    listed = overdue[at + 1]
    assert listed[B.OVERDUE.index("customer")] == "李四" and listed[B.OVERDUE.index("received_at")] == typed
    assert listed[B.OVERDUE.index("next_action")] == "受理时间无法识别，请改正 B5"
    summary = {r[0]: r[1] for r in grid(path, B.SUMMARY.zh)}
    assert summary["需改正的投诉"] == 1


def test_refresh_says_how_many_need_correcting(branch) -> None:
    path = branch(register=[GOOD, {**GOOD, "received_at": "11/5/2026"}])
    run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "refresh", str(path), "--now", "2026-11-09 09:00"],
                         capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and "1 宗受理时间无法识别，需改正" in " ".join(run.stdout.split())


def test_in_english_and_for_a_blank_time(branch) -> None:
    path = branch(lang="en", register=[GOOD, {**GOOD, "received_at": None}])
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None and result.plan.counts[B.SummaryKey(B.Count.NEEDS_CORRECTION)] == 1
    row = grid(path, B.REGISTER.en)[2]
    assert row[B.REGISTER.index("next_action")] == "No received time: fill in B3"
    assert {r[0]: r[1] for r in grid(path, B.SUMMARY.en)}["Complaints needing correction"] == 1


def test_nothing_to_correct_means_no_heading(branch) -> None:
    path = branch(register=[GOOD])
    refresh_flow(FileWorkbook(path), now=NOW)
    assert not [r for r in grid(path, B.OVERDUE.zh) if str(r[0]).startswith("需改正")]
    assert {r[0]: r[1] for r in grid(path, B.SUMMARY.zh)}["需改正的投诉"] == 0


def test_assign_ids_names_each_row_it_skipped_and_why(branch) -> None:
    path = branch(register=[GOOD, {**GOOD, "received_at": "2026/10/32"}, GOOD, {**GOOD, "received_at": None}])
    result = assign_ids_flow(FileWorkbook(path), now=NOW)
    assert sorted(result.assigned) == [2, 4]
    assert [(p.code, p.cell) for p in result.skipped] == [("numbering.skipped", "B3"), ("numbering.skipped", "B5")]
    assert "受理时间无法识别，请改正 B3" in result.skipped[0].message("zh")
    assert "fill in B5" in result.skipped[1].message("en")
    run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "assign-ids", str(path)], capture_output=True,
                         text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0
    assert "第 3 行未编号：受理时间无法识别，请改正 B3" in run.stdout and "第 5 行未编号：受理时间为空，请填写 B5" in run.stdout
    assert "已编号 0 宗，2 宗未编号" in run.stdout  # the two readable rows were numbered by the first run


def test_fix_codes_are_an_enum() -> None:
    assert {f.value for f in Fix} == {"received.unreadable", "received.blank"}
