"""What held, keep held: refresh writes the computed cells and the generated sheets, and every
other byte of the clerk's workbook comes through: pivots, external links, merged title rows,
hidden columns and the office's own columns (the .xlsm's VBA and buttons: test_xlsm)."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree
from openpyxl.utils import get_column_letter
from openpyxl.workbook.external_link.external import (
    ExternalBook,
    ExternalCell,
    ExternalLink,
    ExternalRow,
    ExternalSheetData,
    ExternalSheetDataSet,
    ExternalSheetNames,
)

from tests.conftest import REAL_EXCEL
from tests.test_refresh import ROWS, without_filter_names
from xlcomplaints.flows import refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage

NOW = datetime(2026, 10, 9, 9, 0)
PIVOTS = REAL_EXCEL / "ExcelPivotTableSample.xlsx"
WIDTH = len(B.REGISTER.columns)
OFFICE = [WIDTH + 2, WIDTH + 3]  # the office's own columns, one blank column after ours
HIDDEN = get_column_letter(B.REGISTER.index("phone") + 1)


def office_workbook(path: Path) -> Path:
    """What an office makes of its register: a pivot and an external link on its own sheet under
    merged title rows, a hidden column and its own columns (with a merged title) in the Register."""
    wb = openpyxl.load_workbook(path)
    reg = wb[B.REGISTER.zh]
    reg.column_dimensions[HIDDEN].hidden = True
    reg.cell(1, OFFICE[0], "办公室备注")
    reg.merge_cells(start_row=1, start_column=OFFICE[0], end_row=1, end_column=OFFICE[1])
    for r in (2, 3):
        reg.cell(r, OFFICE[0], f"备注{r}")
        reg.cell(r, OFFICE[1], r * 10)
    own = wb.create_sheet("我的统计")
    own["A1"], own["A2"] = "二〇二六年投诉统计", "（本表由办公室自行维护）"
    own.merge_cells("A1:F1")
    own.merge_cells("A2:F2")
    source = openpyxl.load_workbook(PIVOTS)
    own._pivots.append(next(ws for ws in source.worksheets if ws._pivots)._pivots[0])
    book = ExternalBook(sheetNames=ExternalSheetNames(sheetName=["Sheet1"]), id="rId1",
                        sheetDataSet=ExternalSheetDataSet(sheetData=[ExternalSheetData(
                            sheetId=0, row=[ExternalRow(r=1, cell=[ExternalCell(r="A1", v="42")])])]))
    link = ExternalLink(externalBook=book)
    link.file_link = openpyxl.packaging.relationship.Relationship(
        type="externalLinkPath", Target="file:///C:/总部/目标.xlsx", TargetMode="External")
    wb._external_links.append(link)
    own["B5"] = "=[1]Sheet1!A1"
    wb.save(path)
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n")


@pytest.mark.skipif(not PIVOTS.is_file(), reason=f"the pivot fixture is not at {PIVOTS}")
def test_refresh_keeps_every_byte_it_does_not_own(branch: Any) -> None:
    path = office_workbook(branch(register=ROWS))
    before = entries(path)
    pkg = XlsxPackage.open(path)
    owned = {pkg.sheet(s.zh).part for s in (B.REGISTER, B.OVERDUE, B.SUMMARY)}
    kinds = ("pivotTables/", "pivotCache/", "externalLinks/")
    assert all(any(k in n for n in before) for k in kinds)
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    after = entries(path)
    # same parts, same order; after them, the Summary's workload chart (its drawing and chart parts)
    assert list(after)[: len(before)] == list(before)
    assert {n for n in after if n not in before} == {"xl/charts/chart1.xml", "xl/drawings/drawing1.xml",
                                                     "xl/drawings/_rels/drawing1.xml.rels"}
    changed = {n for n in before if before[n] != after[n]}
    summary_rels = pkg.sheet(B.SUMMARY.zh).part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    assert changed <= owned | {"xl/workbook.xml", "[Content_Types].xml", summary_rels}, changed
    gen = {B.OVERDUE.zh, B.SUMMARY.zh}
    assert without_filter_names(after["xl/workbook.xml"], gen) == without_filter_names(before["xl/workbook.xml"], gen)
    assert b"<externalReferences>" in after["xl/workbook.xml"] and b"<pivotCaches>" in after["xl/workbook.xml"]

    # In the Register: the hidden column, the office's columns and their merged title as they were,
    # and every cell of ours that is not computed.
    reg = pkg.sheet(B.REGISTER.zh).part
    old, new = etree.fromstring(before[reg]), etree.fromstring(after[reg])
    for tag in ("{*}cols", "{*}mergeCells", "{*}sheetViews", "{*}dataValidations"):
        assert c14n(new.find(tag)) == c14n(old.find(tag)), tag
    assert any(c.get("hidden") == "1" for c in new.iter("{*}col"))
    computed = {B.REGISTER.index(c.key) + 1 for c in B.REGISTER.computed_columns}
    new_cells = {c.get("r"): c for c in new.iter("{*}c")}
    kept = 0
    for cell in old.iter("{*}c"):
        col = openpyxl.utils.cell.column_index_from_string("".join(ch for ch in cell.get("r") if ch.isalpha()))
        if col not in computed:
            assert c14n(new_cells[cell.get("r")]) == c14n(cell), cell.get("r")
            kept += col in OFFICE
    assert kept == 5  # the merged title's first cell and the four office values
    # a second refresh at the same time changes nothing at all
    assert not refresh_flow(FileWorkbook(path), now=NOW).changed
    assert entries(path) == after
