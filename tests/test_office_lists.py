"""The office's own lists (词表 Lists) and the industry presets, on real workbooks on disk.

A new workbook carries the built-in lists on its Lists sheet and its dropdowns refer to them; validate
accepts what the Lists sheet holds (and its aliases) and nothing else, located to the cell; a workbook
without the sheet keeps the built-in lists; a head office's ``[lists]`` is imposed through ``--policy``;
``new --preset`` writes an industry's lists and limits, each entry citing its seed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import HAS_SOFFICE, SHARED, soffice_convert, type_rows
from xlcomplaints.api import consolidate, monthly_report, new_workbook
from xlcomplaints.core.lists import LIST_DUPLICATE, LIST_NOT_ON
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.policy_file import load_policy, preset_path, presets
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import vocab as v
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 10, 20, 9, 0)
CLI = [sys.executable, "-m", "xlcomplaints.cli"]
ROW = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "张三", "category": "其他",
       "severity": "一般", "validity": "有效", "content": "信号差"}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=180,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def type_lists(path: Path, key: str, entries: list[str], lang: str = "zh", column: str = "") -> None:
    """Type entries down a list's column on the Lists sheet (from row 2), as a supervisor would; typing
    the names (``column`` blank) clears the list's four columns first."""
    wb = openpyxl.load_workbook(path)
    ws = wb[B.LISTS.title(lang)]
    col = B.LISTS.index(f"{key}{column}") + 1
    for c in range(col, col + (4 if not column else 1)):
        for r in range(2, ws.max_row + 1):
            ws.cell(r, c).value = None
    for r, value in enumerate(entries, start=2):
        ws.cell(r, col, value)
    wb.save(path)


def codes(problems: list[Any]) -> list[tuple[str, str | None]]:
    return [(p.code, p.cell) for p in problems if p.level == "error"]


def test_a_new_workbook_has_the_built_in_lists_and_dropdowns_refer_to_them(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "bj01.xlsx", branch_code="BJ01")
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name("词表").to_python()
    assert grid[0][:4] == ["投诉类别", "投诉类别·英文", "投诉类别·别名", "投诉类别·代码"]
    category = [row[B.LISTS.index("category")] for row in grid[1:] if row[B.LISTS.index("category")]]
    assert category == v.CATEGORY.labels("zh")
    channels = [row[B.LISTS.index("channel_code")] for row in grid[1:] if row[B.LISTS.index("channel")]]
    assert channels == list(v.CHANNEL.codes)
    assert not any(row[B.LISTS.index("department")] for row in grid[1:])  # free text until the office fills it
    wb = openpyxl.load_workbook(path)
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names}
    assert names["Lists_Category"] == "OFFSET('词表'!$A$2,0,0,MAX(1,COUNTA('词表'!$A$2:$A$1001)),1)"
    register = wb["投诉登记"]
    sources = {next(iter(dv.sqref.ranges)).min_col: dv.formula1 for dv in register.data_validations.dataValidation}
    for key, name in (("category", "Lists_Category"), ("case_type", "Lists_Type"), ("channel", "Lists_Channel"),
                      ("department", "Lists_Department"), ("handler", "Lists_Handler")):
        assert sources[B.REGISTER.index(key) + 1] == name
    tracking = {next(iter(dv.sqref.ranges)).min_col: dv.formula1 for dv in wb["处理跟踪"].data_validations.dataValidation}
    assert tracking[B.TRACKING.index("to_department") + 1] == "Lists_StepDepartment"
    # the rule lists stay ours: severity still drops down its fixed labels
    assert sources[B.REGISTER.index("severity") + 1] == '"一般,重要,重大"'


def test_an_english_workbook_drops_down_the_english_names(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "en.xlsx", branch_code="BJ01", lang="en")
    wb = openpyxl.load_workbook(path)
    assert wb.defined_names["Lists_Category"].attr_text.startswith("OFFSET('Lists'!$B$2,")


def test_validate_takes_the_office_list_and_its_aliases(branch: Any) -> None:
    path = branch(register=[{**ROW, "category": "网络质量"}, {**ROW, "category": "网络"},
                            {**ROW, "category": "产品质量", "department": "工程部"}])
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == [
        ("choice.unknown", "J2"), ("choice.unknown", "J3")]
    type_lists(path, "category", ["网络质量类", "业务类"])
    type_lists(path, "category", ["", "业务"], column="_aliases")
    type_lists(path, "category", ["网络质量", ""], column="_aliases")
    problems = validate_flow(FileWorkbook(path), now=NOW).problems
    # 网络质量 is an alias of 网络质量类; 网络 is on no list; 产品质量 is no longer the office's
    assert codes(problems) == [("choice.unknown", "J3"), ("choice.unknown", "J4")]
    read = FileWorkbook(path)
    refresh_flow(read, now=NOW)
    from xlcomplaints.workbook.reader import read_branch

    data = read_branch(FileWorkbook(path)).data
    assert [c.category for c in data.complaints] == ["网络质量类", None, None]


def test_department_is_free_text_until_the_office_lists_its_departments(branch: Any) -> None:
    path = branch(register=[{**ROW, "department": "工程部"}, {**ROW, "department": "客服部"}])
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == []
    type_lists(path, "department", ["工程部", "保安部"])
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == [("choice.unknown", "R3")]


def test_a_duplicate_and_a_gap_on_lists_are_pointed_at(branch: Any) -> None:
    path = branch()
    type_lists(path, "department", ["工程部", "工程部", "", "保安部"])
    problems = validate_flow(FileWorkbook(path), now=NOW).problems
    col = "M"  # the department list's first column
    assert B.LISTS.index("department") == 12
    assert sorted((p.cell, p.code) for p in problems) == [(f"{col}3", LIST_DUPLICATE), (f"{col}4", "lists.gap")]


def test_a_workbook_without_the_lists_sheet_keeps_the_built_in_lists(branch: Any) -> None:
    """Every workbook made by the 1.0 templates has no Lists sheet: it reads as before."""
    path = branch(register=[{**ROW, "category": "质量"}, {**ROW, "category": "网络质量"}])
    wb = openpyxl.load_workbook(path)
    del wb["词表"]
    for name in [n for n in wb.defined_names if n.startswith("Lists_")]:
        del wb.defined_names[name]
    wb.save(path)
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == [("choice.unknown", "J3")]
    assert refresh_flow(FileWorkbook(path), now=NOW).changed


def test_telecom_preset_end_to_end(tmp_path: Path) -> None:
    """new --preset telecom → the clerk types 网络质量类 (and 网络质量) → validate clean → refresh →
    the report breaks the category down by the telecom's own categories, in its order."""
    path = tmp_path / "tel.xlsx"
    assert run("new", path, "--branch-code", "TEL1", "--preset", "telecom").returncode == 0
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name("词表").to_python()
    assert [r[0] for r in grid[1:] if r[0]] == ["业务类", "服务类", "网络质量类", "其他"]
    type_rows(path, "register", [{**ROW, "no": "TEL1-001", "category": "网络质量类"},
                                 {**ROW, "no": "TEL1-002", "category": "网络质量"},
                                 {**ROW, "no": "TEL1-003", "category": "服务类", "received_at": "2026-10-09 11:00"}])
    clean = run("validate", path, "--now", "2026-10-20 09:00")
    assert clean.returncode == 0, clean.stdout
    assert run("refresh", path, "--now", "2026-10-20 09:00").returncode == 0
    overdue = CalamineWorkbook.from_path(path).get_sheet_by_name("逾期清单").to_python()
    assert "网络质量类" in {row[B.OVERDUE.index("category")] for row in overdue[1:]}
    out = tmp_path / "tel-2026-10.xlsx"
    done = run("report", path, "--month", "2026-10", "-o", out, "--now", "2026-11-02 09:00")
    assert done.returncode == 0, done.stdout + done.stderr
    sheet = CalamineWorkbook.from_path(out).get_sheet_by_name("按投诉类别").to_python()
    counts = {row[1]: row[2] for row in sheet[1:]}
    assert [row[1] for row in sheet[1:5]] == ["业务类", "服务类", "网络质量类", "其他"]
    assert counts["网络质量类"] == 2 and counts["服务类"] == 1 and counts["业务类"] == 0
    assert "产品质量" not in counts  # the built-in categories are not this office's


def _head_office(tmp_path: Path) -> Path:
    toml = tmp_path / "hq.toml"
    toml.write_text('[lists]\ncategory = [{ zh = "网络", aliases = ["网络质量类"] }, "业务类", "客服"]\n',
                    encoding="utf-8")
    return toml


def test_head_office_lists_in_validate_and_consolidate(tmp_path: Path) -> None:
    a = tmp_path / "tel.xlsx"
    new_workbook(a, branch_code="TEL1", preset="telecom")
    type_rows(a, "register", [{**ROW, "no": "TEL1-001", "category": "网络质量类"},
                              {**ROW, "no": "TEL1-002", "category": "服务类"},
                              {**ROW, "no": "TEL1-003", "category": "服务类"}])
    hq = _head_office(tmp_path)
    # validate --policy: head office's list replaces the branch's — 服务类 is not on it
    bad = run("validate", a, "--now", "2026-10-20 09:00", "--policy", hq, "--json")
    assert bad.returncode == 1 and '"code": "choice.unknown"' in bad.stdout
    out = tmp_path / "group.xlsx"
    result = consolidate([a], "2026-10", out, now=datetime(2026, 11, 2, 9, 0), policy=hq, workers=1)
    not_on = [p for p in result.consolidation.issues if p.code == LIST_NOT_ON]
    assert [(p.params["value"], p.params["count"]) for p in not_on] == [("服务类", 2)]
    sheet = CalamineWorkbook.from_path(out).get_sheet_by_name("按投诉类别").to_python()
    counts = {row[1]: row[2] for row in sheet[1:]}
    # head office's order first; the branch's 网络质量类 counted as 网络; 服务类 under its own name
    assert [row[1] for row in sheet[1:4]] == ["网络", "业务类", "客服"]
    assert counts["网络"] == 1 and counts["服务类"] == 2 and counts["合计"] == 3
    issues = CalamineWorkbook.from_path(out).get_sheet_by_name("问题清单").to_python()
    assert any("服务类" in str(row) and "总部" in str(row) for row in issues)


def test_monthly_report_of_one_branch_orders_by_its_lists(tmp_path: Path) -> None:
    path = tmp_path / "retail.xlsx"
    new_workbook(path, branch_code="R1", preset="retail")
    type_rows(path, "register", [{**ROW, "no": "R1-1", "category": "对员工的投诉", "case_type": "供应商投诉"}])
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == []
    run_ = monthly_report(path, "2026-10", tmp_path / "r.xlsx", now=datetime(2026, 11, 2, 9, 0))
    assert [g.key for g in run_.report.breakdowns["category"]][:5] == ["商品", "员工", "服务制度", "环境", "安全"]
    assert [g.key for g in run_.report.breakdowns["case_type"]] == ["顾客投诉", "供应商投诉"]


# ------------------------------------------------------------------------------------------ presets

SEEDS = SHARED / "seeds"


@pytest.mark.parametrize("name", presets())
def test_each_preset_entry_cites_its_seed_or_says_none_does(name: str) -> None:
    data = tomllib.loads(preset_path(name).read_text(encoding="utf-8"))
    policy = load_policy(preset_path(name))
    assert policy.rules or policy.lists.own or data.get("about")
    for key, entries in data.get("lists", {}).items():
        assert len(policy.lists.given[key]) == len(entries)
        for entry in entries:
            assert entry.get("source"), (name, entry)
            if "seed" not in entry:  # not from a seed, and said so
                assert "不出自种子" in entry["source"], (name, entry)
                continue
            assert entry["source"].startswith(f"种子{entry['seed']} ")
            if SEEDS.is_dir():
                (seed,) = SEEDS.glob(f"{entry['seed']}_*.txt")
                assert entry["quote"] in re.sub(r"\s+", "", seed.read_text(encoding="utf-8")), (name, entry)


def test_the_presets_the_issue_names_exist_and_help_lists_them() -> None:
    assert {"property", "dealer", "retail", "telecom", "insurer", "courier", "dairy", "lawfirm"} <= set(presets())
    from xlcomplaints.cli_help import HELP

    assert all(name in HELP["preset"][1] for name in presets())
    bad = run("new", "x.xlsx", "--branch-code", "X", "--preset", "nope")
    assert bad.returncode == 2 and "telecom" in bad.stderr


def test_a_preset_writes_its_rules_on_settings(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "ins.xlsx", branch_code="I1", preset="insurer")
    from xlcomplaints.workbook.reader import read_branch

    read = read_branch(FileWorkbook(path))
    assert [(r.stage, r.amount, r.unit) for r in read.data.settings.policy] == [("close", 9, "calendar_days")]
    assert [c.zh for c in read.lists.get("category") or ()] == ["代签名", "侵占保费", "其他"]


# ------------------------------------------------------------------------------------- LibreOffice

@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_libreoffice_evaluates_the_list_names_and_an_added_entry_shows_at_once(tmp_path: Path) -> None:
    """The dropdowns' names are live ranges: an entry typed under the list is in the range at once, in
    an independent engine, with no run of ours between; the validation survives LibreOffice's save."""
    path = new_workbook(tmp_path / "lo.xlsx", branch_code="BJ01")
    type_lists(path, "category", [*v.CATEGORY.labels("zh"), "网络质量类"])
    wb = openpyxl.load_workbook(path)
    ws = wb["日历"]
    ws["E1"] = "=ROWS(Lists_Category)"
    ws["E2"] = "=INDEX(Lists_Category,ROWS(Lists_Category))"
    ws["E3"] = "=ROWS(Lists_Department)"
    wb.save(path)
    out = soffice_convert(path, tmp_path / "lo", "xlsx", recalc=True)
    grid = CalamineWorkbook.from_path(out).get_sheet_by_name("日历").to_python()
    assert [grid[0][4], grid[1][4], grid[2][4]] == [len(v.CATEGORY) + 1, "网络质量类", 1]
    again = openpyxl.load_workbook(out)
    kept = {dv.formula1 for dv in again["投诉登记"].data_validations.dataValidation}
    assert "Lists_Category" in kept


def test_an_english_workbook_still_reads_the_chinese_names_of_built_in_entries(branch: Any) -> None:
    """Its Lists sheet shows no Chinese; the built-in entries (by code) keep their Chinese names, as the
    Register read them before the Lists sheet, and an office's own English entry reads as itself."""
    path = branch(lang="en", register=[{**ROW, "category": "产品质量", "channel": "Phone"},
                                       {**ROW, "category": "Network", "channel": "热线"}])
    assert codes(validate_flow(FileWorkbook(path), now=NOW).problems) == [("choice.unknown", "J3")]
    wb = openpyxl.load_workbook(path)
    ws = wb["Lists"]
    ws.cell(len(v.CATEGORY) + 2, B.LISTS.index("category_en") + 1, "Network")
    wb.save(path)
    from xlcomplaints.workbook.reader import read_branch

    read = read_branch(FileWorkbook(path), lang="en")
    assert [c.category for c in read.data.complaints] == ["quality", "Network"]
    assert [c.channel for c in read.data.complaints] == ["phone", "phone"]


def test_last_months_report_gives_an_office_entry_by_its_code(tmp_path: Path) -> None:
    """An entry with its own code (NET) read back from last month's report by its name (网络质量类)
    counts as last month's NET, when this month's register started afresh."""
    def month_book(name: str, received: str) -> Path:
        path = new_workbook(tmp_path / name, branch_code="TEL1", preset="telecom")
        type_lists(path, "category", ["", "", "NET", ""], column="_code")  # 网络质量类 is the third entry
        type_rows(path, "register", [{**ROW, "no": f"TEL1-{name[:3]}", "category": "网络质量类",
                                      "received_at": received}])
        return path

    monthly_report(month_book("sep.xlsx", "2026-09-10 10:00"), "2026-09", tmp_path / "r-09.xlsx",
                   now=datetime(2026, 10, 2, 9, 0))
    run_ = monthly_report(month_book("oct.xlsx", "2026-10-08 10:00"), "2026-10", tmp_path / "r-10.xlsx",
                          now=datetime(2026, 11, 2, 9, 0), history=[tmp_path / "r-09.xlsx"])
    rows = {g.key: (g.count, g.previous) for g in run_.report.breakdowns["category"]}
    assert rows["NET"] == (1, 1) and "网络质量类" not in rows


def test_the_auditor_gets_the_telecom_breakdown_back_from_the_words(tmp_path: Path) -> None:
    """The independent auditor (tests/audit) reads the office's lists from the Lists sheet as
    docs/sheets.md describes them, and agrees with every category breakdown figure of the report."""
    from tests.audit.figures import all_figures, months
    from tests.audit.report import read_report

    path = new_workbook(tmp_path / "TEL1.xlsx", branch_code="TEL1", preset="telecom")
    type_rows(path, "register", [
        {**ROW, "no": "TEL1-001", "category": "网络质量类"},
        {**ROW, "no": "TEL1-002", "category": "网络质量", "resolved_at": "2026-10-09 10:00"},
        {**ROW, "no": "TEL1-003", "category": "服务类投诉", "received_at": "2026-09-28 10:00"},
        {**ROW, "no": "TEL1-004", "category": "产品质量"}])  # not this office's: the blank row
    refresh_flow(FileWorkbook(path), now=datetime(2026, 11, 2, 9, 0))
    out = tmp_path / "r.xlsx"
    monthly_report(path, "2026-10", out, now=datetime(2026, 11, 2, 9, 0))
    mine, _, _ = all_figures([path], months(2026, 10))
    report = read_report(out)
    keys = [k for k in mine if k.startswith("breakdown:category:")]
    assert "breakdown:category:网络质量类:count" in keys
    assert {k: mine[k] for k in keys} == {k: report.get(k) for k in keys}
    assert report["breakdown:category:网络质量类:count"] == 2


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
def test_libreoffice_reads_each_dropdown_as_a_list_from_the_lists_sheet(tmp_path: Path) -> None:
    """LibreOffice's own model of the workbook (its .ods) has each office-list column's validity as
    "in the list of the named range", shown as a dropdown, on the sheets the spec says."""
    import zipfile

    path = new_workbook(tmp_path / "lo.xlsx", branch_code="BJ01")
    ods = soffice_convert(path, tmp_path / "ods", "ods")
    xml = zipfile.ZipFile(ods).read("content.xml").decode("utf-8")
    conditions = dict(re.findall(r'<table:content-validation table:name="(val\d+)" table:condition="([^"]*)"'
                                 r'[^>]*table:display-list="unsorted"', xml))
    found: dict[str, set[str]] = {}
    for name, body in re.findall(r'<table:table table:name="([^"]+)"(.*?)</table:table>', xml, re.S):
        used = set(re.findall(r'table:content-validation-name="(val\d+)"', body))
        found[name] = {m.group(1) for u in used if (m := re.search(r"is-in-list\((Lists_\w+)\)", conditions.get(u, "")))}
    assert found["投诉登记"] == {"Lists_Category", "Lists_Type", "Lists_Channel", "Lists_Department", "Lists_Handler"}
    assert found["处理跟踪"] == {"Lists_StepDepartment"}
    assert found["设置"] == {"Lists_Category", "Lists_Channel"}


def test_a_consolidation_lists_the_branches_values_in_their_orders(tmp_path: Path) -> None:
    """Without head office's lists: the first branch's (by code) entries in its order, then the other
    branch's further entries; every value counted."""
    a = new_workbook(tmp_path / "a.xlsx", branch_code="A1", preset="retail")
    b = new_workbook(tmp_path / "b.xlsx", branch_code="B2", preset="telecom")
    type_rows(a, "register", [{**ROW, "no": "A1-1", "category": "员工"}])
    type_rows(b, "register", [{**ROW, "no": "B2-1", "category": "网络质量类"}, {**ROW, "no": "B2-2", "category": "其他"}])
    result = consolidate([b, a], "2026-10", tmp_path / "g.xlsx", now=datetime(2026, 11, 2, 9, 0), workers=1)
    rows = result.report.breakdowns["category"]
    assert [g.key for g in rows] == ["商品", "员工", "服务制度", "环境", "安全", "业务类", "服务类", "网络质量类", "其他"]
    assert {g.key: g.count for g in rows if g.count} == {"员工": 1, "网络质量类": 1, "其他": 1}


def test_an_english_preset_workbook_keeps_the_codes_reports_merge_by(tmp_path: Path) -> None:
    from xlcomplaints.workbook.reader import read_branch

    zh = read_branch(FileWorkbook(new_workbook(tmp_path / "zh.xlsx", branch_code="T1", preset="telecom")))
    en = read_branch(FileWorkbook(new_workbook(tmp_path / "en.xlsx", branch_code="T2", preset="telecom", lang="en")),
                     lang="en")
    assert (en.lists.get("category") or v.CATEGORY).codes == (zh.lists.get("category") or v.CATEGORY).codes
    assert [c.en for c in en.lists.get("category") or ()][2] == "Network quality"
