"""refresh and assign-ids write only what they own, atomically, and lose nothing."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import HAS_SOFFICE, soffice_convert
from xlcomplaints.flows import assign_ids_flow, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 10, 9, 9, 0)
ROWS = [
    {"received_at": "2026/9/30 17:30", "channel": "电话", "customer": "张三", "phone": "13812345678",
     "category": "设施设备", "severity": "一般", "validity": "有效", "content": "电梯经常停运"},
    {"no": "BJ01-2609-001", "received_at": datetime(2026, 9, 29, 10), "channel": "来访", "customer": "李四",
     "category": "服务态度", "severity": "重大", "validity": "有效", "content": "保安态度恶劣",
     "acknowledged_at": "2026-09-29 11:00", "resolved_at": "2026年10月9日 14时05分"},
]


def parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}


def without_filter_names(workbook_xml: bytes, sheets: set[str]) -> bytes:
    """workbook.xml without the _xlnm._FilterDatabase names of these sheets, canonicalised."""
    from lxml import etree

    root = etree.fromstring(workbook_xml)
    order = [s.get("name") for s in root.iter("{*}sheet")]
    for d in list(root.iter("{*}definedName")):
        local = d.get("localSheetId")
        if d.get("name") == "_xlnm._FilterDatabase" and local is not None and order[int(local)] in sheets:
            d.getparent().remove(d)
    return etree.tostring(root, method="c14n")


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → its part, from the workbook's own relationships."""
    wb = openpyxl.load_workbook(path, read_only=True)
    names = wb.sheetnames
    wb.close()
    return {n: f"xl/worksheets/sheet{i}.xml" for i, n in enumerate(names, start=1)}


def test_refresh_writes_only_owned_parts_and_cells(branch) -> None:
    path = branch(register=ROWS)
    # the clerk's own sheet and a note beside the data
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("我的统计")["A1"] = "自己的笔记"
    wb["投诉登记"].cell(2, len(B.REGISTER.columns) + 2, "办公室自己的列")
    wb.save(path)
    before = parts(path)
    with zipfile.ZipFile(path) as z:
        workbook_before = z.read("xl/workbook.xml")
    before_cells = openpyxl.load_workbook(path)
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    after = parts(path)
    where = sheet_parts(path)
    summary_rels = where["汇总"].replace("worksheets/", "worksheets/_rels/") + ".rels"
    # and what the Summary's workload chart needs: its relationship, its parts' content types
    owned = {where["投诉登记"], where["逾期清单"], where["汇总"], "xl/workbook.xml", summary_rels,
             "[Content_Types].xml"}
    assert {n for n in before if before[n] != after.get(n)} <= owned
    with zipfile.ZipFile(path) as z:
        types = z.read("[Content_Types].xml").decode()
    assert "/xl/charts/chart1.xml" in types and "/xl/drawings/drawing1.xml" in types
    # in workbook.xml, only the hidden filter names of the sheets refresh rebuilt (they follow the autofilter)
    with zipfile.ZipFile(path) as z:
        workbook_after = z.read("xl/workbook.xml")
    assert without_filter_names(workbook_after, {"逾期清单", "汇总"}) == without_filter_names(
        workbook_before, {"逾期清单", "汇总"})
    assert set(after) - set(before) == {"xl/charts/chart1.xml", "xl/drawings/drawing1.xml",
                                        "xl/drawings/_rels/drawing1.xml.rels"}  # the chart, nothing else
    assert set(before) <= set(after)
    # every input cell and the office's own column are as they were
    now_cells = openpyxl.load_workbook(path)
    computed = {B.REGISTER.index(c.key) + 1 for c in B.REGISTER.computed_columns}
    old, new = before_cells["投诉登记"], now_cells["投诉登记"]
    for row in old.iter_rows(min_row=1, max_row=3):
        for cell in row:
            if cell.column not in computed:
                assert new.cell(cell.row, cell.column).value == cell.value, cell.coordinate
    # the values we wrote read back through an independent reader
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name("投诉登记").to_python()
    col = {k: B.REGISTER.index(k) for k in ("resolve_due", "resolve_status", "status", "next_action")}
    assert grid[1][col["resolve_due"]] == datetime(2026, 10, 10, 23, 59, 59)  # make-up Saturday counted
    # resolved at 14:05, after the refresh at 09:00: not done yet as of the refresh (its status depends on the policy)
    assert grid[2][col["resolve_status"]] not in ("按时完成", "逾期完成")
    overdue = CalamineWorkbook.from_path(path).get_sheet_by_name("逾期清单").to_python()
    assert overdue[0][0] == "投诉编号" and overdue[1][2] == "已逾期"
    assert overdue[1][6] == "重大"  # the major complaint on top


def test_complaints_the_clerk_cleared_lose_their_computed_cells_totals_lines_are_left(branch) -> None:
    """Rows that are no longer complaints, the last one too, keep no stale status or due time (the
    Register's colouring would flag a ghost); a totals line typed under the table keeps what the
    office put in it, even in a computed column."""
    third = {**ROWS[0], "customer": "王五", "received_at": "2026/10/8 09:00"}
    path = branch(register=[*ROWS, third])
    refresh_flow(FileWorkbook(path), now=NOW)
    cols = {k: B.REGISTER.index(k) + 1 for k in ("customer", "status", "resolve_due", "next_action")}
    computed = [B.REGISTER.index(c.key) + 1 for c in B.REGISTER.computed_columns]
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    assert all(ws.cell(r, cols["status"]).value for r in (2, 3, 4))
    for row in (3, 4):
        for c in B.REGISTER.input_columns:
            ws.cell(row, B.REGISTER.index(c.key) + 1).value = None
    ws["A6"] = "合计"
    ws.cell(6, cols["status"]).value = '=COUNTA(A2:A4)&"宗"'
    wb.save(path)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None and result.plan.complaints == 1
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert ws.cell(2, cols["customer"]).value == "张三" and ws.cell(2, cols["status"]).value
    assert [[ws.cell(r, c).value for c in computed] for r in (3, 4)] == [[None] * len(computed)] * 2
    assert ws["A6"].value == "合计" and ws.cell(6, cols["status"]).value == '=COUNTA(A2:A4)&"宗"'
    overdue = openpyxl.load_workbook(path)["逾期清单"]
    assert {row[0] for row in overdue.iter_rows(min_row=2, values_only=True) if any(row)} <= {None}
    assert len([row for row in overdue.iter_rows(min_row=2, values_only=True) if any(row)]) == \
        result.plan.counts[B.SummaryKey(B.Count.STAGE, "overdue")] + result.plan.counts[B.SummaryKey(B.Count.STAGE, "due_soon")]


def test_formula_looking_text_is_written_as_text(branch) -> None:
    path = branch(register=ROWS)
    wb = openpyxl.load_workbook(path)
    for r, text in ((2, "=1+2"), (3, "@SUM(A1)")):
        cell = wb["投诉登记"].cell(r, B.REGISTER.index("customer") + 1)
        cell.value, cell.data_type = text, "s"   # typed as text (Excel: a leading apostrophe)
    wb.save(path)
    refresh_flow(FileWorkbook(path), now=NOW)
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name("逾期清单").to_python()
    assert {row[8] for row in grid[1:]} == {"=1+2", "@SUM(A1)"}
    with zipfile.ZipFile(path) as z:
        xml = z.read(sheet_parts(path)["逾期清单"]).decode()
    assert "<f>" not in xml and "<f " not in xml


def test_second_refresh_at_the_same_time_changes_nothing(branch) -> None:
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=NOW)
    data, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert not refresh_flow(FileWorkbook(path), now=NOW).changed
    assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime


def test_backup_kept_and_refuses_when_open_in_excel_or_changed(branch) -> None:
    path = branch(register=ROWS)
    original = path.read_bytes()
    refresh_flow(FileWorkbook(path), now=NOW)
    backup = path.with_name("bj01.bak.xlsx")
    assert backup.read_bytes() == original
    lock = path.with_name("~$" + path.name)
    lock.write_bytes(b"locked by clerk")
    with pytest.raises(WorkbookError) as e:
        refresh_flow(FileWorkbook(path), now=datetime(2026, 10, 10))
    assert e.value.code == "file.locked"
    lock.unlink()
    port = FileWorkbook(path)
    wb = openpyxl.load_workbook(path)   # a colleague saves an edit after we read the file
    wb["投诉登记"]["E2"] = "张三丰"
    wb.save(path)
    edited = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        refresh_flow(port, now=datetime(2026, 10, 10))
    assert e.value.code == "file.changed"    # found while reading the sheets
    assert path.read_bytes() == edited   # their edit is still there
    port = FileWorkbook(path)
    refresh_flow(port, now=datetime(2026, 10, 10), save=False)   # everything read and planned
    wb = openpyxl.load_workbook(path)
    wb["投诉登记"]["E2"] = "张无忌"
    wb.save(path)
    edited = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        port.save()
    assert e.value.code == "file.changed"    # found by the save's own check
    assert path.read_bytes() == edited


def test_assign_ids_fills_gaps_never_renumbers(branch) -> None:
    path = branch(register=[
        {"no": "BJ01-2610007", "received_at": "2026-10-02 10:00", "channel": "电话", "customer": "甲",
         "category": "其他", "severity": "一般", "validity": "有效", "content": "x"},
        {"received_at": "2026-10-03 10:00", "channel": "电话", "customer": "乙", "category": "其他",
         "severity": "一般", "validity": "有效", "content": "y"},
        {"received_at": "2026-09-30 10:00", "channel": "电话", "customer": "丙", "category": "其他",
         "severity": "一般", "validity": "有效", "content": "z"},
    ])
    result = assign_ids_flow(FileWorkbook(path), now=NOW)
    assert result.assigned == {3: "BJ01-2610008", 4: "BJ01-2609001"}
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == ["BJ01-2610007", "BJ01-2610008", "BJ01-2609001"]
    assert assign_ids_flow(FileWorkbook(path), now=NOW).assigned == {}


def test_refresh_xlsm_keeps_vba_and_unowned_parts(tmp_path: Path) -> None:
    """A real Excel-saved workbook with macros: every part but the sheet we patch stays byte-identical."""
    from tests.conftest import REAL_EXCEL
    from xlcomplaints.workbook.package import XlsxPackage

    src = REAL_EXCEL / "62629_target.xlsm"
    path = tmp_path / src.name
    path.write_bytes(src.read_bytes())
    before = parts(path)
    pkg = XlsxPackage.open(path)
    sheet = pkg.sheets[0]
    pkg.write_cells(sheet.name, {(1, 30): "刷新逾期", (2, 30): datetime(2026, 10, 9, 9)})
    pkg.save(path)
    after = parts(path)
    assert {n for n in before if before[n] != after[n]} == {sheet.part}
    assert before["xl/vbaProject.bin"] == after["xl/vbaProject.bin"]


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_refreshed_workbook_opens_in_libreoffice(branch, tmp_path: Path) -> None:
    path = branch(register=ROWS)
    refresh_flow(FileWorkbook(path), now=NOW)
    out = soffice_convert(path, tmp_path / "lo", "xlsx")
    ws = openpyxl.load_workbook(out, data_only=True)["投诉登记"]
    assert ws.cell(2, B.REGISTER.index("resolve_due") + 1).value == datetime(2026, 10, 10, 23, 59, 59)
    # the next action is the first contact (the resolution is typed for 14:05, after the refresh): 处理中, as it says
    assert ws.cell(3, B.REGISTER.index("status") + 1).value == "处理中"


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_a_workbook_resaved_by_libreoffice_refreshes_like_ours(branch, tmp_path: Path) -> None:
    """A branch that re-saves its workbook in LibreOffice (different XML, styles and string table)
    still refreshes in place: every computed cell as in our own file, every other sheet's cell kept."""
    path = branch(register=ROWS)
    resaved = soffice_convert(path, tmp_path / "lo", "xlsx")
    for p in (path, resaved):
        assert refresh_flow(FileWorkbook(p), now=NOW).changed
    ours, theirs = (CalamineWorkbook.from_path(str(p)) for p in (path, resaved))
    assert theirs.sheet_names == ours.sheet_names
    for name in ours.sheet_names:  # the refreshed Register, Overdue and Summary included
        grid = ours.get_sheet_by_name(name).to_python(skip_empty_area=True)
        assert theirs.get_sheet_by_name(name).to_python(skip_empty_area=True) == grid, name
    register = ours.get_sheet_by_name("投诉登记").to_python(skip_empty_area=True)
    assert len(register) == 3 and register[2][B.REGISTER.index("status")] == "处理中"  # first contact to do
    assert len(ours.get_sheet_by_name("逾期清单").to_python(skip_empty_area=True)) > 1


def test_plan_cells_line_up_with_the_engine_and_the_summary_counts(branch) -> None:
    """The plan keeps cells as tuples in the spec's column order: each must be the value the
    engine computed for that column, and the Summary's counts must match the results."""
    from xlcomplaints.core.refresh import (
        REGISTER_KEYS,
        OverdueRow,
        evaluate_branch,
        next_action_text,
        plan_refresh,
    )
    from xlcomplaints.spec import vocab as v
    from xlcomplaints.workbook.reader import read_branch

    rows = [*ROWS, {**ROWS[1], "no": "BJ01-2610-002", "received_at": "2026/10/8 09:00", "resolved_at": None},
            {**ROWS[0], "customer": "王五", "phone": None, "validity": "无效"}]
    data = read_branch(FileWorkbook(branch(register=rows))).data
    plan = plan_refresh(data, NOW, lang="zh")
    results, _ = evaluate_branch(data, NOW)
    assert tuple(c.key for c in B.REGISTER.computed_columns) == REGISTER_KEYS
    assert plan.complaints == len(results) == 4
    for r in results:
        row = r.complaint.row
        assert row is not None
        for stage, s in r.stages.items():
            assert plan.register.get(row, f"{stage}_due") == s.due
            assert plan.register.get(row, f"{stage}_status") == v.STAGE_STATUS.label(s.status, "zh")
        assert plan.register.get(row, "status") == v.OVERALL_STATUS.label(r.status, "zh")
        assert plan.register.get(row, "next_action") == (next_action_text(r, "zh") or None)
        assert plan.register.get(row, "repeat_of") == r.repeat_of
    summary = {label: n for label, n, _ in plan.summary_rows}
    open_ = [r for r in results if r.status not in ("closed", "invalid")]
    assert summary["投诉总数"] == 4 and summary["未结案"] == len(open_)
    assert summary["未结案-重大"] == sum(r.complaint.severity == "major" for r in open_)
    assert summary["重复投诉"] == sum(bool(r.repeat_of) for r in results) == 1
    assert len(plan.overdue_rows) == sum(s.status in ("overdue", "due_soon") for r in results for s in r.stages.values())
    assert OverdueRow._fields == tuple(c.key for c in B.OVERDUE.columns)
    urgent = {v.STAGE_STATUS.label("overdue", "zh"), v.STAGE_STATUS.label("due_soon", "zh")}
    assert plan.overdue_rows and all(o.status in urgent and o.due is not None for o in plan.overdue_rows)


def test_a_column_of_the_clerks_titled_like_a_computed_one_is_never_written(branch) -> None:
    """A clerk's own 下一步 column added left of ours: which one refresh owns is unclear, so it writes
    neither and says so (it used to write the statuses over the clerk's notes)."""
    path = branch(register=ROWS)
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    ws.protection.sheet = False
    ws.insert_cols(3)
    ws["C1"], ws["C2"], ws["C3"] = "下一步", "周五前回电", None
    wb.save(path)
    ours = B.REGISTER.index("next_action") + 2  # shifted by the inserted column
    result = refresh_flow(FileWorkbook(path), now=NOW)
    (warning,) = [p for p in result.problems if p.code == "column.duplicate_computed"]
    assert warning.message("en") == ("Column '下一步' appears twice (C1, " + openpyxl.utils.get_column_letter(ours)
                                     + "1): which one xlcomplaints computes is unclear, so neither is written. "
                                     "Rename the column you added.")
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert ws["C2"].value == "周五前回电" and ws["C3"].value is None
    assert ws.cell(2, ours).value is None and ws.cell(2, B.REGISTER.index("status") + 2).value  # the rest is written


def test_computed_columns_the_office_deleted_are_named(branch) -> None:
    """Refresh cannot write a computed column that is gone: it says which, instead of a quiet 'saved'."""
    path = branch(register=ROWS)
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    ws.protection.sheet = False
    first = B.REGISTER.index(B.REGISTER.computed_columns[0].key) + 1
    ws.delete_cols(first + 1, len(B.REGISTER.computed_columns) - 1)  # all but the first computed column
    wb.save(path)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    (warning,) = [p for p in result.problems if p.code == "column.computed_missing"]
    names = [c.en for c in B.REGISTER.computed_columns[1:6]]
    assert warning.sheet == "投诉登记" and warning.message("en") == (
        "The sheet has no computed column " + ", ".join(f"'{n}'" for n in names)
        + f" and {len(B.REGISTER.computed_columns) - 6} more; refresh cannot write it. Copy the columns from the "
        "template (same headers).")
    assert openpyxl.load_workbook(path)["投诉登记"].cell(2, first).value  # what is there is still written
    assert "column.computed_missing" not in {p.code for p in refresh_flow(FileWorkbook(branch(
        "fresh.xlsx", register=ROWS)), now=NOW).problems}
