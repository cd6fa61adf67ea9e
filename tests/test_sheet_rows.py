"""The report writer's speed trick (``report.sheet_rows``) against the plain XlsxWriter calls it stands for: the
same workbook XML byte for byte, for values of every kind a report table holds and some it never does."""

from __future__ import annotations

import gc
import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from xlcomplaints.collector import collector_paused
from xlcomplaints.report.sheet_rows import put_rows, quick_cells, write_plain

ROWS: list[list[Any]] = [
    ["S001", "投诉 <&> \"quoted\"", datetime(2026, 10, 3, 9, 30), 1.5, None, 3, True],
    ["S001", " leading space", datetime(2026, 10, 3), float("nan"), 0, -2.25, Decimal("1.1")],
    [None, "x" * 20_000, datetime(2026, 10, 4, tzinfo=UTC), float("inf"), "", 1e-20, "\x01ctl"],
    [],
    ["S002", "投诉 <&> \"quoted\"", None, 123456789.123456789, "S001", 7, None],
]


def _book(target: Path, fill: Any, cells: Any) -> dict[str, bytes]:
    wb = xlsxwriter.Workbook(str(target), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "in_memory": True,
                                           "nan_inf_to_errors": True, "remove_timezone": True})
    formats = [wb.add_format({"num_format": n, "border": 1}) for n in ("@", "General", "yyyy-mm-dd hh:mm",
                                                                      "0.0", "General", "#,##0", "General")]
    ws = cells(wb.add_worksheet("Data"))
    ws.write_string(0, 0, "head", formats[0])
    fill(ws, ROWS, formats)
    ws.write_formula(1, 8, "=SUM(D2:D3)", formats[3], 1.5)
    ws.set_row(3, 40)
    bare = cells(wb.add_worksheet("Bare"))  # unformatted cells, and a list ending on a blank
    fill(bare, [["a", 1, None], [datetime(2026, 1, 1), None]], [None, None, None])
    wb.close()
    with zipfile.ZipFile(target) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/")}


def test_put_rows_and_quick_cells_write_the_same_xml_as_the_plain_calls(tmp_path: Path) -> None:
    plain = _book(tmp_path / "plain.xlsx", write_plain, lambda ws: ws)
    quick = _book(tmp_path / "quick.xlsx", put_rows, quick_cells)
    assert plain.keys() == quick.keys()
    for name in plain:
        assert quick[name] == plain[name], name
    assert b"<c r=\"B4\" s=\"2\" t=\"s\">" in plain["xl/worksheets/sheet1.xml"]  # the cells are there


def test_put_rows_past_the_last_row_of_a_sheet_goes_through_the_plain_calls() -> None:
    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = wb.add_worksheet()
    put_rows(ws, [["a"], ["b"]], [None], first=ws.xls_rowmax - 1)
    assert list(ws.table) == [ws.xls_rowmax - 1]  # the row past the end is left out, as write_string does
    wb.close()


def test_the_writers_collector_pause_gives_the_collector_back_as_it_was() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
