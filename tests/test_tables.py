"""Never write into an Excel table's header or totals row: Excel would drop the table on repair.

A clerk's table (Ctrl+T) placed over a sheet we write is refused with a clear message, before
anything is written; its data rows are ordinary cells and may be written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from tests.test_cli import run
from tests.test_refresh import ROWS
from xlcomplaints.flows import refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage

NOW = datetime(2026, 10, 9, 9, 0)


def add_table(path: Path, sheet: str, ref: str, *, totals: bool = False, headers: list[str] | None = None) -> None:
    """A clerk's table over ``ref`` of ``sheet``, typed and formatted in a spreadsheet program."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    table = Table(displayName="我的表", ref=ref)
    first = ws[ref.split(":")[0]]
    width = openpyxl.utils.cell.range_boundaries(ref)[2] - first.column + 1
    for i, name in enumerate(headers or [f"列{i}" for i in range(1, width + 1)]):
        ws.cell(first.row, first.column + i, name)
    if totals:
        table.totalsRowCount = 1
    ws.add_table(table)
    wb.save(path)


def overdue_title(lang: str = "zh") -> str:
    return next(s for s in B.BRANCH_SHEETS if s.kind == "overdue").title(lang)


def register_title(lang: str = "zh") -> str:
    return next(s for s in B.BRANCH_SHEETS if s.kind == "register").title(lang)


def test_a_table_under_the_overdue_header_is_refused_and_nothing_written(branch: Any) -> None:
    path = branch(register=ROWS)
    add_table(path, overdue_title(), "A30:C33")
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as refused:
        refresh_flow(FileWorkbook(path), now=NOW)
    assert refused.value.code == "file.table_header"
    assert refused.value.params["cell"] == "A30" and refused.value.params["table"] == "我的表"
    assert path.read_bytes() == before


def test_a_table_over_the_registers_computed_columns_is_refused(branch: Any) -> None:
    path = branch(register=ROWS)
    col = B.REGISTER.index(B.REGISTER.computed_columns[0].key) + 1
    letter = openpyxl.utils.get_column_letter(col)
    add_table(path, register_title(), f"{letter}3:{letter}5", headers=["备注"])
    before = path.read_bytes()
    result = run("refresh", path, "--now", "2026-10-09 09:00", "--lang", "en")
    assert result.returncode == 2 and f"{letter}3" in result.stderr and "我的表" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_a_totals_row_is_guarded_too(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "数据"
    wb.save(path)
    add_table(path, "数据", "B2:D6", totals=True)
    pkg = XlsxPackage.open(path)
    pkg.write_cells("数据", {(4, 3): "表内数据行可以写"})  # a data row: an ordinary cell
    for cell in ((6, 2), (6, 4), (2, 3)):
        with pytest.raises(WorkbookError) as refused:
            pkg.write_cells("数据", {cell: "x"})
        assert refused.value.code == "file.table_header"
    with pytest.raises(WorkbookError):
        pkg.write_columns("数据", [4, 9], {5: ("a", "b"), 6: ("c", "d")})
    pkg.write_cells("数据", {(2, 5): "表格右边"})  # beside the table
    pkg.save()
    grid = openpyxl.load_workbook(path)["数据"]
    assert grid["C4"].value == "表内数据行可以写" and grid["E2"].value == "表格右边"
    assert grid["C2"].value == "列2"


def test_a_table_made_of_the_register_itself_is_written(branch: Any) -> None:
    """Ctrl+T over the Register: its header is our header row, which we never write."""
    path = branch(register=ROWS)
    width = len(B.REGISTER.columns)
    last = openpyxl.utils.get_column_letter(width)
    headers = [c.value for c in openpyxl.load_workbook(path)[register_title()][1]][:width]
    add_table(path, register_title(), f"A1:{last}3", headers=headers)
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
