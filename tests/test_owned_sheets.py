"""Overdue and Summary, the sheets refresh owns: their hidden filter names follow the autofilter."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.test_refresh import ROWS
from xlcomplaints.flows import refresh_flow
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage

NOW = datetime(2026, 10, 9, 9, 0)


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
