"""The `.xlsm`'s `_xlwings.conf` sheet is for whoever installs Python, not for the clerk: it ships
hidden (an ordinary Unhide brings it back, as docs/excel.md says), and prints on one page if shown."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from xlcomplaints.templates import macro

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
DOCS = Path(__file__).resolve().parents[1] / "docs" / "excel.md"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_conf_sheet_is_hidden_but_reachable_and_fits_one_page(tmp_path: Path, lang: str) -> None:
    path = tmp_path / f"b-{lang}.xlsm"
    macro.build_branch_xlsm(path, lang=lang)
    with zipfile.ZipFile(path) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
        sheets = {s.get("name"): s for s in book.iterfind("m:sheets/m:sheet", NS)}
        conf = sheets[macro.CONF_SHEET]
        assert conf.get("state") == "hidden"  # Format → Unhide shows it; "veryHidden" would need VBA
        assert [n for n, s in sheets.items() if s.get("state") is None][0] != macro.CONF_SHEET
        active = int(book.find("m:bookViews/m:workbookView", NS).get("activeTab", "0"))
        assert list(sheets)[active] != macro.CONF_SHEET  # Excel never opens on a hidden sheet
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == conf.get(f"{{{NS['r']}}}id"))
        sheet = etree.fromstring(z.read("xl/" + target.lstrip("/").removeprefix("xl/")))
    fit = sheet.find("m:pageSetup", NS)
    assert sheet.find("m:sheetPr/m:pageSetUpPr", NS).get("fitToPage") == "1"
    assert (fit.get("fitToWidth", "1"), fit.get("fitToHeight", "1")) == ("1", "1")


def test_docs_say_how_to_unhide_the_conf_sheet() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### The `_xlwings.conf` sheet", 1)[1].split("\n## ", 1)[0]
    assert "hidden" in section and "Unhide" in section
