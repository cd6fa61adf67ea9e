"""The report writer's speed trick (``report.sheet_rows``) against the plain XlsxWriter calls it stands for: the
same workbook XML byte for byte, for values of every kind a report table holds and some it never does, in rows
of every kind a report sheet has (tall, formatted, empty but set, past the first 16) and some it never does."""

from __future__ import annotations

import gc
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from xlcomplaints.collector import collector_paused
from xlcomplaints.report.sheet_rows import (
    QuickBook,
    put_rows,
    quick_formulas,
    quick_rows,
    write_plain,
)

ROWS: list[list[Any]] = [
    ["S001", "投诉 <&> \"quoted\"", datetime(2026, 10, 3, 9, 30), 1.5, None, 3, True],
    ["S001", " leading space", datetime(2026, 10, 3), float("nan"), 0, -2.25, Decimal("1.1")],
    [None, "x" * 20_000, datetime(2026, 10, 4, tzinfo=UTC), float("inf"), "", 1e-20, "\x01ctl"],
    [],
    ["S002", "投诉 <&> \"quoted\"", None, 123456789.123456789, "S001", 7, None],
    ["_x0041_ as typed", "trailing\n", "tab\tinside", "\ufffe", "<r>looks rich</r>", "trailing ", "\u3000全角空格"],
    ["R&D", "a>b", "a<b", "“全角引号”", None, None, None],
    # the same instant in two zones: as XlsxWriter writes them (zone removed), two times of day
    [None, None, datetime(2026, 10, 4, 1, tzinfo=UTC), datetime(2026, 10, 4, 9, tzinfo=timezone(timedelta(hours=8))),
     None, None, None],
]
#: The formulas the report writes, and some it never does (newer functions XlsxWriter prefixes with _xlfn.).
FORMULAS = ['=IF($C$12>0,C2/$C$12,"")', "=SUM(C2:C11)", '=IF(C12>0,1,"")', '=IF(AND(ISNUMBER(C2),ISNUMBER(E2)),'
            '(C2-E2)*100,"")', "=XLOOKUP(A1,B:B,C:C)", '=IF(A1>0,FILTER(B:B,C:C),"")', "=_xlfn.STDEV.S(A1:A3)",
            "={SUM(A1:A3)}", '=IF(A1="SUM(",1,0)', '=IF(A1="x",SWITCH(A1,1,2),0)', "=SUM(A1)+ASINGLE(B1)",
            "=if(a1>0,1,0)", "=STDEV.S(A1:A3)", "=LEN(A1)"]


def _book(target: Path, fill: Any, cells: Any, book: type[xlsxwriter.Workbook] = xlsxwriter.Workbook,
          future: bool = False) -> dict[str, bytes]:
    wb = book(str(target), {"use_future_functions": future,"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "in_memory": True,
                                           "nan_inf_to_errors": True, "remove_timezone": True})
    formats = [wb.add_format({"num_format": n, "border": 1}) for n in ("@", "General", "yyyy-mm-dd hh:mm",
                                                                      "0.0", "General", "#,##0", "General")]
    ws = cells(wb.add_worksheet("Data"))
    ws.write_string(0, 0, "head", formats[0])
    fill(ws, ROWS, formats)
    ws.write_formula(1, 8, "=SUM(D2:D3)", formats[3], 1.5)
    ws.write_formula(2, 3, '=IF(C3>0,1,"")', formats[3], "")
    ws.write_boolean(2, 9, True, formats[0])
    ws.write_rich_string(5, 2, "a ", wb.add_format({"bold": True}), "bold", " word", formats[0])
    ws.set_row(3, 40)
    ws.set_row(4, None, wb.add_format({"bg_color": "#DDEBF7"}))  # a row's own format: its cells without one take it
    ws.set_column(6, 6, 12, formats[5])  # and a column's
    ws.write_number(4, 6, 5)
    ws.write_string(6, 6, "column's format")
    ws.write_number(10, 4, 1, formats[3])  # a row's cells written out of their columns' order, as a total's are
    ws.write_number(10, 3, 2, formats[3])
    ws.set_row(12, 30)  # a row set but empty
    ws.set_row(17, 50)  # a tall empty row in the second block of 16
    fill(ws, [[f"S{i:03}", i, datetime(2026, 10, 1 + i % 28), None] for i in range(40)], formats, first=20)
    ws.write_string(90, 12, "far right, alone in its block of 16", formats[0])
    ws.merge_range(70, 0, 70, 5, "merged", formats[0])
    for i, formula in enumerate(FORMULAS):
        ws.write_formula(100 + i, 1, formula, formats[3], i)
    bare = cells(wb.add_worksheet("Bare"))  # unformatted cells, and a list ending on a blank
    fill(bare, [["a", 1, None], [datetime(2026, 1, 1), None]], [None, None, None])
    cells(wb.add_worksheet("Empty"))
    noted = cells(wb.add_worksheet("Noted"))  # a comment: XlsxWriter's own rows
    fill(noted, ROWS[:2], formats)
    noted.write_comment(10, 1, "a note")
    wb.close()
    with zipfile.ZipFile(target) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/")}


def test_put_rows_and_quick_rows_write_the_same_xml_as_the_plain_calls(tmp_path: Path) -> None:
    for future in (False, True):
        plain = _book(tmp_path / "plain.xlsx", write_plain, lambda ws: ws, future=future)
        quick = _book(tmp_path / "quick.xlsx", put_rows, lambda ws: quick_formulas(quick_rows(ws)), QuickBook, future)
        assert plain.keys() == quick.keys()
        for name in plain:
            assert quick[name] == plain[name], name
    strings = plain["xl/sharedStrings.xml"]  # the strings written as they are, and those XlsxWriter escapes
    assert "<si><t>S001</t></si><si><t>投诉 &lt;&amp;&gt; \"quoted\"</t></si>".encode() in strings
    assert b'<si><t xml:space="preserve"> leading space</t></si>' in strings
    assert b"<si><t>_x005F_x0041_ as typed</t></si>" in strings
    sheet = plain["xl/worksheets/sheet1.xml"]
    assert b'ref="B105">_xlfn.XLOOKUP(A1,B:B,C:C)</f>' in sheet and b"<f>SUM(A1)+A_xlfn.SINGLE(B1)</f>" in sheet
    assert b"<f>_xlfn.STDEV.S(A1:A3)</f><v>12</v>" in sheet  # a future function, asked for (the last book)
    assert b"<c r=\"B4\" s=\"3\" t=\"s\">" in sheet  # the cells are there
    assert b'<row r="13" spans="1:10" ht="30" customHeight="1"/>' in sheet  # and the empty row set
    assert b'<row r="91" spans="13:13">' in sheet


def test_quick_rows_writes_the_report_tables_cells_itself(tmp_path: Path) -> None:
    """Only what it does not write itself goes through XlsxWriter's per-cell call: a formula, a boolean, a rich
    string, a cell without a format of its own; the tables' formatted strings, numbers, dates and blanks never."""
    plain_calls: dict[str, list[tuple[int, int]]] = {}

    def counted(ws: Any) -> Any:
        ws = quick_rows(ws)
        one, calls = ws._write_cell, plain_calls.setdefault(ws.name, [])
        ws._write_cell = lambda r, c, cell: (calls.append((r, c)), one(r, c, cell))[1]
        return ws

    _book(tmp_path / "quick.xlsx", put_rows, counted)
    # booleans (B2's True, J3), formulas (I2, D3, and D4's infinity as an error), a rich string (C6), cells
    # without a format of their own (G5 under the row's, G7 under the column's)
    assert sorted(plain_calls["Data"]) == [(1, 6), (1, 8), (2, 3), (2, 9), (3, 3), (4, 6), (5, 2), (6, 6),
                                           *((100 + i, 1) for i in range(len(FORMULAS)))]
    assert sorted(plain_calls["Bare"]) == [(1, 0), (1, 1), (2, 0)]
    assert len(plain_calls["Noted"]) == 14  # a sheet with a comment: all of it XlsxWriter's


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


@pytest.mark.parametrize("future", [False, True])
def test_quick_formulas_prepares_every_formula_as_xlsxwriter_does(future: bool) -> None:
    """The report's formulas cut of their ``=`` alone; any other formula (a newer function, which Excel reads only
    with its ``_xlfn.`` prefix, an array formula) exactly as XlsxWriter prepares it."""
    wb = xlsxwriter.Workbook(io.BytesIO(), {"use_future_functions": future})
    plain, quick = wb.add_worksheet(), quick_formulas(wb.add_worksheet())
    for formula in FORMULAS:
        assert quick._prepare_formula(formula) == plain._prepare_formula(formula), formula
        assert quick._prepare_formula(formula, True) == plain._prepare_formula(formula, True), formula
    assert quick._prepare_formula("=XLOOKUP(A1,B:B,C:C)") == "_xlfn.XLOOKUP(A1,B:B,C:C)"
    assert quick._prepare_formula("=STDEV.S(A1:A3)", True) == "_xlfn.STDEV.S(A1:A3)"
    wb.close()
