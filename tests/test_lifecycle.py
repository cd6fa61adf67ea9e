"""A complaint's whole life typed into a real workbook, refreshed after each step.

Received the day before National Day, handed off late, paused for the customer,
resolved, unreachable twice, unsatisfied, reopened, unsatisfied again, escalated, closed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from xlcomplaints.flows import check, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook

NO = "BJ01-2609001"
EOD = (23, 59, 59)
BASE = {"no": NO, "received_at": "2026-09-30 10:00", "channel": "电话", "customer": "赵敏",
        "phone": "13800001111", "category": "设施设备", "severity": "重要", "validity": "有效",
        "complexity": "简单", "content": "地下车库积水", "department": "工程部", "handler": "王工"}


def put(path: Path, kind: str, rows: list[dict]) -> None:
    spec = {s.kind: s for s in B.BRANCH_SHEETS}[kind]
    wb = openpyxl.load_workbook(path)
    ws = wb[spec.title("zh")]
    start = 2
    while ws.cell(start, 1).value not in (None, ""):
        start += 1
    for r, row in enumerate(rows, start=start):
        for key, value in row.items():
            ws.cell(r, spec.index(key) + 1, value)
    wb.save(path)


def set_register(path: Path, **values) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    for key, value in values.items():
        ws.cell(2, B.REGISTER.index(key) + 1, value)
    wb.save(path)


def refresh(path: Path, now: datetime) -> dict[str, dict]:
    refresh_flow(FileWorkbook(path), now=now)
    wb = CalamineWorkbook.from_path(path)
    reg = wb.get_sheet_by_name("投诉登记").to_python()
    row = dict(zip(reg[0], reg[1], strict=False))
    tracking = wb.get_sheet_by_name("处理跟踪").to_python()
    callbacks = wb.get_sheet_by_name("回访记录").to_python()
    overdue = wb.get_sheet_by_name("逾期清单").to_python()[1:]
    return {"reg": row, "tracking": tracking[1:], "callbacks": callbacks[1:], "overdue": overdue}


def test_a_whole_life_through_the_workbook(branch) -> None:
    path = branch(register=[BASE])
    # 1. Assigned at once, but the department only contacts the customer after the holiday.
    put(path, "tracking", [
        {"no": NO, "at": "2026-09-30 10:30", "step": "分派", "from_department": "客服部", "to_department": "工程部"},
        {"no": NO, "at": "2026-10-08 09:00", "step": "联系客户", "handler": "王工"},
    ])
    # An important complaint: the default policy has it reported to the manager within 2 office hours.
    set_register(path, acknowledged_at="2026-09-30 11:00", reported_at="2026-09-30 11:30",
                 first_contact_at="2026-10-08 09:00")
    s = refresh(path, datetime(2026, 10, 8, 12))
    assert s["tracking"][0][7] == datetime(2026, 10, 1, 10, 30) and s["tracking"][0][8] == "逾期完成"
    assert s["reg"]["首次联系状态"] == "逾期完成"
    assert s["reg"]["处理时限"] == datetime(2026, 10, 10, *EOD)   # 3 WD from 9/30: 10/8, 10/9, Sat 10/10
    # 2. Waiting for the customer pauses the clock; resumed two days later.
    put(path, "tracking", [
        {"no": NO, "at": "2026-10-08 14:00", "step": "等待客户", "note": "业主出差"},
    ])
    s = refresh(path, datetime(2026, 10, 9, 12))
    assert s["reg"]["当前状态"] == "暂停"
    put(path, "tracking", [{"no": NO, "at": "2026-10-12 09:00", "step": "恢复处理"}])
    s = refresh(path, datetime(2026, 10, 12, 10))
    assert s["reg"]["处理时限"] > datetime(2026, 10, 10, *EOD)   # pushed later by the pause
    # 3. Resolved; the callback comes due; unreachable twice.
    put(path, "tracking", [{"no": NO, "at": "2026-10-13 16:00", "step": "处理完成"},
                           {"no": NO, "at": "2026-10-13 17:00", "step": "答复客户"}])
    put(path, "callbacks", [
        {"no": NO, "at": "2026-10-14 10:00", "method": "电话", "caller": "小林", "outcome": "未联系上"},
        {"no": NO, "at": "2026-10-15 10:30", "method": "电话", "caller": "小林", "outcome": "未联系上"},
    ])
    s = refresh(path, datetime(2026, 10, 15, 11))
    assert s["reg"]["处理完成时间"] in ("", None)                 # the clerk did not type it ...
    # ... tracking supplies it. Paused 10/8, 10/9, Sat 10/10 (3 working days): due 10/14, done 10/13.
    assert s["reg"]["处理时限"] == datetime(2026, 10, 14, *EOD) and s["reg"]["处理状态"] == "按时完成"
    assert s["reg"]["回访时限"] == datetime(2026, 10, 17, 10, 30)  # second retry: 48 hours later
    assert [r[7] for r in s["callbacks"]] == [1, 2]
    assert s["reg"]["当前状态"] == "待回访" and "再次回访" in s["reg"]["下一步"]
    # 4. Not satisfied → reopened with a new cycle; not satisfied again → general manager.
    put(path, "callbacks", [{"no": NO, "at": "2026-10-16 15:00", "method": "电话", "caller": "小林",
                             "outcome": "不满意", "score": 3, "comments": "还在积水"}])
    s = refresh(path, datetime(2026, 10, 17, 9))
    assert s["reg"]["当前状态"] == "重新处理" and s["reg"]["重开次数"] == 1
    assert s["reg"]["处理时限"] == datetime(2026, 10, 21, *EOD)   # 3 WD from Fri 10/16: 10/19, 10/20, 10/21
    put(path, "tracking", [{"no": NO, "at": "2026-10-20 17:00", "step": "处理完成"}])
    put(path, "callbacks", [{"no": NO, "at": "2026-10-21 10:00", "method": "上门", "caller": "陈经理",
                             "outcome": "不满意", "score": 2}])
    s = refresh(path, datetime(2026, 10, 21, 12))
    assert s["reg"]["重开次数"] == 2 and s["reg"]["升级级别"] == "总经理"
    # 5. Fixed for good; satisfied; closed.
    put(path, "tracking", [{"no": NO, "at": "2026-10-23 11:00", "step": "处理完成"}])
    put(path, "callbacks", [{"no": NO, "at": "2026-10-24 10:00", "method": "电话", "caller": "陈经理",
                             "outcome": "满意", "score": 9}])
    set_register(path, closed_at="2026-10-24 15:00")
    s = refresh(path, datetime(2026, 10, 26, 9))
    assert s["reg"]["当前状态"] == "已结案" and s["reg"]["升级级别"] == "无"
    assert s["reg"]["回访状态"] == "按时完成"
    assert not [r for r in s["overdue"] if r[0] == NO]
    _, problems = check(FileWorkbook(path), now=datetime(2026, 10, 26, 9))
    assert not [p for p in problems if p.code == "closed.no_satisfied_callback"]
    # Idempotent with every sheet in play.
    before = path.read_bytes()
    assert not refresh_flow(FileWorkbook(path), now=datetime(2026, 10, 26, 9)).changed
    assert path.read_bytes() == before


def test_validator_locates_lifecycle_inconsistencies(branch) -> None:
    path = branch(register=[{**BASE, "resolved_at": "2026-10-09 10:00", "closed_at": "2026-10-10 10:00",
                             "person_complained": "王工"}])
    put(path, "tracking", [{"no": NO, "at": "2026-10-09 16:00", "step": "处理完成"}])
    put(path, "callbacks", [{"no": "NOPE-1", "at": "2026-10-09 17:00", "method": "电话", "caller": "小林",
                             "outcome": "满意"}])
    _, problems = check(FileWorkbook(path), now=datetime(2026, 10, 26))
    found = {(p.sheet, p.cell, p.code) for p in problems}
    res, closed, handler = (f"{c}2" for c in ("W", "Z", "S"))
    assert ("投诉登记", res, "time.disagrees") in found
    assert ("投诉登记", closed, "closed.no_satisfied_callback") in found
    assert ("投诉登记", handler, "handler.conflict") in found
    assert ("回访记录", "A2", "ref.unknown_no") in found


def test_a_reopened_case_resolved_twice_agrees_with_either_step(branch) -> None:
    path = branch(register=[{**BASE, "resolved_at": "2026-10-20 17:00"}])
    put(path, "tracking", [{"no": NO, "at": "2026-10-13 16:00", "step": "处理完成"},
                           {"no": NO, "at": "2026-10-16 16:00", "step": "重新处理"},
                           {"no": NO, "at": "2026-10-20 17:00", "step": "处理完成"}])
    _, problems = check(FileWorkbook(path), now=datetime(2026, 10, 26))
    assert not [p for p in problems if p.code == "time.disagrees"]


def test_an_unsatisfied_callback_and_its_reopened_step_are_one_reopening(branch) -> None:
    """The clerk records the unsatisfied callback (10-16 15:00) and the matching 重新处理 step (10-16 16:00):
    one reopening, so the Register shows 1 and the case is not sent to the general manager."""
    path = branch(register=[{**BASE, "resolved_at": "2026-10-13 16:00"}])
    put(path, "callbacks", [{"no": NO, "at": "2026-10-16 15:00", "method": "电话", "caller": "小林",
                             "outcome": "不满意", "score": 3}])
    put(path, "tracking", [{"no": NO, "at": "2026-10-16 16:00", "step": "重新处理"}])
    s = refresh(path, datetime(2026, 10, 17, 9))
    assert s["reg"]["重开次数"] == 1 and s["reg"]["升级级别"] != "总经理"
