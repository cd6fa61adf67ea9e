"""``xlcomplaints upgrade`` on real workbooks of template 1.0.0 (``tests/fixtures/templates-1.0.0``, made
by the code before the version bump): afterwards they carry today's stamp, validate as before, refresh,
and every part and cell that is not ours is as it was; the OOXML checker and LibreOffice open them.

A later template 1.2.0 (a hypothetical 通讯录 Directory sheet, a block of rows on Settings, a dropdown
gaining a value) is stood in for by ``future``: each generic operation is proved on it, on workbooks
upgraded to today's 1.1.0 first, so a step the lead adjusts at merge is covered.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
import python_calamine
from lxml import etree
from typer.testing import CliRunner

from tests.conftest import HAS_SOFFICE, soffice_convert
from tests.test_excel_opens_clean import problems, validator  # noqa: F401 (a fixture)
from tests.test_refresh_keeps import c14n
from xlcomplaints import upgrading as U
from xlcomplaints.api import consolidate
from xlcomplaints.cli import app
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import migrations as M
from xlcomplaints.spec.model import Column, SheetSpec
from xlcomplaints.templates.build import build_branch_workbook
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.reader import find_stamps, read_branch
from xlcomplaints.workbook.validations_xml import parsed

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "templates-1.0.0"
FROZEN = sorted(p.name for p in FIXTURES.glob("*.xls*"))
NOW = datetime(2026, 11, 2, 9, 0)


def copy(name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def values(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet's cells, as calamine (not our writer) reads them."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    finally:
        book.close()


def kept(before: list[list[object]], after: list[list[object]], sheet: str) -> None:
    """Every filled cell of ``before`` holds the same in ``after`` (which may have more)."""
    for r, row in enumerate(before):
        for c, value in enumerate(row):
            if value not in ("", None):
                assert r < len(after) and c < len(after[r]) and after[r][c] == value, (sheet, r + 1, c + 1, value)


def found(path: Path) -> list[tuple[str, str | None, str | None]]:
    return sorted((p.code, p.sheet, p.cell) for p in validate_flow(FileWorkbook(path), now=NOW).problems)


def parts_of(path: Path, *kinds: str) -> set[str]:
    pkg = XlsxPackage.open(path)
    _, sheets = find_stamps(FileWorkbook(path))
    return {pkg.sheet(sheets[k]).part for k in kinds if k in sheets}


@pytest.mark.parametrize("name", FROZEN)
def test_frozen_workbook_upgrades_keeping_everything_not_ours(name: str, tmp_path: Path,
                                                              validator: ModuleType) -> None:  # noqa: F811
    path = copy(name, tmp_path)
    before, cells_before, problems_before = entries(path), values(path), found(path)
    assert find_stamps(FileWorkbook(path))[0].version == "1.0.0"

    result = U.upgrade_flow(FileWorkbook(path))
    assert (result.start, result.end, result.changed) == ("1.0.0", B.BRANCH_TEMPLATE_VERSION, True)
    assert [c.code for c in result.changes][-1] is U.Change.STAMP
    assert path.with_name(path.stem + ".bak" + path.suffix).read_bytes() == (FIXTURES / name).read_bytes()

    stamp, sheets = find_stamps(FileWorkbook(path))
    assert stamp.version == B.BRANCH_TEMPLATE_VERSION
    assert {k for k in sheets} >= {s.kind for s in B.BRANCH_SHEETS}  # every sheet the template has
    after = entries(path)
    assert list(after)[: len(before)] == list(before)  # same parts in the same order (new ones after)
    ours = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"} | parts_of(
        path, "register", "tracking", "callbacks", "calendar", "settings")
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= ours, changed  # the VBA project, buttons, drawings, comments, themes: byte for byte
    assert "xl/vbaProject.bin" not in changed
    cells_after = values(path)
    for sheet, grid in cells_before.items():  # every cell of every sheet as it was
        kept(grid, cells_after[sheet], sheet)
    assert found(path) == problems_before  # validate says what it said before, no more
    assert problems(validator, path) == []

    refreshed = refresh_flow(FileWorkbook(path), now=NOW)
    assert refreshed.errors == len([p for p in problems_before if p[0] != "no.missing"]) or refreshed.plan
    again = U.upgrade_flow(FileWorkbook(path))
    assert again.current and not again.changed and not again.changes


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_upgraded_workbooks(tmp_path: Path) -> None:
    for name in ("demo-BJ01-refreshed.xlsx", "demo-SH02-buttons.xlsm"):
        path = copy(name, tmp_path)
        U.upgrade_flow(FileWorkbook(path))
        csv = soffice_convert(path, tmp_path / f"lo-{path.stem}", "csv")
        assert csv.read_text(encoding="utf-8", errors="replace").count("\n") > 5


def test_dry_run_lists_and_writes_nothing(tmp_path: Path) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    result = CliRunner().invoke(app, ["upgrade", str(path), "--dry-run", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "1.0.0 → 1.1.0" in result.output and "nothing written" in result.output
    assert path.read_bytes() == (FIXTURES / path.name).read_bytes()
    assert not path.with_name(path.stem + ".bak.xlsx").exists()


def test_command_upgrades_then_says_current(tmp_path: Path) -> None:
    path = copy("branch-zh.xlsx", tmp_path)
    first = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert first.exit_code == 0 and "Upgraded" in first.output and ".bak.xlsx" in first.output, first.output
    upgraded = path.read_bytes()
    second = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert second.exit_code == 0 and "already" in second.output, second.output
    assert path.read_bytes() == upgraded


def restamped(path: Path, version: str) -> Path:
    """The workbook with its template stamp saying ``version`` (through our own writer)."""
    pkg = XlsxPackage.open(path)
    stamp, _ = find_stamps(FileWorkbook(path))
    pkg.set_defined_name("xlcomplaints.template", f'"branch|{version}|{stamp.fingerprint}"')
    pkg.save(backup=False)
    return path


@pytest.mark.parametrize("version", ["2.0.0", "1.2.0"])
def test_a_newer_workbook_is_refused_and_left_alone(tmp_path: Path, version: str) -> None:
    path = restamped(copy("branch-zh.xlsx", tmp_path), version)
    data = path.read_bytes()
    result = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert result.exit_code == 2 and version in result.output and "newer xlcomplaints" in result.output, result.output
    assert path.read_bytes() == data


def test_a_patch_newer_workbook_is_read_and_current(tmp_path: Path) -> None:
    major, minor, patch = B.BRANCH_TEMPLATE_VERSION.split(".")
    newer = f"{major}.{minor}.{int(patch) + 3}"
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    U.upgrade_flow(FileWorkbook(path))
    restamped(path, newer)
    assert read_branch(FileWorkbook(path)).data.complaints  # read, not refused
    result = U.upgrade_flow(FileWorkbook(path))
    assert result.current and not result.changed


def test_an_older_minor_workbook_is_read_and_upgrade_is_offered_once(tmp_path: Path) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path), "--lang", "en", "--now", "2026-11-02 09:00"])
    assert result.exit_code == 1  # the demo's deliberate typing errors, as with 1.0.0's own code
    assert result.output.count("xlcomplaints upgrade") == 1, result.output
    as_json = CliRunner().invoke(app, ["validate", str(path), "--json", "--now", "2026-11-02 09:00"])
    assert as_json.stdout.lstrip().startswith("[")  # the offer goes to stderr, not into the JSON


def test_an_unreadable_older_workbook_says_to_upgrade_when_steps_lead_from_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = restamped(copy("branch-zh.xlsx", tmp_path), "0.9.0")
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert "upgrade" not in e.value.message("en")  # no step leads from 0.9: a new workbook, then
    monkeypatch.setattr(M, "STEPS", (M.Step("0.9.0", "1.0.0", ()), *M.STEPS))
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == "file.version_unsupported"
    assert f"xlcomplaints upgrade {path.name}" in e.value.message("en")
    assert f"xlcomplaints upgrade {path.name}" in e.value.message("zh")
    U.upgrade_flow(FileWorkbook(path))  # 0.9 → 1.0 → 1.1
    assert find_stamps(FileWorkbook(path))[0].version == B.BRANCH_TEMPLATE_VERSION
    assert read_branch(FileWorkbook(path)).stamp.version == B.BRANCH_TEMPLATE_VERSION


def test_consolidate_takes_branches_of_different_versions(tmp_path: Path) -> None:
    old = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    new = copy("demo-SH02-buttons.xlsm", tmp_path)
    U.upgrade_flow(FileWorkbook(new))
    assert {find_stamps(FileWorkbook(p))[0].version for p in (old, new)} == {"1.0.0", B.BRANCH_TEMPLATE_VERSION}
    out = tmp_path / "group.xlsx"
    run = consolidate([old, new], "2026-10", out, now=NOW, workers=1)
    assert set(run.consolidation.branches) == {"BJ01", "SH02"}
    assert all(f.usable for f in run.consolidation.files)
    assert not [i for i in run.consolidation.issues if i.code.startswith("file.")]


# ---- the generic operations, on a stand-in for a later template


DIRECTORY = SheetSpec(kind="directory", version="1.2.0", zh="通讯录", en="Directory", columns=(
    Column("department", "部门", "Department", width=14), Column("phone", "电话", "Phone", width=14)))
DIRECTORY_ROWS = [["客服部", "8001"], ["工程部", "8002"]]
STAGE_BLOCK = [["本单位环节", None], ["环节名称", "时限(小时)"], ["现场处理报告", 1]]
STAGE_AT = 56  # below the custom stages' table and its rows to fill in (42–53)
OFFICE_DV = '<dataValidation type="whole" allowBlank="1" sqref="BA2:BA1048576"><formula1>0</formula1></dataValidation>'


@pytest.fixture
def future(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``future()`` makes the template 1.2.0: a Directory sheet, a block of stage rows on Settings (with a
    dropdown) and a severity (紧急) in the Register's dropdown, reached by a step 1.1.0 → 1.2.0 (``ops``, by
    default: add the sheet, Settings rows, the Register's dropdowns); ``rows`` is what its Directory holds."""

    def go(rows: list[list[str]] = DIRECTORY_ROWS, ops: tuple[M.Operation, ...] | None = None) -> None:
        if DIRECTORY not in B.BRANCH_SHEETS:
            monkeypatch.setattr(B, "BRANCH_SHEETS", (*B.BRANCH_SHEETS, DIRECTORY))
        monkeypatch.setitem(U.SPECS, "directory", DIRECTORY)
        monkeypatch.setattr(B, "BRANCH_TEMPLATE_VERSION", "1.2.0")
        step = M.Step("1.1.0", "1.2.0", ops if ops is not None else (
            M.AddSheet("directory"), M.SettingsRows(), M.RefreshValidations("register")))
        monkeypatch.setattr(M, "STEPS", (*M.STEPS, step))

        def template(self: FileWorkbook, lang: str) -> FileWorkbook:
            path = Path(self.path.parent / f"future-{lang}.xlsx")
            build_branch_workbook(path, lang=lang, rows={"directory": rows}, created=None)
            pkg = XlsxPackage.open(path)
            settings = B.SETTINGS.title(lang)
            pkg.write_cells(settings, {(STAGE_AT + r, c + 1): v for r, row in enumerate(STAGE_BLOCK)
                                       for c, v in enumerate(row)})
            pkg.copy_styles(settings, pkg, settings, {(19, 1): (STAGE_AT, 1), (20, 1): (STAGE_AT + 1, 1),
                                                      (20, 2): (STAGE_AT + 1, 2)})  # titled as the rule table
            pkg.set_validations(settings, lambda v: True, [parsed(
                f'<dataValidation type="list" allowBlank="1" sqref="B{STAGE_AT + 2}"><formula1>"1,2,4"</formula1>'
                '</dataValidation>')])
            register = B.REGISTER.title(lang)
            severity = next(v for v in pkg.validations(register) if '"一般,重要,重大"' in v.element
                            or '"General,Important,Major"' in v.element)
            pkg.set_validations(register, lambda v: v != severity, [parsed(severity.element.replace(
                "一般,重要,重大\"<", "一般,重要,重大,紧急\"<").replace("Important,Major\"<", "Important,Major,Urgent\"<"))])
            pkg.save(backup=False)
            return FileWorkbook(path)

        monkeypatch.setattr(FileWorkbook, "template", template)

    return go


def office_made(path: Path) -> Path:
    """The office's own column (BA) with its own validation, and its own sheet, added in Excel's way."""
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    reg = wb[B.REGISTER.zh]
    reg["BA1"], reg["BA2"] = "楼栋", 7
    own = wb.create_sheet("我的统计")
    own["A1"] = "本表由办公室自行维护"
    wb.save(path)
    pkg = XlsxPackage.open(path)
    pkg.set_validations(B.REGISTER.zh, lambda v: True, [parsed(OFFICE_DV)])
    pkg.save(backup=False)
    return path


def test_future_step_adds_the_sheet_settings_rows_and_dropdowns(tmp_path: Path,
                                                              future: Callable[..., None]) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    U.upgrade_flow(FileWorkbook(path))  # today's 1.0.0 → 1.1.0 first
    office_made(path)
    before, cells_before = entries(path), values(path)
    own = XlsxPackage.open(path).sheet("我的统计").part
    future()

    planned = U.upgrade_flow(FileWorkbook(path), dry_run=True)
    assert path.read_bytes() == FileWorkbook(path).path.read_bytes() and entries(path) == before
    codes = [c.code for c in planned.changes]
    assert codes == [U.Change.SHEET_ADDED, U.Change.SETTINGS_BLOCK_ADDED, U.Change.VALIDATIONS, U.Change.STAMP], \
        [c.message("en") for c in planned.changes]
    assert "严重程度" in planned.changes[2].message("zh")

    result = U.upgrade_flow(FileWorkbook(path))
    assert [c.code for c in result.changes] == codes
    after, cells_after = entries(path), values(path)
    assert after[own] == before[own]
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml",
                       *parts_of(path, "register", "settings")}, changed
    register = parts_of(path, "register").pop()
    old_xml, new_xml = etree.fromstring(before[register]), etree.fromstring(after[register])
    def but_validations(root: etree._Element) -> list[bytes]:
        return [c14n(el) for el in root if etree.QName(el).localname != "dataValidations"]

    # in the Register only the validations changed: every cell, column, conditional format as it was
    assert but_validations(new_xml) == but_validations(old_xml)
    _, sheets = find_stamps(FileWorkbook(path))
    assert sheets["directory"] == "通讯录" and cells_after["通讯录"][:3] == [["部门", "电话"], *DIRECTORY_ROWS]
    settings = cells_after["设置"]
    kept(cells_before["设置"], settings, "设置")
    title = next(r for r, row in enumerate(settings, 1) if row[0] == "本单位环节")
    assert title > 55  # below the custom stages' rows to fill in
    assert [r[:2] for r in settings[title - 1:title + 2]] == [["本单位环节", ""], ["环节名称", "时限(小时)"],
                                                               ["现场处理报告", 1.0]]
    styled = openpyxl.load_workbook(path)["设置"]  # the block's title and header formatted as the template's
    assert styled.cell(title, 1).font.b and styled.cell(title, 1).font.sz == styled["A17"].font.sz
    assert styled.cell(title + 1, 2).fill.patternType == "solid"
    assert styled.cell(title + 1, 2).fill.fgColor.rgb == styled["B18"].fill.fgColor.rgb
    pkg = XlsxPackage.open(path)
    assert any(v.areas == ((title + 2, 2, title + 2, 2),) and "1,2,4" in v.element for v in pkg.validations("设置"))
    dvs = [v.element for v in pkg.validations("投诉登记")]
    assert OFFICE_DV in dvs  # the office's own validation, as it was
    assert any("一般,重要,重大,紧急" in v and 'sqref="K2:K1048576"' in v for v in dvs)
    assert sum('promptTitle="严重程度"' in v for v in dvs) == 1
    for sheet, grid in cells_before.items():
        if sheet != "设置":
            assert cells_after[sheet] == grid, sheet
    assert read_branch(FileWorkbook(path)).stamp.version == "1.2.0"
    assert refresh_flow(FileWorkbook(path), now=NOW).plan is not None


def test_future_step_extends_a_list_keeping_the_offices_values(tmp_path: Path, future: Callable[..., None]) -> None:
    path = copy("branch-en.xlsx", tmp_path)
    future(ops=(M.AddSheet("directory"),))
    U.upgrade_flow(FileWorkbook(path))  # 1.0.0 → 1.1.0 → 1.2.0: the Directory sheet comes
    pkg = XlsxPackage.open(path)
    pkg.write_cells("Directory", {(4, 1): "本店自定义"})  # the office's own value
    pkg.save(backup=False)
    future([["客服部", "8001"], ["网络部", "8003"], ["工程部", "8002"], ["法务部", None]],
           (M.ExtendList("directory", "部门", "Department"),))
    M.STEPS = (*M.STEPS[:1], M.Step("1.1.0", "1.2.0", ()), M.Step("1.2.0", "1.3.0", (
        M.ExtendList("directory", "部门", "Department"),)))
    B.BRANCH_TEMPLATE_VERSION = "1.3.0"
    result = U.upgrade_flow(FileWorkbook(path))
    assert [c.code for c in result.changes] == [U.Change.LIST_EXTENDED, U.Change.STAMP]
    column = [row[0] for row in values(path)["Directory"]]
    assert column[:6] == ["Department", "客服部", "工程部", "本店自定义", "网络部", "法务部"]


def test_rename_label_and_add_column_where_the_template_puts_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = copy("branch-zh.xlsx", tmp_path)
    col = B.REGISTER.index("category") + 1
    remark = B.REGISTER.index("handler") + 1
    pkg = XlsxPackage.open(path)
    pkg.write_cells("投诉登记", {(1, col): "类别（旧）", (1, remark): None})  # an older label; a column not there yet
    pkg.save(backup=False)
    monkeypatch.setattr(M, "STEPS", (M.Step("1.0.0", B.BRANCH_TEMPLATE_VERSION, (
        M.RenameLabel("register", "category", "类别（旧）", "Category (old)"), M.AddColumn("register", "handler"))),))
    result = U.upgrade_flow(FileWorkbook(path))
    assert [c.code for c in result.changes] == [U.Change.LABEL_RENAMED, U.Change.COLUMN_ADDED, U.Change.STAMP]
    header = values(path)["投诉登记"][0]
    assert header[col - 1] == "投诉类别" and header[remark - 1] == B.REGISTER.column("handler").zh


def test_add_column_refuses_when_the_office_holds_that_column(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    handler = B.REGISTER.index("handler") + 1
    pkg = XlsxPackage.open(path)
    pkg.write_cells("投诉登记", {(1, handler): None})  # the header gone, the clerks' names still below it
    pkg.save(backup=False)
    data = path.read_bytes()
    monkeypatch.setattr(M, "STEPS", (M.Step("1.0.0", B.BRANCH_TEMPLATE_VERSION, (M.AddColumn("register", "handler"),)),))
    result = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert result.exit_code == 2 and "cannot be added" in result.output and "Nothing was written" in result.output
    assert path.read_bytes() == data


def test_new_settings_go_into_a_more_settings_block_when_the_free_rows_are_too_few(tmp_path: Path) -> None:
    path = copy("branch-zh.xlsx", tmp_path)  # one free row above the rule table, two new settings
    result = U.upgrade_flow(FileWorkbook(path))
    added = [(c.params["row"], c.params["label"]) for c in result.changes if c.code is U.Change.SETTING_ADDED]
    assert added == [(41, "考核排名最少件数"), (42, "报表维度(登记表自加列)")]
    grid = values(path)["设置"]
    assert not any(grid[15]) and grid[16][0] == "时限规则"  # the free row stays free: the new settings stay together
    assert grid[39][0] == "更多设置" and grid[40][:2] == ["考核排名最少件数", 5.0] and grid[43][0] == "自定义环节"
    pkg = XlsxPackage.open(path)
    pkg.write_cells("设置", {(41, 2): 3, (42, 2): "楼栋"})
    pkg.save(backup=False)
    settings = read_branch(FileWorkbook(path)).data.settings
    assert settings.rank_min_complaints == 3  # read from the block (楼栋 is reported: no such Register column)
    assert settings.cells["report_dimensions"] == "B42"
    assert len(settings.policy) == 10  # the rule table ends above the block


def test_a_new_setting_goes_into_a_free_row_or_the_upgrade_is_refused(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from xlcomplaints import upgrade_settings
    from xlcomplaints.core import settings as core_settings

    path = copy("branch-zh.xlsx", tmp_path)
    data = path.read_bytes()
    monkeypatch.setattr(upgrade_settings, "MAX_ROW", 45)  # a sheet with no room below
    result = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert result.exit_code == 2 and "Nothing was written" in result.output, result.output
    assert path.read_bytes() == data
    monkeypatch.undo()
    fewer = tuple(f for f in B.SETTINGS_FIELDS if f.key != "report_dimensions")  # one new setting only
    for module in (B, core_settings):
        monkeypatch.setattr(module, "SETTINGS_FIELDS", fewer)
    result2 = U.upgrade_flow(FileWorkbook(path))
    assert [c.params["row"] for c in result2.changes if c.code is U.Change.SETTING_ADDED] == [16]
    grid = values(path)["设置"]
    assert grid[15][0] == "考核排名最少件数" and grid[16][0] == "时限规则"
    assert read_branch(FileWorkbook(path)).data.settings.policy


def test_the_api_upgrades_as_the_command_does(tmp_path: Path) -> None:
    import xlcomplaints as xc

    path = copy("branch-en.xlsx", tmp_path)
    planned = xc.upgrade(path, dry_run=True)
    assert not planned.changed and path.read_bytes() == (FIXTURES / path.name).read_bytes()
    assert xc.upgrade(path).changed and xc.upgrade(path).current


def test_protection_comes_up_to_the_template_unless_the_office_set_a_password(tmp_path: Path) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    pkg = XlsxPackage.open(path)
    template = pkg.protection("投诉登记")
    assert template is not None and template.get("insertRows") == "0"  # clerks may add rows
    pkg.set_protection("投诉登记", {"sheet": "1"})  # an older template's: no rows added, no sorting
    pkg.set_protection("处理跟踪", {"sheet": "1", "password": "CC3D"})  # the office's own password
    pkg.save(backup=False)
    result = U.upgrade_flow(FileWorkbook(path))
    assert [(c.code, c.params.get("sheet")) for c in result.changes if c.code is U.Change.PROTECTION] == [
        (U.Change.PROTECTION, "投诉登记")]
    after = XlsxPackage.open(path)
    assert after.protection("投诉登记") == template
    assert after.protection("处理跟踪") == {"sheet": "1", "password": "CC3D"}


SOON = '<cfRule type="cellIs" dxfId="1" priority="6" operator="equal"><formula>"即将到期"</formula></cfRule>'
OFFICE_CF = ('<conditionalFormatting sqref="BA2:BA100"><cfRule type="cellIs" dxfId="0" priority="99" '
             'operator="equal"><formula>1</formula></cfRule></conditionalFormatting>')


def edited(path: Path, part: str, edit: Callable[[str], str]) -> Path:
    """One part of the package changed as text, the zip otherwise as it was."""
    parts = entries(path)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            data = parts[info.filename]
            z.writestr(info, edit(data.decode()).encode() if info.filename == part else data)
    return path


def older_colouring(path: Path) -> str:
    """The Register loses a rule of its status colouring (as an older template had it) and gains
    a conditional format of the office's own; its part's name."""
    part = parts_of(path, "register").pop()
    def edit(xml: str) -> str:
        assert SOON in xml
        at = xml.rindex("</conditionalFormatting>") + len("</conditionalFormatting>")
        return (xml[:at] + OFFICE_CF + xml[at:]).replace(SOON, "", 1)
    edited(path, part, edit)
    return part


def test_colouring_comes_up_to_the_template_keeping_the_offices_own(tmp_path: Path,
                                                                   validator: ModuleType) -> None:  # noqa: F811
    path = copy("demo-SH02-buttons.xlsm", tmp_path)
    older_colouring(path)
    result = U.upgrade_flow(FileWorkbook(path))
    assert [c.code for c in result.changes if c.code.name.startswith("COLOURING")] == [U.Change.COLOURING]
    template = XlsxPackage.open(FIXTURES / "demo-SH02-buttons.xlsm").conditional_formats("投诉登记")
    after = XlsxPackage.open(path).conditional_formats("投诉登记")
    assert OFFICE_CF in [cf.element for cf in after]
    assert sorted(repr((cf.areas, cf.meaning)) for cf in after if cf.element != OFFICE_CF) == sorted(
        repr((cf.areas, cf.meaning)) for cf in template)
    assert problems(validator, path) == []
    assert not U.upgrade_flow(FileWorkbook(path)).changes


def test_colouring_is_kept_when_the_office_moved_our_columns_and_dropdowns_follow_them(tmp_path: Path) -> None:
    path = copy("branch-zh.xlsx", tmp_path)
    customer, phone = B.REGISTER.index("customer") + 1, B.REGISTER.index("phone") + 1
    pkg = XlsxPackage.open(path)
    pkg.write_cells("投诉登记", {(1, customer): "联系电话", (1, phone): "客户姓名"})  # the two columns swapped
    pkg.save(backup=False)
    older_colouring(path)
    colouring = XlsxPackage.open(path).conditional_formats("投诉登记")
    result = U.upgrade_flow(FileWorkbook(path))
    assert [(c.code, c.params["sheet"]) for c in result.changes if c.code.name.startswith(("COLOURING", "VALID"))
            and c.params["sheet"] == "投诉登记"] == [(U.Change.VALIDATIONS, "投诉登记"), (U.Change.COLOURING_KEPT, "投诉登记")]
    after = XlsxPackage.open(path)
    assert after.conditional_formats("投诉登记") == colouring
    phone_dv = next(v for v in after.validations("投诉登记") if 'promptTitle="联系电话"' in v.element)
    assert phone_dv.columns == {customer}  # where the office has the phone column now


def test_refused_while_open_in_excel_or_changed_since_read(tmp_path: Path) -> None:
    path = copy("demo-SH02-buttons.xlsm", tmp_path)
    lock = path.with_name("~$" + path.name)
    lock.write_bytes(b"")
    result = CliRunner().invoke(app, ["upgrade", str(path), "--lang", "en"])
    assert result.exit_code == 2 and "open in Excel" in result.output, result.output
    assert path.read_bytes() == (FIXTURES / path.name).read_bytes()
    lock.unlink()
    port = FileWorkbook(path)
    restamped(copy("demo-SH02-buttons.xlsm", tmp_path), "1.0.1")  # someone saves it meanwhile
    saved = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        U.upgrade_flow(port)
    assert e.value.code == "file.changed" and path.read_bytes() == saved


# ---- what 1.0.0 → 1.1.0 brings, used as a 1.1.0 workbook's would be


def _formulas(path: Path, sheet: str) -> set[str]:
    return {v.element.split("<formula1>")[1].split("<")[0] for v in XlsxPackage.open(path).validations(sheet)
            if "<formula1>" in v.element}


def _lists_names(path: Path) -> dict[str, str]:
    return {d.name: d.value for d in XlsxPackage.open(path).defined_names() if d.name.startswith("Lists_")}


def test_the_upgraded_lists_drive_the_dropdowns_and_validate(tmp_path: Path) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    U.upgrade_flow(FileWorkbook(path))
    names = _lists_names(path)
    assert set(names) == {lst.name for lst in B.OFFICE_LISTS} and all("'词表'!" in v for v in names.values())
    assert {f for f in _formulas(path, "投诉登记") if f.startswith("Lists_")} == {
        "Lists_Category", "Lists_Type", "Lists_Channel", "Lists_Department", "Lists_Handler"}
    assert {"Lists_Category", "Lists_Channel"} <= _formulas(path, "设置")  # the rule table's, as a new workbook's
    category = B.REGISTER.index("category") + 1
    pkg = XlsxPackage.open(path)
    pkg.write_cells("投诉登记", {(2, category): "网络质量"})
    pkg.save(backup=False)
    assert ("投诉登记", f"{chr(64 + category)}2") in {(p[1], p[2]) for p in found(path)}  # not on the lists yet
    column = [row[0] for row in values(path)["词表"]]
    pkg = XlsxPackage.open(path)
    pkg.write_cells("词表", {(len([c for c in column if c]) + 1, 1): "网络质量"})  # the clerk adds it on Lists
    pkg.save(backup=False)
    assert ("投诉登记", f"{chr(64 + category)}2") not in {(p[1], p[2]) for p in found(path)}


def test_the_lists_names_point_at_our_sheet_when_the_office_has_a_sheet_called_like_it(tmp_path: Path) -> None:
    path = copy("branch-zh.xlsx", tmp_path)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("词表")["A1"] = "本单位的词汇表"
    wb.save(path)
    own = XlsxPackage.open(path).sheet("词表").part
    before = entries(path)[own]
    U.upgrade_flow(FileWorkbook(path))
    assert entries(path)[own] == before
    _, sheets = find_stamps(FileWorkbook(path))
    assert sheets["lists"] == "词表 (2)"
    assert all(v.startswith("OFFSET('词表 (2)'!") for v in _lists_names(path).values()), _lists_names(path)
    assert values(path)["词表 (2)"][1][0] == "产品质量"  # the template's lists, on our sheet


def test_a_custom_stage_typed_on_the_upgraded_settings_is_timed_and_the_summary_gets_its_handlers(
        tmp_path: Path) -> None:
    path = copy("demo-BJ01-refreshed.xlsx", tmp_path)
    U.upgrade_flow(FileWorkbook(path))
    grid = values(path)["设置"]
    header = next(r for r, row in enumerate(grid, 1) if row[0] == "自定义环节") + 1
    row = ["当日联系", "Same-day contact", "受理", "联系客户", None, 8, "小时", "本单位规定", "否"]
    pkg = XlsxPackage.open(path)
    pkg.write_cells("设置", {(header + 1, c): v for c, v in enumerate(row, 1) if v is not None})
    pkg.save(backup=False)
    assert [s.name for s in read_branch(FileWorkbook(path)).data.settings.custom_stages] == ["当日联系"]
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None
    assert sum(n for k, n in result.plan.counts.items() if k.what is B.Count.CUSTOM) > 0, result.plan.counts
    summary = values(path)["汇总"]
    assert any(len(r) > 4 and r[4] not in ("", None) for r in summary)  # the per-handler table from column E
