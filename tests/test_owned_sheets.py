"""Overdue and Summary, the sheets refresh owns: their hidden filter names follow the autofilter."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.test_refresh import ROWS
from xlcomplaints.flows import refresh_flow
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage

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
    from xlcomplaints.spec import branch as B

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
