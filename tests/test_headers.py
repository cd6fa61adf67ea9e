"""Offices rename headers: synonyms and required-field markers are read, and what cannot be
found stops refresh and numbering before anything is written."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import type_rows
from xlcomplaints.core import cells
from xlcomplaints.core.rows import _unmarked
from xlcomplaints.flows import assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 10, 9, 9, 0)
ROW = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "张三", "category": "其他",
       "severity": "一般", "validity": "有效", "content": "电梯停运"}
CLI = [sys.executable, "-m", "xlcomplaints.cli"]


def rename(path: Path, key: str, header: str, spec=B.REGISTER) -> None:
    wb = openpyxl.load_workbook(path)
    wb[spec.zh].cell(1, spec.index(key) + 1, header)
    wb.save(path)


def cell(path: Path, key: str, row: int = 2) -> object:
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name(B.REGISTER.zh).to_python()
    return grid[row - 1][B.REGISTER.index(key)]


@pytest.mark.parametrize("spec", [B.REGISTER, B.TRACKING, B.CALLBACKS, B.CALENDAR, B.POLICY])
def test_no_header_answers_to_two_columns_of_one_sheet(spec) -> None:
    seen: dict[str, str] = {}
    for c in spec.columns:
        for text in (c.zh, c.en, c.key, *c.synonyms):
            key = _unmarked(cells.header_key(text))
            assert seen.setdefault(key, c.key) == c.key, f"{text!r} names both {seen[key]} and {c.key}"


def test_computed_columns_have_no_synonyms() -> None:
    """A computed column is written over: an office column that happens to be called 状态 must never be."""
    for spec in B.BRANCH_SHEETS:
        assert not [c.key for c in spec.computed_columns if c.synonyms]


@pytest.mark.parametrize("header", ["投诉时间", "受理日期", "来电时间", "登记时间", "*受理时间", "＊受理时间",
                                    "受理时间*", "受理时间(必填)", "受理时间（必填）", "受理时间\n(必填)",
                                    "受理时间\n格式：2026-11-03 14:05", "  受理时间  ", "Received (required)"])
def test_a_renamed_or_marked_received_header_still_drives_the_deadlines(branch, header: str) -> None:
    path = branch(register=[ROW])
    rename(path, "received_at", header)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert "column.missing" not in {p.code for p in result.problems}
    assert result.plan is not None and result.plan.complaints == 1
    assert isinstance(cell(path, "resolve_due"), datetime)


def test_our_label_wins_over_a_synonym_in_an_office_column(branch) -> None:
    """An office column 登记时间 left of our 受理时间 stays the office's: the deadline counts from 受理时间."""
    path = branch(register=[ROW])
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    ws.insert_cols(1)
    ws["A1"], ws["A2"] = "登记时间", "2020-01-01 00:00"
    wb.save(path)
    read = validate_flow(FileWorkbook(path), now=NOW)
    assert not [p for p in read.problems if p.code.startswith("column.")]
    from xlcomplaints.workbook.reader import read_branch

    (c,) = read_branch(FileWorkbook(path)).data.complaints
    assert c.received_at == datetime(2026, 10, 8, 10, 0)


def test_a_header_that_cannot_be_found_stops_refresh_writing_nothing(branch) -> None:
    path = branch(register=[ROW] * 3)
    refresh_flow(FileWorkbook(path), now=NOW)
    rename(path, "received_at", "受理时刻")
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        refresh_flow(FileWorkbook(path), now=NOW)
    assert e.value.code == "column.needed"
    assert path.read_bytes() == before
    zh = e.value.message("zh")
    assert "受理时间" in zh and "投诉时间" in zh and "未写入任何内容" in zh
    with pytest.raises(WorkbookError) as e2:
        assign_ids_flow(FileWorkbook(path), now=NOW)
    assert e2.value.code == "column.needed" and path.read_bytes() == before


def test_numbering_needs_the_number_column(branch) -> None:
    path = branch(register=[ROW])
    rename(path, "no", "单号X")
    with pytest.raises(WorkbookError) as e:
        assign_ids_flow(FileWorkbook(path), now=NOW)
    assert e.value.code == "column.needed" and "Complaint No." in e.value.message("en")
    assert refresh_flow(FileWorkbook(path), now=NOW).changed  # deadlines do not need the number column


def test_a_tracking_sheet_without_its_step_column_stops_refresh(branch) -> None:
    path = branch(register=[{**ROW, "no": "BJ01-2610-001"}],
                  tracking=[{"no": "BJ01-2610-001", "at": "2026-10-08 11:00", "step": "处理完成"}])
    rename(path, "step", "做了什么", B.TRACKING)
    with pytest.raises(WorkbookError) as e:
        refresh_flow(FileWorkbook(path), now=NOW)
    assert e.value.code == "column.needed" and "处理跟踪" in e.value.message("zh")


@pytest.mark.parametrize("command", ["refresh", "assign-ids"])
def test_the_command_refuses_with_exit_2_and_one_sentence(branch, command: str) -> None:
    path = branch(register=[ROW])
    rename(path, "received_at", "时间点")
    before = path.read_bytes()
    run = subprocess.run([*CLI, command, str(path), "--lang", "en"], capture_output=True, text=True, timeout=120,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2, run.stdout + run.stderr
    said = " ".join(run.stderr.split())  # as printed, wrapped to the terminal
    assert "'Received'" in said and "投诉时间" in said and "nothing was written" in said
    assert "Traceback" not in run.stderr and path.read_bytes() == before


def test_validate_says_which_headers_it_looked_for(branch) -> None:
    path = branch(register=[ROW])
    type_rows(path, "register", [ROW])
    rename(path, "received_at", "时间点")
    result = validate_flow(FileWorkbook(path), now=NOW)
    (p,) = [p for p in result.problems if p.code == "column.missing"]
    assert p.column == "受理时间" and "来电时间" in p.message("zh")


def test_the_refresh_button_refuses_as_the_command_does(tmp_path: Path) -> None:
    """The buttons share the flows: the same refusal, shown in Excel, and no cell written."""
    from tests.test_excel_adapter import make_workbook, run_button

    source = make_workbook(tmp_path, 5)
    rename(source, "received_at", "受理时刻")
    for action in ("refresh", "assign"):
        book, outcome = run_button(source, action)
        assert not outcome.ok and "找不到“投诉登记”表的“受理时间”列" in outcome.zh and "'Received'" in outcome.en
        assert book.calls.log["Range.value="] == 0
