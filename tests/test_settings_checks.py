"""The Settings a complaint number is made of, and the limits the engine works with, are checked
when read: a missing Settings sheet is said out loud, a blank branch code or a numbering pattern
that cannot be honoured is an error at its cell, and assign-ids writes no permanent number
from them; numbers too large for the engine are out of range like any other."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlcomplaints.core.models import Complaint, Settings
from xlcomplaints.core.numbering import assign_numbers
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.problems import Level
from xlcomplaints.flows import assign_ids_flow, check, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 11, 2, 9, 0)
ROW = {"received_at": "2026-10-30 10:00", "channel": "电话", "customer": "张三", "category": "其他",
       "severity": "一般", "validity": "有效", "content": "x"}


def _label_rows(ws: Any) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, 20) if ws.cell(r, 1).value}


def _edit_settings(path: Path, edit: Callable[[Any, dict[str, int]], None]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["设置"]
    edit(ws, _label_rows(ws))
    wb.save(path)


def _set(label: str, value: object) -> Callable[[Any, dict[str, int]], None]:
    def edit(ws: Any, rows: dict[str, int]) -> None:
        ws.cell(rows[label], 2).value = value  # ws.cell(r, c, None) would leave the cell as it was

    return edit


def _delete_sheet(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    wb.remove(wb["设置"])
    wb.save(path)


def _drop_stamp(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    del wb["设置"].defined_names["xlcomplaints.sheet"]
    wb.save(path)


# ------------------------------------------------------------------ missing Settings, blank code

@pytest.mark.parametrize("damage", [_delete_sheet, _drop_stamp], ids=["deleted", "stamp-lost"])
def test_missing_settings_sheet_is_a_warning_and_refresh_keeps_the_default_limits(branch, damage) -> None:
    path = branch(register=[ROW])
    damage(path)
    read = read_branch(FileWorkbook(path))
    missing = [p for p in read.problems if p.code == "settings.missing"]
    assert [p.level for p in missing] == [Level.WARNING]
    assert "BR01" in missing[0].message("zh") and "BR01" in missing[0].message("en")
    assert missing[0].sheet == "设置"
    # the defaults are the template's, limits included: refresh does not wipe every due time
    assert read.data.settings.policy == default_policy()
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert "settings.missing" in {p.code for p in result.problems}
    assert result.plan is not None and result.plan.register.get(2, "resolve_due") is not None


def test_blank_branch_code_is_an_error_at_its_cell(branch) -> None:
    path = branch()
    _edit_settings(path, _set("网点代码", None))
    problems = read_branch(FileWorkbook(path)).problems
    blank = [p for p in problems if p.code == "setting.branch_code_blank"]
    assert [(p.level, p.sheet, p.cell, p.column) for p in blank] == [(Level.ERROR, "设置", "B2", "网点代码")]
    assert "BJ01" in blank[0].message("en")  # says what to type


def test_a_country_without_holiday_data_is_an_error_at_its_cell_not_a_crash(branch) -> None:
    """A bit flipped on a bad disk turned CN into UN: refused at the cell, the default calendar used."""
    path = branch()
    _edit_settings(path, _set("节假日国家/地区", "UN"))
    read = read_branch(FileWorkbook(path))
    found = [(p.level, p.cell) for p in read.problems if p.code == "setting.country_unknown"]
    assert found == [(Level.ERROR, "B6")] and read.data.settings.country == "CN"
    assert refresh_flow(FileWorkbook(path), now=NOW).plan is not None


def test_branch_code_of_invisible_characters_is_blank(branch) -> None:
    path = branch()
    _edit_settings(path, _set("网点代码", "\u200b"))
    assert "setting.branch_code_blank" in {p.code for p in read_branch(FileWorkbook(path)).problems}


def test_branch_code_row_removed_is_an_error(branch) -> None:
    path = branch()
    _edit_settings(path, lambda ws, rows: setattr(ws.cell(rows["网点代码"], 1), "value", None))
    problems = [p for p in read_branch(FileWorkbook(path)).problems if p.code == "setting.branch_code_missing"]
    assert [(p.level, p.sheet) for p in problems] == [(Level.ERROR, "设置")]
    assert "网点代码" in problems[0].message("zh")


def _register_bytes(path: Path) -> list[object]:
    ws = openpyxl.load_workbook(path)["投诉登记"]
    return [ws.cell(r, 1).value for r in range(2, 5)]


@pytest.mark.parametrize(("damage", "reason"), [
    (_delete_sheet, "settings.missing"),
    (_drop_stamp, "settings.missing"),
    (lambda p: _edit_settings(p, _set("网点代码", "  ")), "设置!B2"),
    (lambda p: _edit_settings(p, _set("编号规则", "{branch}-{foo}{seq}")), "设置!B5"),
    (lambda p: _edit_settings(p, _set("编号规则", "{branch")), "设置!B5"),
], ids=["deleted", "stamp-lost", "blank-code", "unknown-token", "unbalanced"])
def test_assign_ids_refuses_and_writes_nothing(branch, damage, reason: str) -> None:
    path = branch(register=[ROW])
    damage(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        assign_ids_flow(FileWorkbook(path), now=NOW)
    assert e.value.code == "numbering.refused"
    text = e.value.message("zh") + e.value.message("en")
    assert (reason in text) if "!" in reason else ("BR01" in text)
    assert path.read_bytes() == before


def test_cli_assign_ids_refuses_with_a_sentence(branch) -> None:
    path = branch(register=[ROW])
    _edit_settings(path, _set("网点代码", None))
    for lang, words in (("zh", "网点代码"), ("en", "Branch code")):
        run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "assign-ids", str(path), "--lang", lang],
                             capture_output=True, text=True, timeout=120)
        out = " ".join((run.stdout + run.stderr).split())
        assert run.returncode == 2, out
        assert words in out and "B2" in out and "Traceback" not in out
    assert _register_bytes(path)[0] is None
    _edit_settings(path, _set("网点代码", "BJ01"))  # once fixed, numbering goes ahead
    run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "assign-ids", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert _register_bytes(path)[0] == "BJ01-2610001"


# ------------------------------------------------------------------ numbering pattern

@pytest.mark.parametrize(("pattern", "code"), [
    ("{branch}-{foo}{seq}", "pattern.unknown_token"),
    ("{branch}-{seq:abc}", "pattern.unknown_token"),
    ("{branch}-{yy:04}{seq}", "pattern.unknown_token"),  # a width only on the serial
    ("{Branch}-{seq}", "pattern.unknown_token"),
    ("{branch", "pattern.unbalanced"),
    ("{branch}}-{seq}", "pattern.unbalanced"),
    ("{{seq}}", "pattern.unbalanced"),
    ("{branch}-{yy}{mm}", "pattern.no_seq"),
    ("{seq}-{seq:02}", "pattern.many_seq"),
    ("{branch}{seq:0}", "pattern.seq_width"),
    ("{branch}{seq:12}", "pattern.seq_width"),
    ("{branch}-" + "X" * 40 + "{seq}", "pattern.too_long"),
])
def test_bad_numbering_pattern_is_an_error_at_its_cell(branch, pattern: str, code: str) -> None:
    path = branch()
    _edit_settings(path, _set("编号规则", pattern))
    _, problems = check(FileWorkbook(path), now=NOW)
    found = [p for p in problems if p.sheet == "设置"]
    assert [(p.level, p.code, p.cell, p.value) for p in found] == [(Level.ERROR, code, "B5", pattern)]
    zh, en = found[0].message("zh"), found[0].message("en")
    assert "编号规则" in zh and "编号规则" in en and code not in (zh, en) and zh != en
    if code != "pattern.too_long":
        assert "{seq" in zh and "{seq" in en  # says what is allowed


@pytest.mark.parametrize("pattern", ["{branch}-{yy}{mm}{seq:03}", "{seq}", "NO.{yyyy}{mm}{dd}-{seq:5}",
                                     "{branch}{seq:9}"])
def test_good_numbering_patterns_pass(branch, pattern: str) -> None:
    path = branch()
    _edit_settings(path, _set("编号规则", pattern))
    assert [p for p in read_branch(FileWorkbook(path)).problems if p.sheet == "设置"] == []


def test_lower_case_pattern_never_hands_out_a_number_twice(branch) -> None:
    """The Register reads bj01-no001 as BJ01-NO001: the next number must still be 002."""
    path = branch(register=[ROW])
    _edit_settings(path, lambda ws, rows: (ws.cell(rows["网点代码"], 2, "bj01"),
                                           ws.cell(rows["编号规则"], 2, "{branch}-no{seq:03}")))
    assert assign_ids_flow(FileWorkbook(path), now=NOW).assigned == {2: "bj01-no001"}
    wb = openpyxl.load_workbook(path)
    for col, key in enumerate(B.REGISTER.columns, start=1):
        if key.key in ROW:
            wb["投诉登记"].cell(3, col, ROW[key.key])
    wb.save(path)
    assert assign_ids_flow(FileWorkbook(path), now=NOW).assigned == {3: "bj01-no002"}


def test_assign_numbers_refuses_a_pattern_it_cannot_honour() -> None:
    c = Complaint(row=2, received_at=datetime(2026, 10, 30, 10))
    with pytest.raises(ValueError, match="numbering pattern"):
        assign_numbers([c], Settings(branch_code="BJ01", number_pattern="{branch}-{foo}{seq}"))


# ------------------------------------------------------------------ numbers too large for the engine

@pytest.mark.parametrize(("label", "value", "code"), [
    ("回访重试间隔(小时)", "1e300,48", "number.too_large"),
    ("回访重试间隔(小时)", "24,-5", "number.too_small"),
    ("回访重试间隔(小时)", "24,inf", "setting.bad_list"),
    ("部门接单处理时限(小时)", 1e15, "number.too_large"),
    ("联系不上客户时(小时)", 1e300, "number.too_large"),
])
def test_huge_settings_are_out_of_range_at_their_cell(branch, label: str, value: object, code: str) -> None:
    path = branch(register=[{**ROW, "no": "BJ01-2610001"}], tracking=[{"no": "BJ01-2610001", "at": "2026-10-30 11:00", "step": "分派"}],
                  callbacks=[{"no": "BJ01-2610001", "at": "2026-10-31 10:00", "method": "电话", "caller": "小林",
                              "outcome": "未联系上"}])
    _edit_settings(path, _set(label, value))
    result = refresh_flow(FileWorkbook(path), now=NOW)  # no OverflowError
    found = [(p.level, p.code, p.column) for p in result.problems if p.sheet == "设置"]
    assert found == [(Level.ERROR, code, label)]
    assert all(p.message("en") != p.code for p in result.problems)


@pytest.mark.parametrize("amount", [99999999, 1e15, 1e308])
def test_huge_sla_limit_is_out_of_range_and_refresh_and_report_go_on(branch, tmp_path: Path, amount: float) -> None:
    path = branch(register=[{**ROW, "no": "BJ01-2610001"}])
    wb = openpyxl.load_workbook(path)
    ws = wb["设置"]
    first = next(r for r in range(1, 60) if ws.cell(r, 1).value == "受理通知")
    amount_col = B.POLICY.index("amount") + 1
    ws.cell(first, amount_col, amount)
    wb.save(path)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    found = [p for p in result.problems if p.sheet == "设置"]
    assert [(p.code, p.cell) for p in found] == [("number.too_large", f"{chr(64 + amount_col)}{first}")]
    assert str(B.MAX_LIMIT_HOURS) in found[0].message("en")
    out = tmp_path / "report.xlsx"
    run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "report", str(path), "--month", "2026-10",
                          "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and out.exists(), run.stdout + run.stderr


def test_every_engine_limit_has_a_maximum() -> None:
    limits = {f.key: f.max_value for f in B.SETTINGS_FIELDS if f.type in (B.T.INT, B.T.NUMBER)}
    limits["callback_retry_hours"] = next(f.max_value for f in B.SETTINGS_FIELDS if f.key == "callback_retry_hours")
    limits["policy.amount"] = B.POLICY.column("amount").max_value
    assert all(v is not None for v in limits.values()), limits
