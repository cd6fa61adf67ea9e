"""A workbook of ours whose stamp was lost, or a register an office made by hand from our column
names, is recognised and adopted (restamped losslessly, backup kept); anything else is refused."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import HAS_SOFFICE, SHARED, soffice_convert
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 10, 9, 9, 0)
CLI = [sys.executable, "-m", "xlcomplaints.cli"]
VALIDATOR = SHARED / "tools" / "ooxml-validator" / "validate_ooxml.py"
ROW = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "张三", "category": "其他",
       "severity": "一般", "validity": "有效", "content": "电梯停运"}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert "Traceback" not in done.stderr, done.stderr
    return done


def said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}


def unstamped(path: Path) -> Path:
    """Our stamps gone, as another program drops hidden names it does not know."""
    wb = openpyxl.load_workbook(path)
    for name in [n for n in wb.defined_names if n.startswith("xlcomplaints")]:
        del wb.defined_names[name]
    for ws in wb.worksheets:
        for name in [n for n in ws.defined_names if n.startswith("xlcomplaints")]:
            del ws.defined_names[name]
    wb.save(path)
    return path


def hand_made(path: Path) -> Path:
    """A register an office typed itself, headers from our column names and their usual variants."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2026年投诉"
    ws.append(["序号", "*投诉时间", "客户", "投诉渠道", "投诉类别", "严重程度（必填）", "有效性", "投诉内容", "我们的备注"])
    ws.append([1, "2026-10-08 10:00", "张三", "电话", "其他", "一般", "有效", "电梯停运", "x"])
    ws.append([2, "2026-10-01 09:00", "李四", "来访", "服务态度", "重大", "有效", "态度差", None])
    wb.save(path)
    return path


def test_a_lost_stamp_is_recognised_and_adopt_restamps_it_losslessly(branch) -> None:
    path = unstamped(branch(register=[ROW]))
    with pytest.raises(WorkbookError) as e:
        validate_flow(FileWorkbook(path), now=NOW)
    assert e.value.code == "file.stamp_lost" and "xlcomplaints adopt" in e.value.message("zh")
    refused = run("refresh", path, "--lang", "en")
    assert refused.returncode == 2 and "xlcomplaints adopt" in said(refused)
    before = parts(path)
    adopted = run("adopt", path)
    assert adopted.returncode == 0 and "已认领" in adopted.stdout
    after = parts(path)
    assert {n for n in before if before[n] != after.get(n)} == {"xl/workbook.xml"} and set(before) == set(after)
    assert path.with_name("bj01.bak.xlsx").exists()  # the file as it was before adopting
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    again = run("adopt", path)
    assert again.returncode == 0 and "无需认领" in again.stdout


def test_a_workbook_open_in_excel_is_not_adopted_under_it(tmp_path: Path) -> None:
    path = hand_made(tmp_path / "office.xlsx")
    (tmp_path / "~$office.xlsx").write_bytes(b"owner")
    before = path.read_bytes()
    refused = run("adopt", path)
    assert refused.returncode == 2 and "正在 Excel 中打开" in said(refused) and path.read_bytes() == before


def test_a_register_made_by_hand_from_our_column_names_is_adopted(tmp_path: Path) -> None:
    path = hand_made(tmp_path / "office.xlsx")
    refused = run("validate", path)
    assert refused.returncode == 2 and "xlcomplaints adopt" in said(refused)
    adopted = run("adopt", path, "--lang", "en")
    assert adopted.returncode == 0, adopted.stderr
    assert "'2026年投诉' (by its headers)" in said(adopted) and "Not found:" in said(adopted)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None and result.plan.complaints == 2
    grid = openpyxl.load_workbook(path)["2026年投诉"]
    assert [c.value for c in grid[1]][:9] == ["序号", "*投诉时间", "客户", "投诉渠道", "投诉类别", "严重程度（必填）",
                                             "有效性", "投诉内容", "我们的备注"]  # the office's sheet as it was


def test_a_workbook_that_is_not_recognisably_ours_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["投诉编号", "受理时间", "金额"])
    wb.save(path)
    before = path.read_bytes()
    refused = run("adopt", path)
    assert refused.returncode == 2 and "不能认作" in said(refused) and "受理时间" in said(refused)
    assert path.read_bytes() == before and not list(tmp_path.glob("*.bak*"))
    assert run("validate", path).returncode == 2 and "不是由 xlcomplaints 模板创建" in said(run("validate", path))


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_a_round_trip_through_xls_is_adopted(branch, tmp_path: Path) -> None:
    path = branch(register=[ROW, {**ROW, "customer": "李四"}])
    xls = soffice_convert(path, tmp_path / "xls", "xls")
    back = soffice_convert(xls, tmp_path / "back", "xlsx")
    assert run("refresh", back).returncode == 2
    assert run("adopt", back).returncode == 0
    result = refresh_flow(FileWorkbook(back), now=NOW)
    assert result.plan is not None and result.plan.complaints == 2


@pytest.mark.skipif(not VALIDATOR.exists(), reason="the OOXML validator is not beside the repo")
def test_an_adopted_workbook_passes_the_strict_checker(tmp_path: Path) -> None:
    path = hand_made(tmp_path / "office.xlsx")
    assert run("adopt", path).returncode == 0
    check = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-2000:]
