"""Grey (computed) cells belong to refresh: a value typed into one is reported at its cell by
validate, and listed by the refresh that replaces it; time passing and rows sorted are not."""

from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl

from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook

T1 = datetime(2026, 10, 9, 9, 0, 37)
ROWS = [
    {"received_at": "2026-09-30 17:30", "channel": "电话", "customer": "张三", "category": "设施设备",
     "severity": "一般", "validity": "有效", "content": "电梯经常停运"},
    {"received_at": "2026-10-08 10:00", "channel": "来访", "customer": "李四", "category": "服务态度",
     "severity": "重大", "validity": "有效", "content": "保安态度恶劣", "resolved_at": "2026-10-08 16:00"},
    {"received_at": "2026-10-09 08:00", "channel": "电话", "customer": "王五", "category": "其他",
     "severity": "一般", "validity": "有效", "content": "噪音"},
]
COL = {c.key: i + 1 for i, c in enumerate(B.REGISTER.columns)}


def typed(path, cells: dict[tuple[int, str], object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    for (row, key), value in cells.items():
        ws.cell(row, COL[key], value)
    wb.save(path)


def codes(problems, code: str) -> list[str | None]:
    return [p.cell for p in problems if p.code == code]


def cell(row: int, key: str) -> str:
    from xlcomplaints.core.problems import a1

    return a1(row, COL[key])


def test_a_refreshed_workbook_has_nothing_typed_over_then_or_days_later(branch) -> None:
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=T1)
    for later in (T1, T1 + timedelta(hours=3), T1 + timedelta(days=4)):
        assert codes(validate_flow(FileWorkbook(path), now=later).problems, "computed.typed_over") == []
    # and a refresh days later replaces statuses that aged, but lists none of them
    again = refresh_flow(FileWorkbook(path), now=T1 + timedelta(days=4))
    assert again.changed and codes(again.problems, "computed.replaced") == []


def test_a_value_typed_into_a_grey_cell_is_reported_and_then_listed_when_replaced(branch) -> None:
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=T1)
    typed(path, {(2, "resolve_status"): "按时完成", (3, "escalation"): "无"})
    later = T1 + timedelta(days=1)
    found = validate_flow(FileWorkbook(path), now=later).problems
    assert sorted(codes(found, "computed.typed_over")) == sorted([cell(2, "resolve_status"), cell(3, "escalation")])
    (p,) = [p for p in found if p.cell == cell(2, "resolve_status")]
    assert p.value == "按时完成" and p.level == "warning"
    refreshed = refresh_flow(FileWorkbook(path), now=later)
    assert sorted(codes(refreshed.problems, "computed.replaced")) == sorted(
        [cell(2, "resolve_status"), cell(3, "escalation")])
    assert codes(refresh_flow(FileWorkbook(path), now=later).problems, "computed.replaced") == []


def test_sorting_rows_is_not_typing_over(branch) -> None:
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=T1)
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    first = [c.value for c in ws[2]]
    for c, v in zip(ws[2], [c.value for c in ws[4]], strict=True):
        c.value = v
    for c, v in zip(ws[4], first, strict=True):
        c.value = v
    wb.save(path)
    assert codes(validate_flow(FileWorkbook(path), now=T1 + timedelta(days=2)).problems, "computed.typed_over") == []


def test_typing_into_a_workbook_never_refreshed(branch) -> None:
    path = branch(register=ROWS)
    typed(path, {(4, "status"): "已结案"})
    found = validate_flow(FileWorkbook(path), now=T1).problems
    assert codes(found, "computed.typed_over") == [cell(4, "status")]
    (p,) = [p for p in found if p.code == "computed.typed_over"]
    assert p.value == "已结案" and "下次刷新会替换它" in p.message("zh")


def test_a_clerk_who_records_progress_then_refreshes_is_not_told_of_typing_over(branch) -> None:
    """The usual day: a white cell changes after a refresh (the case is resolved), so grey cells are
    stale — the checksum on the Summary shows refresh left them as they are: nothing to list."""
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=T1)
    typed(path, {(2, "resolved_at"): "2026-10-09 10:00", (4, "severity"): "重大"})
    later = T1 + timedelta(hours=2)
    assert codes(validate_flow(FileWorkbook(path), now=later).problems, "computed.typed_over") == []
    refreshed = refresh_flow(FileWorkbook(path), now=later)
    assert refreshed.changed and codes(refreshed.problems, "computed.replaced") == []


def test_many_replaced_cells_are_counted_after_the_first_twenty(branch) -> None:
    path = branch(register=ROWS * 10)
    refresh_flow(FileWorkbook(path), now=T1)
    typed(path, {(row, "days_overdue"): 999 for row in range(2, 32)})
    refreshed = refresh_flow(FileWorkbook(path), now=T1)
    assert len(codes(refreshed.problems, "computed.replaced")) == 20
    (more,) = [p for p in refreshed.problems if p.code == "computed.replaced_more"]
    assert more.params["count"] == 10
