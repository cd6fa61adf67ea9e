"""Overdue and Summary, the sheets refresh owns: their hidden filter names follow the autofilter."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.test_refresh import ROWS
from xlcomplaints.flows import refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import GENERATED_PROTECTION, XlsxPackage
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 10, 9, 9, 0)
TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates"


def refreshed(branch: Any) -> Path:
    path: Path = branch(register=ROWS * 3)
    refresh_flow(FileWorkbook(path), now=NOW)
    return path


def autofilters(path: Path) -> dict[str, str]:
    """Sheet name → its autoFilter ref, as saved."""
    pkg = XlsxPackage.open(path)
    out = {}
    for ref in pkg.sheets:
        m = re.search(rb'<autoFilter ref="([^"]+)"', pkg.read_part(ref.part))
        if m:
            out[ref.name] = m[1].decode()
    return out


def filter_names(path: Path) -> dict[str, str]:
    """Sheet name → the range of its hidden _xlnm._FilterDatabase name."""
    pkg = XlsxPackage.open(path)
    return {n.local_sheet: n.value.rsplit("!", 1)[1].replace("$", "") for n in pkg.defined_names()
            if n.name == "_xlnm._FilterDatabase" and n.local_sheet}


def test_filter_database_names_follow_the_grown_autofilter(branch: Any) -> None:
    path = refreshed(branch)
    filters, names = autofilters(path), filter_names(path)
    grown = [s for s, ref in filters.items() if not re.fullmatch(r"[A-Z]+1:[A-Z]+1", ref)]
    assert len(grown) == 2  # Overdue and Summary gained rows
    for sheet in filters:
        assert names[sheet] == filters[sheet], sheet


def test_filter_database_names_shrink_with_the_rows(branch: Any) -> None:
    path = refreshed(branch)
    refresh_flow(FileWorkbook(path), now=datetime(2026, 9, 1, 9))  # before any complaint: nothing overdue
    filters, names = autofilters(path), filter_names(path)
    for sheet in filters:
        assert names[sheet] == filters[sheet], sheet


def test_a_rerun_leaves_workbook_xml_alone(branch: Any) -> None:
    path = refreshed(branch)
    with zipfile.ZipFile(path) as z:
        before = z.read("xl/workbook.xml")
    assert not refresh_flow(FileWorkbook(path), now=NOW).changed
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/workbook.xml") == before


# --------------------------------------------------------------------------- protection
def sheet_protection(path: Path, kind: str, lang: str = "zh") -> dict[str, str] | None:
    """The <sheetProtection> attributes of a sheet, as saved (None: not protected)."""
    spec = next(s for s in B.BRANCH_SHEETS if s.kind == kind)
    pkg = XlsxPackage.open(path)
    m = re.search(rb"<sheetProtection\b([^>]*)/>", pkg.read_part(pkg.sheet(spec.title(lang)).part))
    return None if m is None else dict(re.findall(r'(\w+)="([^"]*)"', m[1].decode()))


@pytest.mark.parametrize("template", ["branch-zh.xlsx", "branch-en.xlsx", "branch-zh.xlsm", "branch-en.xlsm"])
@pytest.mark.parametrize("kind", ["overdue", "summary"])
def test_generated_sheets_are_protected_without_a_password(template: str, kind: str) -> None:
    """Seed 001: 数据将自动生成，不得手工改动 — as the Register's computed columns are."""
    lang = "zh" if "-zh" in template else "en"
    attrs = sheet_protection(TEMPLATES / template, kind, lang)
    assert attrs is not None and attrs.get("sheet") == "1"
    assert not any(k.endswith(("password", "Value", "hashValue")) for k in attrs)
    # filtering and sorting stay allowed (0 = not prevented), adding or deleting rows does not
    assert attrs.get("autoFilter") == "0" and attrs.get("sort") == "0"
    assert attrs.get("insertRows", "1") == "1" and attrs.get("deleteRows", "1") == "1"


@pytest.mark.parametrize("kind", ["overdue", "summary"])
def test_refresh_keeps_the_generated_sheets_protected(branch: Any, kind: str) -> None:
    path: Path = branch(register=ROWS * 3)
    before = sheet_protection(path, kind)
    assert before is not None and before["sheet"] == "1"
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    assert sheet_protection(path, kind) == before


# --------------------------------------------------------------------------- recreated when deleted
def without(path: Path, *titles: str) -> Path:
    """The clerk deletes our generated sheets, as Excel does: the sheet, its part and relationship,
    its content type and its sheet-scope names go; later sheets' names are renumbered."""
    from lxml import etree

    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    wb = etree.fromstring(parts["xl/workbook.xml"])
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    types = etree.fromstring(parts["[Content_Types].xml"])
    for title in titles:
        sheets = list(wb.iter("{*}sheet"))
        index = next(i for i, el in enumerate(sheets) if el.get("name") == title)
        rid = next(v for k, v in sheets[index].attrib.items() if k.endswith("}id"))
        sheets[index].getparent().remove(sheets[index])
        rel = next(r for r in rels if r.get("Id") == rid)
        rels.remove(rel)
        target = rel.get("Target")
        part_name = target[1:] if target.startswith("/") else "xl/" + target
        del parts[part_name]
        parts.pop(part_name.replace("worksheets/", "worksheets/_rels/") + ".rels", None)
        for o in list(types):
            if o.get("PartName") == "/" + part_name:
                types.remove(o)
        for d in list(wb.iter("{*}definedName")):
            local = d.get("localSheetId")
            if local is not None and int(local) == index:
                d.getparent().remove(d)
            elif local is not None and int(local) > index:
                d.set("localSheetId", str(int(local) - 1))
    parts["xl/workbook.xml"] = etree.tostring(wb, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["xl/_rels/workbook.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def title_of(kind: str, lang: str = "zh") -> str:
    return next(s for s in B.BRANCH_SHEETS if s.kind == kind).title(lang)


@pytest.mark.parametrize("kind", ["overdue", "summary"])
def test_a_deleted_generated_sheet_is_recreated_as_the_template_has_it(branch: Any, kind: str, tmp_path: Path) -> None:
    control = refreshed(branch)  # the same rows, the sheet never deleted
    path = without(branch("again.xlsx", register=ROWS * 3), title_of(kind))
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.changed
    codes = [p.code for p in result.problems if p.sheet == title_of(kind)]
    assert codes == ["file.sheet_recreated"]  # said so, and no "missing" warning
    # ours again (stamped), with what a refresh writes there
    read = read_branch(FileWorkbook(path))
    assert read.sheets[kind] == title_of(kind)
    got = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(title_of(kind)).to_python()
    want = CalamineWorkbook.from_path(str(control)).get_sheet_by_name(title_of(kind)).to_python()
    assert got == want and len(got) > 1
    # the template's columns, formats and protection
    new, old = openpyxl.load_workbook(path)[title_of(kind)], openpyxl.load_workbook(control)[title_of(kind)]
    for letter, dim in old.column_dimensions.items():
        assert new.column_dimensions[letter].width == dim.width, letter
    for r in range(1, len(want) + 1):
        for c in range(1, len(want[0]) + 1):
            a, b = new.cell(r, c), old.cell(r, c)
            assert (a.number_format, a.font.b, a.fill.fgColor.rgb, a.protection.locked) == (
                b.number_format, b.font.b, b.fill.fgColor.rgb, b.protection.locked), a.coordinate
    assert new.protection.sheet and not new.protection.password
    assert filter_names(path)[title_of(kind)] == autofilters(path)[title_of(kind)]
    # and the next refresh finds it in place: nothing to change
    assert not refresh_flow(FileWorkbook(path), now=NOW).changed


def test_both_deleted_sheets_come_back_in_an_xlsm_with_its_vba_untouched(tmp_path: Path) -> None:
    from tests.test_xlsm import sample_rows
    from xlcomplaints.templates.macro import build_branch_xlsm

    path = tmp_path / "b.xlsm"
    build_branch_xlsm(path, lang="en", rows={"register": sample_rows(6)}, created=None)
    without(path, title_of("overdue", "en"), title_of("summary", "en"))
    with zipfile.ZipFile(path) as z:
        vba = z.read("xl/vbaProject.bin")
    result = refresh_flow(FileWorkbook(path), now=NOW, lang="en")
    assert sorted(p.sheet for p in result.problems if p.code == "file.sheet_recreated") == sorted(
        title_of(k, "en") for k in ("overdue", "summary"))
    assert set(read_branch(FileWorkbook(path)).sheets) >= {"overdue", "summary"}
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba


def test_the_added_sheet_is_the_same_through_either_zip_writer(branch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The raw-record copier and the zipfile fallback (zip64, odd archives) both append the new part."""
    from xlcomplaints.workbook import xlsx_zip

    path = without(branch(register=ROWS), title_of("summary"))
    pkg_a, pkg_b = (FileWorkbook(path) for _ in range(2))
    for book in (pkg_a, pkg_b):
        book.recreate_sheet("summary", "zh")
    raw = pkg_a._package.to_bytes()
    monkeypatch.setattr(xlsx_zip, "_scan_zip", lambda data: None)
    rewritten = pkg_b._package.to_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as a, zipfile.ZipFile(io.BytesIO(rewritten)) as b:
        assert a.namelist() == b.namelist() and a.namelist()[-1].startswith("xl/worksheets/sheet")
        assert all(a.read(n) == b.read(n) for n in a.namelist())
        assert a.testzip() is None and b.testzip() is None


def test_the_writers_protection_is_the_templates(tmp_path: Path) -> None:
    """What refresh puts on an unprotected generated sheet is what the template has there."""
    for kind in ("overdue", "summary"):
        m = re.search(r"<sheetProtection ([^>]*)/>", XlsxPackage.open(TEMPLATES / "branch-zh.xlsx").read_part(
            XlsxPackage.open(TEMPLATES / "branch-zh.xlsx").sheet(title_of(kind)).part).decode())
        assert m is not None and m[1] == GENERATED_PROTECTION


def unprotected(path: Path, kind: str) -> Path:
    """A workbook from before the generated sheets were protected (or the clerk unprotected one)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    part_name = XlsxPackage.open(path).sheet(title_of(kind)).part
    parts[part_name] = re.sub(rb"<sheetProtection\b[^>]*/>", b"", parts[part_name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("kind", ["overdue", "summary"])
def test_refresh_protects_a_generated_sheet_that_is_not(branch: Any, kind: str) -> None:
    path = unprotected(branch(register=ROWS * 3), kind)
    assert sheet_protection(path, kind) is None
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    assert sheet_protection(path, kind) == dict(re.findall(r'(\w+)="([^"]*)"', GENERATED_PROTECTION))
    assert not refresh_flow(FileWorkbook(path), now=NOW).changed  # once is enough


def test_a_recreated_sheet_leaves_an_office_sheet_of_that_name_alone(branch: Any) -> None:
    path = without(branch(register=ROWS * 3), title_of("overdue"))
    wb = openpyxl.load_workbook(path)
    wb.create_sheet(title_of("overdue"))["A1"] = "办公室自己的逾期表"
    wb.save(path)
    result = refresh_flow(FileWorkbook(path), now=NOW)
    recreated = [p.sheet for p in result.problems if p.code == "file.sheet_recreated"]
    assert recreated == [f"{title_of('overdue')} (2)"]
    assert read_branch(FileWorkbook(path)).sheets["overdue"] == recreated[0]
    office = openpyxl.load_workbook(path)[title_of("overdue")]
    assert office["A1"].value == "办公室自己的逾期表" and office.max_row == 1


def test_the_recreated_sheet_speaks_the_workbooks_language(branch: Any) -> None:
    """An English workbook whose Register the office renamed still gets the English sheet back."""
    path: Path = branch("en.xlsx", lang="en", register=ROWS)
    wb = openpyxl.load_workbook(path)
    wb[title_of("register", "en")].title = "2026 register"
    wb.save(path)
    without(path, title_of("summary", "en"))
    result = refresh_flow(FileWorkbook(path), now=NOW, lang="en")
    assert [p.sheet for p in result.problems if p.code == "file.sheet_recreated"] == [title_of("summary", "en")]
